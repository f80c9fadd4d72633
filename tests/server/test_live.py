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


def _calibrate_phase(ws, phase: str, jpegs: list[bytes], first_id: int = 1) -> dict:  # type: ignore[no-untyped-def]
    """Run one calibration phase on these frames (looped) until it ends; its last message."""
    ws.send_json({"type": "calibrate_start", "phase": phase})
    assert receive_until(ws, "calibration")["status"] == "collecting"
    for i in range(first_id, first_id + 400):
        ws.send_bytes(frame_message(jpegs[i % len(jpegs)], i))
        cal = receive_until(ws).get("calibration")
        if cal and cal["status"] != "collecting":
            return cal  # type: ignore[no-any-return]
    raise AssertionError("the phase never ended")


def test_calibration_refuses_a_face_it_cannot_read(live_client: TestClient, person_jpeg: bytes) -> None:
    import cv2
    import numpy as np

    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        ws.send_bytes(frame_message(person_jpeg, 1))
        face = receive_until(ws)["face"]
        assert face, "the photo's face is read"
        # The same photo with the face painted over: a person, but no face to calibrate on.
        img = cv2.imdecode(np.frombuffer(person_jpeg, np.uint8), cv2.IMREAD_COLOR)
        pts = np.array([p[:2] for part in face.values() for p in part], float) * [img.shape[1], img.shape[0]]
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        pad = 0.3 * max(x1 - x0, y1 - y0)
        bx0, by0, bx1, by1 = int(x0 - pad), int(y0 - pad), int(x1 + pad), int(y1 + pad)
        img[by0:by1, bx0:bx1] = cv2.GaussianBlur(img[by0:by1, bx0:bx1], (0, 0), 12)
        faceless = cv2.imencode(".jpg", img)[1].tobytes()
        cal = _calibrate_phase(ws, "face", [faceless], first_id=2)
        assert cal["status"] == "failed" and cal["reason"] == "no_face", cal
        # With the face in view, the same step passes.
        assert _calibrate_phase(ws, "face", [person_jpeg], first_id=500)["status"] == "collected"


def test_calibration_refuses_crossed_arms_as_the_neutral_posture(live_client: TestClient) -> None:
    from pathlib import Path

    import cv2

    clip = Path(__file__).resolve().parents[2] / "sample_videos" / "arms_crossed_upper.mp4"
    cap = cv2.VideoCapture(str(clip))
    crossed: list[bytes] = []
    for i in range(76):  # frames 34-75 hold the arms crossed (its labels)
        ok, img = cap.read()
        assert ok
        if i >= 34:
            crossed.append(cv2.imencode(".jpg", cv2.resize(img, (640, 480)))[1].tobytes())
    cap.release()
    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        ws.send_json({"type": "posture", "posture": "standing"})
        cal = _calibrate_phase(ws, "neutral", crossed)
    assert cal["status"] == "failed" and cal["reason"] == "not_neutral", cal


def test_a_calibration_kept_by_the_page_is_restored_after_a_reload(live_client: TestClient,
                                                                    person_jpeg: bytes) -> None:
    # Standing back for the full body, the face is too small for the face steps: the body
    # baseline alone finishes the calibration (the page's "skip the face steps").
    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        assert _calibrate_phase(ws, "neutral", [person_jpeg])["status"] == "collected"
        ws.send_json({"type": "calibrate_finish"})
        done = receive_until(ws, "calibration")
        assert done["status"] == "done", done
        assert done["smile"] == "not_seen"  # no smile step: the usual smile threshold
        kept = done["profile"]
        assert kept and "image" not in kept and kept["neck_ratio"] > 0  # numbers, no picture
    # The page reloads: a new connection, the baseline handed back instead of calibrating again.
    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        ws.send_json({"type": "profile_restore", "profile": kept})
        assert receive_until(ws, "calibration")["status"] == "restored"
        ws.send_json({"type": "profile_restore", "profile": {**kept, "version": -1}})
        err = receive_until(ws, "error")
        assert err["code"] == "bad_profile" and "重新校准" in err["text"]["zh"], err
        ws.send_json({"type": "profile_restore", "profile": "not a profile"})
        assert receive_until(ws, "error")["code"] == "bad_profile"


def test_calibrating_during_a_run_is_refused_and_the_run_goes_on(live_client: TestClient, person_jpeg: bytes) -> None:
    # A new baseline restarts the engine: mid-run it threw away the run so far (a 4.4 s run
    # summarised as 0.17 s).
    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        ws.send_json({"type": "start"})
        receive_until(ws, "started")
        for i in range(1, 11):
            ws.send_bytes(frame_message(person_jpeg, i))
            receive_until(ws)
        for kind in ({"type": "calibrate_start", "phase": "neutral"}, {"type": "calibrate_finish"},
                     {"type": "start"}, {"type": "drill_start", "id": "onboarding"}):  # a second start too
            ws.send_json(kind)
            err = receive_until(ws, "error")
            assert err["code"] == "busy_running" and err["text"]["zh"], err
        ws.send_json({"type": "stop"})
        summary = receive_until(ws, "summary")["summary"]
        assert summary["frames"] == 10


def test_messages_json_cannot_carry_are_refused_and_the_connection_kept(live_client: TestClient,
                                                                         person_jpeg: bytes) -> None:
    # NaN, 1e309, a 400-digit integer, deep nesting, a lone surrogate: each once closed the
    # connection without a word (or answered with invalid JSON).
    with live_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        for text in ('{"type":"ping","t":NaN}', '{"type":"ping","t":1e309}',
                     '{"type":"profile_restore","profile":{"neck_ratio":' + "9" * 400 + "}}",
                     '{"type":"profile_restore","profile":{"neck_ratio":0.6,"image_size":[1e300,1]}}',
                     '{"type":"profile_restore","profile":' + "[" * 5000 + "]" * 5000 + "}",
                     '{"type":"ping","t":"\\ud800"}'):
            ws.send_text(text)
            reply = ws.receive_json()
            if reply["type"] == "error":
                assert reply["code"] in ("bad_message", "bad_profile") and reply["text"]["zh"], reply
        ws.send_bytes(frame_message(person_jpeg, 1))
        assert receive_until(ws)["person"] is True  # still judging frames
