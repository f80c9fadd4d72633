"""The live stream with the real MediaPipe models on a real photo of a person."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from .conftest import frame_message, receive_until

pytestmark = pytest.mark.models


def test_happy_pathreceive_until(live_client: TestClient, person_jpeg: bytes) -> None:
    with live_client.websocket_connect("/ws/live") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello"
        ws.send_json({"type": "lang", "lang": "en"})
        assert ws.receive_json() == {"type": "lang", "lang": "en"}
        ws.send_json({"type": "start"})
        assert ws.receive_json()["type"] == "started"
        for i in range(1, 4):
            ws.send_bytes(frame_message(person_jpeg, i, 1000.0 + i))
            msg = receive_until(ws)
            assert msg["id"] == i and msg["t_capture"] == 1000.0 + i
        assert msg["person"] is True
        assert len(msg["pose"]) == 33 and len(msg["pose"][0]) == 3
        assert all(isinstance(v, float) and round(v, 3) == v for v in msg["pose"][11])
        assert msg["size"] == [640, 480]
        assert {"decode_ms", "landmarks_ms", "server_ms", "pose_ms"} <= msg["timing"].keys()
        assert isinstance(msg["rules"], dict) and isinstance(msg["cues"], list)
        for v in msg["rules"].values():
            assert v["status"] in ("pass", "warn", "fail", "unknown")
        ws.send_json({"type": "stop"})
        summary = receive_until(ws, "summary")
        assert "elapsed_s" in summary


def test_raw_jpeg_without_header(live_client: TestClient, person_jpeg: bytes) -> None:
    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        ws.send_bytes(person_jpeg)
        msg = receive_until(ws)
        assert msg["id"] is None and msg["person"] is True


def test_stale_frames_are_dropped_not_queued(live_client: TestClient, person_jpeg: bytes) -> None:
    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        for i in range(1, 11):  # a burst far faster than the landmarkers
            ws.send_bytes(frame_message(person_jpeg, i))
        seen = []
        while not seen or seen[-1] != 10:
            seen.append(receive_until(ws)["id"])
        assert len(seen) < 10, "every frame was processed: nothing was dropped"
        assert seen == sorted(seen)


def test_calibration_and_drill(live_client: TestClient, person_jpeg: bytes) -> None:
    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        ws.send_json({"type": "calibrate_start", "phase": "neutral"})
        assert ws.receive_json()["status"] == "collecting"
        status = None
        for i in range(1, 400):
            ws.send_bytes(frame_message(person_jpeg, i))
            cal = receive_until(ws).get("calibration")
            status = cal and cal["status"]
            if status != "collecting":
                break
        assert status == "collected"
        ws.send_json({"type": "calibrate_finish"})
        done = receive_until(ws, "calibration")
        assert done["status"] in ("done", "failed")  # "failed" only with a reason
        assert done["status"] == "done" or done.get("reason")
        ws.send_json({"type": "drill_start", "id": "smile"})
        drill = receive_until(ws, "drill")
        assert drill["drill"]["id"] == "smile"
        ws.send_bytes(frame_message(person_jpeg, 100))
        # Answers to calibration frames still in flight (a loaded machine) carry no drill yet.
        fb = receive_until(ws)
        while fb["id"] != 100:
            fb = receive_until(ws)
        assert fb["drill"]["step"] == 0
        ws.send_json({"type": "drill_stop"})
        result = receive_until(ws, "drill_result")["result"]
        assert [s["id"] for s in result["steps"]] == ["neutral", "smile_1", "rest", "smile_2"]


def test_disconnect_cleans_up(live_client: TestClient, person_jpeg: bytes) -> None:
    for _ in range(3):
        with live_client.websocket_connect("/ws/live") as ws:
            ws.receive_json()
            for i in range(1, 4):
                ws.send_bytes(frame_message(person_jpeg, i))
            # leave without reading the answers: the client vanishes mid-stream
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        health = live_client.get("/api/health").json()
        if health["sessions"] == 0 and health["pool"]["in_use"] == 0:
            break
        time.sleep(0.05)
    assert health["sessions"] == 0
    assert health["pool"]["in_use"] == 0
    assert health["pool"]["created"] <= health["pool"]["size"]
