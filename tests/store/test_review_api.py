"""What the review page reads and does beside the findings: the score after review and the
share not assessable (list and detail), the per-rule reasons, violations a trainer added
(time checked against the recording, deleted by whoever added them), and a video scored
again (one new session per request, the old one marked as superseded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from posture_coach.errors import REASON_TEXTS
from posture_coach.rules.base import reason_text
from posture_coach.server.store_api import StoreConfig
from posture_coach.store import Database, repo
from posture_coach.store.models import Review, Session
from posture_coach.store.repo import AnalysisResult, FindingOutcome, RuleOutcome
from tests.store.helpers import fake_result, store_result
from tests.store.test_api import _app, _seed, _upload, login

Api = tuple[TestClient, StoreConfig, dict[str, int]]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    app, cfg = _app(tmp_path, run_jobs=False)
    ids = _seed(cfg)
    with TestClient(app) as client:
        yield client, cfg, ids


def _db(cfg: StoreConfig) -> Database:
    return Database(cfg.db_url, cfg.data_dir)


def oblique_result() -> AnalysisResult:
    """A role-play filmed at an angle: one finding, most of the time not assessable (the
    face not read, the distance needing a side-on view), the sitting rules not applying."""
    rules = [
        RuleOutcome("standing.upright", 0.9, 1.0, 9.7, 0.97, 0.0, None, {}, 145),
        RuleOutcome("handshake.lean", 1.0, 1.0, 0.067, 0.0, 0.0, "no_event_yet", {"no_event_yet": 1.0}, 1),
        RuleOutcome("standing.hands_front", 1.0, 1.0, 2.4, 0.0, 0.0, None, {}, 36),
        RuleOutcome("face.smile", None, 1.0, 0.0, 0.0, 1.0, "face_not_read", {"face_not_read": 1.0}, 0),
        RuleOutcome("distance.customer", None, 1.0, 0.0, 0.0, 1.0, "side_on_view_needed",
                    {"side_on_view_needed": 1.0}, 0),
        RuleOutcome("sitting.upright", None, 1.0, 0.0, 0.0, 0.0, "not_sitting", {"not_sitting": 1.0}, 0),
    ]
    findings = [FindingOutcome("standing.upright", "warn", 2000, 3000, 14.5, 2500, 30, 0.97)]
    summary = {"frames": 146, "top_reasons": [{"reason": "face_not_read", "share": 0.6},
                                              {"reason": "side_on_view_needed", "share": 0.4}]}
    return AnalysisResult(frames=146, duration_s=9.733, overall_score=(0.9 + 1.0 + 1.0) / 3, unknown_share=0.72,
                          summary=summary, rules=rules, findings=findings, events=[])


def test_the_list_and_the_detail_show_the_reviewed_score_and_what_could_not_be_assessed(api: Api) -> None:
    client, cfg, ids = api
    db = _db(cfg)
    plain = store_result(db, fake_result(), person_id=ids["a"])
    oblique = store_result(db, oblique_result(), source="oblique.mp4", person_id=ids["a"])
    with db.session() as s:
        queued = repo.create_session(s, source="later.mp4", person_id=ids["a"]).id
    db.dispose()
    csrf = login(client, "trainer1")
    finding = client.get(f"/api/sessions/{plain}").json()["findings"][0]
    r = client.post(f"/api/findings/{finding['id']}/review", json={"decision": "disagree"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    listed = {x["id"]: x for x in client.get("/api/sessions").json()["sessions"]}
    # The list says what the report says: the score after the trainer's review (95 → 100).
    assert listed[plain]["overall_score"] == pytest.approx(0.95)
    assert listed[plain]["overall_score_reviewed"] == pytest.approx(1.0)
    assert listed[plain]["unknown_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert listed[plain]["unassessable_high"] is False
    assert listed[oblique]["unknown_share"] == pytest.approx(0.72) and listed[oblique]["unassessable_high"] is True
    assert listed[queued]["overall_score_reviewed"] is None and listed[queued]["unassessable_high"] is False
    report = client.get(f"/api/sessions/{plain}/report?format=json").json()
    assert report["overall_score_reviewed"] == listed[plain]["overall_score_reviewed"]

    detail = client.get(f"/api/sessions/{oblique}").json()
    gap = detail["unassessable"]
    assert gap["share"] == pytest.approx(0.72) and gap["high"] is True
    assert [t["reason"] for t in gap["top_reasons"]] == ["face_not_read", "side_on_view_needed"]
    assert gap["top_reasons"][1]["text"] == {"zh": reason_text("side_on_view_needed", "zh"),
                                             "en": reason_text("side_on_view_needed", "en")}
    rules = {r["rule_id"]: r for r in detail["rules"]}
    assert rules["distance.customer"]["score"] is None and rules["distance.customer"]["not_applied"] is False
    assert "侧面" in rules["distance.customer"]["top_reason_text"]["zh"]
    assert rules["sitting.upright"]["not_applied"] is True  # standing all along: it did not apply
    assert rules["standing.upright"]["top_reason_text"] is None
    assert rules["standing.hands_front"]["thin_evidence"] is True  # 2.4 s judged
    assert rules["handshake.lean"]["events_judged"] == 1
    # A result stored without the summary's reasons: the rules' own reasons, weighted.
    gap = client.get(f"/api/sessions/{plain}").json()["unassessable"]
    assert gap["high"] is False and [t["reason"] for t in gap["top_reasons"]] == ["legs_not_visible"]


def test_a_missed_violation_must_fall_within_the_recording(api: Api) -> None:
    client, cfg, ids = api
    db = _db(cfg)
    sid = store_result(db, fake_result(), person_id=ids["a"])  # 10.0 s long
    with db.session() as s:
        queued = repo.create_session(s, source="later.mp4", person_id=ids["a"]).id
    db.dispose()
    csrf = login(client, "trainer1")
    h = {"X-CSRF-Token": csrf}

    def add(at_ms: Any, session: int = sid) -> Any:
        return client.post(f"/api/sessions/{session}/missed", json={"rule_id": "face.smile", "at_ms": at_ms}, headers=h)

    for bad in (99_000, 10_001, -3_000, -1, 2**70):
        r = add(bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["reason"] == "missed_time_out_of_range"
        assert r.json()["reason_text"] == REASON_TEXTS["missed_time_out_of_range"]
        assert "outside the recording" in r.json()["detail"]
    assert add(0).status_code == 200 and add(10_000).status_code == 200
    # No time: a violation not at one moment ("never smiled"), kept as the whole recording.
    assert add(None).status_code == 200
    assert [m["at_ms"] for m in client.get(f"/api/sessions/{sid}").json()["missed"]] == [0, 10_000, None]
    r = add(1_000, queued)  # nothing analysed yet: nothing to compare with
    assert r.status_code == 400 and r.json()["reason"] == "session_not_analysed"
    assert "还没有分析完成" in r.json()["reason_text"]["zh"]
    trainee = login(client, "lilei")
    r = client.post(f"/api/sessions/{sid}/missed", json={"rule_id": "face.smile", "at_ms": 1000},
                    headers={"X-CSRF-Token": trainee})
    assert r.status_code == 403 and r.json()["reason"] == "forbidden"


def test_the_trainer_who_added_a_missed_violation_deletes_it(api: Api) -> None:
    client, cfg, ids = api
    db = _db(cfg)
    sid = store_result(db, fake_result(), person_id=ids["a"])
    other = store_result(db, fake_result(), person_id=ids["a"])
    db.dispose()
    csrf = login(client, "trainer1")
    r = client.post(f"/api/sessions/{sid}/missed", json={"rule_id": "face.smile", "at_ms": 4000, "comment": "no smile"},
                    headers={"X-CSRF-Token": csrf})
    rid = r.json()["review_id"]
    assert [a["missed"] for a in client.get("/api/agreement").json()["rules"] if a["rule_id"] == "face.smile"] == [1]
    # Whoever else may see the session reads it, without the right to delete it.
    hr = login(client, "hr")
    (entry,) = client.get(f"/api/sessions/{sid}").json()["missed"]
    assert entry["id"] == rid and entry["trainer"] == "trainer1" and entry["can_delete"] is False
    r = client.delete(f"/api/sessions/{sid}/missed/{rid}", headers={"X-CSRF-Token": hr})
    assert r.status_code == 403 and r.json()["reason"] == "not_your_entry"
    assert "添加这条记录的培训师" in r.json()["reason_text"]["zh"]
    for user, code, reason in (("trainer2", 403, "forbidden"), ("lilei", 403, "forbidden")):
        token = login(client, user)
        r = client.delete(f"/api/sessions/{sid}/missed/{rid}", headers={"X-CSRF-Token": token})
        assert (r.status_code, r.json()["reason"]) == (code, reason), user
    csrf = login(client, "trainer1")
    assert client.get(f"/api/sessions/{sid}").json()["missed"][0]["can_delete"] is True
    assert client.delete(f"/api/sessions/{sid}/missed/{rid}").status_code == 403  # no CSRF token
    r = client.delete(f"/api/sessions/{other}/missed/{rid}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404 and r.json()["reason"] == "not_found"  # not that session's
    finding = client.get(f"/api/sessions/{sid}").json()["findings"][0]["id"]
    client.post(f"/api/findings/{finding}/review", json={"decision": "agree"}, headers={"X-CSRF-Token": csrf})
    with _db(cfg).session() as s:
        agreed = s.scalars(select(Review.id).where(Review.episode_id == finding)).one()
    r = client.delete(f"/api/sessions/{sid}/missed/{agreed}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404  # a decision on a finding is not an added violation
    r = client.delete(f"/api/sessions/{sid}/missed/{rid}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json() == {"deleted": rid, "session_id": sid}
    assert client.get(f"/api/sessions/{sid}").json()["missed"] == []
    assert [a["missed"] for a in client.get("/api/agreement").json()["rules"] if a["rule_id"] == "face.smile"] == [0]
    r = client.delete(f"/api/sessions/{sid}/missed/{rid}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404
    # A stale page's second DELETE must not take a newer entry: SQLite gave a deleted row's
    # id to the next one, so deletion keeps the row (withdrawn) and ids are never reused.
    r = client.post(f"/api/sessions/{sid}/missed", json={"rule_id": "face.smile", "at_ms": 5000},
                    headers={"X-CSRF-Token": csrf})
    assert r.json()["review_id"] != rid
    assert client.delete(f"/api/sessions/{sid}/missed/{rid}", headers={"X-CSRF-Token": csrf}).status_code == 404
    assert [m["at_ms"] for m in client.get(f"/api/sessions/{sid}").json()["missed"]] == [5000]


def _count(cfg: StoreConfig) -> int:
    db = _db(cfg)
    with db.session() as s:
        n = int(s.scalar(select(func.count()).select_from(Session)) or 0)
    db.dispose()
    return n


def _finish(cfg: StoreConfig, job_id: int, result: AnalysisResult | None = None, *, fail: bool = False) -> None:
    """Run a queued job's end as the job runner would (no models here)."""
    db = _db(cfg)
    claim = repo.claim_job(db, job_id)
    assert claim is not None
    if fail:
        repo.fail_job(db, job_id, claim, "boom", reason="video_unreadable")
    else:
        assert repo.save_results(db, job_id, claim, result or fake_result())
    db.dispose()


def test_scoring_again_makes_one_new_session_and_marks_the_old_one_superseded(api: Api, real_video: Path) -> None:
    client, cfg, ids = api
    csrf = login(client, "trainer1")
    h = {"X-CSRF-Token": csrf}
    up = _upload(client, csrf, real_video.read_bytes(), "roleplay.avi", ids["a"]).json()
    first = up["session_id"]
    _finish(cfg, up["job_id"])
    # Two clicks (or two tabs): one new session, the second request answered with it.
    a = client.post(f"/api/sessions/{first}/reanalyse", json={"role_play": "left"}, headers=h)
    b = client.post(f"/api/sessions/{first}/reanalyse", json={"role_play": "left"}, headers=h)
    assert a.status_code == b.status_code == 202
    assert a.json()["reused"] is False and b.json()["reused"] is True
    assert (b.json()["session_id"], b.json()["job_id"]) == (a.json()["session_id"], a.json()["job_id"])
    assert _count(cfg) == 2
    second = a.json()["session_id"]
    listed = {x["id"]: x for x in client.get("/api/sessions").json()["sessions"]}
    assert listed[first]["superseded_by"] == {"id": second, "status": "queued"}
    assert listed[first]["rescored_from"] is None
    assert listed[second]["rescored_from"] == first and listed[second]["superseded_by"] is None
    assert listed[second]["role_play"] == "left"
    # Its analysis writes the summary: the link stays.
    _finish(cfg, a.json()["job_id"])
    old = client.get(f"/api/sessions/{first}").json()
    new = client.get(f"/api/sessions/{second}").json()
    assert old["superseded_by"] == {"id": second, "status": "done"} and new["rescored_from"] == first
    assert new["session"]["status"] == "done" and new["session"]["role_play"] == "left"
    # The other side is another reading of the video: a new session, now the one to go by.
    c = client.post(f"/api/sessions/{first}/reanalyse", json={"role_play": "right"}, headers=h)
    assert c.json()["reused"] is False and _count(cfg) == 3
    third = c.json()["session_id"]
    assert client.get(f"/api/sessions/{first}").json()["superseded_by"] == {"id": third, "status": "queued"}
    # A new session whose analysis failed supersedes nothing (the earlier one counts again),
    # and asking the same way once more makes a fresh try.
    _finish(cfg, c.json()["job_id"], fail=True)
    assert client.get(f"/api/sessions/{first}").json()["superseded_by"] == {"id": second, "status": "done"}
    d = client.post(f"/api/sessions/{first}/reanalyse", json={"role_play": "right"}, headers=h)
    assert d.json()["reused"] is False and d.json()["session_id"] not in (second, third)
    # A deleted new session supersedes nothing either.
    hr = login(client, "hr")
    for sid in (second, d.json()["session_id"]):
        assert client.delete(f"/api/sessions/{sid}", headers={"X-CSRF-Token": hr}).status_code == 200
    listed = {x["id"]: x for x in client.get("/api/sessions").json()["sessions"]}
    assert listed[first]["superseded_by"] is None and listed[third]["rescored_from"] == first


def test_scoring_again_and_added_violations_on_each_database(db: Database) -> None:
    """The same, in the repository, on SQLite and PostgreSQL: the links between a session and
    the one scoring it again live in the summaries (no schema change) and survive the new
    session's analysis; an added violation is deleted only by whoever added it."""
    with db.session() as s:
        t1 = repo.create_user(s, "t1", "password-1", "trainer")
        t2 = repo.create_user(s, "t2", "password-2", "trainer")
        person = repo.create_person(s, "p")
        cohort = repo.create_cohort(s, "c", trainer_id=t1.id)
        repo.add_member(s, cohort.id, person.id)
        cohort2 = repo.create_cohort(s, "c2", trainer_id=t2.id)
        repo.add_member(s, cohort2.id, person.id)
        pid = person.id
    old = store_result(db, oblique_result(), person_id=pid)
    with db.session() as s:
        new = repo.create_session(s, source="role.mp4", person_id=pid, role_play="left")
        repo.link_rescored(s, repo.get_session(s, old), new)
        new_id, jid = new.id, repo.create_job(s, new.id).id
        assert repo.pending_rescore(s, repo.get_session(s, old), "left").id == new_id  # type: ignore[union-attr]
        assert repo.pending_rescore(s, repo.get_session(s, old), "right") is None
    claim = repo.claim_job(db, jid)
    assert claim and repo.save_results(db, jid, claim, fake_result())
    with db.session() as s:
        rows = [repo.get_session(s, old), repo.get_session(s, new_id)]
        links = repo.reanalyse_links(s, rows)
        assert links[old] == {"rescored_from": None, "superseded_by": {"id": new_id, "status": "done"}}
        assert links[new_id] == {"rescored_from": old, "superseded_by": None}
        assert rows[1].summary["frames"] == 300  # the analysis's own summary, with the link kept
        gap = repo.unassessable(rows[0])
        assert gap["high"] and gap["notable"] and gap["top_reasons"][0] == {"reason": "face_not_read", "share": 0.6}
        t1 = repo.get_user(s, t1.id)
        with pytest.raises(repo.Invalid) as bad:
            repo.add_review(s, t1, decision="missed", session_id=old, rule_id="face.smile", at_ms=9_800)
        assert bad.value.reason == "missed_time_out_of_range"
        rid = repo.add_review(s, t1, decision="missed", session_id=old, rule_id="face.smile", at_ms=9_733).id
    with db.session() as s:
        t2 = repo.get_user(s, t2.id)
        assert [m["can_delete"] for m in repo.missed_entries(s, t2, old)] == [False]
        with pytest.raises(repo.Forbidden) as no:
            repo.delete_missed(s, t2, old, rid)
        assert no.value.reason == "not_your_entry"
    with db.session() as s:
        t1 = repo.get_user(s, t1.id)
        repo.delete_missed(s, t1, old, rid)
        assert repo.missed_entries(s, t1, old) == []
