"""Keeping a live self-check: the signed-in trainee saves the finished run to their own
record (results only), HR's cohort view then shows it. Real models, a real photo."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from posture_coach.server import ServerSettings, create_app
from posture_coach.store import Database, repo
from tests.store.helpers import empty_store

from .conftest import frame_message, receive_until

pytestmark = pytest.mark.models

PASSWORDS = {"hr": "hr-password-1", "lilei": "trainee-pass-1", "hanmm": "trainee-pass-2"}


@pytest.fixture
def app_with_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path
                   ) -> Iterator[tuple[TestClient, Database, dict[str, int]]]:
    db = empty_store(tmp_path, monkeypatch)
    with db.session() as s:
        repo.create_user(s, "hr", PASSWORDS["hr"], "hr_admin")
        a = repo.create_person(s, "李雷")
        b = repo.create_person(s, "Han Meimei")
        repo.create_user(s, "lilei", PASSWORDS["lilei"], "trainee", person_id=a.id)
        repo.create_user(s, "hanmm", PASSWORDS["hanmm"], "trainee", person_id=b.id)
        cohort = repo.create_cohort(s, "2026-A")
        repo.add_member(s, cohort.id, a.id)
        ids = {"a": a.id, "cohort": cohort.id}
    settings = ServerSettings(model_dir=model_dir, fetch_models=False, max_sessions=2, calibration_s=3.0)
    with TestClient(create_app(settings)) as client:
        yield client, db, ids
    db.dispose()


def _until(ws, want: str) -> dict:  # type: ignore[no-untyped-def]
    return receive_until(ws, want, within=40)


def _wait_closed(client: TestClient, live_id: int) -> None:
    """Until the server has cleaned up a closed connection (it runs after the socket closes)."""
    deadline = time.monotonic() + 10
    while live_id in client.app.state.live.sessions:  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            import faulthandler
            faulthandler.dump_traceback(all_threads=True)
        assert time.monotonic() < deadline, "connection never cleaned up"
        time.sleep(0.05)


def _login(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": user, "password": PASSWORDS[user]})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def test_a_trainee_keeps_the_onboarding_self_check_and_hr_sees_it(
        app_with_store: tuple[TestClient, Database, dict[str, int]], person_jpeg: bytes) -> None:
    client, db, ids = app_with_store
    with client.websocket_connect("/ws/live") as ws:
        hello = _until(ws, "hello")
        live_id, token = hello["session"], hello["save_token"]
        url = f"/api/live/{live_id}/save"
        ws.send_json({"type": "drill_start", "id": "onboarding"})
        _until(ws, "drill")
        for i in range(1, 6):
            ws.send_bytes(frame_message(person_jpeg, i))
            _until(ws, "feedback")
        # Nothing finished yet: nothing to save.
        headers = _login(client, "lilei")
        r = client.post(url, json={"token": token}, headers=headers)
        assert r.status_code == 409 and r.json()["reason"] == "nothing_to_save"
        ws.send_json({"type": "stop"})
        summary = _until(ws, "summary")
        assert summary["can_save"] is True

        assert client.post(url, json={"token": "guess"}, headers=headers).json()["reason"] == "wrong_save_token"
        r = client.post(url, json={"token": token}, headers=headers)
        assert r.status_code == 201, r.text
        sid = r.json()["session_id"]
        # The trainee is told what HR will see: stopped after 5 frames, the check is incomplete.
        assert r.json()["self_check"] == [{"cohort": "2026-A", "pass_score": 0.8, "result": "incomplete",
                                           "not_passed": [], "missing_steps": [], "counted": True}]
        assert client.post(url, json={"token": token}, headers=headers).json()["session_id"] == sid  # once

        # Another trainee on the same page cannot take it over; HR has no record to save to.
        client.post("/api/auth/logout", headers=headers)
        r = client.post(url, json={"token": token}, headers=_login(client, "hanmm"))
        assert r.status_code == 409 and r.json()["reason"] == "saved_by_other"
        client.post("/api/auth/logout", headers=_login(client, "hanmm"))
        r = client.post(url, json={"token": token}, headers=_login(client, "hr"))
        assert r.status_code == 403 and r.json()["reason"] == "not_a_trainee"

        stored = client.get(f"/api/sessions/{sid}").json()["session"]
        assert (stored["kind"], stored["scenario"], stored["person"], stored["status"]) == (
            "live", "onboarding", "李雷", "done")
        table = client.get(f"/api/cohorts/{ids['cohort']}/table").json()
        assert table["people"][0]["session_id"] == sid
        assert table["people"][0]["result"] == "incomplete" and table["people"][0]["passed"] is False
        report = client.get(f"/api/sessions/{sid}/report?lang=en")
        assert report.status_code == 200
        assert "Scenario steps" in report.text and "Grooming check" in report.text  # step by step for HR
    # The connection has ended and its run was saved: nothing more to save there.
    _wait_closed(client, live_id)
    headers = _login(client, "lilei")
    r = client.post(url, json={"token": token}, headers=headers)
    assert r.status_code == 404 and r.json()["reason"] == "live_session_gone"
    with db.session() as s:  # no frame, no file: results only
        row = repo.get_session(s, sid)
        assert row.media_path is None and all(not e.evidence for e in row.episodes)
        assert row.person_id == ids["a"] and row.summary is not None
        assert row.summary["drill"]["steps"][0]["id"] == "grooming"  # the scenario's steps, kept


def test_a_dropped_connection_loses_nothing_for_a_while(
        app_with_store: tuple[TestClient, Database, dict[str, int]], person_jpeg: bytes) -> None:
    # The Wi-Fi drops right after the practice: its page can still save the finished run
    # with its token; after KEEP_FINISHED_S the run is gone.
    client, _db, _ids = app_with_store
    with client.websocket_connect("/ws/live") as ws:
        hello = _until(ws, "hello")
        ws.send_json({"type": "start"})
        _until(ws, "started")
        for i in range(1, 4):
            ws.send_bytes(frame_message(person_jpeg, i))
            _until(ws, "feedback")
        ws.send_json({"type": "stop"})
        assert _until(ws, "summary")["can_save"] is True
    url, body = f"/api/live/{hello['session']}/save", {"token": hello["save_token"]}
    headers = _login(client, "lilei")
    assert client.post(url, json={"token": "guess"}, headers=headers).json()["reason"] == "wrong_save_token"
    r = client.post(url, json=body, headers=headers)
    assert r.status_code == 201, r.text
    stored = client.get(f"/api/sessions/{r.json()['session_id']}").json()["session"]
    assert (stored["kind"], stored["scenario"]) == ("live", None)  # free practice: no scenario

    with client.websocket_connect("/ws/live") as ws:  # a second run, never saved in time
        hello = _until(ws, "hello")
        ws.send_json({"type": "start"})
        _until(ws, "started")
        ws.send_bytes(frame_message(person_jpeg, 1))
        _until(ws, "feedback")
        ws.send_json({"type": "stop"})
        _until(ws, "summary")
    _wait_closed(client, hello["session"])
    live = client.app.state.live  # type: ignore[attr-defined]
    live.kept[hello["session"]].until = 0.0  # 15 minutes later
    r = client.post(f"/api/live/{hello['session']}/save", json={"token": hello["save_token"]}, headers=headers)
    assert r.status_code == 404 and r.json()["reason"] == "live_session_gone"
    assert hello["session"] not in live.kept


def test_a_run_cut_off_by_a_dropped_connection_is_finished_and_recovered(
        app_with_store: tuple[TestClient, Database, dict[str, int]], person_jpeg: bytes) -> None:
    # The socket drops mid-practice: the server finishes the run as if stopped; the page,
    # reconnected, asks for it back and can still save it.
    client, _db, _ids = app_with_store
    with client.websocket_connect("/ws/live") as ws:
        old = _until(ws, "hello")
        ws.send_json({"type": "drill_start", "id": "smile"})
        _until(ws, "drill")
        for i in range(1, 4):
            ws.send_bytes(frame_message(person_jpeg, i))
            _until(ws, "feedback")
    # (no "stop": the connection is gone)
    with client.websocket_connect("/ws/live") as ws:
        _until(ws, "hello")
        ws.send_json({"type": "recover", "session": old["session"], "token": "guess"})
        assert _until(ws, "error")["code"] == "nothing_to_recover"
        ws.send_json({"type": "recover", "session": old["session"], "token": old["save_token"]})
        drill = _until(ws, "drill_result")["result"]
        summary = _until(ws, "summary")
        assert drill["id"] == "smile" and drill["done"] is False
        assert summary["recovered"] is True and summary["can_save"] is True
        assert (summary["live_id"], summary["save_token"]) == (old["session"], old["save_token"])
        r = client.post(f"/api/live/{old['session']}/save", json={"token": old["save_token"]},
                        headers=_login(client, "lilei"))
        assert r.status_code == 201, r.text
        ws.send_json({"type": "recover", "session": old["session"], "token": old["save_token"]})
        assert _until(ws, "error")["code"] == "nothing_to_recover"  # saved: nothing left to recover


def test_a_saved_practice_keeps_the_live_numbers_and_times_its_findings_from_start(
        app_with_store: tuple[TestClient, Database, dict[str, int]], person_jpeg: bytes) -> None:
    # The page previews for a while before Start; the saved run's findings and events must lie
    # within the run (0 .. its length), as the report's header and time axis say, not at
    # "4.0–6.4 s" of a 2.4 s practice.
    client, db, _ids = app_with_store
    with client.websocket_connect("/ws/live") as ws:
        hello = _until(ws, "hello")
        preview_until = time.monotonic() + 2.0
        i = 0
        while time.monotonic() < preview_until:  # the camera is on, no run yet
            i += 1
            ws.send_bytes(frame_message(person_jpeg, i))
            _until(ws, "feedback")
        ws.send_json({"type": "start"})
        _until(ws, "started")
        run_until = time.monotonic() + 4.0
        while time.monotonic() < run_until:
            i += 1
            ws.send_bytes(frame_message(person_jpeg, i))
            _until(ws, "feedback")
        ws.send_json({"type": "stop"})
        summary = _until(ws, "summary")
        assert summary["can_save"] is True
        r = client.post(f"/api/live/{hello['session']}/save", json={"token": hello["save_token"]},
                        headers=_login(client, "lilei"))
        assert r.status_code == 201, r.text
    with db.session() as s:
        row = repo.get_session(s, r.json()["session_id"])
        # The live summary shows the very numbers the saved report keeps (4 decimals: rounded
        # again to 3, 0.6245 read 63 on the page and 62 in the report).
        assert summary["summary"]["overall_score"] == round(row.overall_score, 4)
        assert {rid: r["score"] for rid, r in summary["summary"]["rules"].items()} == {
            rr.rule_id: None if rr.score is None else round(rr.score, 4) for rr in row.rule_results}
        length_ms = row.duration_s * 1000 + 100
        findings = [e for e in row.episodes if e.kind == "finding"]
        assert findings, "no smile and tilted shoulders in the photo: findings"
        for ep in row.episodes:
            assert 0 <= ep.start_ms <= length_ms and (ep.end_ms is None or ep.end_ms <= length_ms), (
                ep.kind, ep.rule_id, ep.start_ms, ep.end_ms, row.duration_s)
