"""Shared fixtures. Real data and models are read from ../shared beside the repository."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def model_dir(shared_dir: Path) -> Path:
    """The folder the tests point the model store at (never named in product code)."""
    env = os.environ.get("POSTURE_COACH_MODEL_DIR")
    path = Path(env) if env else shared_dir / "models"
    if not (path / "pose_landmarker_full.task").is_file():
        pytest.skip(f"no model bundles in {path}")
    return path


@pytest.fixture(scope="session")
def person_photo(shared_dir: Path) -> Path:
    """A real photo with one clearly visible person (pose found by MediaPipe)."""
    return shared_dir / "data/real/smoke_people/openpose/COCO_val2014_000000000294.jpg"


@pytest.fixture
def machine_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set the machine's local time zone (``TZ``, a POSIX rule such as ``CST-8``: no tzdata
    needed) for one test."""
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()
    yield use
    monkeypatch.undo()
    time.tzset()
