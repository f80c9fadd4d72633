"""The repository on SQLite and PostgreSQL: results, fencing, deletes, retention, roles, HR."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from posture_coach.store import Database, repo
from posture_coach.store.models import EpisodeRow, Evidence, Job, Review, RuleResult, Session, User
from tests.store.helpers import fake_result, showing_the_onboarding, store_result


def _setup(db: Database) -> dict[str, int]:
    """HR admin, two trainers with a cohort each, two trainees (one per cohort), one session each."""
    with db.session() as s:
        hr = repo.create_user(s, "hr", "hr-password-1", "hr_admin")
        t1 = repo.create_user(s, "trainer1", "trainer-pass-1", "trainer")
        t2 = repo.create_user(s, "trainer2", "trainer-pass-2", "trainer")
        a = repo.create_person(s, "李雷", consent_media=True)
        b = repo.create_person(s, "Han Meimei", consent_media=True)
        ua = repo.create_user(s, "lilei", "trainee-pass-1", "trainee", person_id=a.id)
        ub = repo.create_user(s, "hanmm", "trainee-pass-2", "trainee", person_id=b.id)
        c1 = repo.create_cohort(s, "2026-A", trainer_id=t1.id)
        c2 = repo.create_cohort(s, "2026-B", trainer_id=t2.id)
        repo.add_member(s, c1.id, a.id)
        repo.add_member(s, c2.id, b.id)
        sa = repo.create_session(s, source="a.mp4", person_id=a.id, scenario="onboarding")
        sb = repo.create_session(s, source="b.mp4", person_id=b.id, scenario="onboarding")
        ja = repo.create_job(s, sa.id)
        jb = repo.create_job(s, sb.id)
        return {"hr": hr.id, "t1": t1.id, "t2": t2.id, "a": a.id, "b": b.id, "ua": ua.id, "ub": ub.id,
                "c1": c1.id, "c2": c2.id, "sa": sa.id, "sb": sb.id, "ja": ja.id, "jb": jb.id}


def _finish(db: Database, job_id: int, result: Any = None, *, shown: bool = True, **kw: object) -> str:
    """Save ``result`` (default: a :func:`fake_result` of ``kw``) as the job's analysis;
    ``shown``: as from a recording that shows the whole onboarding scenario (the sessions
    of :func:`_setup` are uploaded as the self-check)."""
    claim = repo.claim_job(db, job_id)
    assert claim is not None
    result = result or fake_result(**kw)  # type: ignore[arg-type]
    assert repo.save_results(db, job_id, claim, showing_the_onboarding(result) if shown else result)
    return claim


def _count(db: Database, model: type, session_id: int) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(model.session_id == session_id)))


def test_result_set_is_written_once_and_replaced_whole(db: Database) -> None:
    ids = _setup(db)
    _finish(db, ids["ja"], shown=False)
    assert _count(db, RuleResult, ids["sa"]) == 3
    assert _count(db, EpisodeRow, ids["sa"]) == 2  # one finding, one event
    with db.session() as s:
        sess = repo.get_session(s, ids["sa"])
        assert sess.status == "done" and sess.overall_score == pytest.approx(0.95)
        job = repo.get_job(s, ids["ja"])
        assert job.status == "done" and job.progress == 1.0 and job.claim is None
        # Re-running the analysis (e.g. a trainer asks for it) replaces, never adds.
        job.status = "queued"
    _finish(db, ids["ja"], penalty=2.0, shown=False)
    assert _count(db, RuleResult, ids["sa"]) == 3
    assert _count(db, EpisodeRow, ids["sa"]) == 2
    with db.session() as s:
        assert repo.get_session(s, ids["sa"]).overall_score == pytest.approx(0.9)


def test_claims_fence_off_a_worker_presumed_dead(db: Database) -> None:
    ids = _setup(db)
    old = repo.claim_job(db, ids["ja"])
    assert old is not None
    assert repo.claim_job(db, ids["ja"]) is None  # a running job cannot be claimed twice
    # The process "crashed": its heartbeat is old, so start-up requeues the job.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    assert repo.requeue_stale(db, 60.0, now=later) == [ids["ja"]]
    new = repo.claim_job(db, ids["ja"])
    assert new is not None and new != old
    # The old worker wakes up and tries to write: refused. Heartbeats are refused too.
    assert not repo.heartbeat(db, ids["ja"], old, 0.5)
    assert not repo.save_results(db, ids["ja"], old, fake_result())
    assert _count(db, RuleResult, ids["sa"]) == 0
    assert repo.save_results(db, ids["ja"], new, fake_result())
    assert _count(db, RuleResult, ids["sa"]) == 3
    with db.session() as s:
        assert repo.get_job(s, ids["ja"]).attempts == 2


def test_stale_job_out_of_attempts_fails(db: Database) -> None:
    ids = _setup(db)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    for _ in range(3):
        assert repo.claim_job(db, ids["jb"]) is not None
        repo.requeue_stale(db, 60.0, now=later)
    with db.session() as s:
        job = repo.get_job(s, ids["jb"])
        assert job.status == "failed" and "3 interrupted attempts" in (job.error or "")
        assert repo.get_session(s, ids["sb"]).status == "failed"


def test_delete_person_removes_rows_and_files(db: Database) -> None:
    ids = _setup(db)
    video = db.data_dir / "uploads" / f"session_{ids['sa']}" / "video.avi"
    snap = db.data_dir / "evidence" / f"session_{ids['sa']}" / "x" / "snap.jpg"
    for p in (video, snap):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    with db.session() as s:
        repo.get_session(s, ids["sa"]).media_path = db.rel(video)
    _finish(db, ids["ja"], evidence={"snapshot": snap})
    with db.session() as s:
        t1 = repo.get_user(s, ids["t1"])
        ep = s.scalars(select(EpisodeRow).where(EpisodeRow.kind == "finding")).first()
        assert ep is not None
        repo.add_review(s, t1, decision="disagree", episode_id=ep.id, comment="he was bowing")
    assert repo.delete_person(db, ids["a"]) == 2
    assert not video.exists() and not snap.exists()
    with db.session() as s:
        assert s.get(Session, ids["sa"]) is None
        assert s.scalar(select(func.count()).select_from(RuleResult)) == 0
        assert s.scalar(select(func.count()).select_from(Evidence)) == 0
        assert s.scalar(select(func.count()).select_from(Review)) == 0
        assert s.scalar(select(func.count()).select_from(Job).where(Job.session_id == ids["sa"])) == 0
        assert s.scalars(select(User).where(User.username == "lilei")).first() is None
        assert s.get(Session, ids["sb"]) is not None  # the other person is untouched


def test_retention_purges_old_media_keeps_scores(db: Database, tmp_path: Path) -> None:
    ids = _setup(db)
    video = db.data_dir / "uploads" / f"session_{ids['sa']}" / "video.avi"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"x")
    with db.session() as s:
        repo.get_session(s, ids["sa"]).media_path = db.rel(video)
        assert repo.set_settings(s, retention_days=30)["retention_days"] == 30
    _finish(db, ids["ja"])
    assert repo.purge_media(db) == 0  # young media stay
    assert repo.purge_media(db, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=31)) == 1
    assert not video.exists()
    with db.session() as s:
        sess = repo.get_session(s, ids["sa"])
        assert sess.media_path is None and sess.overall_score is not None
    with db.session() as s, pytest.raises(ValueError):
        repo.set_settings(s, retention_days=-1)


def test_role_visibility(db: Database) -> None:
    ids = _setup(db)
    with db.session() as s:
        def seen(uid: int) -> set[int]:
            return {r.id for r in repo.visible_sessions(s, repo.get_user(s, uid))}

        assert seen(ids["hr"]) == {ids["sa"], ids["sb"]}
        assert seen(ids["t1"]) == {ids["sa"]}
        assert seen(ids["t2"]) == {ids["sb"]}
        assert seen(ids["ua"]) == {ids["sa"]}
        assert seen(ids["ub"]) == {ids["sb"]}
        with pytest.raises(repo.Forbidden):
            repo.session_for(s, repo.get_user(s, ids["ua"]), ids["sb"])
        with pytest.raises(repo.Forbidden):
            repo.session_for(s, repo.get_user(s, ids["t1"]), ids["sb"])
        with pytest.raises(repo.Forbidden):
            repo.list_cohorts(s, repo.get_user(s, ids["ua"]))
        assert [c.name for c in repo.list_cohorts(s, repo.get_user(s, ids["t1"]))] == ["2026-A"]


def test_passwords_are_hashed_and_checked(db: Database) -> None:
    _setup(db)
    with db.session() as s:
        u = s.scalars(select(User).where(User.username == "hr")).one()
        assert u.password_hash.startswith("$argon2id$") and "hr-password-1" not in u.password_hash
        assert repo.authenticate(s, "hr", "hr-password-1") is not None
        assert repo.authenticate(s, "hr", "wrong-password") is None
        assert repo.authenticate(s, "nobody", "hr-password-1") is None
        with pytest.raises(ValueError):
            repo.create_user(s, "short", "abc", "trainer")


def test_reviews_rescore_and_cohort_table(db: Database) -> None:
    ids = _setup(db)
    _finish(db, ids["ja"], penalty=3.0)  # upright 0.7 < pass 0.8
    _finish(db, ids["jb"], penalty=1.0)  # upright 0.9
    with db.session() as s:
        hr = repo.get_user(s, ids["hr"])
        table = repo.cohort_table(s, hr, ids["c1"])
        (row,) = table["people"]
        assert row["rules"]["standing.upright"] == "fail" and row["passed"] is False
        assert row["rules"]["sitting.legs_crossed"] is None  # not assessable
        assert table["rules"]["standing.upright"] == {"passed": 0, "assessed": 1, "pass_rate": 0.0}
        # The trainer disagrees with the only finding: it no longer counts.
        t1 = repo.get_user(s, ids["t1"])
        ep = s.scalars(select(EpisodeRow).where(EpisodeRow.session_id == ids["sa"],
                                                EpisodeRow.kind == "finding")).one()
        repo.add_review(s, t1, decision="disagree", episode_id=ep.id, comment="camera angle")
        with pytest.raises(repo.Forbidden):  # not their cohort
            repo.add_review(s, repo.get_user(s, ids["t2"]), decision="agree", episode_id=ep.id)
    with db.session() as s:
        rs = repo.reviewed_scores(repo.get_session(s, ids["sa"]))
        assert rs.rules["standing.upright"] == pytest.approx(1.0) and rs.overall == pytest.approx(1.0)
        assert rs.disagreed == 1
        table = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])
        assert table["people"][0]["rules"]["standing.upright"] == "pass"
        with pytest.raises(repo.Forbidden):
            repo.cohort_table(s, repo.get_user(s, ids["t2"]), ids["c1"])
        csv_text = repo.cohort_csv(table)
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("person_id,name,session_id,overall,passed,")
    assert "李雷" in lines[1] and "not_assessable" in lines[1]
    assert lines[-1].split(",")[1] == "pass_rate"


def test_a_missed_recommended_behaviour_warns_and_does_not_fail_the_self_check(db: Database) -> None:
    ids = _setup(db)
    _finish(db, ids["ja"], penalty=1.0, smile=0.5)  # upright 0.9 passes; no smile (recommended) 0.5
    with db.session() as s:
        table = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])
    (row,) = table["people"]
    assert row["rules"]["face.smile"] == "warn" and row["rules"]["standing.upright"] == "pass"
    assert row["passed"] is True
    assert table["rules"]["face.smile"] == {"passed": 0, "assessed": 1, "pass_rate": 0.0}  # not a pass either


def test_the_cohort_csv_for_people_speaks_their_language(db: Database) -> None:
    ids = _setup(db)
    _finish(db, ids["ja"], penalty=3.0)  # upright 0.7 < pass 0.8
    with db.session() as s:
        table = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])
    zh = repo.cohort_csv(table, "zh").strip().splitlines()
    assert zh[0].startswith("学员编号,姓名,记录编号,总分（含培训师复核）,结果,日期,")
    assert "抬头挺胸，不弯腰驼背" in zh[0] and "standing.upright" not in zh[0]
    person = dict(zip(next(csv.reader([zh[0]])), next(csv.reader([zh[1]])), strict=True))
    assert person["姓名"] == "李雷" and person["结果"] == "未通过" and person["总分（含培训师复核）"] == "85"
    assert person["无法评估的时间（%）"] == "33"  # what the page says beside the score
    assert person["抬头挺胸，不弯腰驼背"] == "未通过" and person["不跷二郎腿"] == "无法评估"
    rates = dict(zip(next(csv.reader([zh[0]])), next(csv.reader([zh[-1]])), strict=True))
    assert rates["姓名"] == "各规则通过率（%）" and rates["抬头挺胸，不弯腰驼背"] == "0" and rates["面带微笑"] == "100"
    en = repo.cohort_csv(table, "en").splitlines()
    assert en[0].startswith("person id,name,session id,overall score (after trainer review),result,date,")
    assert "not passed" in en[1]
    # Rules in the handbook's order (standing before sitting before the face), as on the page.
    titles = next(csv.reader([zh[0]]))
    assert titles.index("抬头挺胸，不弯腰驼背") < titles.index("不跷二郎腿") < titles.index("面带微笑")
    # For programs (no language): ids, codes and fractions, as before.
    raw = repo.cohort_csv(table).splitlines()
    assert raw[0].startswith("person_id,name,session_id,overall,passed,date,") and ",0.85," in raw[1]


def test_a_trainee_saves_a_live_self_check_to_their_own_record_and_hr_sees_it(db: Database) -> None:
    ids = _setup(db)
    with db.session() as s:
        trainee, trainer, hr = (repo.get_user(s, ids[k]) for k in ("ua", "t1", "hr"))
        s.expunge_all()
    sid = repo.save_live_session(db, trainee, fake_result(penalty=3.0), scenario="onboarding", posture="standing")
    with db.session() as s:
        row = repo.get_session(s, sid)
        assert (row.kind, row.status, row.person_id, row.media_path) == ("live", "done", ids["a"], None)
        assert {r.rule_id for r in row.rule_results} >= {"standing.upright", "face.smile"}
        assert [e.rule_id for e in row.episodes if e.kind == "finding"] == ["standing.upright"]
        # HR's onboarding view takes the newest onboarding result, live or recorded.
        (person,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
        assert person["session_id"] == sid and person["kind"] == "live"
        assert person["date"] == dt.datetime.now().astimezone().date().isoformat()  # when HR reads it
        assert person["rules"]["standing.upright"] == "fail"
    for not_a_trainee in (trainer, hr):
        with pytest.raises(repo.Forbidden):
            repo.save_live_session(db, not_a_trainee, fake_result(), scenario="onboarding")
    with pytest.raises(ValueError, match="no frames"):  # a live session never stores pictures
        repo.save_live_session(db, trainee, fake_result({"snapshot": Path("x.jpg")}), scenario=None)


def test_the_migrations_build_exactly_the_models_schema(db: Database) -> None:
    # A column added to a model without a revision (or the reverse) fails here, on each backend.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from posture_coach.store.models import Base

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_the_cohort_says_how_much_of_a_self_check_could_not_be_assessed(db: Database) -> None:
    # "通过 99" over a run mostly out of view: HR sees the share beside the score.
    ids = _setup(db)
    _finish(db, ids["ja"], dataclasses.replace(fake_result(), unknown_share=0.72))
    with db.session() as s:
        (person,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
    # The page marks it from the same limit the report's notice uses.
    assert person["unknown_share"] == 0.72 and person["unassessable_high"] is True
    with db.session() as s:  # done again, mostly in view
        again = repo.create_job(s, repo.create_session(s, source="a2.mp4", person_id=ids["a"],
                                                       scenario="onboarding").id).id
    _finish(db, again, dataclasses.replace(fake_result(), unknown_share=0.3))
    with db.session() as s:
        (person,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
    assert person["unknown_share"] == 0.3 and person["unassessable_high"] is False


def test_the_cohort_dates_a_self_check_by_the_day_where_hr_works(db: Database,
                                                                  machine_tz: Callable[[str], None]) -> None:
    # 07:30 on 25 November in Beijing is still 24 November in UTC.
    ids = _setup(db)
    with db.session() as s:
        trainee = repo.get_user(s, ids["ua"])
        s.expunge_all()
    sid = repo.save_live_session(db, trainee, fake_result(), scenario="onboarding", posture="standing")
    with db.session() as s:
        repo.get_session(s, sid).analysed_at = dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC)
        s.commit()
    machine_tz("CST-8")
    with db.session() as s:
        (person,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
    assert person["date"] == "2026-11-25"
    # A server kept in UTC, read from a browser in Beijing (the page sends its zone).
    machine_tz("UTC")
    from posture_coach.report import reader_time_zone

    with db.session() as s:
        hr = repo.get_user(s, ids["hr"])
        (person,) = repo.cohort_table(s, hr, ids["c1"], tz=reader_time_zone("Asia/Shanghai"))["people"]
        (server_day,) = repo.cohort_table(s, hr, ids["c1"])["people"]
    assert person["date"] == "2026-11-25" and server_day["date"] == "2026-11-24"


def _attempt(db: Database, person_id: int, result: Any) -> int:
    return store_result(db, result, source="live", person_id=person_id, scenario="onboarding")


def test_a_self_check_stopped_part_way_never_passes_nor_replaces_a_finished_one(db: Database) -> None:
    ids = _setup(db)
    _finish(db, ids["ja"], penalty=3.0)  # the finished attempt: upright 0.7 < 0.8, not passed
    stopped = fake_result(penalty=0.0)  # 8 s, every step "not reached", overall 100
    stopped = dataclasses.replace(stopped, summary={**stopped.summary, "drill": {"id": "onboarding", "done": False}})
    _attempt(db, ids["a"], stopped)
    with db.session() as s:
        (row,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
    assert row["session_id"] == ids["sa"] and row["result"] == "failed" and row["passed"] is False
    # With no finished attempt at all, the stopped one is shown as such: not a pass.
    ids_b = ids["b"]
    _attempt(db, ids_b, stopped)
    with db.session() as s:
        (row_b,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c2"])["people"]
    assert row_b["result"] == "incomplete" and row_b["passed"] is False


def test_a_self_check_where_nothing_required_was_judged_is_not_a_pass(db: Database) -> None:
    ids = _setup(db)
    blind = fake_result()
    blind = dataclasses.replace(blind, rules=[dataclasses.replace(r, score=None) if r.rule_id != "face.smile" else r
                                              for r in blind.rules], findings=[])
    _finish(db, ids["ja"], blind, shown=False)  # nobody in view: only the recommended smile has a score
    with db.session() as s:
        table = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])
    (row,) = table["people"]
    assert row["result"] == "not_assessable" and row["passed"] is False
    csv_zh = repo.cohort_csv(table, "zh")
    assert "无法评估（需重做）" in csv_zh



def test_a_clip_uploaded_as_the_self_check_that_does_not_show_it_is_incomplete(db: Database) -> None:
    """HR uploaded 7 s of someone standing as the onboarding self-check: "passed 100" in the
    cohort. A recording has no steps of its own; what it shows is read from its results.
    Without a bow, a handshake, a card or any sitting it is incomplete, and says so."""
    ids = _setup(db)
    _finish(db, ids["ja"], shown=False)
    with db.session() as s:
        (row,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
    assert row["result"] == "incomplete" and row["passed"] is False
    assert [m["title_zh"] for m in row["missing_steps"]] == ["鞠躬问候", "握手", "交换名片", "坐下交谈"]
    with db.session() as s:  # nor does it count in the rules' pass rates
        assert repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["rules"] == {}
    with db.session() as s:
        table = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])
    assert "未完成（缺少以下步骤：鞠躬问候、握手、交换名片、坐下交谈）" in repo.cohort_csv(table, "zh")
    assert "incomplete (these steps were not seen: Bow and greet, Handshake" in repo.cohort_csv(table, "en")
    with db.session() as s:  # the whole scenario recorded again: counted, and it passes
        again = repo.create_job(s, repo.create_session(s, source="full.mp4", person_id=ids["a"],
                                                       scenario="onboarding").id).id
    _finish(db, again)
    with db.session() as s:
        (row,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
    assert row["result"] == "passed" and row["missing_steps"] == []


def test_a_live_self_check_that_ran_to_its_end_without_a_handshake_is_incomplete(db: Database) -> None:
    """The live page's self-check reached its end with no handshake and no card seen; it
    counted for the cohort as "passed". The run carries the steps that showed nothing."""
    ids = _setup(db)
    not_seen = [{"id": "handshake", "title_zh": "握手", "title_en": "Handshake"},
                {"id": "card_exchange", "title_zh": "交换名片", "title_en": "Card exchange"}]
    run = fake_result(penalty=0.0)
    run = dataclasses.replace(run, summary={**run.summary, "drill": {
        "id": "onboarding", "kind": "scenario", "done": True, "steps_not_seen": not_seen, "outcome": "incomplete"}})
    _attempt(db, ids["b"], run)
    with db.session() as s:
        (row,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c2"])["people"]
    assert row["result"] == "incomplete" and row["passed"] is False
    assert [m["title_en"] for m in row["missing_steps"]] == ["Handshake", "Card exchange"]
    seen_all = dataclasses.replace(run, summary={**run.summary, "drill": {
        "id": "onboarding", "kind": "scenario", "done": True, "steps_not_seen": [], "outcome": "pass"}})
    _attempt(db, ids["b"], seen_all)
    with db.session() as s:
        (row,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c2"])["people"]
    assert row["result"] == "passed" and row["missing_steps"] == []


def test_a_deleted_sessions_number_is_never_given_to_another(db: Database) -> None:
    """SQLite gives the largest id back after a delete: HR deleted a person, the next upload
    took their session's number, and the cohort export and report links made before it
    then led to someone else."""
    ids = _setup(db)
    with db.session() as s:
        last = repo.create_session(s, source="last.mp4", person_id=ids["b"], scenario="onboarding").id
    repo.delete_person(db, ids["b"])  # its sessions go, the largest number among them
    with db.session() as s:
        nxt = repo.create_session(s, source="next.mp4", person_id=ids["a"]).id
        assert nxt > last
        repo.create_session(s, source="then.mp4", person_id=ids["a"])
    repo.delete_session(db, nxt)
    with db.session() as s:
        assert repo.create_session(s, source="after.mp4", person_id=ids["a"]).id > nxt + 1


def test_a_violation_the_trainer_adds_counts_against_the_rule_and_the_self_check(db: Database) -> None:
    """A trainer added "arms crossed at 12.5 s" and "never smiled": the rules still read 100
    and the cohort "passed 99". What the trainer saw now costs: a moment costs its rule
    [scoring] missed_violation_s of judged time, the whole recording all of it, and a rule
    the coach could not judge at all is judged by the trainer over the recording: a moment
    costs the same seconds of its length."""
    ids = _setup(db)
    _finish(db, ids["ja"], penalty=0.0)  # upright 1.0, smile 1.0 over 10 s each; legs not judged
    with db.session() as s:
        before = repo.reviewed_scores(repo.get_session(s, ids["sa"]))
        (row,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
    assert before.rules["standing.upright"] == 1.0 and row["result"] == "passed"
    with db.session() as s:
        trainer = repo.get_user(s, ids["t1"])
        repo.add_review(s, trainer, decision="missed", session_id=ids["sa"], rule_id="standing.upright", at_ms=2500)
        repo.add_review(s, trainer, decision="missed", session_id=ids["sa"], rule_id="face.smile")  # whole clip
        repo.add_review(s, trainer, decision="missed", session_id=ids["sa"], rule_id="sitting.legs_crossed",
                        at_ms=4000)
    with db.session() as s:
        after = repo.reviewed_scores(repo.get_session(s, ids["sa"]))
        (row,) = repo.cohort_table(s, repo.get_user(s, ids["hr"]), ids["c1"])["people"]
    assert after.rules["standing.upright"] == pytest.approx(1.0 - 3.0 / 10.0)
    assert after.rules["face.smile"] == 0.0
    with db.session() as s:
        length = repo.get_session(s, ids["sa"]).duration_s
    assert length and after.rules["sitting.legs_crossed"] == pytest.approx(1.0 - 3.0 / length)  # not 0
    assert row["result"] == "failed"
    assert row["rules"]["standing.upright"] == "fail" and row["rules"]["sitting.legs_crossed"] == "fail"


def test_a_name_that_looks_like_a_formula_is_text_in_every_csv(db: Database) -> None:
    # HR opens the cohort export in Excel or WPS: a person named "=HYPERLINK(…)" must not run.
    rows = [{"name": '=HYPERLINK("http://x","y")', "n": -3, "c": "+1", "d": "@SUM(A1)", "ok": "张小红"}]
    text = repo.to_csv(rows)
    row = next(csv.reader(text.splitlines()[1:]))
    assert row == ["'=HYPERLINK(\"http://x\",\"y\")", "-3", "'+1", "'@SUM(A1)", "张小红"]
    from posture_coach.jobs import summary_csv

    line = summary_csv([{"name": "-cmd|' /C calc'!A0", "video": "=x.mp4", "ok": True}]).splitlines()[1]
    assert line.startswith("'-cmd|' /C calc'!A0,'=x.mp4,yes")
