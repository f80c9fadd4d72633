"""PDF reports: the self-contained HTML report (:mod:`posture_coach.report`) printed by
headless Chromium, a well-kept engine that renders the CJK text, the SVG timeline and the
embedded snapshots exactly as the browser shows them, with no extra Python dependency.

Chromium is found through ``$POSTURE_COACH_CHROMIUM`` (a path or a command name), else the
first of ``chromium``, ``chromium-browser``, ``google-chrome`` on ``PATH``; without it
:class:`ChromiumNotFound` says how to install it (``apt-get install chromium``). Each PDF is
printed in a fresh temporary profile, under a timeout (the whole process group is killed when
it runs over), with host names unresolvable: the page fetches nothing. (JavaScript stays on:
``--blink-settings=scriptEnabled=false`` makes Chromium 156 exit 0 without writing the PDF;
the report has no scripts anyway.)
The printed PDF's text layer is then repaired (:mod:`posture_coach.pdf_text`): Chromium names
some Chinese characters by a look-alike radical (小 as ⼩), which breaks search and copy.
:func:`write_pdf` writes through a temporary file and a rename, so a failure never leaves a
half-written PDF behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import CoachError
from .fileio import commit, discard, partial_path
from .pdf_text import repair_radicals
from .report import Lang, render_html

ENV_CHROMIUM = "POSTURE_COACH_CHROMIUM"
ENV_TIMEOUT = "POSTURE_COACH_PDF_TIMEOUT_S"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
DEFAULT_TIMEOUT_S = 60.0
# About the text width of an A4 page at the print stylesheet's margins, in CSS px: the
# timeline is drawn at this width so that its labels print at a readable size.
PDF_TIMELINE_WIDTH = 760

INSTALL_HINT = ("install it with `sudo apt-get install chromium` (Debian/Ubuntu), or set "
                f"{ENV_CHROMIUM} to the browser's path / 请安装 Chromium（sudo apt-get install chromium）"
                f"或设置 {ENV_CHROMIUM}")


class PdfError(CoachError):
    """A PDF could not be made (Chromium failed, timed out or wrote no PDF)."""

    exit_code = 1
    reason = "pdf_failed"


class ChromiumNotFound(PdfError):
    """No Chromium to print with: the message says how to install one."""

    exit_code = 3
    reason = "chromium_missing"


def find_chromium() -> str:
    """The Chromium executable to print with; :class:`ChromiumNotFound` when there is none.

    ``$POSTURE_COACH_CHROMIUM``, when set, is used as given (no fallback to ``PATH``), so a
    wrong setting is reported rather than silently replaced by another browser.
    """
    configured = os.environ.get(ENV_CHROMIUM, "").strip()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise ChromiumNotFound(f"cannot make a PDF: {ENV_CHROMIUM}={configured!r} is not an executable "
                                   f"Chromium; {INSTALL_HINT}")
        return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumNotFound(f"cannot make a PDF: Chromium was not found (looked for {', '.join(CANDIDATES)}); "
                           f"{INSTALL_HINT}")


def chromium_available() -> bool:
    try:
        find_chromium()
    except ChromiumNotFound:
        return False
    return True


def _timeout(timeout_s: float | None) -> float:
    if timeout_s is not None:
        return timeout_s
    try:
        value = float(os.environ.get(ENV_TIMEOUT, DEFAULT_TIMEOUT_S))
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if math.isfinite(value) and value > 0 else DEFAULT_TIMEOUT_S  # "-5", "0": the default


_NOISE = re.compile(r"dbus|unexpected operator|Fontconfig|bytes written to file|^\s*$", re.IGNORECASE)


def _tail(stderr: bytes) -> str:
    """The last meaningful lines of Chromium's stderr (it logs a lot of harmless D-Bus noise)."""
    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if not _NOISE.search(ln)]
    return " | ".join(lines[-3:])[-400:] or "no message"


def html_to_pdf_bytes(page: str, *, chromium: str | None = None, timeout_s: float | None = None) -> bytes:
    """Print one self-contained HTML page to PDF with headless Chromium; the PDF's bytes."""
    exe = chromium or find_chromium()
    limit = _timeout(timeout_s)
    with tempfile.TemporaryDirectory(prefix="posture-coach-pdf-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={Path(tmp) / 'profile'}", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--no-pdf-header-footer", "--generate-pdf-document-outline",
            f"--print-to-pdf={out}", src.as_uri(),
        ]
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, start_new_session=True, cwd=tmp)
        except OSError as exc:
            raise PdfError(f"cannot make a PDF: cannot start {exe}: {exc}") from None
        try:
            _, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise PdfError(f"cannot make a PDF: Chromium did not finish within {limit:g} s "
                           f"(raise {ENV_TIMEOUT} on a slow machine)") from None
        finally:
            if proc.poll() is None:  # interrupted (KeyboardInterrupt): leave no browser behind
                _kill_group(proc)
        _kill_group(proc)  # helpers (zygote, crashpad) that outlived the browser
        data = out.read_bytes() if out.is_file() else b""
        if proc.returncode != 0 or not data.startswith(b"%PDF"):
            raise PdfError(f"cannot make a PDF: Chromium ({exe}) exited with {proc.returncode} "
                           f"and {'no PDF' if not data else 'no valid PDF'}: {_tail(err)}")
        return repair_radicals(data)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.communicate()


def render_pdf(report: Mapping[str, Any], lang: Lang = "zh", *, chromium: str | None = None,
               timeout_s: float | None = None, tz: dt.tzinfo | None = None) -> bytes:
    """The report as a PDF (A4, page numbers), in ``lang``; times in ``tz`` (default: local)."""
    page = render_html(report, lang, timeline_width=PDF_TIMELINE_WIDTH, tz=tz)
    return html_to_pdf_bytes(page, chromium=chromium, timeout_s=timeout_s)


def write_pdf(report: Mapping[str, Any], path: Path, lang: Lang = "zh", *, chromium: str | None = None,
              timeout_s: float | None = None) -> Path:
    """Write the report's PDF to ``path`` atomically (nothing is written when printing fails)."""
    data = render_pdf(report, lang, chromium=chromium, timeout_s=timeout_s)
    path.parent.mkdir(parents=True, exist_ok=True)
    # As write_html/write_json do: a file through a temporary name, a device or a pipe
    # (/dev/stdout, /dev/full) written directly, never replaced by a file.
    tmp = partial_path(path)
    try:
        tmp.write_bytes(data)
        commit(tmp, path)
    except BaseException:
        discard(tmp, path)
        raise
    return path
