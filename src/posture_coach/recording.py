"""Landmark recordings: raw observations as JSONL, so rules can be replayed without video.

Format (one JSON object per line, optionally gzip-compressed when the name ends in .gz):

    {"kind": "posture-coach/observations", "version": 1, "source": ..., "fps": ...,
     "mode": "video" | "image", "tasks": [...]}
    {"kind": "obs", "frame": 0, "t_ms": 0, "size": [w, h], "pose": {...} | null, ...}

Floats are written with Python's shortest round-trip repr, so replaying a recording
feeds the rules bit-identical numbers and gives identical output.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from .errors import RecordingError
from .fileio import commit, discard, partial_path
from .types import Observation

KIND = "posture-coach/observations"
VERSION = 1


@dataclass(frozen=True, slots=True)
class RecordingHeader:
    source: str
    fps: float
    mode: Literal["video", "image"]
    tasks: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "version": VERSION,
            "source": self.source,
            "fps": self.fps,
            "mode": self.mode,
            "tasks": list(self.tasks),
        }


def _open_text(path: Path, mode: Literal["r", "w"], *, gz: bool | None = None) -> IO[str]:
    if path.name.endswith(".gz") if gz is None else gz:
        fh: IO[str] = gzip.open(path, "rt" if mode == "r" else "wt", encoding="utf-8")  # noqa: SIM115 - the caller closes it
        return fh
    return open(path, mode, encoding="utf-8")


class RecordingWriter:
    """Writes to ``PATH.partial`` and renames on success, so a crash leaves no half file."""

    def __init__(self, path: Path, header: RecordingHeader) -> None:
        self.path = path
        self._tmp = partial_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = _open_text(self._tmp, "w", gz=path.name.endswith(".gz"))
        self._write(header.to_dict())

    def _write(self, obj: dict[str, Any]) -> None:
        assert self._fh is not None
        self._fh.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
        self._fh.write("\n")

    def write(self, obs: Observation) -> None:
        self._write({"kind": "obs", **obs.to_dict()})

    def commit(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            commit(self._tmp, self.path)

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        discard(self._tmp, self.path)

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def read_recording(path: Path) -> tuple[RecordingHeader, Iterator[Observation]]:
    """Open a recording: the header now, the observations lazily."""
    if not path.is_file():
        raise RecordingError(f"{path}: file not found")
    fh = _open_text(path, "r")
    try:
        first = fh.readline()
        head = json.loads(first) if first.strip() else None
    except (json.JSONDecodeError, OSError, UnicodeDecodeError) as exc:
        fh.close()
        raise RecordingError(f"{path}: not a landmark recording ({exc})") from exc
    if not isinstance(head, dict) or head.get("kind") != KIND:
        fh.close()
        raise RecordingError(f"{path}: not a posture-coach landmark recording (no header line)")
    if head.get("version") != VERSION:
        fh.close()
        raise RecordingError(
            f"{path}: recording version {head.get('version')} is not supported (expected {VERSION})"
        )
    mode: Literal["video", "image"] = "image" if head.get("mode") == "image" else "video"
    header = RecordingHeader(
        source=str(head.get("source", "")),
        fps=float(head.get("fps", 0.0)),
        mode=mode,
        tasks=tuple(head.get("tasks", ())),
    )

    def observations() -> Iterator[Observation]:
        with fh:
            for lineno, line in enumerate(fh, start=2):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    if obj.get("kind") != "obs":
                        continue
                    yield Observation.from_dict(obj)
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    raise RecordingError(f"{path}:{lineno}: malformed observation ({exc})") from exc

    return header, observations()
