"""The live page after a QA walkthrough: the drill summary (why a step
did not pass, the drill's own rules first, "Try again", the smile-timing label), the first
visit's hint, the skeleton's colour and the quiet sign-in probe.

Same set-up as test_browser.py (Debian's Chromium, a fake camera from a .y4m clip)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.server.test_browser import (  # noqa: F401  (fixtures: server_url, store_server, shots)
    CHROMIUM,
    SAMPLES,
    _fake_camera_args,
    _needs_chromium,
    _open_live_page,
    _open_practice,
    server_url,
    shots,
    store_server,
    write_clip_y4m,
    write_y4m,
)

pytestmark = [pytest.mark.browser, pytest.mark.models]


def _tamper_drill_result(result: dict[str, Any]) -> dict[str, Any]:
    """The smile drill stopped after a few seconds, as if its timed step had been judged:
    smiled at 1.4 s, held 0.8 s (short: warn), and the teeth rule failed."""
    result["done"] = True
    result["outcome"] = "fail"
    step = next(st for st in result["steps"] if st.get("timing"))
    step["outcome"] = "fail"
    step["rules"]["face.smile"] = {"outcome": "pass", "counts": {"pass": 40}, "reason": None}
    step["rules"]["face.smile_teeth"] = {"outcome": "fail", "counts": {"fail": 40}, "reason": None}
    step["timing"].update({"outcome": "warn", "onset_s": 1.4, "held_s": 0.8})
    return result


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_drill_summary_says_why_folds_other_rules_labels_the_timing_and_tries_again(
    server_url: str, tmp_path: Path, shots: Path, lang: str  # noqa: F811
) -> None:
    """The smile drill's summary: a "not passed" says which step and rule; its table lists
    the drill's rules, every other rule is folded under "Other rules (N)"; the step table's
    timing note reads "Smile timing", not the smile rule's own name; "Try again" starts the
    same drill again. (The drill result is edited on its way to the page: a short clip
    cannot make the timed step judge reliably.)"""
    sync_api = _needs_chromium()
    clip = write_clip_y4m(SAMPLES / "smile_six_teeth.mp4", tmp_path / "smile.y4m", 0, 83, seconds=6.0)

    def proxy(route: Any) -> None:
        server = route.connect_to_server()

        def to_page(message: Any) -> None:
            if isinstance(message, str) and '"drill_result"' in message:
                msg = json.loads(message)
                if msg["result"]["id"] == "smile" and not msg["result"]["done"]:
                    message = json.dumps({**msg, "result": _tamper_drill_result(msg["result"])})
            elif isinstance(message, str) and '"type": "summary"' in message.replace('"type":"', '"type": "'):
                # A rule outside the drill that failed: it stays in the main table, marked.
                msg = json.loads(message)
                rules = (msg.get("summary") or {}).get("rules")
                if isinstance(rules, dict):
                    rules["standing.shoulders_level"] = {"score": 0.38, "status": "fail", "assessable_s": 6.0}
                    message = json.dumps(msg)
            route.send(message)

        server.on_message(to_page)

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=_fake_camera_args(clip), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860},
                                    locale="en-US" if lang == "en" else "zh-CN")
            page.route_web_socket("**/ws/live", proxy)
            page.goto(server_url)
            page.wait_for_function("window.__coachStats && window.__coachStats.processed > 10",
                                   timeout=30_000)
            page.select_option("#lang", lang)
            page.select_option("#drill", "smile")
            page.locator("#drill-start").click()
            page.wait_for_selector("#drillbox:not([hidden])", timeout=10_000)
            page.wait_for_timeout(2500)
            page.locator("#stop").click()
            page.wait_for_selector("#summary-dialog[open] .drill-outcome", timeout=10_000)
            why = page.inner_text(".drill-why")
            body = page.inner_text("#summary-body")
            # The drill's rules in the table, the rest folded and closed.
            main_rows = page.eval_on_selector_all(
                "#summary-body > table.result-table:first-of-type tr",
                "rows => rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent])")
            outside_mark = "(outside this drill)" if lang == "en" else "（本练习外）"
            main_rules = [name for name, _ in main_rows if not name.endswith(outside_mark)]
            outside = [(name, cell) for name, cell in main_rows if name.endswith(outside_mark)]
            folded = page.inner_text("details.other-rules")
            other = page.locator("details.other-rules")
            assert other.count() == 1 and other.get_attribute("open") is None
            other_label = page.inner_text("details.other-rules > summary")
            page.screenshot(path=str(shots / f"qa-drill-summary-{lang}.png"))
            steps = page.inner_text("#summary-body")
            assert page.is_visible("#summary-again")
            page.locator("#summary-again").click()
            page.wait_for_selector("#drillbox:not([hidden])", timeout=10_000)
            restarted = page.inner_text("#drill-step")
            assert not page.evaluate("document.getElementById('summary-dialog').open")
        finally:
            browser.close()
    if lang == "en":
        assert "not passed: Smile showing at most six upper teeth" in why, why
        assert len(main_rules) == 3 and "Smile" in main_rules, main_rules
        assert other_label.startswith("Other rules ("), other_label
        assert "Smile timing: started at 1.4 s" in steps and "Smile: started at" not in steps, steps
        assert "fails the drill whatever the score" in steps, steps
        assert restarted.startswith("Step 1/"), restarted
    else:
        assert "微笑露齿不超过六颗未通过" in why, why
        assert len(main_rules) == 3 and "面带微笑" in main_rules, main_rules
        assert other_label.startswith("其他规则（"), other_label
        assert "微笑时机：1.4 秒开始" in steps and "面带微笑：1.4 秒开始" not in steps, steps
        assert "总得分：" in steps and "练习时长：" in steps, steps  # full-width colons in Chinese
        assert "得分反映做到的时间比例" in steps, steps  # a failed drill says why a 9x score still fails
        assert restarted.startswith("步骤 1/"), restarted
    assert body.index(why.splitlines()[0]) < body.index("Overall score" if lang == "en" else "总得分")
    # The failing rule outside the drill: in the main table, marked, with its status word.
    assert len(outside) == 1, main_rows
    assert outside[0][1] == ("Fail · 38" if lang == "en" else "未通过 · 38"), outside
    assert outside[0][0].split("（")[0].split(" (")[0] not in folded.split("\n", 1)[-1], folded
    # Every score in the table carries its status word ("通过 · 100", not a bare number).
    assert all(not cell.strip().isdigit() for _, cell in main_rows), main_rows


def test_a_first_visit_shows_three_steps_once_and_folds_the_other_postures_rules(
    server_url: str, tmp_path: Path, shots: Path  # noqa: F811
) -> None:
    """A first visit: the three-step hint (rule pack or drill, calibrate, start) in the
    page's words; "知道了" hides it for good (localStorage). With "Detect automatically"
    and a standing person, the seated rules are one line, not a dozen grey cards."""
    sync_api = _needs_chromium()
    clip = write_clip_y4m(SAMPLES / "neutral_vs_arms_crossed.mp4", tmp_path / "neutral.y4m", 0, 25)
    with sync_api.sync_playwright() as p:
        browser, page = _open_practice(p, clip, server_url)
        try:
            assert page.is_visible("#first-hint")
            steps = page.locator("#first-hint li").all_inner_texts()
            assert len(steps) == 3, steps
            assert "“检查项目”" in steps[0] and "“站姿”" in steps[0] and "“练习项目”" in steps[0], steps
            assert "“个人校准”" in steps[1] and "“开始练习”" in steps[2], steps
            page.wait_for_selector("#cards .off-posture", timeout=20_000)
            line = page.inner_text("#cards .off-posture")
            cards = page.inner_text("#cards")
            # Before any practice: a preview, not scored; grooming cards say where they are
            # judged, not "等待画面" beside a good picture.
            preview = page.inner_text("#cards .cards-preview")
            groom = page.locator('#cards li[data-rule^="grooming."]')
            groom_badges = groom.locator(".badge").all_inner_texts()
            groom_reasons = groom.locator(".reason").all_inner_texts()
            page.screenshot(path=str(shots / "qa-first-visit-zh.png"))
            page.select_option("#lang", "en")
            steps_en = page.locator("#first-hint li").all_inner_texts()
            line_en = page.inner_text("#cards .off-posture")
            page.screenshot(path=str(shots / "qa-first-visit-en.png"))
            page.locator("#first-hint-close").click()
            assert page.is_hidden("#first-hint")
            page.reload()
            page.wait_for_function("window.__coachStats && window.__coachStats.processed > 5", timeout=30_000)
            hint_after_reload = page.is_visible("#first-hint")
        finally:
            browser.close()
    assert line.endswith("条规则不适用于当前姿势") and int(line.split(" ")[0]) >= 3, line
    assert "当前不是坐姿" not in cards, cards
    assert preview.startswith("预览（未计分）"), preview
    assert groom_badges and "等待画面" not in groom_badges, groom_badges
    assert groom_reasons and all(r == "在仪容检查步骤中判断" for r in groom_reasons), groom_reasons
    assert "“Rule pack”" in steps_en[0] and "“Sitting”" in steps_en[0], steps_en
    assert line_en.endswith("rules not for this posture"), line_en
    assert not hint_after_reload


AMBER = (0xF2, 0xA9, 0x00)
GREEN = (0x2F, 0xBF, 0x5B)


def test_a_recommended_rule_warning_does_not_tint_the_skeleton(
    server_url: str, tmp_path: Path, shots: Path  # noqa: F811
) -> None:
    """Standing with the hands hanging: "hands clasped in front" (recommended) warns on its
    card, but the skeleton is coloured by the required rules (all passing): green, no amber."""
    sync_api = _needs_chromium()
    clip = write_clip_y4m(SAMPLES / "neutral_vs_arms_crossed.mp4", tmp_path / "neutral.y4m", 0, 25)
    probe = """([amber, green]) => {
        const cards = [...document.querySelectorAll('#cards li[data-rule]')];
        const status = (li) => ['fail', 'warn', 'pass', 'unknown'].find((s) => li.classList.contains(s));
        const rec = cards.find((li) => li.dataset.rule === 'standing.hands_front');
        const requiredBad = cards.filter((li) => li.dataset.rule !== 'standing.hands_front'
            && !['face.smile', 'face.nod', 'greeting.bow'].includes(li.dataset.rule)
            && ['warn', 'fail'].includes(status(li))).map((li) => li.dataset.rule);
        const c = document.getElementById('overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const near = (i, [r, g, b]) => Math.abs(d[i] - r) < 12 && Math.abs(d[i + 1] - g) < 12
            && Math.abs(d[i + 2] - b) < 12;
        let a = 0, gr = 0;
        for (let i = 0; i < d.length; i += 4) { if (near(i, amber)) a++; else if (near(i, green)) gr++; }
        return { rec: rec ? status(rec) : null, requiredBad, amber: a, green: gr };
    }"""
    with sync_api.sync_playwright() as p:
        browser, page = _open_live_page(sync_api, p, clip, server_url)
        try:
            seen = None
            for _ in range(60):  # up to ~15 s for the stance to settle
                seen = page.evaluate(probe, [AMBER, GREEN])
                if seen["rec"] == "warn" and not seen["requiredBad"] and seen["green"] > 50:
                    break
                page.wait_for_timeout(250)
            page.screenshot(path=str(shots / "qa-skeleton-recommended-warn-en.png"))
        finally:
            browser.close()
    assert seen and seen["rec"] == "warn" and not seen["requiredBad"], seen
    assert seen["amber"] < 20, seen


def test_nobody_signed_in_loads_the_page_without_a_console_error(
    store_server: tuple[str, Any, int], person_photo: Path, tmp_path: Path  # noqa: F811
) -> None:
    """GET /api/auth/me answers 401 to nobody, which Chromium logged as an error on every
    load: the page asks GET /api/auth/status instead, 200 either way, and says "未登录 · 登录"."""
    sync_api = _needs_chromium()
    url, _db, _person_id = store_server
    clip = write_y4m(tmp_path / "person.y4m", cv2.imread(str(person_photo)))
    errors: list[str] = []
    asked: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=_fake_camera_args(clip), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: asked.append(r.url) if "/api/auth/" in r.url else None)
            page.goto(url)
            page.wait_for_function("window.__coachStats && window.__coachStats.processed > 10", timeout=30_000)
            page.wait_for_selector("#who:not([hidden])", timeout=10_000)
            who = page.inner_text("#who")
            page.evaluate("window.dispatchEvent(new Event('focus'))")
            page.wait_for_timeout(500)
        finally:
            browser.close()
    assert who == "未登录 · 登录", who
    assert asked and all(u.endswith("/api/auth/status") for u in asked), asked
    assert not errors, errors


def test_a_self_check_that_ran_to_its_end_with_steps_not_seen_says_why_and_a_locked_sign_in_says_so(
    server_url: str, tmp_path: Path, shots: Path  # noqa: F811
) -> None:
    """The self-check ran to its end but a step showed nothing: the headline says which
    ("有步骤没有检测到", not "提前结束"), and so does the saved result's line; a sign-in
    the server refuses (429, locked) shows the server's own reason, not "no record store".
    (The drill result and the sign-in/save answers are edited on their way to the page: a
    short clip cannot show a whole scenario, and this server has no record store.)"""
    sync_api = _needs_chromium()
    clip = write_clip_y4m(SAMPLES / "neutral_vs_arms_crossed.mp4", tmp_path / "neutral.y4m", 0, 25)
    handshake = {"id": "handshake", "title_zh": "握手", "title_en": "Handshake"}

    def proxy(route: Any) -> None:
        server = route.connect_to_server()

        def to_page(message: Any) -> None:
            if isinstance(message, str):
                msg = json.loads(message)
                if msg.get("type") == "hello":
                    msg["save_token"] = msg.get("save_token") or "token"
                elif msg.get("type") == "drill_result" and msg["result"]["id"] == "onboarding":
                    msg["result"].update(done=True, outcome="incomplete", steps_not_seen=[handshake])
                elif msg.get("type") == "summary":
                    msg["can_save"] = True
                message = json.dumps(msg)
            route.send(message)

        server.on_message(to_page)

    signed = {"in": False}
    user = {"id": 1, "username": "xiaoming", "role": "trainee", "person_id": 1, "person_name": "王小明"}

    def status(route: Any) -> None:
        route.fulfill(json={"user": user, "csrf_token": "c"} if signed["in"] else {"user": None})

    def login(route: Any) -> None:
        if not signed.get("unlocked"):
            route.fulfill(status=429, json={"detail": "too many wrong sign-ins", "reason": "too_many_logins",
                                            "reason_text": {"zh": "密码错误次数过多，该账号暂时锁定，请几分钟后再试。",
                                                            "en": "Too many wrong passwords."}})
            return
        signed["in"] = True
        route.fulfill(json={"user": user, "csrf_token": "c"})

    def save(route: Any) -> None:
        route.fulfill(json={"session_id": 7, "scenario": "onboarding", "self_check": [{
            "cohort": "2025年秋季班", "pass_score": 0.8, "result": "incomplete", "not_passed": [],
            "missing_steps": [handshake], "counted": True}]})

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=_fake_camera_args(clip), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            page.route_web_socket("**/ws/live", proxy)
            page.route("**/api/auth/status", status)
            page.route("**/api/auth/login", login)
            page.route("**/api/live/*/save", save)
            page.goto(server_url)
            page.wait_for_function("window.__coachStats && window.__coachStats.processed > 10",
                                   timeout=30_000)
            page.select_option("#drill", "onboarding")
            page.locator("#drill-start").click()
            page.wait_for_selector("#drillbox:not([hidden])", timeout=10_000)
            page.wait_for_timeout(1500)
            page.locator("#stop").click()  # its result arrives edited: ran to the end, a step not seen
            page.wait_for_selector("#summary-dialog[open] .drill-outcome", timeout=15_000)
            headline = page.inner_text(".drill-outcome")
            why = page.inner_text(".drill-why")
            body = page.inner_text("#summary-body")
            page.locator("#save-run").click()
            page.wait_for_selector(".save-login input[name=save_user]", timeout=10_000)
            page.fill(".save-login input[name=save_user]", "xiaoming")
            page.fill(".save-login input[name=save_password]", "pw")
            page.locator(".save-login button").click()
            page.wait_for_function("document.querySelector('.save-status').textContent.includes('锁定')",
                                   timeout=10_000)
            locked = page.inner_text(".save-status")
            signed["unlocked"] = True
            page.fill(".save-login input[name=save_password]", "pw")
            page.locator(".save-login button").click()
            page.wait_for_selector(".save-status .self-check", timeout=10_000)
            line = page.inner_text(".save-status .self-check")
            page.locator(".save-status").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "qa-self-check-not-seen-zh.png"))
        finally:
            browser.close()
    assert headline.startswith("入职自检") and headline.endswith("：未完成（有步骤没有检测到）"), headline
    assert "提前结束" not in body and "以下步骤没有检测到：握手" in why, (body, why)
    assert "做得好" not in body and "可以尝试入职自检场景" not in body, body
    assert locked == "密码错误次数过多，该账号暂时锁定，请几分钟后再试。", locked
    assert line == "入职自检（2025年秋季班）：未完成——以下步骤没有检测到：握手。请调整机位后完整重做一遍。", line
