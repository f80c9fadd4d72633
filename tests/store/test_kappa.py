"""Trainer–coach agreement: Cohen's kappa arithmetic and the units it is computed over."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from posture_coach.store import Database, repo
from posture_coach.store.models import EpisodeRow
from tests.store.helpers import fake_result


@pytest.mark.parametrize(
    ("a", "b", "c", "d", "kappa"),
    [
        (20, 5, 10, 15, 0.4),  # po = 0.7, pe = 0.5
        (45, 15, 25, 15, 0.1304),  # po = 0.6, pe = 0.54 -> 0.06 / 0.46
        (10, 0, 0, 10, 1.0),  # perfect
        (0, 10, 10, 0, -1.0),  # perfect disagreement, balanced margins
        (5, 5, 5, 5, 0.0),  # chance only
    ],
)
def test_cohen_kappa_table(a: int, b: int, c: int, d: int, kappa: float) -> None:
    got = repo.cohen_kappa(a, b, c, d)
    assert got is not None and got == pytest.approx(kappa, abs=1e-4)


def test_kappa_undefined_when_chance_agreement_is_total() -> None:
    assert repo.cohen_kappa(0, 0, 0, 0) is None
    assert repo.cohen_kappa(7, 0, 0, 0) is None  # everyone always says yes: pe = 1


def test_agreement_counts_units_and_csv(sqlite_db: Database) -> None:
    db = sqlite_db
    with db.session() as s:
        t = repo.create_user(s, "trainer", "trainer-pass", "trainer")
        people = [repo.create_person(s, f"p{i}") for i in range(4)]
        c = repo.create_cohort(s, "c", trainer_id=t.id)
        sessions, jobs = [], []
        for p in people:
            repo.add_member(s, c.id, p.id)
            ss = repo.create_session(s, source="v.mp4", person_id=p.id)
            sessions.append(ss.id)
            jobs.append(repo.create_job(s, ss.id).id)
    for j in jobs:
        claim = repo.claim_job(db, j)
        assert claim is not None and repo.save_results(db, j, claim, fake_result())
    with db.session() as s:
        t = repo.get_user(s, t.id)
        eps = {e.session_id: e.id for e in s.scalars(select(EpisodeRow).where(EpisodeRow.kind == "finding"))}
        # Sessions 0, 1: agree with the upright finding; session 2: disagree; session 3: not reviewed.
        repo.add_review(s, t, decision="agree", episode_id=eps[sessions[0]])
        repo.add_review(s, t, decision="agree", episode_id=eps[sessions[1]])
        repo.add_review(s, t, decision="disagree", episode_id=eps[sessions[2]], comment="bowing, not hunched")
        # Session 0: the coach missed a smile problem (face.smile was assessable, no finding).
        repo.add_review(s, t, decision="missed", session_id=sessions[0], rule_id="face.smile", at_ms=4000)
        # Session 1: legs crossed, a rule the coach could not judge there (no time assessable).
        repo.add_review(s, t, decision="missed", session_id=sessions[1], rule_id="sitting.legs_crossed",
                        at_ms=2000)
        # Re-reviewing replaces the earlier decision (one per trainer and finding).
        repo.add_review(s, t, decision="agree", episode_id=eps[sessions[1]], comment="yes")
        stats = {a.rule_id: a for a in repo.agreement(s)}
    up = stats["standing.upright"]
    assert (up.findings_reviewed, up.agreed) == (3, 2)
    assert up.agree_pct == pytest.approx(66.667, abs=1e-2)
    assert up.table == [2, 1, 0, 0]  # units: 3 reviewed sessions; session 3 is not a unit
    assert up.kappa is not None and up.kappa == pytest.approx(0.0)  # trainer/coach margins: pe = po
    legs = stats["sitting.legs_crossed"]  # the coach abstained: no disagreement, outside the table
    assert legs.missed == 1 and legs.table == [0, 0, 0, 0] and legs.coach_unjudged == 1 and legs.kappa is None
    assert legs.to_dict()["coach_could_not_judge"] == 1
    sm = stats["face.smile"]
    assert sm.missed == 1 and sm.table == [0, 0, 1, 2]
    assert sm.kappa == pytest.approx(0.0)
    csv_text = repo.to_csv([a.to_dict() for a in stats.values()])
    assert csv_text.splitlines()[0].startswith("rule_id,findings_reviewed,agreed,agree_pct")
    # The disagreed finding no longer counts in session 2's score.
    with db.session() as s:
        rs = repo.reviewed_scores(repo.get_session(s, sessions[2]))
        assert rs.rules["standing.upright"] == pytest.approx(1.0)
        assert repo.get_session(s, sessions[2]).rule_results[0].score == pytest.approx(0.9)
