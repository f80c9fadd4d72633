"""Writing output files atomically, without ever replacing a device or a pipe.

Outputs (analysis JSONL, reports, landmark recordings, annotated videos) are written to
``NAME.partial`` and renamed over ``NAME`` on success, so a crash leaves no half file. A
path that already exists and is not a regular file (``/dev/null``, ``/dev/stdout``, a
named pipe) must not be renamed over: that would replace the device node itself (as root,
``-o /dev/null`` turned ``/dev/null`` into a plain file). Such paths are written directly.
"""

from __future__ import annotations

import stat
from pathlib import Path


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
