"""Helpers for the store tests: a short real video, hand-made analysis results, an empty store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import pytest

from posture_coach.store.db import Database
from posture_coach.store.repo import AnalysisResult, EventOutcome, FindingOutcome, RuleOutcome


def make_pan_video(photo: Path, out: Path, frames: int = 15, fps: float = 15.0) -> Path:
    """A real photo panned over ``frames`` frames, 640×480 MJPG AVI."""
    img = cv2.imread(str(photo))
    assert img is not None, photo
    big = cv2.resize(img, None, fx=1.25, fy=1.25)
    h, w = big.shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))  # type: ignore[attr-defined]
    assert writer.isOpened()
    for i in range(frames):
        x = int((w - 640) * (i % 15) / 14) if w > 640 else 0
        y = max(0, (h - 480) // 2)
        crop = big[y:y + 480, x:x + 640]
        crop = cv2.copyMakeBorder(crop, 0, 480 - crop.shape[0], 0, 640 - crop.shape[1], cv2.BORDER_CONSTANT)
        writer.write(crop)
    writer.release()
    return out


def fake_result(evidence: dict[str, Path] | None = None, *, penalty: float = 1.0, smile: float = 1.0) -> AnalysisResult:
    """Two assessable rules (one with a finding; ``smile`` the recommended face.smile's score),
    one never assessable."""
    rules = [
        RuleOutcome("standing.upright", 1.0 - penalty / 10.0, 1.0, 10.0, penalty, 0.0, None, {}),
        RuleOutcome("face.smile", smile, 1.0, 10.0, (1.0 - smile) * 10.0, 0.0, None, {}),
        RuleOutcome("sitting.legs_crossed", None, 1.0, 0.0, 0.0, 1.0, "legs_not_visible", {"legs_not_visible": 1.0}),
    ]
    findings = [FindingOutcome("standing.upright", "fail", 2000, 3000, 14.5, 2500, 75, penalty, evidence or {})]
    events = [EventOutcome("handshake", 6000, {"type": "handshake", "t_ms": 6000, "duration_s": 1.5})]
    return AnalysisResult(frames=300, duration_s=10.0, overall_score=(1.0 - penalty / 10.0 + smile) / 2,
                          unknown_share=1 / 3, summary={"frames": 300}, rules=rules, findings=findings, events=events)


def showing_the_onboarding(result: AnalysisResult) -> AnalysisResult:
    """``result`` as from a recording that shows every onboarding step a recording can show
    (a bow, a handshake and a card handed over judged, some time seated): the event rules
    pass with no weight, so scores and the overall are as in ``result``."""
    import dataclasses

    shown = [RuleOutcome(rid, 1.0, 0.0, 0.1, 0.0, 0.0, None, {}, judged_frames=1)
             for rid in ("greeting.bow", "handshake.lean", "handover.two_hands")]
    shown.append(RuleOutcome("sitting.upright", 1.0, 0.0, 5.0, 0.0, 0.0, None, {}, judged_frames=75))
    have = {r.rule_id for r in result.rules}
    return dataclasses.replace(result, rules=[*result.rules, *(r for r in shown if r.rule_id not in have)])


def empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A migrated SQLite store in ``tmp_path`` that the app will open (env set; no model cache)."""
    url = f"sqlite:///{tmp_path / 'pc.db'}"
    monkeypatch.setenv("POSTURE_COACH_DB_URL", url)
    monkeypatch.setenv("POSTURE_COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POSTURE_COACH_CACHE_DIR", str(tmp_path / "empty-cache"))
    db = Database(url, tmp_path / "data")
    db.upgrade()
    return db


def store_result(db: Database, result: AnalysisResult, **session: Any) -> int:
    """A session (``source`` role.mp4 unless given) whose analysis finished with ``result``:
    created, queued, claimed and saved as the job runner does. Returns its id."""
    from posture_coach.store import repo

    with db.session() as s:
        sid = repo.create_session(s, **{"source": "role.mp4", **session}).id
        jid = repo.create_job(s, sid).id
    claim = repo.claim_job(db, jid)
    assert claim and repo.save_results(db, jid, claim, result)
    return sid
