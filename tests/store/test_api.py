"""The trainer/HR REST API: sign-in, cookies, CSRF, role checks, upload validation, end to end."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from posture_coach.errors import REASON_TEXTS
from posture_coach.server.store_api import StoreConfig, install_refusal_handler, store_router
from posture_coach.store import Database, repo
from posture_coach.store.models import Session

PASSWORDS = {"hr": "hr-password-1", "trainer1": "trainer-pass-1", "trainer2": "trainer-pass-2",
             "lilei": "trainee-pass-1", "hanmm": "trainee-pass-2"}


def _app(tmp_path: Path, **kw: Any) -> tuple[FastAPI, StoreConfig]:
    cfg = StoreConfig(db_url=f"sqlite:///{tmp_path / 'pc.db'}", data_dir=tmp_path / "data", **kw)
    app = FastAPI()
    app.include_router(store_router(cfg))
    install_refusal_handler(app)  # as create_app does
    return app, cfg


def _seed(cfg: StoreConfig) -> dict[str, int]:
    db = Database(cfg.db_url, cfg.data_dir)
    db.upgrade()
    with db.session() as s:
        repo.create_user(s, "hr", PASSWORDS["hr"], "hr_admin")
        t1 = repo.create_user(s, "trainer1", PASSWORDS["trainer1"], "trainer")
        repo.create_user(s, "trainer2", PASSWORDS["trainer2"], "trainer")
        a = repo.create_person(s, "李雷", consent_media=True)
        b = repo.create_person(s, "Han Meimei", consent_media=True)
        repo.create_user(s, "lilei", PASSWORDS["lilei"], "trainee", person_id=a.id)
        repo.create_user(s, "hanmm", PASSWORDS["hanmm"], "trainee", person_id=b.id)
        c1 = repo.create_cohort(s, "2026-A", trainer_id=t1.id)
        repo.add_member(s, c1.id, a.id)
        out = {"a": a.id, "b": b.id, "c1": c1.id}
    db.dispose()
    return out


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, StoreConfig, dict[str, int]]]:
    app, cfg = _app(tmp_path, run_jobs=False)
    ids = _seed(cfg)
    with TestClient(app) as client:
        yield client, cfg, ids


def login(client: TestClient, user: str) -> str:
    r = client.post("/api/auth/login", json={"username": user, "password": PASSWORDS[user]})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def _upload(client: TestClient, csrf: str, data: bytes, name: str, person: int, **fields: Any) -> Any:
    form = {"person_id": str(person), "consent": "true", **{k: str(v) for k, v in fields.items()}}
    return client.post("/api/uploads", files={"file": (name, data, "video/mp4")}, data=form,
                       headers={"X-CSRF-Token": csrf})


def _stored(cfg: StoreConfig) -> tuple[int, list[Path]]:
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:
        n = int(s.scalar(select(func.count()).select_from(Session)) or 0)
    db.dispose()
    files = [p for p in (Path(cfg.data_dir or ".") / "uploads").rglob("*") if p.is_file()]
    return n, files


def test_login_sets_a_safe_cookie_and_needs_the_password(api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:
    client, _, _ = api
    assert client.get("/api/sessions").status_code == 401
    assert client.post("/api/auth/login", json={"username": "hr", "password": "nope-nope"}).status_code == 401
    r = client.post("/api/auth/login", json={"username": "hr", "password": PASSWORDS["hr"]})
    cookie = r.headers["set-cookie"]
    assert "pc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http (localhost); see the https test
    me = client.get("/api/auth/me").json()
    assert me["user"]["role"] == "hr_admin" and me["csrf_token"] == r.json()["csrf_token"]


def test_refusals_carry_a_reason_a_page_can_show_in_its_language(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:
    client, _, ids = api
    r = client.get("/api/sessions")
    assert r.status_code == 401 and r.json()["reason"] == "signed_out"
    r = client.post("/api/auth/login", json={"username": "hr", "password": "nope-nope"})
    assert r.status_code == 401 and r.json()["reason_text"] == {"zh": "用户名或密码错误，请重新输入。",
                                                                "en": "Wrong user name or password."}
    csrf = login(client, "lilei")
    r = client.post("/api/findings/1/review", json={"decision": "disagree"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and r.json()["reason"] == "forbidden" and "trainer" in r.json()["detail"]
    r = client.post("/api/people", json={"name": "x"}, headers={"X-CSRF-Token": "stale"})
    assert r.status_code == 403 and r.json()["reason"] == "stale_page"
    r = client.get("/api/sessions/999")
    assert r.status_code == 404 and r.json()["reason"] == "not_found"
    assert client.get(f"/api/cohorts/{ids['c1']}/table").json()["reason"] == "forbidden"


def test_cookie_is_secure_over_https(tmp_path: Path) -> None:
    app, cfg = _app(tmp_path, run_jobs=False)
    _seed(cfg)
    with TestClient(app, base_url="https://testserver") as client:
        r = client.post("/api/auth/login", json={"username": "hr", "password": PASSWORDS["hr"]})
        assert "Secure" in r.headers["set-cookie"]


def test_csrf_is_required_on_posts(api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:
    client, _, _ = api
    csrf = login(client, "hr")
    body = {"name": "王五"}
    assert client.post("/api/people", json=body).status_code == 403
    assert client.post("/api/people", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/people", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    # A form post may carry the token as a field instead of the header.
    form = {"person_id": "1", "consent": "true"}
    r = client.post("/api/uploads", files={"file": ("x.mp4", b"", "video/mp4")}, data=form)
    assert r.status_code == 403
    r = client.post("/api/uploads", files={"file": ("x.mp4", b"", "video/mp4")}, data={**form, "csrf_token": csrf})
    assert r.status_code == 400 and "empty" in r.json()["detail"]  # past CSRF, stopped by the content check
    # Cross-site login forms are refused.
    r = client.post("/api/auth/login", data={"username": "hr", "password": PASSWORDS["hr"]},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def test_roles(api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:
    client, cfg, ids = api
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:
        sa = repo.create_session(s, source="a.mp4", person_id=ids["a"]).id
        sb = repo.create_session(s, source="b.mp4", person_id=ids["b"]).id
    db.dispose()
    expect = {"hr": {sa, sb}, "trainer1": {sa}, "trainer2": set(), "lilei": {sa}, "hanmm": {sb}}
    for user, visible in expect.items():
        client.cookies.clear()
        csrf = login(client, user)
        got = {x["id"] for x in client.get("/api/sessions").json()["sessions"]}
        assert got == visible, user
        for sid in (sa, sb):
            code = client.get(f"/api/sessions/{sid}").status_code
            assert code == (200 if sid in visible else 403), (user, sid)
        people_code = client.post("/api/people", json={"name": "x"}, headers={"X-CSRF-Token": csrf}).status_code
        assert people_code == (201 if user == "hr" else 403)
        cohort_code = client.get(f"/api/cohorts/{ids['c1']}/table").status_code
        assert cohort_code == (200 if user in ("hr", "trainer1") else 403), user
        if user != "hr":
            assert client.delete(f"/api/people/{ids['b']}", headers={"X-CSRF-Token": csrf}).status_code == 403
    client.cookies.clear()
    csrf = login(client, "hr")
    assert client.delete(f"/api/people/{ids['b']}", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get(f"/api/sessions/{sb}").status_code == 404


def _jpeg_bytes() -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize(
    ("case", "status", "words", "reason"),
    [
        ("empty", 400, "empty", "empty"),
        ("image_renamed", 415, "JPEG", "not_a_video"),
        ("corrupt_mp4", 422, "cannot be decoded", "corrupt_video"),
        ("one_frame", 422, "single frame", "video_too_short"),
        ("text", 415, "not a video container", "not_a_video"),
        ("no_consent", 400, "consent", "consent_required"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(
    api: tuple[TestClient, StoreConfig, dict[str, int]], case: str, status: int, words: str, reason: str,
    tmp_path: Path,
) -> None:
    client, cfg, ids = api
    csrf = login(client, "trainer1")
    extra: dict[str, Any] = {}
    if case == "empty":
        data = b""
    elif case == "image_renamed":
        data = _jpeg_bytes()
    elif case == "corrupt_mp4":  # a real MP4 header, then garbage
        data = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 200
    elif case == "text":
        data = b"hello, this is not a video at all\n" * 100
    elif case == "one_frame":  # decodes fine, but one picture is no clip to score
        clip = tmp_path / "one.avi"
        wr = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (64, 48))
        wr.write(np.full((48, 64, 3), 120, np.uint8))
        wr.release()
        data = clip.read_bytes()
    else:
        data = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100
        extra["consent"] = "false"
    form = {"person_id": str(ids["a"]), "consent": "true", **extra}
    r = client.post("/api/uploads", files={"file": ("clip.mp4", data, "video/mp4")}, data=form,
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == status, r.text
    body = r.json()
    assert words in body["detail"]
    # The page shows why in the reader's language.
    assert body["reason"] == reason and set(body["reason_text"]) == {"zh", "en"}
    assert _stored(cfg) == (0, [])


def test_oversize_upload_is_refused(tmp_path: Path) -> None:
    app, cfg = _app(tmp_path, run_jobs=False, max_upload_bytes=100_000)
    ids = _seed(cfg)
    with TestClient(app) as client:
        csrf = login(client, "hr")
        big = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 300_000
        r = _upload(client, csrf, big, "big.mp4", ids["a"])
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        assert r.json()["reason"] == "too_large" and "上传大小" in r.json()["reason_text"]["zh"]
        # Without a Content-Length the streamed copy enforces the limit as well.
        import io

        from posture_coach.server.uploads import UploadRejected, save_limited

        with pytest.raises(UploadRejected) as exc:
            save_limited(io.BytesIO(big), tmp_path / "t", 100_000)
        assert exc.value.status == 413 and not list((tmp_path / "t").iterdir())
    assert _stored(cfg) == (0, [])


def test_trainee_cannot_upload_for_someone_else(api: tuple[TestClient, StoreConfig, dict[str, int]],
                                                real_video: Path) -> None:
    client, cfg, ids = api
    csrf = login(client, "lilei")
    r = _upload(client, csrf, real_video.read_bytes(), "x.avi", ids["b"])
    assert r.status_code == 403
    assert _stored(cfg) == (0, [])


def test_only_a_person_whose_record_says_consent_can_have_a_video_stored(
        api: tuple[TestClient, StoreConfig, dict[str, int]], real_video: Path) -> None:
    """The per-upload box confirms consent for one video; the person's record decides.
    Withdrawing consent deletes what is stored of them (their scores stay)."""
    client, cfg, ids = api
    trainer = login(client, "trainer1")
    r = _upload(client, trainer, real_video.read_bytes(), "before.avi", ids["a"])
    assert r.status_code == 202, r.text
    kept = r.json()["session_id"]
    assert _stored(cfg)[0] == 1 and len(_stored(cfg)[1]) == 1

    hr = TestClient(client.app)
    hr_csrf = login(hr, "hr")
    r = hr.post(f"/api/people/{ids['a']}/consent", json={"consent_media": False},
                headers={"X-CSRF-Token": hr_csrf})
    assert r.status_code == 200 and r.json() == {"id": ids["a"], "consent_media": False, "files_removed": 1}
    # The session stays, without its video; the people list says why the person is greyed out.
    assert _stored(cfg) == (1, [])
    assert client.get(f"/api/sessions/{kept}").status_code == 200
    listed = {p["id"]: p["consent_media"] for p in client.get("/api/people").json()["people"]}
    assert listed[ids["a"]] is False

    # Ticking the box does not override the record.
    r = _upload(client, trainer, real_video.read_bytes(), "after.avi", ids["a"])
    assert r.status_code == 403 and r.json()["reason"] == "consent_not_recorded"
    assert "同意" in r.json()["reason_text"]["zh"] and "consent" in r.json()["reason_text"]["en"]
    assert _stored(cfg) == (1, [])

    # Only the person or HR records it again; then uploads work.
    r = client.post(f"/api/people/{ids['a']}/consent", json={"consent_media": True},
                    headers={"X-CSRF-Token": trainer})
    assert r.status_code == 403
    r = hr.post(f"/api/people/{ids['a']}/consent", json={"consent_media": True},
                headers={"X-CSRF-Token": hr_csrf})
    assert r.json() == {"id": ids["a"], "consent_media": True, "files_removed": 0}
    assert _upload(client, trainer, real_video.read_bytes(), "again.avi", ids["a"]).status_code == 202


def test_a_role_play_upload_keeps_the_trainee_side(api: tuple[TestClient, StoreConfig, dict[str, int]],
                                                   real_video: Path) -> None:
    client, cfg, ids = api
    csrf = login(client, "trainer1")
    r = _upload(client, csrf, real_video.read_bytes(), "roleplay.avi", ids["a"], role_play="right")
    assert r.status_code == 202, r.text
    assert client.get(f"/api/sessions/{r.json()['session_id']}").json()["session"]["role_play"] == "right"
    r = _upload(client, csrf, real_video.read_bytes(), "alone.avi", ids["a"])
    assert client.get(f"/api/sessions/{r.json()['session_id']}").json()["session"]["role_play"] is None
    r = _upload(client, csrf, real_video.read_bytes(), "x.avi", ids["a"], role_play="middle")
    assert r.status_code == 422 and r.json()["reason"] == "bad_request"
    assert r.json()["detail"][0]["loc"] == ["role_play"]
    assert _stored(cfg)[0] == 2


@pytest.mark.models
def test_a_failed_analysis_says_why_in_both_languages(tmp_path: Path, real_video: Path, model_dir: Path) -> None:
    # A video cut off half-way passes the upload check (its first frames decode) and fails
    # in the analysis: the job keeps the technical message and a reason with zh/en texts.
    app, cfg = _app(tmp_path, run_jobs=True, model_dir=model_dir)
    ids = _seed(cfg)
    data = real_video.read_bytes()
    with TestClient(app) as client:
        csrf = login(client, "trainer1")
        r = _upload(client, csrf, data[: len(data) * 6 // 10], "cut.avi", ids["a"])
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 120
        while (job := client.get(f"/api/jobs/{r.json()['job_id']}").json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.3)
        listed = client.get("/api/sessions").json()["sessions"]
        report_zh = client.get(f"/api/sessions/{r.json()['session_id']}/report?lang=zh").text
        report_en = client.get(f"/api/sessions/{r.json()['session_id']}/report?lang=en").text
    # Its report says the analysis failed and why, never "no violations found".
    assert "分析失败：视频在中途中断" in report_zh and "没有发现违规" not in report_zh
    assert "The analysis failed: The video stops part-way" in report_en and "No violations found" not in report_en
    # ...and shows no empty score cards or rule tables that would read as results.
    assert 'id="overall"' not in report_en and "Rules that could not be assessed" not in report_en
    # The sessions list says why too (the review page's status column).
    assert [x["failure_text"]["en"] for x in listed if x["status"] == "failed"] == [
        REASON_TEXTS["video_truncated"]["en"]]
    assert job["status"] == "failed" and "ends early" in job["error"]
    assert job["error"].startswith("cut.avi: ") and str(tmp_path) not in job["error"]  # no server path
    assert job["error_reason"] == "video_truncated"
    assert "中断" in job["error_text"]["zh"] and "stops part-way" in job["error_text"]["en"]


@pytest.mark.models
def test_upload_analyse_review_report_end_to_end(tmp_path: Path, real_video: Path, model_dir: Path) -> None:
    app, cfg = _app(tmp_path, run_jobs=True, model_dir=model_dir)
    ids = _seed(cfg)
    with TestClient(app) as client:
        csrf = login(client, "trainer1")
        # The name lies (".mp4"); the content (an MJPG AVI) decides.
        r = _upload(client, csrf, real_video.read_bytes(), "roleplay.mp4", ids["a"], keep_evidence="true",
                    scenario="onboarding")
        assert r.status_code == 202, r.text
        up = r.json()
        assert up["container"] == "avi"
        deadline = time.monotonic() + 120
        while True:
            job = client.get(f"/api/jobs/{up['job_id']}").json()
            if job["status"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert job["status"] == "done", job
        rep = client.get(f"/api/sessions/{up['session_id']}").json()
        assert rep["session"]["frames"] == 15 and rep["overall_score"] is not None
        assert rep["findings"], "the panned photo has at least one finding (no smile)"
        f = rep["findings"][0]
        # The evidence comes by URL, access-checked; the server's file layout stays private.
        url = f["evidence"]["snapshot"]
        assert url == f"/api/findings/{f['id']}/evidence/snapshot" and str(tmp_path) not in json.dumps(rep)
        img = client.get(url)
        assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
        assert img.content[:3] == b"\xff\xd8\xff"  # a JPEG
        assert client.get(f"/api/findings/{f['id']}/evidence/teeth").status_code == 404  # none kept
        assert client.get(f"/api/findings/{f['id'] + 999}/evidence/snapshot").status_code == 404
        r = client.post(f"/api/findings/{f['id']}/review", json={"decision": "disagree", "comment": "ok"},
                        headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200
        html = client.get(f"/api/sessions/{up['session_id']}/report?lang=en").text
        assert "<svg" in html and "disagrees" in html and "data:image/jpeg;base64," in html
        agree_csv = client.get("/api/agreement?format=csv")
        assert agree_csv.headers["content-type"].startswith("text/csv")
        assert agree_csv.text.startswith("rule_id,findings_reviewed,agreed,agree_pct")
        # For a spreadsheet in Chinese: titles and column names in Chinese, a byte-order mark.
        zh_csv = client.get("/api/agreement?format=csv&lang=zh")
        assert zh_csv.text.startswith("\ufeff规则,复核条数,同意条数,同意率（%）,培训师补充条数")
        assert "standing." not in zh_csv.text and "一致性系数（Kappa）" in zh_csv.text
        assert "filename*=UTF-8''%E5%9F%B9" in zh_csv.headers["content-disposition"]  # 培训师…
        table = client.get(f"/api/cohorts/{ids['c1']}/table?format=csv").text
        assert "李雷" in table
        # A violation the trainer saw and the coach missed: a known rule, a time within the clip.
        sid = up["session_id"]
        r = client.post(f"/api/sessions/{sid}/missed", json={"rule_id": "standing.slouching"},
                        headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422
        r = client.post(f"/api/sessions/{sid}/missed", json={"rule_id": "standing.upright", "at_ms": -5},
                        headers={"X-CSRF-Token": csrf})
        assert r.status_code == 400 and r.json()["reason"] == "missed_time_out_of_range"
        r = client.post(f"/api/sessions/{sid}/missed", json={"rule_id": "standing.upright", "at_ms": 500,
                                                             "comment": "slouched"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        assert client.get(f"/api/sessions/{sid}").json()["missed"] == [
            {"id": r.json()["review_id"], "rule_id": "standing.upright", "at_ms": 500, "comment": "slouched",
             "trainer": "trainer1", "can_delete": True}]
        assert "slouched" in client.get(f"/api/sessions/{sid}/report?lang=zh").text
        # Another cohort's trainer may not see it.
        client.cookies.clear()
        login(client, "trainer2")
        assert client.get(url).status_code == 403
        # HR deletes the person: media and evidence files go too.
        client.cookies.clear()
        hr_csrf = login(client, "hr")
        r = client.delete(f"/api/people/{ids['a']}", headers={"X-CSRF-Token": hr_csrf})
        assert r.status_code == 200 and r.json()["files_removed"] >= 2
    assert _stored(cfg) == (0, [])
    assert not [p for p in (tmp_path / "data" / "evidence").rglob("*") if p.is_file()]


def test_a_stored_video_is_scored_again_as_a_role_play_in_a_new_session(
        api: tuple[TestClient, StoreConfig, dict[str, int]], real_video: Path) -> None:
    client, cfg, ids = api
    csrf = login(client, "trainer1")
    first = _upload(client, csrf, real_video.read_bytes(), "roleplay.avi", ids["a"]).json()["session_id"]
    r = client.post(f"/api/sessions/{first}/reanalyse", json={"role_play": "left"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 202, r.text
    second = r.json()["session_id"]
    assert second != first and r.json()["from_session"] == first
    again = client.get(f"/api/sessions/{second}").json()["session"]
    assert again["role_play"] == "left" and again["status"] == "queued" and again["source"] == "roleplay.avi"
    assert client.get(f"/api/sessions/{first}").json()["session"]["role_play"] is None  # kept as it was
    n, files = _stored(cfg)
    assert n == 2 and len(files) == 2
    assert files[0].read_bytes() == files[1].read_bytes()
    assert os.stat(files[0]).st_ino == os.stat(files[1]).st_ino  # one video on disk, two names
    # Deleting the first session leaves the second its video.
    hr = login(client, "hr")
    assert client.delete(f"/api/sessions/{first}", headers={"X-CSRF-Token": hr}).status_code == 200
    assert [p.parent.name for p in _stored(cfg)[1]] == [f"session_{second}"]


def test_scoring_again_needs_the_right_to_see_the_session_and_a_kept_video(
        api: tuple[TestClient, StoreConfig, dict[str, int]], real_video: Path) -> None:
    client, cfg, ids = api
    csrf = login(client, "trainer1")
    sid = _upload(client, csrf, real_video.read_bytes(), "x.avi", ids["a"]).json()["session_id"]
    other = login(client, "hanmm")  # a trainee who is not in the video
    r = client.post(f"/api/sessions/{sid}/reanalyse", json={"role_play": "right"}, headers={"X-CSRF-Token": other})
    assert r.status_code == 403 and r.json()["reason"] == "forbidden"
    # Nor the trainee filmed: the new session would supersede the one a trainer reviewed.
    own = login(client, "lilei")
    r = client.post(f"/api/sessions/{sid}/reanalyse", json={"role_play": "right"}, headers={"X-CSRF-Token": own})
    assert r.status_code == 403 and r.json()["reason"] == "forbidden"
    csrf = login(client, "trainer1")
    r = client.post(f"/api/sessions/{sid}/reanalyse", json={"role_play": "middle"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["reason"] == "bad_request"
    for p in _stored(cfg)[1]:
        p.unlink()  # the video is gone (consent withdrawn, purged)
    r = client.post(f"/api/sessions/{sid}/reanalyse", json={"role_play": "right"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 409 and r.json()["reason"] == "video_gone"
    assert _stored(cfg)[0] == 1


def test_a_trainee_cannot_upload_a_clip_as_the_onboarding_self_check(
        api: tuple[TestClient, StoreConfig, dict[str, int]], real_video: Path) -> None:
    client, cfg, ids = api
    csrf = login(client, "lilei")
    r = _upload(client, csrf, real_video.read_bytes(), "me.avi", ids["a"], scenario="onboarding")
    assert r.status_code == 403 and r.json()["reason"] == "onboarding_live_only"
    assert "实时练习页面" in r.json()["reason_text"]["zh"]
    assert _stored(cfg) == (0, [])
    # Their own practice clip is fine, and a trainer may upload a recorded self-check for them.
    assert _upload(client, csrf, real_video.read_bytes(), "me.avi", ids["a"]).status_code == 202
    trainer = login(client, "trainer1")
    r = _upload(client, trainer, real_video.read_bytes(), "a.avi", ids["a"], scenario="onboarding")
    assert r.status_code == 202


def test_a_privacy_setting_changed_alone_leaves_the_other_as_it_was(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:
    client, _cfg, _ids = api
    csrf = login(client, "hr")
    hdr = {"X-CSRF-Token": csrf}
    assert client.get("/api/settings/privacy").json() == {"retention_days": 30, "keep_media_after_analysis": True}
    r = client.put("/api/settings/privacy", json={"keep_media_after_analysis": False}, headers=hdr)
    assert r.json() == {"retention_days": 30, "keep_media_after_analysis": False}  # 30 days kept
    r = client.put("/api/settings/privacy", json={"retention_days": None}, headers=hdr)  # keep until deleted
    assert r.json() == {"retention_days": None, "keep_media_after_analysis": False}
    r = client.put("/api/settings/privacy", json={"keep_media_after_analysis": None}, headers=hdr)
    assert r.status_code == 400 and r.json()["reason"] == "bad_request"
    assert client.get("/api/settings/privacy").json() == {"retention_days": None, "keep_media_after_analysis": False}
    trainer = TestClient(client.app)
    r = trainer.put("/api/settings/privacy", json={"retention_days": 1},
                    headers={"X-CSRF-Token": login(trainer, "trainer1")})
    assert r.status_code == 403


def test_repeated_wrong_passwords_lock_the_account_for_a_while(
        api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:
    client, _cfg, _ids = api
    for _ in range(5):
        r = client.post("/api/auth/login", json={"username": "trainer1", "password": "guess"})
        assert r.status_code == 401 and r.json()["reason"] == "wrong_login"
    # Locked: even the right password waits, and the answer says so in both languages.
    r = client.post("/api/auth/login", json={"username": "trainer1", "password": PASSWORDS["trainer1"]})
    assert r.status_code == 429 and r.json()["reason"] == "too_many_logins"
    assert int(r.headers["Retry-After"]) > 0
    assert "锁定" in r.json()["reason_text"]["zh"] and "locked" in r.json()["reason_text"]["en"]
    login(client, "hr")  # another account signs in as usual


def test_a_new_password_signs_the_login_out_everywhere(api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:
    client, cfg, _ids = api
    login(client, "lilei")
    assert client.get("/api/auth/me").status_code == 200
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:
        repo.set_password(s, "lilei", "a-new-password-1")
    db.dispose()
    assert client.get("/api/auth/me").status_code == 401
    r = client.post("/api/auth/login", json={"username": "lilei", "password": "a-new-password-1"})
    assert r.status_code == 200


def test_who_is_signed_in_is_answered_200_for_nobody_too(api: tuple[TestClient, StoreConfig, dict[str, int]]) -> None:
    # The live page only shows who is signed in; /api/auth/me's 401 for nobody was logged
    # by the browser as an error on every load of the page.
    client, _cfg, _ids = api
    r = client.get("/api/auth/status")
    assert r.status_code == 200 and r.json() == {"user": None}
    login(client, "lilei")
    me = client.get("/api/auth/me").json()
    assert client.get("/api/auth/status").json() == me  # the same user and CSRF token
    assert me["user"]["person_name"] == "李雷"  # the pages greet the person, not the login
    client.post("/api/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]})
    assert client.get("/api/auth/status").json() == {"user": None}
