"""Fixtures for the live server tests: apps with and without models, test frames."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from posture_coach.server import ServerSettings, create_app


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium through Playwright (needs both)"
    )


def frame_message(jpeg: bytes, frame_id: int, t_capture: float = 0.0) -> bytes:
    """A binary /ws/live message: the PCF1 header, then the JPEG."""
    return b"PCF1" + struct.pack("<Id", frame_id, t_capture) + jpeg


def receive_until(ws, want: str = "feedback", within: int = 20) -> dict:  # type: ignore[no-untyped-def]
    """The next /ws/live message of type ``want``, skipping at most ``within`` - 1 others."""
    for _ in range(within):
        msg = ws.receive_json()
        if msg["type"] == want:
            return msg  # type: ignore[no-any-return]
    raise AssertionError(f"no {want} message")


@pytest.fixture(scope="session")
def person_jpeg(person_photo: Path) -> bytes:
    """The person photo letterboxed to 640×480, as the browser would send it."""
    img = cv2.imread(str(person_photo))
    assert img is not None
    h, w = img.shape[:2]
    scale = min(640 / w, 480 / h)
    small = cv2.resize(img, (round(w * scale), round(h * scale)))
    canvas = np.zeros((480, 640, 3), np.uint8)
    y0 = (480 - small.shape[0]) // 2
    x0 = (640 - small.shape[1]) // 2
    canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    ok, buf = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return buf.tobytes()


@pytest.fixture()
def offline_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """An app whose models are missing: REST and frame validation still work."""
    monkeypatch.setenv("POSTURE_COACH_CACHE_DIR", str(tmp_path / "empty-cache"))
    settings = ServerSettings(model_dir=tmp_path, fetch_models=False, warm_up=False)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def live_client(model_dir: Path) -> Iterator[TestClient]:
    """An app with the real models, shared by a test module (landmarkers are pooled)."""
    settings = ServerSettings(model_dir=model_dir, fetch_models=False, max_sessions=2,
                              max_frame_bytes=300_000, calibration_s=3.0)
    with TestClient(create_app(settings)) as client:
        yield client
