"""Landmark recordings: exact round trip, atomic writes, clear errors on bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from posture_coach.errors import RecordingError
from posture_coach.recording import RecordingHeader, RecordingWriter, read_recording
from tests.test_types import make_observation

HEADER = RecordingHeader("clip.mp4", 30.0, "video", ("pose", "face", "hands"))


@pytest.mark.parametrize("name", ["rec.jsonl", "rec.jsonl.gz"])
def test_recording_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    obs = [make_observation(i) for i in range(3)]
    with RecordingWriter(path, HEADER) as w:
        for o in obs:
            w.write(o)
    header, it = read_recording(path)
    assert header == HEADER
    assert [o.to_dict() for o in it] == [o.to_dict() for o in obs]


def test_failed_recording_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with pytest.raises(RuntimeError), RecordingWriter(path, HEADER) as w:
        w.write(make_observation())
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no header"),
        ("not json\n", "not a landmark recording"),
        ('{"kind": "posture-coach/observations", "version": 99}\n', "version 99"),
    ],
)
def test_bad_recordings_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(RecordingError, match=message):
        read_recording(path)


def test_malformed_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path, HEADER) as w:
        w.write(make_observation())
    with path.open("a") as fh:
        fh.write('{"kind": "obs", "frame": 1}\n')
    _, it = read_recording(path)
    with pytest.raises(RecordingError, match=r"rec.jsonl:3"):
        list(it)
