"""Outputs are renamed into place, but a device or a pipe is never replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from posture_coach.cli import _AtomicText
from posture_coach.fileio import commit, discard, is_special, partial_path
from posture_coach.report import write_json


def test_a_regular_file_is_written_beside_and_renamed(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    sink = _AtomicText(out)
    sink.fh.write("x\n")
    assert not out.exists() and (tmp_path / "a.jsonl.partial").exists()
    sink.close(ok=True)
    assert out.read_text() == "x\n" and not (tmp_path / "a.jsonl.partial").exists()
    failed = _AtomicText(tmp_path / "b.jsonl")
    failed.fh.write("half")
    failed.close(ok=False)
    assert not list(tmp_path.glob("b.jsonl*"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_written_directly_and_stays_a_pipe(tmp_path: Path) -> None:
    # `-o /dev/null` once replaced the device node with a plain file (renamed over it).
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert is_special(fifo) and partial_path(fifo) == fifo
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_json({"ok": True}, fifo)
    reader.join(timeout=10)
    assert got and '"ok": true' in got[0]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    discard(fifo, fifo)  # an aborted write never removes the target
    assert fifo.exists()


def test_dev_null_is_special_and_left_alone() -> None:
    null = Path(os.devnull)
    assert is_special(null) and partial_path(null) == null
    commit(null, null)
    assert stat.S_ISCHR(null.stat().st_mode)



def test_an_output_folder_is_checked_before_any_work(tmp_path: Path) -> None:
    from posture_coach.errors import OutputError
    from posture_coach.fileio import ensure_writable

    ensure_writable(tmp_path / "new" / "deeper" / "r.html")  # folders are created
    assert (tmp_path / "new" / "deeper").is_dir() and not any((tmp_path / "new" / "deeper").iterdir())
    ensure_writable(tmp_path / "reports", folder=True)
    ensure_writable(Path("/dev/null"))  # written directly, never checked by a scratch file
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write here") as err:
        ensure_writable(blocker / "r.html")
    assert err.value.reason == "output_not_writable" and err.value.exit_code == 5
    # A file given for a folder, or a folder for a file, is the user's slip, not a read-only
    # disk (score --report sc/ was told "read-only, no permission or disk full").
    with pytest.raises(OutputError, match="a file, not a folder") as err:
        ensure_writable(blocker, folder=True)
    assert err.value.reason == "output_not_folder"
    with pytest.raises(OutputError, match="give a file name inside it") as err:
        ensure_writable(tmp_path / "reports")
    assert err.value.reason == "output_is_folder"
