"""HR administration: renaming a cohort, and disabling the login of someone who left (their
records stay), in the store, the API and the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from posture_coach import cli_store
from posture_coach.errors import REASON_TEXTS
from posture_coach.server.store_api import StoreConfig
from posture_coach.store import Database, repo
from posture_coach.store.models import AuthSession, Person, Session
from posture_coach.store.passwords import hash_password
from tests.store.helpers import fake_result, showing_the_onboarding, store_result
from tests.store.test_api import PASSWORDS, _app, _seed, api, login  # noqa: F401  (api: a fixture)
from tests.store.test_repo import _setup

# -- the store ----------------------------------------------------------------------------------


def test_hr_renames_a_cohort_and_its_table_says_the_new_name(db: Database) -> None:
    ids = _setup(db)
    sid = store_result(db, showing_the_onboarding(fake_result()), person_id=ids["a"], scenario="onboarding")
    with db.session() as s:
        c = repo.rename_cohort(s, ids["c1"], "  2026年春季入职班  ")
        assert c.name == "2026年春季入职班"  # the spaces around it dropped
    with db.session() as s:
        hr = repo.get_user(s, ids["hr"])
        assert repo.cohort_table(s, hr, ids["c1"])["cohort"]["name"] == "2026年春季入职班"
        assert [c.name for c in repo.list_cohorts(s, hr)] == ["2026-B", "2026年春季入职班"]
        # What a trainee's saved self-check means in their cohorts names the cohort anew too.
        assert [x["cohort"] for x in repo.self_check_for_trainee(s, sid)] == ["2026年春季入职班"]
        # Its own name again, or the same name with other spaces around it, is no clash.
        assert repo.rename_cohort(s, ids["c1"], "2026年春季入职班 ").name == "2026年春季入职班"


def test_a_cohort_name_cannot_be_blank_too_long_or_another_cohorts(db: Database) -> None:
    ids = _setup(db)
    cases = [("", "cohort_name_empty"), ("   \t ", "cohort_name_empty"),
             ("班" * (repo.COHORT_NAME_MAX + 1), "cohort_name_too_long"), ("2026-B", "cohort_name_taken"),
             (" 2026-B ", "cohort_name_taken")]
    for name, reason in cases:
        with db.session() as s, pytest.raises(repo.Invalid) as refused:
            repo.rename_cohort(s, ids["c1"], name)
        assert refused.value.reason == reason and reason in REASON_TEXTS, name
    with pytest.raises(repo.Conflict), db.session() as s:  # a taken name: a conflict (the API answers 409)
        repo.rename_cohort(s, ids["c1"], "2026-B")
    with db.session() as s:
        assert repo.get_cohort(s, ids["c1"]).name == "2026-A"  # nothing changed
        assert repo.rename_cohort(s, ids["c1"], "班" * repo.COHORT_NAME_MAX).name == "班" * 200
        with pytest.raises(repo.NotFound):
            repo.rename_cohort(s, 999, "2026-C")


def test_a_disabled_login_is_signed_out_everywhere_and_its_records_stay(db: Database) -> None:
    ids = _setup(db)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with db.session() as s:
        for n in range(2):  # signed in on two browsers
            s.add(AuthSession(token_hash=f"{n:064d}", csrf_token="x", user_id=ids["ua"], expires_at=later))
        s.add(AuthSession(token_hash="f" * 64, csrf_token="x", user_id=ids["ub"], expires_at=later))
    with db.session() as s:
        assert repo.set_disabled(s, "lilei", True).disabled is True
    with db.session() as s:
        assert s.scalars(select(AuthSession.user_id)).all() == [ids["ub"]]  # only lilei's ended
        # The right password says "disabled"; a wrong one is only wrong (a guess learns nothing).
        with pytest.raises(repo.LoginDisabled):
            repo.authenticate(s, "lilei", "trainee-pass-1")
        assert repo.authenticate(s, "lilei", "a-wrong-guess") is None
        assert repo.authenticate(s, "hanmm", "trainee-pass-2") is not None  # others sign in as before
        # Nothing of theirs is deleted: the person, the login, the sessions.
        assert repo.get_person(s, ids["a"]).user is not None
        assert s.scalar(select(func.count()).select_from(Session).where(Session.person_id == ids["a"])) == 1
        assert [u.username for u in repo.list_users(s) if u.disabled] == ["lilei"]
    with db.session() as s:
        assert repo.set_disabled(s, "lilei", False).disabled is False
    with db.session() as s:
        assert repo.authenticate(s, "lilei", "trainee-pass-1") is not None


def test_hr_cannot_disable_their_own_login_but_another_hr_can(db: Database) -> None:
    ids = _setup(db)
    with db.session() as s:
        hr = repo.get_user(s, ids["hr"])
        with pytest.raises(repo.Forbidden) as refused:
            repo.set_disabled(s, "hr", True, by=hr)
        assert refused.value.reason == "own_login"
        assert repo.set_disabled(s, "hr", False, by=hr).disabled is False  # enabling oneself is harmless
        other = repo.create_user(s, "hr2", "hr-password-2", "hr_admin")
        assert repo.set_disabled(s, "hr", True, by=other).disabled is True
        with pytest.raises(repo.NotFound, match="no user called 'nobody'"):
            repo.set_disabled(s, "nobody", True, by=other)


def test_upgrading_a_database_from_before_logins_could_be_disabled_keeps_every_login_enabled(db: Database) -> None:
    from alembic import command

    from posture_coach.store.db import alembic_config

    command.downgrade(alembic_config(db), "0004")  # the schema before revision 0005
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, password_hash, role, created_at) "
                          "VALUES ('coach', :h, 'trainer', '2026-03-01 08:00:00.000000')"),
                     {"h": hash_password("trainer-pass-1")})
    db.upgrade()
    with db.session() as s:
        u = repo.authenticate(s, "coach", "trainer-pass-1")
        assert u is not None and u.disabled is False
        assert repo.set_disabled(s, "coach", True).disabled is True


# -- the API ------------------------------------------------------------------------------------


def test_hr_renames_a_cohort_and_the_csv_is_named_after_it(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:  # noqa: F811
    client, _cfg, ids = api
    csrf = login(client, "hr")
    r = client.patch(f"/api/cohorts/{ids['c1']}", json={"name": " 2026年春季入职班 "},
                     headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert r.json() == {"id": ids["c1"], "name": "2026年春季入职班", "trainer_id": r.json()["trainer_id"],
                        "pass_score": 0.8, "members": 1}
    assert [c["name"] for c in client.get("/api/cohorts").json()["cohorts"]] == ["2026年春季入职班"]
    assert client.get(f"/api/cohorts/{ids['c1']}/table").json()["cohort"]["name"] == "2026年春季入职班"
    csv = client.get(f"/api/cohorts/{ids['c1']}/table?format=csv&lang=zh")
    assert f"filename*=UTF-8''{quote('2026年春季入职班.csv')}" in csv.headers["content-disposition"]


def test_only_hr_renames_a_cohort_and_a_bad_name_is_refused_with_why(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:  # noqa: F811
    client, _cfg, ids = api
    url = f"/api/cohorts/{ids['c1']}"
    for user in ("trainer1", "lilei"):  # the cohort's own trainer neither
        client.cookies.clear()
        r = client.patch(url, json={"name": "2026-C"}, headers={"X-CSRF-Token": login(client, user)})
        assert r.status_code == 403 and r.json()["reason"] == "forbidden", (user, r.text)
    client.cookies.clear()
    csrf = login(client, "hr")
    assert client.patch(url, json={"name": "2026-C"}).status_code == 403  # no CSRF token: refused
    other = client.post("/api/cohorts", json={"name": "2026-B"}, headers={"X-CSRF-Token": csrf}).json()["id"]
    cases = [("  ", 400, "cohort_name_empty", "培训班名称不能为空", "cannot be empty"),
             ("x" * 201, 400, "cohort_name_too_long", "最多 200 个字符", "at most 200 characters"),
             ("2026-B", 409, "cohort_name_taken", "已有培训班使用这个名称", "Another cohort already has this name")]
    for name, status, reason, zh, en in cases:
        r = client.patch(url, json={"name": name}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == status and r.json()["reason"] == reason, r.text
        assert zh in r.json()["reason_text"]["zh"] and en in r.json()["reason_text"]["en"]
    assert client.patch("/api/cohorts/999", json={"name": "x"}, headers={"X-CSRF-Token": csrf}).status_code == 404
    assert {c["id"]: c["name"] for c in client.get("/api/cohorts").json()["cohorts"]} == {ids["c1"]: "2026-A",
                                                                                         other: "2026-B"}


def test_a_disabled_login_is_signed_out_and_its_right_password_is_told_it_is_disabled(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:  # noqa: F811
    client, _cfg, ids = api
    trainee = TestClient(client.app)  # lilei, signed in on another browser
    login(trainee, "lilei")
    assert trainee.get("/api/auth/me").status_code == 200
    csrf = login(client, "hr")
    logins = {u["username"]: u for u in client.get("/api/users").json()["users"]}
    assert set(logins) == set(PASSWORDS) and not any(u["disabled"] for u in logins.values())
    assert logins["lilei"]["role"] == "trainee" and logins["lilei"]["person_id"] == ids["a"]
    r = client.post("/api/users/lilei/disable", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["user"]["disabled"] is True, r.text
    assert trainee.get("/api/auth/me").status_code == 401  # signed out at once
    r = trainee.post("/api/auth/login", json={"username": "lilei", "password": PASSWORDS["lilei"]})
    assert r.status_code == 403 and r.json()["reason"] == "login_disabled"
    assert "已停用" in r.json()["reason_text"]["zh"] and "disabled" in r.json()["reason_text"]["en"]
    assert "pc_session" not in r.headers.get("set-cookie", "")
    # A wrong password is refused as any other: it does not learn that the login exists or is off.
    r = trainee.post("/api/auth/login", json={"username": "lilei", "password": "a-wrong-guess"})
    assert r.status_code == 401 and r.json()["reason"] == "wrong_login" and "disabled" not in r.text
    # HR still sees their sessions and cohort membership; the list says the login is off.
    assert client.get(f"/api/cohorts/{ids['c1']}/table").json()["people"][0]["name"] == "李雷"
    assert {u["username"]: u["disabled"] for u in client.get("/api/users").json()["users"]}["lilei"] is True
    r = client.post("/api/users/lilei/enable", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["user"]["disabled"] is False
    login(trainee, "lilei")
    assert trainee.get("/api/auth/me").json()["user"]["username"] == "lilei"


def test_only_hr_disables_a_login_and_never_their_own(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:  # noqa: F811
    client, _cfg, _ids = api
    for user in ("trainer1", "lilei"):
        client.cookies.clear()
        csrf = login(client, user)
        assert client.get("/api/users").json()["reason"] == "forbidden"
        r = client.post("/api/users/hanmm/disable", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403 and r.json()["reason"] == "forbidden", user
    client.cookies.clear()
    csrf = login(client, "hr")
    r = client.post("/api/users/hr/disable", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and r.json()["reason"] == "own_login"
    assert "您自己的账号" in r.json()["reason_text"]["zh"] and "your own login" in r.json()["reason_text"]["en"]
    assert client.get("/api/auth/me").status_code == 200  # still signed in
    r = client.post("/api/users/nobody/disable", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404 and r.json()["reason"] == "not_found"
    assert client.post("/api/users/hanmm/disable").status_code == 403  # no CSRF token
    assert not any(u["disabled"] for u in client.get("/api/users").json()["users"])


# -- the command line -----------------------------------------------------------------------------

runner = CliRunner()
cli = typer.Typer()
cli_store.register(cli)


def test_hr_disables_a_login_and_renames_a_cohort_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pc.db'}"

    def run(*args: str, code: int = 0) -> str:
        r = runner.invoke(cli, [*args, "--db", url])
        assert r.exit_code == code, r.output
        return r.output

    # A database made before logins could be disabled, with a login in it: `db upgrade` keeps it.
    run("db", "upgrade", "0004")
    store = Database(url)
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO people (name, consent_media, created_at) "
                          "VALUES ('张小红', 0, '2026-03-01 08:00:00.000000')"))
        conn.execute(text("INSERT INTO users (username, password_hash, role, person_id, created_at) "
                          "VALUES ('xiaohong', :h, 'trainee', 1, '2026-03-01 08:00:00.000000')"),
                     {"h": hash_password("trainee-pass-1")})
    store.dispose()
    run("db", "upgrade")
    run("users", "add", "coach", "--role", "trainer", "--password", "trainer-pass-1")
    assert run("users", "list") == "1\txiaohong\ttrainee\tperson 1\n2\tcoach\ttrainer\n"
    assert run("users", "disable", "xiaohong") == \
        "user 1 xiaohong: disabled, signed out everywhere (their records stay)\n"
    assert run("users", "list") == "1\txiaohong\ttrainee\tperson 1\tdisabled\n2\tcoach\ttrainer\n"
    store = Database(url)
    with store.session() as s:
        with pytest.raises(repo.LoginDisabled):
            repo.authenticate(s, "xiaohong", "trainee-pass-1")
        assert s.get(Person, 1) is not None
    store.dispose()
    assert run("users", "enable", "xiaohong") == "user 1 xiaohong: enabled, can sign in again\n"
    assert "disabled" not in run("users", "list")
    assert "no user called 'nobody'" in run("users", "disable", "nobody", code=4)
    # A cohort renamed: a typo mended; the list says the new name.
    run("cohorts", "add", "2025年3鱼", "--trainer", "coach")
    run("cohorts", "add", "2025年4月")
    assert run("cohorts", "rename", "1", "2025年3月") == "cohort 1 2025年3月 (was 2025年3鱼)\n"
    assert run("cohorts", "list").startswith("1\t2025年3月\t0 member(s)")
    assert "cannot be empty" in run("cohorts", "rename", "1", "  ", code=2)
    assert "already called '2025年4月'" in run("cohorts", "rename", "1", "2025年4月", code=2)
    assert "no cohort 9" in run("cohorts", "rename", "9", "x", code=4)
    assert "Traceback" not in run("cohorts", "rename", "1", "x" * 201, code=2)


def test_names_that_show_nothing_or_break_lines_and_a_trainee_as_trainer_are_refused_with_why(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:  # noqa: F811
    # A tester's round: a blank person, a zero-width cohort name (an empty choice on the page),
    # a newline (it broke `cohorts list`), NUL (PostgreSQL refuses it), and a trainee's login
    # made a cohort's trainer (nobody could then review it).
    client, _cfg, _ids = api
    csrf = login(client, "hr")
    hdr = {"X-CSRF-Token": csrf}
    for body, reason in (({"name": "   "}, "person_name_empty"), ({"name": "\u200b "}, "person_name_empty"),
                         ({"name": "张\n小红"}, "person_name_control")):
        r = client.post("/api/people", json=body, headers=hdr)
        assert r.status_code == 400 and r.json()["reason"] == reason, r.text
        assert r.json()["reason_text"]["zh"].startswith("学员姓名不能")
    for name, reason in (("\u200b", "cohort_name_empty"), ("x\u0000y", "cohort_name_control"),
                         ("line1\nline2", "cohort_name_control")):
        r = client.post("/api/cohorts", json={"name": name}, headers=hdr)
        assert r.status_code == 400 and r.json()["reason"] == reason, (name, r.text)
    trainee = client.get("/api/users").json()["users"]
    lilei = next(u for u in trainee if u["username"] == "lilei")
    assert lilei["person_name"] == "李雷"  # HR's list says whose login it is
    for tid in (lilei["id"], 999):
        r = client.post("/api/cohorts", json={"name": f"T-{tid}", "trainer_id": tid}, headers=hdr)
        assert r.status_code == 400 and r.json()["reason"] == "not_a_trainer", r.text
        assert "培训师" in r.json()["reason_text"]["zh"]
    # A pass mark in points (as the command line takes it) is told it is a fraction here.
    r = client.post("/api/cohorts", json={"name": "P", "pass_score": 80}, headers=hdr)
    assert r.status_code == 422 and "80 分即 0.8" in r.json()["reason_text"]["zh"], r.text
    assert "80 points is 0.8" in r.json()["reason_text"]["en"]
    r = client.post("/api/cohorts", content='{"name": "P", "pass_score": NaN}',
                    headers={**hdr, "Content-Type": "application/json"})
    assert r.status_code == 422 and "有限的数字" in r.json()["reason_text"]["zh"], r.text
    assert {c["name"] for c in client.get("/api/cohorts").json()["cohorts"]} == {"2026-A"}  # nothing made


def test_refusals_name_why_in_both_languages_for_consent_cross_site_and_two_files(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:  # noqa: F811
    client, _cfg, ids = api
    r = client.post("/api/auth/login", json={"username": "hr", "password": PASSWORDS["hr"]},
                    headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and r.json()["reason"] == "cross_site_login" and r.json()["reason_text"]["zh"]
    csrf = login(client, "trainer1")
    r = client.post(f"/api/people/{ids['a']}/consent", json={"consent_media": False},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and r.json()["reason"] == "consent_not_yours", r.text
    assert "人力资源" in r.json()["reason_text"]["zh"]
    two = [("file", ("a.mp4", b"\x00" * 64, "video/mp4")), ("file", ("b.mp4", b"\x00" * 64, "video/mp4"))]
    r = client.post("/api/uploads", files=two, data={"person_id": str(ids["a"]), "consent": "true"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 400 and r.json()["reason"] == "one_file_per_upload", r.text
    r = client.post("/api/uploads", files={"file": ("a.mp4", b"\x00" * 64, "video/mp4")},
                    data={"person_id": str(ids["a"]), "consent": "true", "scenario": "no_such_scenario"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 400 and r.json()["reason"] == "unknown_scenario", r.text
