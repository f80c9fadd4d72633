"""The trainer's review page in Debian's Chromium: sign in, upload a two-person role-play
with the trainee's side, wait for the analysis, see the session and its report.

Needs ``apt-get install chromium`` and ``pip install playwright`` (see test_browser.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tests.server.test_browser import CHROMIUM, _free_port, _needs_chromium, serving
from tests.store.helpers import make_pan_video
from tests.store.test_api import PASSWORDS, _seed

pytestmark = [pytest.mark.browser, pytest.mark.models]

REPO = Path(__file__).resolve().parents[2]
ROLE_PLAY = REPO / "sample_videos" / "roleplay_side.mp4"


def _store_app(cfg: Any) -> FastAPI:
    """The store API with the refusal handler (as create_app does) and the web pages
    (``$POSTURE_COACH_WEB_DIR`` when set, as create_app reads it: e.g. an older page, to see
    a test fail on it)."""
    from posture_coach.server.store_api import install_refusal_handler, store_router

    app = FastAPI()
    app.include_router(store_router(cfg))
    install_refusal_handler(app)
    web = Path(os.environ.get("POSTURE_COACH_WEB_DIR") or REPO / "web")
    app.mount("/", StaticFiles(directory=web, html=True), name="web")
    return app


@pytest.fixture
def review_url(tmp_path: Path, model_dir: Path) -> Iterator[str]:
    from posture_coach.server.store_api import StoreConfig

    cfg = StoreConfig(db_url=f"sqlite:///{tmp_path / 'pc.db'}", data_dir=tmp_path / "data", run_jobs=True,
                      model_dir=model_dir)
    _seed(cfg)
    app = _store_app(cfg)
    with serving(app, _free_port()) as url:
        yield url + "review/"


def _signed_in_trainer(p: Any, review_url: str, errors: list[str], **page_options: Any) -> tuple[Any, Any]:
    """Chromium on the review page in English, signed in as trainer1 (page errors go to
    ``errors``); ``page_options`` for the page (a ``timezone_id``)."""
    browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
    page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="en-US", **page_options)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(review_url)
    page.fill("input[name=username]", "trainer1")
    page.fill("input[name=password]", PASSWORDS["trainer1"])
    page.click("#login button[type=submit]")
    page.wait_for_selector("#upload", state="visible", timeout=10_000)
    return browser, page


@pytest.fixture
def shots_dir(tmp_path: Path) -> Path:
    keep = os.environ.get("POSTURE_COACH_SHOTS")
    path = Path(keep) if keep else tmp_path / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_trainer_uploads_a_role_play_and_reads_its_report(review_url: str, shots_dir: Path,
                                                          person_photo: Path) -> None:
    sync_api = _needs_chromium()
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, review_url, errors)
        try:
            # Only the trainer's cohort members are offered.
            assert page.locator("#up-person option").all_inner_texts() == ["李雷"]
            page.set_input_files("#up-file", str(ROLE_PLAY))
            page.select_option("#up-role", "left")
            page.select_option("#up-scenario", "onboarding")  # counts in the cohort view
            page.check("input[name=keep_evidence]")
            page.click("#up-go")  # without consent the browser refuses the form
            assert page.evaluate("document.querySelector('#up-consent').validity.valid") is False
            page.check("#up-consent")
            # Every status the sessions list shows for it, from the click on.
            page.evaluate("""() => { window.seenStatus = []; new MutationObserver(() => {
                for (const td of document.querySelectorAll('#sessions td.status'))
                  window.seenStatus.push(td.textContent);
              }).observe(document.getElementById('sessions'),
                         { subtree: true, childList: true, characterData: true }); }""")
            page.click("#up-go")
            page.wait_for_function("document.querySelector('#up-status').textContent.startsWith('Done')"
                                   " || document.querySelector('#up-status').textContent.startsWith('Failed')",
                                   timeout=180_000)
            assert page.inner_text("#up-status").startswith("Done"), page.inner_text("#up-status")
            # The new session was listed while it was analysed (with how far), not only once done.
            seen = page.evaluate("window.seenStatus")
            assert any(re.fullmatch(r"queued|analysing \d{1,3}%", s) for s in seen), seen
            page.wait_for_selector("#detail h3", timeout=10_000)
            # Whose session, of what, when, and as what: the number last.
            assert re.fullmatch(r"李雷 · roleplay_side\.mp4 · \d{4}-\d\d-\d\d \d\d:\d\d \(onboarding self-check\) #1",
                                page.inner_text("#detail h3")), page.inner_text("#detail h3")
            # Each finding says how bad and how much, and shows the frame kept as evidence.
            page.wait_for_function("[...document.querySelectorAll('#detail .shots img')].length > 0 && "
                                   "[...document.querySelectorAll('#detail .shots img')].every(i => i.complete)",
                                   timeout=10_000)
            assert page.evaluate("[...document.querySelectorAll('#detail .shots img')]"
                                 ".every(i => i.naturalWidth > 100)"), "an evidence frame did not load"
            badges = page.locator("#detail .badge").all_inner_texts()
            assert badges and set(badges) <= {"Warning", "Fail"}, badges
            # The cohort view now has the member's onboarding result: a side-on role-play is
            # not the whole scenario, and the table says what the recording does not show.
            page.wait_for_function("document.querySelector('#cohort-people').textContent"
                                   ".includes('Incomplete (steps missing: ')")
            assert "Sit and talk" in page.inner_text("#cohort-people")
            # ...and so does the session itself, not only its score.
            assert page.inner_text("#detail .self-check").startswith(
                "Onboarding self-check (2026-A): incomplete — steps missing: ")
            assert "not done yet" not in page.inner_text("#cohort-people")
            # A violation the coach missed: picked from the catalogue, at a time, with a note.
            page.select_option("#missed-rule", "handshake.lean")
            page.fill("#missed-at", "2.5")
            page.fill("#missed-comment", "leaned back")
            page.click("#missed-add")
            page.wait_for_function("document.querySelector('.missed').textContent.includes('leaned back')")
            assert "Lean in slightly when shaking hands · 2.5 s — leaned back (trainer1)" in page.inner_text(".missed")
            page.screenshot(path=str(shots_dir / "review-upload-en.png"), full_page=True)
            rows = page.locator("#sessions tr:has(td)").all_inner_texts()
            assert len(rows) == 1 and "roleplay_side.mp4 · onboarding self-check" in rows[0] and "analysed" in rows[0]
            assert "李雷" in rows[0], rows[0]  # who the session is of
            # Disagreeing, with a comment: the decision and the comment stay, after a reload too.
            page.fill("#detail .finding .comment", "the camera angle hides the lean")
            page.click("#detail .finding button:text('Disagree')")
            page.wait_for_function("document.querySelector('#detail .finding .review') !== null")
            assert (page.inner_text("#detail .finding .review")
                    == "(Disagree: the camera angle hides the lean — reviewer trainer1)")
            href = page.get_attribute("#sessions a", "href")
            assert href is not None
            report = page.context.request.get(review_url.replace("/review/", href)).text()
            assert "Role-play (two people): the trainee is on the left of the image" in report
            assert "Added by a trainer (not flagged by the coach)" in report and "leaned back" in report
            page.click("#lang")
            page.wait_for_function("document.querySelector('#upload-title').textContent === '上传录像评分'")
            # Everything on the page follows the language: the upload status, the sessions
            # table's status, the open session's findings and their buttons.
            page.wait_for_function("document.querySelector('#detail .finding button') !== null"
                                   " && document.querySelector('#detail .finding button').textContent === '同意'")
            assert page.inner_text("#up-status") == "完成"
            # The analysis' state, not the self-check's outcome (a trainee read "完成" beside an
            # incomplete self-check as "done").
            assert "已分析" in page.locator("#sessions tr:has(td)").all_inner_texts()[0]
            assert page.title() == "服务礼仪教练 · 复核" and page.inner_text("h1") == "培训师复核"
            assert page.inner_text("#who") == "trainer1（培训师）"
            assert re.fullmatch(r"李雷 · roleplay_side\.mp4 · \d{4}-\d\d-\d\d \d\d:\d\d（入职自检） #1",
                                page.inner_text("#detail h3")), page.inner_text("#detail h3")
            # The agreement export: what it compares, in the page's language.
            assert page.inner_text("#agreement-link a") == "导出培训师与系统判定一致性（CSV）"
            assert page.get_attribute("#agreement-link a", "href") == "/api/agreement?format=csv&lang=zh"
            page.screenshot(path=str(shots_dir / "review-upload-zh.png"), full_page=True)
            # A refused upload says why in the page's language, the technical line below it.
            fake = shots_dir / "photo_renamed.mp4"
            fake.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 2000)  # a JPEG header under a video name
            page.set_input_files("#up-file", str(fake))
            page.check("#up-consent")
            page.click("#up-go")
            page.wait_for_function("document.querySelector('#up-status').textContent.startsWith('失败')")
            assert "这个文件不是视频" in page.inner_text("#up-status")
            assert "not a video" in (page.text_content("#up-detail-text") or "")
            page.click("#lang")  # the same failure, re-drawn in English
            page.wait_for_function("document.querySelector('#detail .finding button').textContent === 'Agree'")
            assert page.inner_text("#up-status").startswith("Failed: This file is not a video")
            assert "analysed" in page.locator("#sessions tr:has(td)").all_inner_texts()[0]
            # A video cut off half-way is accepted, then its analysis fails: the status line
            # and the sessions table say why, in English now and in Chinese after switching.
            whole = make_pan_video(person_photo, shots_dir / "pan.avi").read_bytes()
            cut = shots_dir / "cut.avi"
            cut.write_bytes(whole[: len(whole) * 6 // 10])
            page.set_input_files("#up-file", str(cut))
            page.check("#up-consent")
            page.click("#up-go")
            page.wait_for_function("document.querySelector('#up-status').textContent"
                                   ".startsWith('Failed: The video stops')", timeout=60_000)
            page.wait_for_function("[...document.querySelectorAll('#sessions tr')]"
                                   ".some((tr) => tr.textContent.includes('failed: The video stops'))")
            page.click("#lang")
            page.wait_for_function("[...document.querySelectorAll('#sessions tr')]"
                                   ".some((tr) => tr.textContent.includes('失败：视频在中途中断'))")
            assert page.inner_text("#up-status").startswith("失败：视频在中途中断")
            page.screenshot(path=str(shots_dir / "review-failed-zh.png"), full_page=True)
            page.screenshot(path=str(shots_dir / "review-refused-en.png"), full_page=True)
            # After a reload (the language chosen is kept): the disagreement and its comment.
            page.reload()
            page.wait_for_selector("#sessions tr:has(td) button", timeout=10_000)
            assert page.inner_text("h1") == "培训师复核"
            page.click("#sessions tr:has(td):has-text('roleplay_side') button")
            page.wait_for_selector("#detail .finding .review", timeout=10_000)
            review = page.inner_text("#detail .finding .review")
            assert review == "（不同意：the camera angle hides the lean · 复核人：trainer1）"
            assert page.input_value("#detail .finding .comment") == "the camera angle hides the lean"
            # A failed analysis offers no report to open.
            failed_row = page.locator("#sessions tr:has(td):has-text('cut.avi')")
            assert failed_row.locator("a").count() == 0
        finally:
            browser.close()
    assert not errors, errors


def test_a_role_play_uploaded_as_practice_alone_is_said_and_scored_again(review_url: str, shots_dir: Path) -> None:
    sync_api = _needs_chromium()
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, review_url, errors)
        try:
            page.set_input_files("#up-file", str(ROLE_PLAY))  # "People in view" left at one person
            page.check("#up-consent")
            page.click("#up-go")
            page.wait_for_function("document.querySelector('#up-status').textContent.startsWith('Done')",
                                   timeout=180_000)
            page.wait_for_selector("#detail .notice", timeout=10_000)
            assert page.inner_text("#detail .notice").startswith("Two people are in view")
            first = page.locator("#sessions tr:has(td)").all_inner_texts()
            assert len(first) == 1
            page.select_option("#detail .rescore select", "right")
            page.screenshot(path=str(shots_dir / "review-two-people-en.png"), full_page=True)
            page.dblclick("#detail .rescore button")  # a double click: one new session all the same
            page.wait_for_function("document.querySelector('#detail .rescore-said').textContent"
                                   ".includes('Queued as a new session #2')")
            page.wait_for_function("document.querySelectorAll('#sessions tr:has(td)').length === 2")
            assert page.is_disabled("#detail .rescore button")  # it waits for the analysis
            # The old session is marked in the list as superseded, with a link to the new one.
            assert "superseded by #2" in page.inner_text("#session-row-1")
            assert page.get_attribute("#session-row-1 a[href^='#session']", "href") == "#session=2"
            # When the analysis ends the new session opens by itself, scored as a role-play
            # (trainee on the right), without the notice, and says what it scores again.
            page.wait_for_function("document.querySelector('#detail h3')?.textContent.endsWith('#2')",
                                   timeout=180_000)
            assert page.url.endswith("#session=2")
            assert page.locator("#detail .notice", has_text="Two people").count() == 0
            assert page.inner_text("#detail .rescored-from") == "Scored again from the same video as session #1."
            assert len(page.locator("#sessions tr:has(td)").all_inner_texts()) == 2  # no third session
            assert "analysed" in page.inner_text("#session-row-2")
            href = page.get_attribute("#session-row-2 a", "href")
            assert href is not None
            report = page.context.request.get(review_url.replace("/review/", href)).text()
            assert "the trainee is on the right of the image" in report
            # The first session keeps its notice, in the page's language, and says it was scored again.
            page.click("#lang")
            page.wait_for_function("document.querySelector('#detail h3')?.textContent.endsWith('#2') && "
                                   "document.querySelector('#upload-title').textContent === '上传录像评分'")
            page.click("#session-row-1 button")
            page.wait_for_function("[...document.querySelectorAll('#detail .notice')]"
                                   ".some((n) => n.textContent.startsWith('画面里有两个人'))")
            assert page.inner_text("#detail .superseded") == "这段录像已重新评分为评分记录 #2，请以新记录为准：查看 #2"
            assert "已由 #2 取代" in page.inner_text("#session-row-1")
            assert "重新作为两人角色扮演评分" in page.inner_text("#detail .rescore")
            page.screenshot(path=str(shots_dir / "review-two-people-zh.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def test_hr_reads_the_cohort_table_in_both_languages(tmp_path: Path, shots_dir: Path) -> None:
    sync_api = _needs_chromium()
    from sqlalchemy import select

    from posture_coach.store import Database, repo
    from posture_coach.store.models import User
    from tests.store.helpers import fake_result

    cfg = _store_cfg(tmp_path)
    ids = _seed(cfg)
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:  # 李雷 did the onboarding self-check: standing.upright 0.6 < the pass score
        sid = repo.create_session(s, source="onboarding.mp4", person_id=ids["a"], scenario="onboarding").id
        jid = repo.create_job(s, sid).id
    claim = repo.claim_job(db, jid)
    assert claim and repo.save_results(db, jid, claim, fake_result(penalty=1.0))
    with db.session() as s:  # ...and later kept a live self-check from the live page: the newest counts
        trainee = s.scalars(select(User).where(User.username == "lilei")).one()
        s.expunge(trainee)
    # (mostly out of view: 61 % of the time not assessable, which the table says beside the score)
    repo.save_live_session(db, trainee, dataclasses.replace(fake_result(penalty=4.0), unknown_share=0.61),
                           scenario="onboarding")
    db.dispose()
    app = _store_app(cfg)
    errors: list[str] = []
    with serving(app, _free_port()) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="en-US")
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.goto(url + "review/")
            page.fill("input[name=username]", "hr")
            page.fill("input[name=password]", PASSWORDS["hr"])
            page.click("#login button[type=submit]")
            page.wait_for_selector("#cohorts-box:not(.hidden) #cohort-people td", timeout=10_000)
            rows = page.locator("#cohort-people tr").all_inner_texts()
            assert len(rows) == 2 and "李雷" in rows[1], rows  # a header and the one member
            assert "Not passed" in rows[1] and "Stand upright" in rows[1] and "80" in rows[1], rows[1]
            assert "live practice" in rows[1], rows[1]
            assert "(61% of the time not assessable)" in rows[1], rows[1]
            assert dt.date.today().isoformat()[:4] in rows[1], rows[1]  # the result's date
            rates = page.locator("#cohort-rules tr").all_inner_texts()
            assert any("Stand upright" in r and "0 / 1" in r for r in rates), rates
            # The rules the cohort misses most first; "0%", not "0 %".
            shares = [r.split("\t")[2] for r in rates[1:]]
            assert all(re.fullmatch(r"\d{1,3}%", x) for x in shares), shares
            assert [int(x[:-1]) for x in shares] == sorted(int(x[:-1]) for x in shares), rates
            assert rates[1].startswith("Stand upright"), rates
            assert page.locator("#cohort-people th").all_inner_texts()[3] == "Rules failed or to watch"
            assert page.inner_text("#cohort-sel option") == "2026-A (1 person)"
            assert "at least 80" in page.inner_text("#cohort-note")  # what "passed" means
            # The export for people: titles and words in the page's language, readable by spreadsheets.
            href = page.get_attribute("#cohort-csv", "href")
            assert href.startswith(f"/api/cohorts/{ids['c1']}/table?format=csv&lang=en&tz=")  # the reader's day
            csv_en = page.context.request.get(url + href.lstrip("/"))
            assert csv_en.body().startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
            text_en = csv_en.body().decode("utf-8-sig")
            assert text_en.splitlines()[0].startswith(
                "person id,name,session id,overall score (after trainer review),result,date,")
            assert "Stand upright: head up, no hunching" in text_en.splitlines()[0]
            assert "李雷" in text_en and "not passed" in text_en
            assert "filename*=UTF-8''" in csv_en.headers["content-disposition"]
            page.screenshot(path=str(shots_dir / "review-cohort-en.png"), full_page=True)
            page.click("#lang")
            page.wait_for_function("document.querySelector('#cohort-people').textContent.includes('未通过')")
            assert "抬头挺胸" in page.inner_text("#cohort-people")
            assert "&lang=zh&tz=" in page.get_attribute("#cohort-csv", "href")
            assert page.inner_text("h1") == "人力资源：入职自检与复核"
            assert page.locator("#cohort-people th").all_inner_texts()[3] == "未通过 / 需注意的规则"
            assert page.inner_text("#cohort-sel option") == "2026-A（1 人）"
            rates_zh = page.locator("#cohort-rules tr:has(td)").all_inner_texts()
            assert rates_zh[0].startswith("抬头挺胸") and not any(" （" in r or " %" in r for r in rates_zh), rates_zh
            # A recommended rule is marked without a space before the full-width bracket.
            assert any(r.split("\t")[0].endswith("（推荐做到）") for r in rates_zh), rates_zh
            page.screenshot(path=str(shots_dir / "review-cohort-zh.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def test_a_trainee_reads_their_own_record_and_errors_speak_the_pages_language(tmp_path: Path,
                                                                                shots_dir: Path) -> None:
    sync_api = _needs_chromium()
    from posture_coach.store import Database, repo
    from tests.store.helpers import fake_result

    cfg = _store_cfg(tmp_path)
    ids = _seed(cfg)
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:  # a recording of 李雷, analysed, with findings
        sid = repo.create_session(s, source="practice.mp4", person_id=ids["a"]).id
        jid = repo.create_job(s, sid).id
    claim = repo.claim_job(db, jid)
    assert claim and repo.save_results(db, jid, claim, fake_result(penalty=3.0))
    db.dispose()
    app = _store_app(cfg)
    errors: list[str] = []
    with serving(app, _free_port()) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="zh-CN")
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            page.goto(url + "review/")
            assert page.inner_text("h1") == "服务礼仪教练：登录"
            page.fill("input[name=username]", "lilei")
            page.fill("input[name=password]", "not-the-password")
            page.click("#login button[type=submit]")
            page.wait_for_function("document.querySelector('#error').textContent !== ''")
            assert page.inner_text("#error") == "用户名或密码错误，请重新输入。"
            page.click("#lang")  # the refusal is said again in the other language, not dropped
            page.wait_for_function("document.querySelector('#error').textContent.startsWith('Wrong')")
            assert page.inner_text("#error") == "Wrong user name or password."
            page.click("#lang")
            page.wait_for_function("document.querySelector('#error').textContent.startsWith('用户名')")
            page.fill("input[name=password]", PASSWORDS["lilei"])
            page.click("#login button[type=submit]")
            page.wait_for_selector("#sessions tr:has(td) button", timeout=10_000)
            assert page.inner_text("h1") == "我的练习记录"
            # The trainee's own name (their record), the login name in the tooltip.
            page.wait_for_function("document.querySelector('#who').textContent === '李雷（学员）'")
            assert page.get_attribute("#who", "title") == "lilei"
            # They agree to their own video being stored, in their own words.
            assert page.inner_text("label:has(#up-consent)").strip() == "我同意保存此录像"
            assert not page.is_visible("#agreement-link")  # trainers' and HR's
            # A trainee uploads their own practice only, never as the onboarding self-check:
            # no trainee to pick and no scenario; the rest of the form is theirs.
            assert page.inner_text("#upload-title") == "上传我的练习录像评分"
            assert not page.is_visible("#up-person") and not page.is_visible("label[for=up-person]")
            assert not page.is_visible("#up-scenario")
            assert page.input_value("#up-person") == str(ids["a"])  # sent: themself
            assert page.is_visible("#up-file") and page.is_visible("#up-role") and page.is_visible("#up-consent")
            page.click("#sessions tr:has(td) button")
            page.wait_for_selector("#detail .finding", timeout=10_000)
            # A trainee reads the findings; agreeing or disagreeing is the trainer's.
            assert page.locator("#detail .finding button").count() == 0
            assert page.locator("#missed-add").count() == 0
            assert " 秒" in page.inner_text("#detail .finding")
            page.screenshot(path=str(shots_dir / "review-trainee-zh.png"), full_page=True)
            # Signed out meanwhile (the cookie gone): opening a session goes back to the sign-in
            # form, saying why in the page's language.
            page.context.clear_cookies()
            page.click("#sessions tr:has(td) button")
            page.wait_for_selector("#login:not(.hidden)")
            assert page.inner_text("#error") == "您已退出登录（登录已过期，或账号已被人力资源部停用），请重新登录。"
            assert not page.is_visible("#main") and sid
            # The language chosen last is kept on this browser.
            page.evaluate("localStorage.setItem('pc.lang', 'en')")
            page.reload()
            page.wait_for_selector("#login", timeout=10_000)
            assert page.inner_text("h1") == "Etiquette coach: sign in"
        finally:
            browser.close()
    assert not errors, errors


def _stored_sessions(cfg: Any) -> dict[str, int]:
    """李雷's sessions, analysed without models: #1 a role-play filmed at an angle (most of
    the time not assessable), scored again as #3; #2 a practice clip with one finding."""
    from posture_coach.store import Database, repo
    from tests.store.helpers import fake_result, store_result
    from tests.store.test_review_api import oblique_result

    ids = _seed(cfg)
    db = Database(cfg.db_url, cfg.data_dir)
    oblique = store_result(db, oblique_result(), source="oblique.mp4", person_id=ids["a"])
    plain = store_result(db, fake_result(penalty=2.0), source="practice.mp4", person_id=ids["a"])
    with db.session() as s:
        new = repo.create_session(s, source="oblique.mp4", person_id=ids["a"], role_play="left")
        repo.link_rescored(s, repo.get_session(s, oblique), new)
        again, jid = new.id, repo.create_job(s, new.id).id
    claim = repo.claim_job(db, jid)
    assert claim and repo.save_results(db, jid, claim, fake_result())
    db.dispose()
    return {**ids, "oblique": oblique, "plain": plain, "again": again}


def test_the_detail_says_what_could_not_be_assessed_rule_by_rule_and_the_address_keeps_it(
        tmp_path: Path, shots_dir: Path) -> None:
    sync_api = _needs_chromium()
    import posture_coach.rules  # noqa: F401  (every rule module's reasons in REASONS)
    from posture_coach.errors import REASON_TEXTS
    from posture_coach.rules.base import REASONS
    cfg = _store_cfg(tmp_path)
    ids = _stored_sessions(cfg)
    one, two, three = ids["oblique"], ids["plain"], ids["again"]
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            opened = "(n) => document.querySelector('#detail h3')?.textContent.endsWith('#' + n)"
            # The list: the score after review beside the share not assessable, high ones marked,
            # and the session scored again marked as superseded.
            page.wait_for_selector(f"#session-row-{one}")
            row = page.locator(f"#session-row-{one} td").all_inner_texts()
            # Mostly not assessable: the score in the normal colour (red reads "failed"), marked
            # "for reference only" in words, the reason in its tooltip.
            assert row[4:6] == ["97 ⚠ for reference only", "72%"], row
            assert page.get_attribute(f"#session-row-{one} td.unknown", "class") == "unknown high"
            colour = "(sel) => getComputedStyle(document.querySelector(sel)).color"
            assert (page.evaluate(colour, f"#session-row-{one} td:nth-child(5)")
                    == page.evaluate(colour, f"#session-row-{one} td:nth-child(3)"))
            assert page.get_attribute(f"#session-row-{one} td:nth-child(5)", "title").startswith("More than half")
            assert page.locator(f"#session-row-{two} .ref-only").count() == 0  # 33%: no mark
            assert "superseded by #3" in row[3] and "scored again from #1" in page.inner_text(f"#session-row-{three}")
            assert page.locator(f"#session-row-{two} td").all_inner_texts()[4:6] == ["90", "33%"]
            page.click(f"#session-row-{one} button")
            page.wait_for_function(opened, arg=one)
            assert page.url.endswith(f"#session={one}")
            # Most of the time not assessable: said plainly, with the main reasons (the rules' own
            # words for them), never "No findings" alone.
            side_on = REASONS["side_on_view_needed"][1]
            assert page.inner_text("#unassessable") == (
                "72% of the time could not be assessed: face in view but not readable (too far from the camera, "
                f"too dark, or turned away); {side_on}. The score covers only what could be seen; "
                "do not rely on it alone.")
            assert page.inner_text("#score-line") == "Score 97 · time not assessable 72%"
            # The rules: score (→ after review), what they were judged on, why not assessable.
            rules = {r.get_attribute("data-rule"): r.locator("td").all_inner_texts()
                     for r in page.locator("#rule-table tr[data-rule]").all()}
            assert rules["standing.upright"] == ["Stand upright: head up, no hunching", "90", "9.7 s", ""]
            assert rules["standing.hands_front"][2:] == ["2.4 s", "too short to rely on"]
            assert rules["handshake.lean"][1:3] == ["100", "1 event"]
            assert rules["distance.customer"][1:] == ["—", "—", f"Not assessable: {side_on}"]
            assert "sitting.upright" not in rules  # it did not apply: folded below, not a gap
            assert "Rules that did not apply (1" in page.inner_text("#rules-not-applied")
            # The report and its PDF open in a new tab; the comment is a box for sentences.
            assert page.get_attribute("#detail .links a", "target") == "_blank"
            assert page.get_attribute(f"#session-row-{one} a[href*='/report']", "target") == "_blank"
            assert page.eval_on_selector("#detail .finding .comment", "e => e.tagName") == "TEXTAREA"
            # Disagreeing: the score after review, in the detail, the rule table and the list.
            page.fill("#detail .finding .comment", "the camera angle\nhides it")
            page.click("#detail .finding button:text('Disagree')")
            page.wait_for_function("document.querySelector('#score-line').textContent.startsWith('Score 97 → 100')")
            assert page.locator("#rule-table tr[data-rule='standing.upright'] td").nth(1).inner_text() == "90 → 100"
            page.wait_for_function(f"document.querySelector('#session-row-{one}').textContent.includes('97 → 100')")
            page.screenshot(path=str(shots_dir / "review-unassessable-en.png"), full_page=True)
            # A violation the coach missed: a time past the clip is refused, said in the page's language.
            page.select_option("#missed-rule", "face.smile")
            assert page.get_attribute("#missed-at", "placeholder") == "At (s, 0–9.7)"
            page.fill("#missed-at", "99")
            page.click("#missed-add")
            page.wait_for_function("document.querySelector('.missed .err').textContent !== ''")
            assert page.inner_text(".missed .err") == REASON_TEXTS["missed_time_out_of_range"]["en"]
            page.fill("#missed-at", "-3")
            page.click("#missed-add")
            page.wait_for_function("!document.querySelector('#missed-add').disabled")
            assert page.inner_text(".missed .err") == REASON_TEXTS["missed_time_out_of_range"]["en"]
            assert page.locator(".missed-entry").count() == 0
            page.fill("#missed-at", "")  # no time: the whole recording
            page.fill("#missed-comment", "never smiled")
            page.click("#missed-add")
            page.wait_for_selector(".missed-entry")
            assert page.inner_text(".missed-entry") == "Smile · whole recording — never smiled (trainer1) Delete"
            page.click(".missed-entry .missed-delete")
            page.wait_for_function("document.querySelectorAll('.missed-entry').length === 0")
            # Superseded: the notice links the newer session; the address follows, Back returns.
            assert page.inner_text("#detail .superseded") == "This video was scored again as session #3; " \
                "go by the new session: open #3"
            page.click("#detail .superseded a")
            page.wait_for_function(opened, arg=three)
            assert page.url.endswith(f"#session={three}")
            assert page.inner_text("#detail .rescored-from") == "Scored again from the same video as session #1."
            page.go_back()
            page.wait_for_function(opened, arg=one)
            # A reload opens the same session again, and so does Back from a report in this tab.
            page.reload()
            page.wait_for_function(opened, arg=one)
            assert page.locator("#rule-table").count() == 1
            page.goto(url + f"api/sessions/{one}/report?lang=en")
            page.go_back()
            page.wait_for_function(opened, arg=one)
            # The server fails to give a session: the page says so and to reload, never the
            # bare "Internal Server Error", and the upload's status line is not "Failed".
            page.route(f"**/api/sessions/{two}", lambda r: r.fulfill(status=500, body="Internal Server Error",
                                                                      content_type="text/plain"))
            page.route("**/api/uploads", lambda r: r.fulfill(status=202, content_type="application/json",
                                                             body=f'{{"session_id": {two}, "job_id": 77}}'))
            page.route("**/api/jobs/77", lambda r: r.fulfill(status=200, content_type="application/json",
                                                             body=f'{{"id": 77, "session_id": {two}, '
                                                                  '"status": "done", "progress": 1.0}'))
            page.click(f"#session-row-{two} button")
            page.wait_for_selector("#detail .load-failed")
            assert page.inner_text("#detail .load-failed") == (
                "Session #2 could not be loaded: The server had an error and the page could not load this. "
                "Reload the page; if it keeps happening, tell your administrator.")
            assert "Internal Server Error" not in page.inner_text("#detail")  # folded, for support
            page.screenshot(path=str(shots_dir / "review-load-failed-en.png"), full_page=True)
            # ...after an upload too; and the form keeps the trainee, people in view and
            # keep-evidence for the next video (the file and the consent are each video's own).
            page.select_option("#up-role", "right")
            page.check("input[name=keep_evidence]")
            page.set_input_files("#up-file", str(ROLE_PLAY))
            page.check("#up-consent")
            page.click("#up-go")
            # (#2 is open already, its load failed: wait for the upload's own end, not for that)
            page.wait_for_function("document.querySelector('#up-status').textContent === 'Done'")
            page.wait_for_function(opened, arg=two)
            page.wait_for_selector("#detail .load-failed")
            assert page.inner_text("#up-status") == "Done"
            assert page.input_value("#up-person") == str(ids["a"]) and page.input_value("#up-role") == "right"
            assert page.is_checked("input[name=keep_evidence]") and not page.is_checked("#up-consent")
            assert page.input_value("#up-file") == ""
            page.unroute(f"**/api/sessions/{two}")
            # In Chinese: the report's word for a warning, the gap said plainly.
            page.click("#lang")
            page.click(f"#session-row-{one} button")
            page.wait_for_function(opened, arg=one)
            page.wait_for_function("document.querySelector('#unassessable')?.textContent"
                                   ".startsWith('72% 的时间无法评估：')")
            assert page.inner_text("#detail .finding .badge") == "注意"
            assert "面部在画面内但无法识别" in page.inner_text("#unassessable")
            assert page.inner_text("#score-line") == "得分 97 → 复核后 100 · 无法评估的时间 72%"
            assert "时间太短，仅供参考" in page.inner_text("#rule-table")
            page.screenshot(path=str(shots_dir / "review-unassessable-zh.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def test_a_person_without_consent_is_greyed_out_of_the_upload_form(tmp_path: Path, shots_dir: Path) -> None:
    """The upload form lists everyone in the trainer's cohort, but only people whose record
    says they consent can be picked; the others say why, in the page's language."""
    sync_api = _needs_chromium()
    from posture_coach.store import Database, repo

    cfg = _store_cfg(tmp_path)
    ids = _seed(cfg)
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:
        first = repo.create_person(s, "王芳", consent_media=False)
        repo.add_member(s, ids["c1"], first.id)
    repo.set_consent(db, ids["a"], False)  # 李雷 withdrew: nobody left who consents
    db.dispose()
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            page.wait_for_selector("#up-person option", state="attached")
            options = page.eval_on_selector_all(
                "#up-person option", "os => os.map(o => [o.textContent, o.disabled])")
            assert options == [["李雷 (no consent to store videos)", True],
                               ["王芳 (no consent to store videos)", True]]
            assert page.input_value("#up-person") == str(ids["a"])  # shown, not a blank box
            assert page.is_disabled("#up-go")
            assert "No trainee has consented" in page.inner_text("#up-status")
            page.click("#lang")
            assert page.eval_on_selector("#up-person option", "o => o.textContent") == "李雷（未同意保存录像）"
            assert "没有同意保存录像的学员" in page.inner_text("#up-status")
            page.screenshot(path=str(shots_dir / "upload_no_consent.png"), full_page=True)
        finally:
            browser.close()
    db = Database(cfg.db_url, cfg.data_dir)
    repo.set_consent(db, ids["a"], True)
    db.dispose()
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            page.wait_for_selector("#up-person option", state="attached")
            assert page.input_value("#up-person") == str(ids["a"])  # the first who consents
            assert not page.is_disabled("#up-go")
        finally:
            browser.close()
    assert not errors, errors


def _signed_in(p: Any, url: str, user: str, errors: list[str], locale: str = "en-US") -> tuple[Any, Any]:
    """Chromium on the review page (``locale`` decides its first language), signed in as ``user``."""
    browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
    page = browser.new_page(viewport={"width": 1100, "height": 900}, locale=locale)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(url + "review/")
    _sign_in(page, user)
    return browser, page


def _sign_in(page: Any, user: str) -> None:
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("#login button[type=submit]")
    page.wait_for_selector("#upload", state="visible", timeout=10_000)


def _onboarding_result(cfg: Any, penalty: float = 3.0) -> dict[str, int]:
    """The seeded store, with 李雷's onboarding self-check analysed: standing.upright below the
    pass score (one finding), so the cohort table says "Not passed"."""
    from posture_coach.store import Database
    from tests.store.helpers import fake_result, showing_the_onboarding, store_result

    ids = _seed(cfg)
    db = Database(cfg.db_url, cfg.data_dir)
    sid = store_result(db, showing_the_onboarding(fake_result(penalty=penalty)), source="onboarding.mp4",
                       person_id=ids["a"], scenario="onboarding")
    db.dispose()
    return {**ids, "session": sid}


def _stored_media(cfg: Any, ids: dict[str, int]) -> list[Path]:
    """A session of 李雷 with its video and an evidence frame stored: the two files withdrawing
    consent deletes. Returns their paths."""
    import cv2
    import numpy as np

    from posture_coach.store import Database
    from tests.store.helpers import fake_result, store_result

    db = Database(cfg.db_url, cfg.data_dir)
    video = cfg.data_dir / "uploads" / "lilei" / "video.mp4"
    frame = cfg.data_dir / "evidence" / "lilei" / "snapshot.jpg"
    video.parent.mkdir(parents=True)
    frame.parent.mkdir(parents=True)
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 1000)
    image = np.full((240, 320, 3), 200, np.uint8)
    cv2.putText(image, "evidence", (40, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (40, 40, 40), 2)
    cv2.imwrite(str(frame), image)
    store_result(db, fake_result({"snapshot": frame}), source="practice.mp4", person_id=ids["a"],
                 media_path=db.rel(video), keep_evidence=True)
    db.dispose()
    return [video, frame]


def test_signing_out_of_the_review_page_leaves_nothing_of_the_user(tmp_path: Path, shots_dir: Path) -> None:
    """Sign out, next to who is signed in: the sign-in form again, the session ended on the
    server, and nothing of the previous user's sessions, detail or cohort table left."""
    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    ids = _onboarding_result(cfg)
    errors: list[str] = []
    posts: list[dict[str, str]] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "trainer1", errors)
        try:
            page.on("request", lambda r: posts.append(r.headers) if r.url.endswith("/api/auth/logout") else None)
            page.wait_for_selector("#cohort-people td")
            page.click(f"#session-row-{ids['session']} button")
            page.wait_for_selector("#detail .finding")
            assert page.inner_text("#signout") == "Sign out" and page.is_visible("#signout")
            # Next to who is signed in, on the same line.
            who, out = page.locator("#who").bounding_box(), page.locator("#signout").bounding_box()
            assert who and out and abs(who["y"] - out["y"]) < 10 and 0 <= out["x"] - (who["x"] + who["width"]) < 40
            page.click("#lang")
            page.wait_for_function("document.querySelector('#signout').textContent === '退出'"
                                   " && document.querySelector('#score-line')?.textContent.startsWith('得分')")
            page.screenshot(path=str(shots_dir / "review-signout-zh.png"))
            page.click("#lang")
            page.wait_for_function("document.querySelector('#signout').textContent === 'Sign out'"
                                   " && document.querySelector('#score-line')?.textContent.startsWith('Score')")
            page.screenshot(path=str(shots_dir / "review-signout-en.png"))
            page.click("#signout")
            page.wait_for_selector("#login", state="visible")
            assert not page.is_visible("#main")
            assert len(posts) == 1 and posts[0].get("x-csrf-token"), posts  # a POST as the others, with the token
            assert page.context.request.get(url + "api/auth/me").status == 401  # ended on the server too
            # Nothing of trainer1's is left on the page, hidden or not.
            for sel in ("#sessions", "#detail", "#cohort-people", "#cohort-rules", "#cohort-sel", "#up-person",
                        "#who", "#up-status", "#consent-people", "#my-consent"):
                assert page.eval_on_selector(sel, "e => e.textContent.trim() + e.children.length") == "0", sel
            assert page.input_value("input[name=username]") == "" and page.input_value("input[name=password]") == ""
            assert "#session" not in page.url and page.inner_text("h1") == "Etiquette coach: sign in"
            page.screenshot(path=str(shots_dir / "review-signed-out-en.png"))
            # Someone else signs in on the same page: their page, nothing of trainer1's.
            _sign_in(page, "lilei")
            page.wait_for_selector(f"#session-row-{ids['session']}")
            page.wait_for_function("document.querySelector('#who').textContent === '李雷 (trainee)'")
            assert page.inner_text("h1") == "My practice record"
            assert not page.is_visible("#cohorts-box") and page.inner_text("#detail") == ""
        finally:
            browser.close()
    assert not errors, errors


def test_hr_records_and_withdraws_consent_and_the_upload_form_follows(tmp_path: Path, shots_dir: Path) -> None:
    """HR's "People and consent": everyone with their consent; recording it makes the person
    selectable for uploads; withdrawing it asks first, then says how many files went."""
    sync_api = _needs_chromium()
    from posture_coach.store import Database, repo

    cfg = _store_cfg(tmp_path)
    ids = _seed(cfg)
    files = _stored_media(cfg, ids)
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:
        wang = repo.create_person(s, "王芳", consent_media=False).id
        repo.add_member(s, ids["c1"], wang)
    db.dispose()
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "hr", errors)
        try:
            page.wait_for_selector("#consent-box:not(.hidden) #consent-people td")
            assert page.inner_text("#consent-box h2") == "People and consent"
            assert not page.is_visible("#my-consent")  # the trainee's own control is not HR's
            state = {pid: page.locator(f"#consent-row-{pid} td").all_inner_texts()
                     for pid in (ids["a"], ids["b"], wang)}
            assert state[ids["a"]] == ["李雷", "Agreed", "Withdraw consent"]
            assert state[wang] == ["王芳", "Not agreed", "Record consent"]
            option = f"#up-person option[value='{wang}']"
            assert page.eval_on_selector(option, "o => [o.disabled, o.textContent]") == [
                True, "王芳 (no consent to store videos)"]
            # Recorded: 王芳 can be picked in the upload form.
            page.click(f"#consent-row-{wang} button")
            page.wait_for_function(f"!document.querySelector(\"{option}\").disabled")
            assert page.inner_text("#consent-said") == "Recorded: 王芳 agrees to videos being stored."
            assert page.locator(f"#consent-row-{wang} td").all_inner_texts()[1:] == ["Agreed", "Withdraw consent"]
            assert page.eval_on_selector(option, "o => o.textContent") == "王芳"
            # Withdrawing asks first, saying what it deletes; cancelled, nothing changes.
            page.click(f"#consent-row-{ids['a']} button")
            page.wait_for_selector("#consent-confirm")
            assert page.inner_text("#consent-confirm").startswith(
                "Withdrawing 李雷's consent deletes their stored videos and evidence pictures; this cannot be undone "
                "(scores and reviews are kept). Withdraw it?")
            page.screenshot(path=str(shots_dir / "review-consent-confirm-en.png"), full_page=True)
            page.click("#consent-no")
            page.wait_for_selector("#consent-confirm", state="detached")
            assert all(f.exists() for f in files)
            assert page.locator(f"#consent-row-{ids['a']} td").nth(1).inner_text() == "Agreed"
            page.click(f"#consent-row-{ids['a']} button")
            page.click("#consent-yes")
            page.wait_for_function("document.querySelector('#consent-said').textContent.startsWith('Consent')")
            assert page.inner_text("#consent-said") == (
                "Consent withdrawn for 李雷: 2 files deleted (videos and evidence pictures); scores kept.")
            assert not any(f.exists() for f in files)
            assert page.locator(f"#consent-row-{ids['a']} td").all_inner_texts()[1:] == ["Not agreed", "Record consent"]
            page.wait_for_function(f"document.querySelector(\"#up-person option[value='{ids['a']}']\").disabled")
            assert page.input_value("#up-person") != str(ids["a"])
            # The session stays, with its score.
            assert "analysed\t95" in page.inner_text("#sessions")
            page.screenshot(path=str(shots_dir / "review-consent-en.png"), full_page=True)
            page.click("#lang")
            page.wait_for_function(
                "document.querySelector('#consent-box h2').textContent === '学员录像授权（知情同意）'")
            assert page.inner_text("#consent-said") == "已撤回李雷的同意：删除了 2 个文件（录像和证据截图）；得分保留。"
            assert page.locator(f"#consent-row-{ids['a']} td").all_inner_texts() == ["李雷", "未同意", "登记同意"]
            page.click(f"#consent-row-{wang} button")
            page.wait_for_selector("#consent-confirm")
            assert page.inner_text("#consent-confirm").startswith("撤回王芳的同意后，其已保存的录像和证据截图将被删除")
            assert page.inner_text("#consent-yes") == "撤回并删除" and page.inner_text("#consent-no") == "取消"
            page.screenshot(path=str(shots_dir / "review-consent-zh.png"), full_page=True)
            page.click("#consent-yes")
            page.wait_for_function("document.querySelector('#consent-said').textContent.startsWith('已撤回王芳')")
            assert page.inner_text("#consent-said") == "已撤回王芳的同意：没有已保存的录像或截图需要删除；得分保留。"
            # A trainer sees no consent control.
            page.click("#signout")
            page.wait_for_selector("#login", state="visible")
            _sign_in(page, "trainer1")
            page.wait_for_selector("#up-person option", state="attached")
            assert not page.is_visible("#consent-box") and not page.is_visible("#my-consent")
            assert page.locator("#consent-people button, #my-consent input").count() == 0
        finally:
            browser.close()
    assert not errors, errors


def test_a_trainee_records_and_withdraws_their_own_consent(tmp_path: Path, shots_dir: Path) -> None:
    """A trainee's own "I agree to my practice videos being stored": withdrawn after a
    confirmation (their videos go, scores stay), the upload form says why it is off."""
    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    ids = _seed(cfg)
    files = _stored_media(cfg, ids)
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "lilei", errors, locale="zh-CN")
        try:
            page.wait_for_selector("#my-consent-check")
            assert page.inner_text("#my-consent label") == "我同意保存我的练习录像"
            assert page.is_checked("#my-consent-check") and not page.is_visible("#consent-box")
            assert not page.is_disabled("#up-go")
            page.click("#my-consent-check")  # unticked: asked first, the box stays ticked until then
            page.wait_for_selector("#consent-confirm")
            assert page.is_checked("#my-consent-check")  # not until confirmed
            assert page.inner_text("#consent-confirm").startswith(
                "撤回同意后，您已保存的练习录像和证据截图将被删除，无法恢复（得分保留）。确定撤回吗？")
            page.screenshot(path=str(shots_dir / "review-my-consent-confirm-zh.png"))
            page.click("#consent-no")
            page.wait_for_selector("#consent-confirm", state="detached")
            assert page.is_checked("#my-consent-check") and all(f.exists() for f in files)
            page.click("#my-consent-check")
            page.click("#consent-yes")
            page.wait_for_function("document.querySelector('#my-consent-said').textContent !== ''")
            assert (page.inner_text("#my-consent-said")
                    == "已撤回您的同意：删除了 2 个文件（录像和证据截图）；得分保留。")
            assert not page.is_checked("#my-consent-check") and not any(f.exists() for f in files)
            page.wait_for_function("document.querySelector('#up-go').disabled")
            assert page.inner_text("#up-status") == "要上传录像，请先在上方勾选“我同意保存我的练习录像”。"
            assert "已分析\t95" in page.inner_text("#sessions")  # the score stays
            page.screenshot(path=str(shots_dir / "review-my-consent-zh.png"))
            page.click("#lang")
            page.wait_for_function("document.querySelector('#my-consent label').textContent"
                                   " === 'I agree to my practice videos being stored'")
            assert page.inner_text("#my-consent-said") == (
                "Your consent is withdrawn: 2 files deleted (videos and evidence pictures); scores kept.")
            assert page.inner_text("#up-status").startswith("To upload a recording, first tick")
            page.check("#my-consent-check")
            page.wait_for_function("!document.querySelector('#up-go').disabled")
            assert page.inner_text("#my-consent-said") == "Recorded: you agree to your practice videos being stored."
            assert page.inner_text("#up-status") == ""
            page.screenshot(path=str(shots_dir / "review-my-consent-en.png"))
        finally:
            browser.close()
    assert not errors, errors


def test_the_cohort_table_follows_a_review(tmp_path: Path, shots_dir: Path) -> None:
    """Disagreeing with a finding, or adding or deleting a missed violation, while the cohort
    table is open: the table is loaded again, so it says the same score as the session."""
    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    ids = _onboarding_result(cfg)
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "trainer1", errors)
        try:
            page.wait_for_selector("#cohort-people td")
            member = "#cohort-people tr:has(td)"
            # (the result column, passed or not, is the server's to say; the score and the rules
            # not passed are the reviewed ones, as in the session)
            before = page.locator(f"{member} td").all_inner_texts()
            assert before[2:4] == ["85", "Stand upright: head up, no hunching"], before
            page.click(f"#session-row-{ids['session']} button")
            page.wait_for_selector("#detail .finding")
            page.click("#detail .finding button:text('Disagree')")
            page.wait_for_function("document.querySelector('#score-line').textContent.startsWith('Score 85 → 100')")
            page.wait_for_function(f"document.querySelector('{member} td:nth-child(3)').textContent === '100'")
            after = page.locator(f"{member} td").all_inner_texts()
            assert after[2:4] == ["100", "—"], after
            assert "85 → 100" in page.inner_text(f"#session-row-{ids['session']}")
            page.screenshot(path=str(shots_dir / "review-cohort-follows-en.png"), full_page=True)
            # A missed violation added, then deleted: the cohort table is asked again each time.
            table = f"**/api/cohorts/{ids['c1']}/table?*"
            page.select_option("#missed-rule", "standing.upright")
            page.fill("#missed-at", "2.5")
            with page.expect_response(table, timeout=10_000):
                page.click("#missed-add")
            page.wait_for_selector(".missed-entry")
            with page.expect_response(table, timeout=10_000):
                page.click(".missed-entry .missed-delete")
            page.wait_for_function("document.querySelectorAll('.missed-entry').length === 0")
            assert page.locator(f"{member} td").all_inner_texts()[2:4] == ["100", "—"]
        finally:
            browser.close()
    assert not errors, errors


def test_the_upload_hint_recommends_filming_role_plays_at_about_45_degrees(tmp_path: Path) -> None:
    """From the side most standing rules cannot be judged; at about 45° they and the
    handshake lean can: the hint under the upload form says so, in both languages."""
    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    _seed(cfg)
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "trainer1", errors)
        try:
            hint = "#upload [data-t=upload_hint]"
            en = page.inner_text(hint)
            assert en.startswith("Videos stay on this server.") and "about 45°" in en, en
            assert "from the side." not in en and "arms, hands, feet, shoulders" in en
            assert "Only the distance to the customer needs a straight side-on view" in en
            page.click("#lang")
            page.wait_for_function(f"document.querySelector('{hint}').textContent.startsWith('录像只保存在本机服务器上')")
            zh = page.inner_text(hint)
            assert "45°" in zh and "握手前倾" in zh and "最好从侧面拍摄" not in zh, zh
            assert "大多数站姿规则（手臂、双手、脚位、肩部）无法评估" in zh, zh
            assert "只有与客户的距离需要从正侧面拍摄" in zh, zh
        finally:
            browser.close()
    assert not errors, errors


def test_reports_opened_from_the_page_give_times_where_the_reader_is(tmp_path: Path, machine_tz: Any) -> None:
    """The server keeps UTC; HR reads in Beijing. The page lists the session at the
    browser's time, and the report it opens says the same time, not UTC's."""
    sync_api = _needs_chromium()
    from posture_coach.store import Database
    from tests.store.helpers import fake_result, store_result

    machine_tz("UTC")
    cfg = _store_cfg(tmp_path)
    ids = _seed(cfg)
    db = Database(cfg.db_url, cfg.data_dir)
    sid = store_result(db, fake_result(), person_id=ids["a"])
    db.dispose()
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors, timezone_id="Asia/Shanghai")
        try:
            page.wait_for_selector("#sessions tr:has(td) a", timeout=10_000)
            href = page.get_attribute(f'#sessions a[href*="/api/sessions/{sid}/report?"]', "href")
            assert href is not None and "tz=Asia%2FShanghai" in href
            page.goto(url.rstrip("/") + href)
            assert "UTC+08:00" in page.content() and " UTC<" not in page.content()
        finally:
            browser.close()
    assert not errors, errors


def test_hr_renames_a_cohort_in_the_cohort_view_without_a_reload(tmp_path: Path, shots_dir: Path) -> None:
    """HR's "Rename" beside the cohort picked: a blank name is refused with why in the
    page's language, a new one is shown at once in the picker and the CSV's name; trainers
    get no such control."""
    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    _onboarding_result(cfg)
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "hr", errors)
        try:
            page.wait_for_selector("#cohort-people td")
            page.evaluate("window.notReloaded = true")
            assert page.inner_text("#cohort-rename") == "Rename" and not page.is_visible("#cohort-name")
            page.click("#cohort-rename")
            assert page.input_value("#cohort-name") == "2026-A" and page.is_disabled("#cohort-sel")
            page.fill("#cohort-name", "   ")
            page.click("#cohort-rename-save")
            page.wait_for_function("document.querySelector('#cohort-rename-err').textContent !== ''")
            assert page.inner_text("#cohort-rename-err") == "A cohort's name cannot be empty."
            page.screenshot(path=str(shots_dir / "review-cohort-rename-en.png"))
            page.click("#lang")  # the refusal is said again in Chinese, the box stays open
            page.wait_for_function("document.querySelector('#cohort-rename-err').textContent"
                                   " === '培训班名称不能为空。'")
            assert page.inner_text("#cohort-rename-save") == "保存"
            assert page.inner_text("#cohort-rename-cancel") == "取消"
            assert page.get_attribute("#cohort-name", "aria-label") == "培训班的新名称"
            page.wait_for_function("document.querySelector('#cohort-people').textContent.includes('未通过')")
            page.screenshot(path=str(shots_dir / "review-cohort-rename-zh.png"))
            page.click("#cohort-rename-cancel")
            assert page.inner_text("#cohort-rename") == "重命名" and not page.is_visible("#cohort-rename-form")
            page.click("#cohort-rename")
            page.fill("#cohort-name", "2026年春季入职班")
            page.press("#cohort-name", "Enter")
            page.wait_for_function("document.querySelector('#cohort-sel option').textContent"
                                   " === '2026年春季入职班（1 人）'")
            assert not page.is_visible("#cohort-rename-form") and page.is_visible("#cohort-rename")
            assert page.inner_text("#cohort-rename-err") == "" and not page.is_disabled("#cohort-sel")
            assert "李雷" in page.inner_text("#cohort-people")  # the table is there, of the same cohort
            assert page.evaluate("window.notReloaded") is True
            href = page.get_attribute("#cohort-csv", "href")
            csv = page.context.request.get(url + href.lstrip("/"))
            assert "%E6%98%A5%E5%AD%A3" in csv.headers["content-disposition"]  # 春季: the new name
            page.screenshot(path=str(shots_dir / "review-cohort-renamed-zh.png"))
            # A trainer sees the new name and no control to change it.
            page.click("#signout")
            page.wait_for_selector("#login", state="visible")
            _sign_in(page, "trainer1")
            page.wait_for_selector("#cohort-people td")
            assert page.inner_text("#cohort-sel option") == "2026年春季入职班（1 人）"
            assert not page.is_visible("#cohort-rename") and not page.is_visible("#cohort-rename-form")
        finally:
            browser.close()
    assert not errors, errors


def test_hr_disables_a_login_on_the_review_page_and_it_is_signed_out(tmp_path: Path, shots_dir: Path) -> None:
    """HR's "Logins": each login with its role and state; "Disable" signs it out at once
    (the trainee's open page loses its sign-in) and its sign-in is refused with why;
    "Enable" lets it back. HR's own login cannot be disabled."""
    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    _seed(cfg)
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "hr", errors)
        trainee = browser.new_page(viewport={"width": 1100, "height": 900}, locale="en-US")
        trainee.on("pageerror", lambda e: errors.append(f"trainee pageerror: {e}"))
        try:
            trainee.goto(url + "review/")
            _sign_in(trainee, "lilei")
            page.wait_for_selector("#logins-box:not(.hidden) #logins td")
            assert page.inner_text("#logins-box h2") == "Logins"
            # Each login with the trainee it belongs to (staff logins are nobody's record).
            rows = {r.split("\t")[0]: r.split("\t")[1:4] for r in page.locator("#logins tr:has(td)").all_inner_texts()}
            assert rows == {"hanmm": ["Han Meimei", "trainee", "Active"], "hr (you)": ["—", "HR", "Active"],
                            "lilei": ["李雷", "trainee", "Active"], "trainer1": ["—", "trainer", "Active"],
                            "trainer2": ["—", "trainer", "Active"]}, rows
            own = page.locator("#logins tr:has-text('hr (you)') button")
            assert own.inner_text() == "Disable" and own.is_disabled()  # nobody locks HR out
            assert own.get_attribute("title") == "You cannot disable your own login"
            lilei = page.locator("#logins tr:has(td:text-is('lilei'))")
            lilei.locator("button").click()
            page.wait_for_function("document.querySelector('#logins-said').textContent !== ''")
            assert page.inner_text("#logins-said") == (
                "lilei's login is disabled: signed out everywhere; their records stay.")
            assert lilei.locator("td").all_inner_texts()[1:] == ["李雷", "trainee", "Disabled", "Enable"]
            page.screenshot(path=str(shots_dir / "review-logins-en.png"), full_page=True)
            # The trainee's open page is signed out; signing in again says why it cannot.
            assert trainee.context.request.get(url + "api/auth/me").status == 401
            trainee.reload()
            trainee.fill("input[name=username]", "lilei")
            trainee.fill("input[name=password]", PASSWORDS["lilei"])
            trainee.click("#login button[type=submit]")
            trainee.wait_for_function("document.querySelector('#error').textContent !== ''")
            assert trainee.inner_text("#error").startswith("This login has been disabled")
            assert not trainee.is_visible("#main")
            trainee.fill("input[name=password]", "a-wrong-guess")  # a wrong password learns nothing
            trainee.click("#login button[type=submit]")
            trainee.wait_for_function("document.querySelector('#error').textContent === 'Wrong user name or password.'")
            page.click("#lang")
            page.wait_for_function("document.querySelector('#logins-box h2').textContent === '登录账号'")
            assert lilei.locator("td").all_inner_texts()[1:] == ["李雷", "学员", "已停用", "启用"]
            assert page.inner_text("#logins-said") == "已停用 lilei 的账号：已在所有设备上退出登录，其记录保留。"
            own_zh = page.locator("#logins tr:has-text('hr（您）') td").all_inner_texts()
            assert own_zh[1:] == ["—", "人力资源", "正常", "停用"]
            page.screenshot(path=str(shots_dir / "review-logins-zh.png"), full_page=True)
            lilei.locator("button").click()
            page.wait_for_function("document.querySelector('#logins-said').textContent.startsWith('已启用')")
            assert page.inner_text("#logins-said") == "已启用 lilei 的账号：可以重新登录。"
            assert lilei.locator("td").all_inner_texts()[1:] == ["李雷", "学员", "正常", "停用"]
            _sign_in(trainee, "lilei")  # back in
            assert not trainee.is_visible("#logins-box")  # a trainee sees no logins
        finally:
            browser.close()
    assert not errors, errors


# -- the QA walkthrough as a bank trainer: re-scoring with the other side, trainer-added
# violations in the rule table, a clip where nobody could be judged, the review's state,
# the missed-violation picker ----------------------------------------------------------------


def _stored(cfg: Any, result: Any, **session: Any) -> dict[str, int]:
    """The seeded store with one analysed session of 李雷 (``session``: its columns)."""
    from posture_coach.store import Database
    from tests.store.helpers import store_result

    ids = _seed(cfg)
    db = Database(cfg.db_url, cfg.data_dir)
    sid = store_result(db, result, person_id=ids["a"], **session)
    db.dispose()
    return {**ids, "session": sid}


def _store_cfg(tmp_path: Path) -> Any:
    from posture_coach.server.store_api import StoreConfig

    return StoreConfig(db_url=f"sqlite:///{tmp_path / 'pc.db'}", data_dir=tmp_path / "data", run_jobs=False)


def _opened(page: Any, sid: int) -> None:
    page.click(f"#session-row-{sid} button")
    page.wait_for_function("(n) => document.querySelector('#detail h3')?.textContent.endsWith('#' + n)",
                           arg=sid)


def _to_language(page: Any, lang: str) -> None:
    """Switch the page to ``lang`` (zh or en) and wait until the open session is drawn in it."""
    page.click("#lang")
    want = "上传录像评分" if lang == "zh" else "Score a recording"
    page.wait_for_function(f"document.querySelector('#upload-title').textContent === '{want}'")
    page.wait_for_function("(w) => document.querySelector('#detail h4')?.textContent !== undefined"
                           " && /[\\u4e00-\\u9fff]/.test(document.querySelector('#detail h4').textContent) === w",
                           arg=lang == "zh")


def test_a_role_play_scored_with_the_wrong_side_is_scored_again_with_the_other_one(tmp_path: Path,
                                                                                    shots_dir: Path) -> None:
    """Uploaded as "the trainee is on the right" with the trainee on the left: the customer
    was scored. Every two-person session says which side was scored and offers the other."""
    sync_api = _needs_chromium()
    from tests.store.helpers import fake_result

    cfg = _store_cfg(tmp_path)
    video = cfg.data_dir / "uploads" / "lilei" / "role.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(ROLE_PLAY.read_bytes())
    rel = str(video.resolve().relative_to(cfg.data_dir.resolve()))  # as Database.rel keeps it
    ids = _stored(cfg, fake_result(), source="role.mp4", role_play="right", media_path=rel)
    sid = ids["session"]
    errors: list[str] = []
    bodies: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            page.on("request", lambda r: bodies.append(r.post_data or "") if r.url.endswith("/reanalyse") else None)
            _opened(page, sid)
            line = "#detail .role-play-side"
            assert page.inner_text(line) == ("Two-person role-play: the trainee is on the right. "
                                             "Trainee on the other side? Score again with the trainee on the left")
            page.screenshot(path=str(shots_dir / "review-other-side-en.png"), full_page=True)
            _to_language(page, "zh")
            assert page.inner_text(line) == "两人角色扮演：学员在画面右侧。学员其实在左侧？ 重新评分"
            page.dblclick(f"{line} button")  # a double click: one new session all the same
            page.wait_for_function("document.querySelector('#detail .rescore-said')?.textContent"
                                   ".includes('已排队为新的评分记录 #2')")
            assert bodies and all(b == '{"role_play":"left"}' for b in bodies), bodies
            page.wait_for_function("document.querySelectorAll('#sessions tr:has(td)').length === 2")
            assert page.is_disabled(f"{line} button")
            assert "已由 #2 取代" in page.inner_text(f"#session-row-{sid}")
            page.screenshot(path=str(shots_dir / "review-other-side-zh.png"), full_page=True)
            # The new session is scored with the trainee on the left (queued here: no runner).
            detail = page.context.request.get(url + "api/sessions/2").json()
            assert detail["session"]["role_play"] == "left"
        finally:
            browser.close()
    # A trainee reads which side was scored; scoring again is a trainer's call.
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "lilei", errors)
        try:
            _opened(page, sid)
            assert page.inner_text("#detail .role-play-side") == "Two-person role-play: the trainee is on the right."
            assert page.locator("#detail .role-play-side button").count() == 0
        finally:
            browser.close()
    assert not errors, errors


def _blind_result() -> Any:
    """A role-play filmed side-on: the standing rules judged but crossed arms (needs the
    front) and the smile (the face not read) not, the sitting rules not applying."""
    from posture_coach.store.repo import AnalysisResult, FindingOutcome, RuleOutcome

    rules = [
        RuleOutcome("standing.upright", 1.0, 1.0, 9.7, 0.0, 0.0, None, {}, 145),
        RuleOutcome("standing.arms_crossed", None, 1.0, 0.0, 0.0, 1.0, "front_view_needed",
                    {"front_view_needed": 1.0}, 0),
        RuleOutcome("face.smile", None, 1.0, 0.0, 0.0, 1.0, "face_not_read", {"face_not_read": 1.0}, 0),
        RuleOutcome("distance.customer", 0.9, 1.0, 9.7, 0.97, 0.0, None, {}, 145),
        RuleOutcome("sitting.upright", None, 1.0, 0.0, 0.0, 0.0, "not_sitting", {"not_sitting": 1.0}, 0),
    ]
    findings = [FindingOutcome("distance.customer", "warn", 0, 1300, 0.83, 500, 20, 0.97)]
    return AnalysisResult(frames=146, duration_s=9.7, overall_score=(1.0 + 0.9) / 2, unknown_share=0.5,
                          summary={"frames": 146}, rules=rules, findings=findings, events=[])


def test_violations_a_trainer_added_on_rules_the_coach_could_not_judge_show_in_the_rule_table(
        tmp_path: Path, shots_dir: Path) -> None:
    """"Do not cross the arms" at 6.5 s and "Smile" for the whole recording, both rules the
    coach could not judge: the rule table gives their reviewed scores, so the overall
    score's drop is explained, not "— —" beside it."""
    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    ids = _stored(cfg, _blind_result(), source="side.mp4", role_play="left")
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            _opened(page, ids["session"])
            # Whose session, of what, when (the number last); the finding's measure where it was clearest.
            assert re.fullmatch(rf"李雷 · side\.mp4 · \d{{4}}-\d\d-\d\d \d\d:\d\d #{ids['session']}",
                                page.inner_text("#detail h3")), page.inner_text("#detail h3")
            assert "0.0–1.3 s · at its clearest: 83 cm" in page.inner_text("#detail .finding")
            assert page.inner_text("#detail .missed h4") == "Added by a trainer (not flagged by the coach)"
            cells = ("(rid) => [...document.querySelectorAll(`#rule-table tr[data-rule='${rid}'] td`)]"
                     ".map(c => c.textContent)")
            assert page.evaluate(cells, "face.smile")[1:3] == ["—", "—"]
            for n, (rid, at) in enumerate((("standing.arms_crossed", "6.5"), ("face.smile", "")), 1):
                page.select_option("#missed-rule", rid)
                page.fill("#missed-at", at)
                page.click("#missed-add")
                page.wait_for_function("(n) => document.querySelectorAll('.missed-entry').length === n", arg=n)
            detail = page.context.request.get(url + f"api/sessions/{ids['session']}").json()
            reviewed = {r["rule_id"]: r["score_reviewed"] for r in detail["rules"]}
            assert reviewed["face.smile"] == 0.0 and reviewed["standing.arms_crossed"] is not None
            arms = str(round(100 * reviewed["standing.arms_crossed"]))
            # Scored by the trainer: said so, not "not assessable" beside the trainer's score.
            assert page.evaluate(cells, "face.smile") == [
                "Smile", "0 (added by trainer)", "—", "Judged by a trainer (the coach could not assess it)"]
            assert page.evaluate(cells, "standing.arms_crossed")[1] == f"{arms} (added by trainer)"
            assert page.inner_text("#score-line").startswith("Score 95 → ")
            page.screenshot(path=str(shots_dir / "review-added-rules-en.png"), full_page=True)
            _to_language(page, "zh")
            assert page.evaluate(cells, "face.smile")[1:] == ["0（培训师补充）", "—", "由培训师判定（系统无法评估）"]
            assert page.evaluate(cells, "standing.arms_crossed")[1] == f"{arms}（培训师补充）"
            assert page.inner_text("#detail .missed h4") == "培训师补充的问题（系统未检出）"
            entry = page.locator(".missed-entry").all_inner_texts()[0]
            assert entry.startswith("不双手抱胸 · 6.5 秒（复核人：trainer1）"), entry
            assert "0.0–1.3 秒 · 最明显时 83 厘米" in page.inner_text("#detail .finding")
            assert re.fullmatch(rf"李雷 · side\.mp4 · \d{{4}}-\d\d-\d\d \d\d:\d\d #{ids['session']}",
                                page.inner_text("#detail h3"))
            page.screenshot(path=str(shots_dir / "review-added-rules-zh.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def _nobody_result() -> Any:
    """A black clip: nobody in view the whole time, no rule judged, no score."""
    from posture_coach.store.repo import AnalysisResult, RuleOutcome

    rules = [RuleOutcome(rid, None, 1.0, 0.0, 0.0, 1.0, "no_person", {"no_person": 1.0}, 0)
             for rid in ("standing.upright", "face.smile", "handshake.lean", "distance.customer")]
    summary = {"frames": 90, "top_reasons": [{"reason": "no_person", "share": 1.0}]}
    return AnalysisResult(frames=90, duration_s=2.9, overall_score=None, unknown_share=1.0, summary=summary,
                          rules=rules, findings=[], events=[])


def test_an_analysis_where_nobody_could_be_judged_says_so_and_to_do_it_again(tmp_path: Path,
                                                                            shots_dir: Path) -> None:
    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    ids = _stored(cfg, _nobody_result(), source="black.mp4")
    sid = ids["session"]
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            page.wait_for_selector(f"#session-row-{sid}")
            row = page.locator(f"#session-row-{sid} td").all_inner_texts()
            assert row[3:6] == ["Not assessable: nobody could be judged (do it again)", "—", "100%"], row
            _opened(page, sid)
            assert page.inner_text("#score-line") == (
                "Not assessable: nobody could be judged (do it again) · time not assessable 100%")
            assert page.inner_text("#unassessable") == "100% of the time could not be assessed: no person in view."
            assert "covers only" not in page.inner_text("#detail")
            assert "No findings" not in page.inner_text("#detail")
            page.screenshot(path=str(shots_dir / "review-nobody-en.png"), full_page=True)
            _to_language(page, "zh")
            nobody = "无法评估：画面中没有可判断的人（需重做）"
            assert page.locator(f"#session-row-{sid} td").all_inner_texts()[3] == nobody
            assert page.inner_text("#score-line") == "无法评估：画面中没有可判断的人（需重做） · 无法评估的时间 100%"
            assert page.inner_text("#unassessable") == "100% 的时间无法评估：画面中没有检测到人。"
            assert "得分只反映" not in page.inner_text("#detail")
            page.screenshot(path=str(shots_dir / "review-nobody-zh.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def test_the_review_decision_shows_pressed_and_a_disagreed_finding_is_not_counted(tmp_path: Path,
                                                                                  shots_dir: Path) -> None:
    sync_api = _needs_chromium()
    from tests.store.helpers import fake_result

    cfg = _store_cfg(tmp_path)
    ids = _stored(cfg, fake_result(penalty=2.0), source="practice.mp4")
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            _opened(page, ids["session"])
            card = "#detail .finding"
            pressed = f"() => [...document.querySelectorAll('{card} button')].map(b => b.getAttribute('aria-pressed'))"
            assert page.evaluate(pressed) == ["false", "false"]  # not reviewed yet
            page.click(f"{card} button:text('Disagree')")
            page.wait_for_function(f"({pressed})().join() === 'false,true'")
            assert page.inner_text(f"{card} .not-counted") == "Not counted (trainer disagrees)"
            assert page.get_attribute(f"{card} .badge", "class") == "badge fail off"
            grey = page.eval_on_selector(f"{card} .badge", "b => getComputedStyle(b).backgroundColor")
            assert grey == "rgb(189, 189, 189)", grey
            colours = page.eval_on_selector_all(f"{card} button",
                                                "bs => bs.map(b => getComputedStyle(b).backgroundColor)")
            assert colours[0] != colours[1], colours  # the decision made looks pressed
            page.screenshot(path=str(shots_dir / "review-disagreed-en.png"), full_page=True)
            _to_language(page, "zh")
            page.wait_for_function(f"({pressed})().join() === 'false,true'")
            assert page.inner_text(f"{card} .not-counted") == "不计分（培训师不同意）"
            page.screenshot(path=str(shots_dir / "review-disagreed-zh.png"), full_page=True)
            page.click(f"{card} button:text('同意') >> nth=0")
            page.wait_for_function(f"({pressed})().join() === 'true,false'")
            assert page.locator(f"{card} .not-counted").count() == 0
            assert page.get_attribute(f"{card} .badge", "class") == "badge fail"
            page.screenshot(path=str(shots_dir / "review-agreed-zh.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def _sitting_result() -> Any:
    """A seated practice: the sitting rules judged, the standing ones not applying."""
    from posture_coach.store.repo import AnalysisResult, RuleOutcome

    rules = [RuleOutcome("sitting.upright", 1.0, 1.0, 8.0, 0.0, 0.0, None, {}, 120),
             RuleOutcome("face.smile", 1.0, 1.0, 8.0, 0.0, 0.0, None, {}, 120),
             RuleOutcome("standing.upright", None, 1.0, 0.0, 0.0, 0.0, "not_standing", {"not_standing": 1.0}, 0),
             RuleOutcome("gesture.calm_hands", 1.0, 1.0, 8.0, 0.0, 0.0, None, {}, 120)]
    return AnalysisResult(frames=120, duration_s=8.0, overall_score=1.0, unknown_share=0.0, summary={"frames": 120},
                          rules=rules, findings=[], events=[])


def _picker_shot(page: Any, path: Path) -> None:
    """A picture of the missed-violation form with the picker's list open (drawn as a list
    box: a native drop-down's list is not in a screenshot)."""
    page.eval_on_selector("#missed-rule", "s => { s.size = s.options.length + s.querySelectorAll('optgroup').length; }")
    page.locator(".missed").screenshot(path=str(path))
    page.eval_on_selector("#missed-rule", "s => { s.size = 0; }")


def test_the_missed_violation_picker_groups_rules_by_posture_and_starts_empty(tmp_path: Path,
                                                                              shots_dir: Path) -> None:
    sync_api = _needs_chromium()
    from posture_coach.store import Database
    from tests.store.helpers import store_result
    from tests.store.test_review_api import oblique_result

    cfg = _store_cfg(tmp_path)
    ids = _stored(cfg, oblique_result(), source="standing.mp4")
    db = Database(cfg.db_url, cfg.data_dir)
    seated = store_result(db, _sitting_result(), source="seated.mp4", person_id=ids["a"])
    db.dispose()
    groups = "() => [...document.querySelectorAll('#missed-rule optgroup')].map(g => g.label)"
    values = "() => [...document.querySelectorAll('#missed-rule option')].map(o => o.value)"
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            _opened(page, ids["session"])  # standing: the standing rules first, the sitting ones last
            assert page.evaluate(groups) == ["Standing", "Face and expression",
                                             "Handshake, handover, greeting and gestures",
                                             "Distance to the customer", "Sitting"]
            assert page.evaluate(values) == ["", "standing.upright", "standing.hands_front", "face.smile",
                                             "handshake.lean", "distance.customer", "sitting.upright"]
            assert page.input_value("#missed-rule") == ""
            assert page.eval_on_selector("#missed-rule", "s => s.options[s.selectedIndex].text") == "Choose a rule…"
            assert page.is_disabled("#missed-add")  # nothing is added by accident
            page.select_option("#missed-rule", "face.smile")
            assert not page.is_disabled("#missed-add")
            page.select_option("#missed-rule", "")
            assert page.is_disabled("#missed-add")
            _picker_shot(page, shots_dir / "review-picker-en.png")
            _to_language(page, "zh")
            assert page.evaluate(groups) == ["站姿", "面部与表情", "握手、递物、问候与手势", "与客户的距离", "坐姿"]
            assert page.eval_on_selector("#missed-rule", "s => s.options[0].text") == "请选择规则…"
            _opened(page, seated)  # sitting: the other way round
            assert page.evaluate(groups) == ["坐姿", "面部与表情", "握手、递物、问候与手势", "站姿"]
            assert page.evaluate(values)[:2] == ["", "sitting.upright"]
            _picker_shot(page, shots_dir / "review-picker-zh.png")
            # Chosen, it is added as before.
            page.select_option("#missed-rule", "sitting.upright")
            page.fill("#missed-at", "3")
            page.click("#missed-add")
            page.wait_for_selector(".missed-entry")
            assert page.inner_text(".missed-entry").startswith("上身挺直，不后仰不瘫坐 · 3.0 秒")
        finally:
            browser.close()
    assert not errors, errors


def test_a_role_play_with_nobody_else_in_it_is_scored_again_as_practice_alone(tmp_path: Path) -> None:
    """The analysis noticed no second person in a clip uploaded as a role-play: the note says
    so, and the trainer scores it again as practice alone (role_play "none")."""
    import dataclasses

    sync_api = _needs_chromium()
    from tests.store.helpers import fake_result

    cfg = _store_cfg(tmp_path)
    video = cfg.data_dir / "uploads" / "lilei" / "alone.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(ROLE_PLAY.read_bytes())
    rel = str(video.resolve().relative_to(cfg.data_dir.resolve()))
    result = fake_result()
    notice = {"code": "one_person_in_role_play", "checks": 93, "found": 0}
    result = dataclasses.replace(result, summary={**result.summary, "notices": [notice]})
    sid = _stored(cfg, result, source="alone.mp4", role_play="left", media_path=rel)["session"]
    errors: list[str] = []
    bodies: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            page.on("request", lambda r: bodies.append(r.post_data or "") if r.url.endswith("/reanalyse") else None)
            _opened(page, sid)
            assert "second person was seen on only 0 of 93 frames" in page.inner_text("#detail")
            assert page.locator("#detail .role-play-side").count() == 0  # not "the other side" beside it
            page.click(f"#rescore-alone-{sid}")
            page.wait_for_function("document.querySelectorAll('#sessions tr:has(td)').length === 2")
            assert bodies == ['{"role_play":"none"}'], bodies
            assert page.context.request.get(url + "api/sessions/2").json()["session"]["role_play"] is None
        finally:
            browser.close()
    assert not errors, errors


def test_the_session_shows_the_timeline_with_the_actions_and_what_was_measured(tmp_path: Path,
                                                                              shots_dir: Path) -> None:
    """The page showed events only as "1 event" per rule: a trainer could not see the
    handshake's lean or hold. The report's timeline and its table of actions are on the page,
    in the page's language."""
    sync_api = _needs_chromium()
    from tests.store.helpers import fake_result

    cfg = _store_cfg(tmp_path)
    sid = _stored(cfg, fake_result(), source="role.mp4")["session"]
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in_trainer(p, url + "review/", errors)
        try:
            _opened(page, sid)
            page.wait_for_selector("#timeline svg.tl-timeline", timeout=10_000)
            assert page.locator("#timeline rect.tl-finding").count() >= 1
            assert page.locator("#detail .finding").count() == len(page.locator("#detail div.finding").all())
            assert "Handshake" in page.inner_text("#timeline table.tl-events")
            _to_language(page, "zh")
            page.wait_for_function("document.querySelector('#timeline table.tl-events')?.textContent.includes('握手')")
            page.screenshot(path=str(shots_dir / "review-timeline-zh.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def test_people_of_one_name_are_told_apart_and_a_login_disabled_under_the_page_is_sent_to_sign_in(
        tmp_path: Path, shots_dir: Path) -> None:
    """From a tester's round: two 张小红 were two identical choices in the upload form and the
    consent list (a video stored for the wrong one); a 200-letter name stretched the page to
    2,920 px; a trainee disabled by HR while their page was open was told "sign in again"
    beside a page that still said who was signed in, with no form to do it."""
    from posture_coach.store import Database, repo

    sync_api = _needs_chromium()
    cfg = _store_cfg(tmp_path)
    # Its video was filmed turned on its side: the sessions list marks the score too.
    sideways = dataclasses.replace(_blind_result(), summary={
        "frames": 146, "notices": [{"code": "video_sideways", "checks": 40, "found": 38}]})
    ids = _stored(cfg, sideways)
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:
        twin_a = repo.create_person(s, "张小红", consent_media=True).id
        twin_b = repo.create_person(s, "张小红", consent_media=True).id
        repo.create_person(s, "a" * 200, consent_media=True)
        for twin in (twin_a, twin_b):  # HR's cohort table tells them apart too
            repo.add_member(s, ids["c1"], twin)
    db.dispose()
    errors: list[str] = []
    with serving(_store_app(cfg), _free_port()) as url, sync_api.sync_playwright() as p:
        browser, page = _signed_in(p, url, "hr", errors)
        trainee = browser.new_page(viewport={"width": 1100, "height": 900}, locale="en-US")
        try:
            page.wait_for_selector("#consent-box:not(.hidden) td")
            options = page.locator("#up-person option").all_inner_texts()
            assert f"张小红 (#{twin_a})" in options and f"张小红 (#{twin_b})" in options, options
            assert "李雷" in options  # a name nobody shares stays as it is
            assert page.inner_text(f"#consent-row-{twin_b} td") == f"张小红 (#{twin_b})"
            page.wait_for_selector("#cohort-people td")
            cohort = page.locator("#cohort-people tr:has(td) td:first-child").all_inner_texts()
            assert f"张小红 (#{twin_a})" in cohort and f"张小红 (#{twin_b})" in cohort, cohort
            mark = page.locator(f"#session-row-{ids['session']} .noticed")
            assert mark.inner_text().strip() == "⚠" and "Rotate the video upright" in mark.get_attribute("title")
            width = page.evaluate("document.documentElement.scrollWidth")
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter((e) => e.getBoundingClientRect().right > 1100)
                .map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)""")
            assert width <= 1100, (width, wide)  # the long name wraps; the page keeps its width
            trainee.goto(url + "review/")
            _sign_in(trainee, "lilei")
            trainee.wait_for_selector(f"#session-row-{ids['session']} button")
            # HR disables the trainee's login while their page is open.
            token = page.context.request.get(url + "api/auth/me").json()["csrf_token"]
            r = page.context.request.post(url + "api/users/lilei/disable", headers={"X-CSRF-Token": token})
            assert r.status == 200, r.text()
            trainee.click(f"#session-row-{ids['session']} button")
            trainee.wait_for_selector("#login:not(.hidden)")
            assert "HR disabled this login" in trainee.inner_text("#error")
            assert not trainee.is_visible("#main") and not trainee.is_visible("#signout")
            trainee.screenshot(path=str(shots_dir / "review-disabled-under-page.png"))
        finally:
            browser.close()
    assert not [e for e in errors if "401" not in e], errors
