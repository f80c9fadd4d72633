"""Writing output files atomically, without ever replacing a device or a pipe.

Outputs (analysis JSONL, reports, landmark recordings, annotated videos) are written to
``NAME.partial`` and renamed over ``NAME`` on success, so a crash leaves no half file. A
path that already exists and is not a regular file (``/dev/null``, ``/dev/stdout``, a
named pipe) must not be renamed over: that would replace the device node itself (as root,
``-o /dev/null`` turned ``/dev/null`` into a plain file). Such paths are written directly.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .errors import OutputError


def is_special(path: Path) -> bool:
    """An existing path that is neither a regular file nor a directory (device, FIFO, socket)."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def partial_path(path: Path, name: str | None = None) -> Path:
    """Where to write ``path`` before renaming it (``name``: the temporary file's name,
    default ``NAME.partial``); ``path`` itself when it is a device or a pipe."""
    path = Path(path)
    if is_special(path):
        return path
    return path.with_name(name if name is not None else path.name + ".partial")


def commit(tmp: Path, path: Path) -> None:
    """Move the finished temporary file into place (nothing to do when written directly)."""
    if Path(tmp) != Path(path):
        Path(tmp).replace(path)


def discard(tmp: Path, path: Path) -> None:
    """Remove an unfinished temporary file (never the target when written directly)."""
    if Path(tmp) != Path(path):
        Path(tmp).unlink(missing_ok=True)


def ensure_writable(path: Path, *, folder: bool = False) -> None:
    """Fail at once, not after a long analysis, when an output cannot be written: create
    the folder (``path`` itself when ``folder``, else its parent) and write and remove a
    scratch file in it. Raises :class:`~posture_coach.errors.OutputError` naming the path
    and the system's reason (read-only file system, permission denied, disk full)."""
    path = Path(path)
    if not folder and is_special(path):
        return  # /dev/null, a pipe: written directly
    where = path if folder else path.parent
    # A file where a folder is wanted, or the other way round, is the user's slip, not a
    # read-only disk: said as such.
    if folder and where.exists() and not where.is_dir():
        raise OutputError(f"{path}: a file, not a folder; give a folder for this output",
                          reason="output_not_folder")
    if not folder and path.is_dir():
        raise OutputError(f"{path}: a folder; give a file name inside it (e.g. {path / 'report.html'})",
                          reason="output_is_folder")
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(prefix=".posture-coach-write-check-", dir=where)
        os.close(fd)
        os.unlink(scratch)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise OutputError(f"{path}: cannot write here ({why})") from None


def os_error_text(exc: OSError) -> str:
    """A one-line description of a failed write, for the last-resort error line."""
    name = exc.filename if exc.filename is not None else ""
    return f"{name}: {exc.strerror or exc}" if name else str(exc.strerror or exc)
