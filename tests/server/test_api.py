"""REST endpoints and frame validation; no models needed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from posture_coach.server import ServerSettings, create_app, find_web_dir

from .conftest import frame_message

RULE_FIELDS = {"id", "title_zh", "title_en", "cue_zh", "cue_en", "explain_zh", "explain_en"}


def test_rules_catalogue_has_bilingual_texts(offline_client: TestClient) -> None:
    body = offline_client.get("/api/rules").json()
    assert "rules" in body and "reasons" in body
    for rule in body["rules"]:
        assert rule.keys() >= RULE_FIELDS
        assert rule["title_zh"] and rule["title_en"]
    ids = [r["id"] for r in body["rules"]]
    assert len(ids) == len(set(ids))
    if body["reasons"]:
        assert body["reasons"]["hips_not_visible"]["zh"]


def test_drills_listed_with_unassessable_rules(offline_client: TestClient) -> None:
    drills = {d["id"]: d for d in offline_client.get("/api/drills").json()["drills"]}
    assert {"standing_15s", "sitting_20s", "smile", "card_handover", "handshake", "bow",
            "pointing", "onboarding"} <= drills.keys()
    onboarding = drills["onboarding"]
    assert onboarding["kind"] == "scenario"
    assert onboarding["steps"][0]["id"] == "grooming"
    assert "not_yet_assessable" in onboarding
    assert offline_client.get("/api/drills/nope").status_code == 404
    # "Smile within 2 s and hold it": the page words the step's timing from this.
    smile_1 = next(s for s in drills["smile"]["steps"] if s["id"] == "smile_1")
    assert smile_1["timing"] == {"rule": "face.smile", "within_s": 2.0, "hold_s": 3.0}


def test_health_reports_missing_models(offline_client: TestClient) -> None:
    body = offline_client.get("/api/health").json()
    assert body["status"] == "degraded"
    assert body["sessions"] == 0


def test_openapi_and_page_served(offline_client: TestClient) -> None:
    assert "/api/rules" in offline_client.get("/openapi.json").json()["paths"]
    if find_web_dir() is not None:
        page = offline_client.get("/")
        assert page.status_code == 200 and "app.js" in page.text


def test_malformed_frames_answer_errors(offline_client: TestClient) -> None:
    with offline_client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_bytes(b"PCF1\x01")  # truncated header
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_bytes(frame_message(b"\xff\xd8 this is not a jpeg", 7, 12.5))
        msg = ws.receive_json()
        assert msg["code"] == "bad_frame" and msg["id"] == 7 and msg["t_capture"] == 12.5
        ws.send_text("{not json")
        bad = ws.receive_json()
        assert bad["code"] == "bad_message"
        # Every error also says what it means in both languages, for clients other than the page.
        assert bad["text"] == {"zh": "控制消息格式不正确。", "en": "The control message is not valid."}
        assert msg["text"]["zh"].startswith("收到的画面不是有效的")
        # A valid JPEG whose header declares 8000x8000: refused before decoding, and said so.
        import cv2
        import numpy as np

        ok, buf = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))
        assert ok
        jpeg = bytearray(buf.tobytes())
        sof = jpeg.index(b"\xff\xc0")
        jpeg[sof + 5:sof + 9] = (8000).to_bytes(2, "big") * 2  # height, width
        ws.send_bytes(frame_message(bytes(jpeg), 8, 13.0))
        big = ws.receive_json()
        assert big["code"] == "frame_too_many_pixels" and "8000x8000" in big["message"], big
        assert "640×480" in big["text"]["zh"]
        ws.send_json({"type": "teleport"})
        assert ws.receive_json()["code"] == "bad_message"
        ws.send_json({"type": "ping", "t": 1})
        assert ws.receive_json() == {"type": "pong", "t": 1}


def test_oversized_frame_closes_with_1009(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = ServerSettings(model_dir=tmp_path, fetch_models=False, warm_up=False,
                              max_frame_bytes=4096)
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
        ws.send_bytes(b"\xff\xd8" + b"\0" * 10_000)
        assert ws.receive_json()["code"] == "frame_too_large"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 1009


def test_too_many_sessions_get_busy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = ServerSettings(model_dir=tmp_path, fetch_models=False, warm_up=False,
                              max_sessions=1)
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/live") as a:
        assert a.receive_json()["type"] == "hello"
        with client.websocket_connect("/ws/live") as b:
            assert b.receive_json()["type"] == "busy"
            with pytest.raises(WebSocketDisconnect) as info:
                b.receive_json()
            assert info.value.code == 1013


def test_cross_origin_socket_refused(offline_client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, offline_client.websocket_connect(
        "/ws/live", headers={"origin": "http://evil.example"}
    ) as ws:
        ws.receive_json()
    assert info.value.code == 1008
