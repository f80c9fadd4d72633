"""Reports: JSON shape, zh/en HTML, the SVG timeline drawn from the data, honest unknowns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from posture_coach import report as rep
from posture_coach.store import Database, repo
from posture_coach.store.models import EpisodeRow
from tests.store.helpers import fake_result, showing_the_onboarding, store_result


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    p = tmp_path / "snap.jpg"
    cv2.imwrite(str(p), np.full((48, 64, 3), 200, np.uint8))
    return p


def test_json_report_from_a_result(snapshot: Path) -> None:
    data = rep.report_from_result(fake_result({"snapshot": snapshot}), source="/videos/role.mp4")
    assert data["schema"] == rep.SCHEMA
    assert data["overall_score"] == pytest.approx(0.95)
    rules = {r["rule_id"]: r for r in data["rules"]}
    assert rules["standing.upright"]["clause"] and rules["standing.upright"]["title_zh"]
    assert rules["sitting.legs_crossed"]["score"] is None
    assert data["findings"][0]["peak_ms"] == 2500 and data["evidence_kept"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh", ["服务礼仪评估报告", "时间轴", "无法评估", "膝盖或脚踝不在画面内", "抬头挺胸"]),
     ("en", ["Etiquette assessment report", "Timeline", "could not be assessed", "knees or ankles out of frame"])],
)
def test_html_in_both_languages(lang: str, words: list[str], snapshot: Path) -> None:
    data = rep.report_from_result(fake_result({"snapshot": snapshot}), source="/videos/role.mp4")
    page = rep.render_html(data, lang)  # type: ignore[arg-type]
    for w in words:
        assert w in page, w
    assert page.count("<svg") >= 2  # the timeline and score bars
    assert "data:image/jpeg;base64," in page  # self-contained evidence
    bare = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in bare and "https://" not in bare  # nothing fetched from elsewhere


def test_timeline_is_drawn_from_the_data() -> None:
    data = rep.report_from_result(fake_result(), source="v.mp4")
    svg = rep.timeline_svg(data, "en", width=1000)
    # One finding 2.0–3.0 s in a 10 s session: its bar spans 10 % of the plot width.
    m = re.search(r'class="finding" data-rule="standing.upright" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    assert m is not None
    axis = re.search(r'<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"', svg)  # the time axis
    assert axis is not None
    label_w, plot_w = float(axis.group(1)), float(axis.group(2)) - float(axis.group(1))
    assert plot_w > 600  # the label column fits the titles without eating the plot
    assert float(m.group(1)) == pytest.approx(label_w + 0.2 * plot_w, abs=0.1)
    assert float(m.group(2)) == pytest.approx(0.1 * plot_w, abs=0.1)
    assert 'class="event"' in svg and "handshake" in svg
    moved = rep.report_from_result(fake_result(), source="v.mp4")
    moved["findings"][0]["start_ms"] = 5000
    moved["findings"][0]["end_ms"] = 9000
    assert rep.timeline_svg(moved, "en") != svg


def test_events_are_spans_named_in_the_report_language() -> None:
    # The engine's event stream holds openings (``handshake_start``), closed events with
    # their span, and posture changes. The timeline draws each closed event as a bar from
    # its start to its end, in a row named in the report's language; openings are not drawn.
    data = rep.report_from_result(fake_result(), source="v.mp4")
    data["events"] = [
        {"type": "posture", "t_ms": 0, "posture": "standing"},
        {"type": "handshake_start", "t_ms": 4700, "start_ms": 4500},
        {"type": "handshake", "t_ms": 6400, "start_ms": 4500, "end_ms": 6000, "duration_s": 1.5,
         "held_s": 1.2, "peak": {"lean_deg": 11.04}},
        {"type": "bow_start", "t_ms": 8000, "start_ms": 7900},  # dropped later: too short
    ]
    svg = rep.timeline_svg(data, "zh", width=1000)
    assert "握手" in svg and "站姿" in svg and "_start" not in svg and "鞠躬" not in svg
    axis = re.search(r'<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"', svg)
    bar = re.search(r'class="event" data-kind="handshake" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    assert axis is not None and bar is not None
    plot_w = float(axis.group(2)) - float(axis.group(1))
    assert float(bar.group(2)) == pytest.approx(0.15 * plot_w, abs=0.1)  # 1.5 s of 10 s
    assert "保持 1.2 秒 · 前倾 11.0°" in svg  # hovering the bar: the hold and the lean
    en = rep.timeline_svg(data, "en", width=1000)
    assert "Handshake" in en and "held 1.2 s · lean 11.0°" in en
    # The judged lean (against the person's upright reading) wins over the peak frame's.
    data["events"][2] = {**data["events"][2], "lean_deg": 14.5, "upright": {"lean_deg": -3.46}}
    assert "held 1.2 s · lean 14.5°" in rep.timeline_svg(data, "en", width=1000)


@pytest.mark.parametrize(("lang", "cells"), ids=["zh", "en"], argvalues=[
    ("zh", ["<td>握手</td>", "4.5–6.0", "保持 1.2 秒 · 前倾 11.0°", "<td>递物（名片）</td>",
            "持续 2.8 秒 · 前倾 0.8°"]),
    ("en", ["<td>Handshake</td>", "held 1.2 s · lean 11.0°", "<td>Handover (card)</td>", "lasted 2.8 s"]),
])
def test_the_actions_seen_are_listed_with_what_was_measured(lang: str, cells: list[str]) -> None:
    # A handshake's lean and hold lived only in the timeline's hover text: a PDF lost them.
    data = rep.report_from_result(fake_result(), source="v.mp4")
    data["events"] = [
        {"type": "posture", "t_ms": 0, "posture": "standing"},
        {"type": "handshake", "t_ms": 6400, "start_ms": 4500, "end_ms": 6000, "duration_s": 1.5,
         "held_s": 1.2, "peak": {"lean_deg": 11.04}},
        {"type": "handover", "t_ms": 9000, "start_ms": 5733, "end_ms": 8533, "duration_s": 2.8,
         "peak": {"lean_deg": 0.755}},
    ]
    page = rep.render_html(data, lang)  # type: ignore[arg-type]
    table = page[page.index('<table class="events">'):]
    table = table[:table.index("</table>")]
    for cell in cells:
        assert cell in table, cell
    assert table.count('class="event-row"') == 2  # posture changes are not actions
    data["events"] = data["events"][:1]
    assert 'class="events"' not in rep.render_html(data, lang)  # type: ignore[arg-type]


def test_no_evidence_is_said_plainly() -> None:
    page = rep.render_html(rep.report_from_result(fake_result(), source="v.mp4"), "en")
    assert "No evidence snapshot kept" in page


def _trainers_session(db: Database, result: repo.AnalysisResult) -> tuple[int, int]:
    """王芳's analysed session in the cohort of the trainer "coach": (session id, trainer id)."""
    with db.session() as s:
        t = repo.create_user(s, "coach", "trainer-pass", "trainer")
        p = repo.create_person(s, "王芳")
        c = repo.create_cohort(s, "c", trainer_id=t.id)
        repo.add_member(s, c.id, p.id)
        tid, pid = t.id, p.id
    return store_result(db, result, person_id=pid), tid


def test_report_of_a_reviewed_session(tmp_path: Path, snapshot: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'pc.db'}", tmp_path / "data")
    db.upgrade()
    ev = db.data_dir / "evidence" / "s" / "snap.jpg"
    ev.parent.mkdir(parents=True)
    ev.write_bytes(snapshot.read_bytes())
    sid, tid = _trainers_session(db, fake_result({"snapshot": ev}, penalty=4.0))
    with db.session() as s:
        ep = s.scalars(select(EpisodeRow).where(EpisodeRow.kind == "finding")).one()
        repo.add_review(s, repo.get_user(s, tid), decision="disagree", episode_id=ep.id, comment="鞠躬动作")
    data = rep.report_from_session(db, sid)
    assert data["overall_score"] == pytest.approx(0.8) and data["overall_score_reviewed"] == pytest.approx(1.0)
    assert data["findings"][0]["review"] == {"decision": "disagree", "comment": "鞠躬动作", "trainer": "coach"}
    page = rep.render_html(data, "zh")
    assert "培训师复核后总分" in page and "不同意" in page and "王芳" in page
    out = rep.write_html(data, tmp_path / "r.html", "zh")
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_what_a_trainer_added_shows_in_the_rules_table_and_on_the_timeline(tmp_path: Path) -> None:
    # A trainer added "legs crossed at 4 s" (a rule the coach could not judge) and "never
    # smiled": the overall score fell, but the report listed both rules only as "could not
    # be judged", the moment was not on the timeline, and the whole-recording one gave no time.
    db = Database(f"sqlite:///{tmp_path / 'pc.db'}", tmp_path / "data")
    db.upgrade()
    sid, tid = _trainers_session(db, fake_result(penalty=0.0))
    with db.session() as s:
        trainer = repo.get_user(s, tid)
        repo.add_review(s, trainer, decision="missed", session_id=sid, rule_id="sitting.legs_crossed", at_ms=4000)
        repo.add_review(s, trainer, decision="missed", session_id=sid, rule_id="face.smile")
    data = rep.report_from_session(db, sid)
    legs = next(r for r in data["rules"] if r["rule_id"] == "sitting.legs_crossed")
    assert legs["score"] is None and legs["score_reviewed"] is not None and legs["score_reviewed"] < 1.0
    for lang, judged, whole in (("zh", "培训师补充", "整段录像"), ("en", "added by a trainer", "the whole recording")):
        page = rep.render_html(data, lang)  # type: ignore[arg-type]
        row = re.search(r'<tr class="rule" data-rule="sitting.legs_crossed">.*?</tr>', page, re.S)
        assert row and "—" in row.group(0) and judged in row.group(0)
        assert re.search(r'<path class="missed" data-rule="sitting.legs_crossed"', page)  # on the timeline
        assert whole in page
        # Judged by the trainer, so no longer listed as "could not be assessed", and the
        # score's arithmetic is said (a moment costs missed_violation_s of the recording).
        assert 'class="na-rule" data-rule="sitting.legs_crossed"' not in page
        assert ("由培训师判定（系统无法评估）" if lang == "zh" else "the coach could not assess it") in row.group(0)
        assert ("按 3.0 秒未做到计入" if lang == "zh" else "counts as 3.0 s of the rule not kept") in page


def test_peak_values_carry_their_rules_unit() -> None:
    # A shoulder tilt in degrees, a sway in shoulder widths, a teeth count; a rule whose
    # value changes meaning with the view (upright: degrees from the side, a ratio from
    # the front) gets a plain rounded number.
    assert rep.value_text("standing.shoulders_level", 8.2121, "en") == "8.2°"
    assert rep.value_text("standing.steady", 0.8612, "zh") == "0.86 倍肩宽"
    assert rep.value_text("face.smile_teeth", 9.0, "zh") == "9 颗"
    assert rep.value_text("standing.upright", 15.1379, "en") == "15.14"
    assert rep.value_text("handshake.attention", 0.25, "en") == "25 %"  # a share of the time
    # The distance to the customer in the handbook's unit, beside its "60–80 cm" title.
    assert rep.value_text("distance.customer", 0.8312, "zh") == "83 厘米"
    assert rep.value_text("distance.smile_range", 2.5, "en") == "2.50 m"
    # A card handed over: how many hands, not "peak 1.00".
    assert rep.value_text("handover.two_hands", 1.0, "zh") == "1 只手"
    assert rep.value_text("handover.two_hands", 1.0, "en") == "1 hand"
    assert rep.value_text("handover.two_hands", 2.0, "en") == "2 hands"
    page = rep.render_html(rep.report_from_result(fake_result(), source="v.mp4"), "en")
    assert "; measured " in page


def _with_handshake_lean(judged_frames: int | None) -> repo.AnalysisResult:
    r = fake_result()
    lean = repo.RuleOutcome("handshake.lean", 0.5, 1.0, 0.067, 0.033, 0.0, None, {}, judged_frames=judged_frames)
    return dataclasses.replace(r, rules=[*r.rules, lean])


@pytest.mark.parametrize(("lang", "n", "text"), [("en", 2, "2 events"), ("en", 1, "1 event<"), ("zh", 2, "2 次<")])
def test_an_event_rule_counts_its_events_not_its_seconds(lang: str, n: int, text: str) -> None:
    # An event rule judges each handshake on one frame: "0.067 s assessable" for two
    # handshakes would read as a broken measurement to a trainer.
    data = rep.report_from_result(_with_handshake_lean(n), source="v.mp4")
    rules = {r["rule_id"]: r for r in data["rules"]}
    assert rules["handshake.lean"]["events_judged"] == n
    assert rules["standing.upright"]["events_judged"] is None  # a frame rule keeps its seconds
    page = rep.render_html(data, lang)  # type: ignore[arg-type]
    row = page[page.index('data-rule="handshake.lean"'):]
    row = row[:row.index("</tr>")]
    assert text in row and "0.067" not in row
    assert "10.0 " in page  # standing.upright: 10 s assessable


def test_an_event_rule_stored_before_the_count_shows_its_time() -> None:
    data = rep.report_from_result(_with_handshake_lean(None), source="v.mp4")
    assert {r["rule_id"]: r for r in data["rules"]}["handshake.lean"]["events_judged"] is None


def test_the_event_count_survives_the_store(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'pc.db'}", tmp_path / "data")
    db.upgrade()
    sid = store_result(db, _with_handshake_lean(3))
    rules = {r["rule_id"]: r for r in rep.report_from_session(db, sid)["rules"]}
    assert rules["handshake.lean"]["events_judged"] == 3


@pytest.mark.parametrize("rule_id", ["gesture.face_touching", "gesture.open_palm"])
def test_an_event_rule_judged_between_its_events_keeps_its_seconds(rule_id: str) -> None:
    # Hands away from the face pass on every frame: 47 judged frames are 2.5 s (one decimal), not "47 events".
    r = fake_result()
    row = repo.RuleOutcome(rule_id, 1.0, 1.0, 2.472, 0.0, 0.0, None, {}, judged_frames=47)
    data = rep.report_from_result(dataclasses.replace(r, rules=[*r.rules, row]), source="v.mp4")
    assert {x["rule_id"]: x for x in data["rules"]}[rule_id]["events_judged"] is None
    page = rep.render_html(data, "en")
    cell = page[page.index(f'data-rule="{rule_id}"'):]
    cell = cell[:cell.index("</tr>")]
    assert "2.5 s" in cell and "events" not in cell  # seconds as people read them


@pytest.mark.parametrize(("lang", "texts"), [
    ("zh", ["场景步骤", "迎客", "注意", "微笑时机：2.6 秒开始（要求 2 秒内），保持 3.1 秒（要求至少 3 秒）",
            "未检测到动作：握手"]),
    ("en", ["Scenario steps", "Approach", "warning",
            "Smile timing: started at 2.6 s (needs ≤ 2 s), held 3.1 s (needs ≥ 3 s)", "No action detected: Handshake"]),
])
def test_a_saved_scenario_shows_its_steps(lang: str, texts: list[str]) -> None:
    # HR reads the onboarding self-check step by step, as the trainee saw it on the page.
    data = rep.report_from_result(fake_result(), source="v.mp4")
    data["drill"] = {"id": "onboarding", "steps": [
        {"id": "approach", "title_zh": "迎客", "title_en": "Approach", "outcome": "warn",
         "rules": {"face.smile": {"outcome": "pass"}}, "missing_events": [],
         "timing": {"rule": "face.smile", "within_s": 2.0, "hold_s": 3.0, "outcome": "warn",
                    "onset_s": 2.6, "held_s": 3.1}},
        {"id": "handshake", "title_zh": "握手", "title_en": "Handshake", "outcome": "fail",
         "rules": {"handshake.lean": {"outcome": "not_assessable"}}, "missing_events": ["handshake"],
         "timing": None},
    ]}
    page = rep.render_html(data, lang)  # type: ignore[arg-type]
    for text in texts:
        assert text in page, text
    assert rep.render_html(rep.report_from_result(fake_result(), source="v.mp4"), "en").count("Scenario steps") == 0


@pytest.mark.parametrize(("lang", "named"), ids=["zh", "en"], argvalues=[
    ("zh", "《客户经理服务行为规范》§二.一 站姿；《客服礼仪管理制度》§4.5.1 站姿禁忌"),
    ("en", "Customer Manager Service Conduct Code §二.一 站姿; Customer Service Etiquette Rules §4.5.1 站姿禁忌"),
])
def test_clauses_name_the_handbooks_in_the_reports_language(lang: str, named: str) -> None:
    # "seed 000" is our name for a source file, not something a trainer can look up: the page
    # names the handbook, and quotes its section as the Chinese original writes it.
    clause = "seed 000 §二.一 站姿; seed 001 §4.5.1 站姿禁忌"
    assert rep.handbook_clause(clause, lang) == named  # type: ignore[arg-type]
    page = rep.render_html(rep.report_from_result(fake_result(), source="v.mp4"), lang)  # type: ignore[arg-type]
    assert "seed " not in page
    row = page[page.index('<tr class="rule" data-rule="standing.upright"'):]
    assert named in row[:row.index("</tr>")]  # the per-rule table
    finding = page[page.index('id="finding-1"'):]
    assert named in finding[:finding.index("</p>")]  # and the finding's card


def test_every_handbook_a_rule_quotes_has_a_name() -> None:
    from posture_coach.rules import ALL_RULES

    for rule in ALL_RULES:
        for lang in ("zh", "en"):
            text = rep.handbook_clause(rule.clause, lang)  # type: ignore[arg-type]
            assert "seed" not in text and "handbook " not in text and "手册 " not in text, (rule.id, text)


@pytest.mark.parametrize(("clause", "lang", "text"), ids=[
    "zh", "en-two", "en-004", "zh-unknown", "en-unknown", "empty"], argvalues=[
    ("seed 003 三米六齿", "zh", "《服务礼仪及行为规范》三米六齿"),
    ("seed 002 与客人交谈; seed 003 表情", "en",
     "Service Conduct Handbook 与客人交谈; Service Etiquette and Conduct Standards 表情"),
    ("seed 004 §1", "en", "Customer Manager Service Standards §1"),
    ("seed 042 §1; seed 001 §2", "zh", "手册 042 §1；《客服礼仪管理制度》§2"),
    ("seed 042 §1", "en", "handbook 042 §1"),
    ("", "en", ""),
])
def test_a_clause_is_quoted_and_an_unknown_handbook_keeps_its_number(clause: str, lang: str, text: str) -> None:
    assert rep.handbook_clause(clause, lang) == text  # type: ignore[arg-type]


def test_the_english_report_says_the_clauses_are_quoted_in_chinese() -> None:
    data = rep.report_from_result(fake_result(), source="v.mp4")
    assert "Handbook clause (quoted from the Chinese original)" in rep.render_html(data, "en")
    assert "<th>手册条款</th>" in rep.render_html(data, "zh")
    assert data["rules"][0]["clause"].startswith("seed ")  # the JSON keeps the rule's own words


BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(("value", "tz", "text"), [
    ("2026-11-24T19:41:50+00:00", dt.UTC, "2026-11-24 19:41 UTC"),
    ("2026-11-24T19:41:50Z", dt.UTC, "2026-11-24 19:41 UTC"),
    # Stored in UTC, read in the local time of the machine showing it (a bank in Beijing).
    ("2026-11-24T19:41:50+00:00", BEIJING, "2026-11-25 03:41 UTC+08:00"),
    ("2026-11-25T03:41:50+08:00", BEIJING, "2026-11-25 03:41 UTC+08:00"),
    ("2026-11-24T19:41:50+00:00", dt.timezone(dt.timedelta(hours=-5, minutes=-30)), "2026-11-24 14:11 UTC-05:30"),
    ("2026-11-24T19:41:50", BEIJING, "2026-11-24 19:41"),  # no offset: none is made up
    ("last Tuesday", BEIJING, "last Tuesday"),  # not a time: printed as given
])
def test_the_analysis_time_is_written_for_people_in_local_time(value: str, tz: dt.tzinfo, text: str) -> None:
    assert rep.analysed_at_text(value, tz) == text


@pytest.mark.parametrize(("value", "tz", "text"), [
    ("2026-11-25T03:41:50+08:00", BEIJING, "2026年11月25日 03:41（北京时间）"),
    ("2026-11-24T19:41:50+00:00", dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
     "2026年11月24日 14:11（UTC-05:30）"),
    ("2026-11-24T19:41:50", BEIJING, "2026年11月24日 19:41"),
])
def test_a_chinese_report_writes_the_time_as_chinese_readers_do(value: str, tz: dt.tzinfo, text: str) -> None:
    assert rep.analysed_at_text(value, tz, "zh") == text


@pytest.mark.parametrize(("tz", "lang", "line"), ids=["zh-utc", "en-utc", "zh-beijing"], argvalues=[
    ("UTC", "zh", "<span>分析时间：2026年11月24日 19:41（UTC）</span>"),
    ("UTC", "en", "<span>Analysed: 2026-11-24 19:41 UTC</span>"),
    ("CST-8", "zh", "<span>分析时间：2026年11月25日 03:41（北京时间）</span>"),
])
def test_the_report_header_shows_the_analysis_time_for_people(tz: str, lang: str, line: str,
                                                               machine_tz: Callable[[str], None]) -> None:
    machine_tz(tz)
    data = rep.report_from_result(fake_result(), source="v.mp4")
    data["session"]["analysed_at"] = "2026-11-24T19:41:50+00:00"
    page = rep.render_html(data, lang)  # type: ignore[arg-type]
    assert line in page and "T19:41:50" not in page


def test_the_report_shows_the_time_where_its_reader_is_when_the_page_says(machine_tz: Callable[[str], None]) -> None:
    """A server in UTC, HR in Beijing: the review page lists 11:07, the report said 03:07 UTC.
    The page sends the browser's zone; a name that is no zone falls back to the server's."""
    machine_tz("UTC")
    data = rep.report_from_result(fake_result(), source="v.mp4")
    data["session"]["analysed_at"] = "2026-11-24T19:41:50+00:00"
    page = rep.render_html(data, "zh", tz=rep.reader_time_zone("Asia/Shanghai"))
    assert "<span>分析时间：2026年11月25日 03:41（北京时间）</span>" in page
    for bad in ("Mars/Olympus", "../../etc/passwd", "/usr/share/zoneinfo/UTC", "", None, "A" * 80):
        assert rep.reader_time_zone(bad) is None
        page = rep.render_html(data, "zh", tz=rep.reader_time_zone(bad))
        assert "<span>分析时间：2026年11月24日 19:41（UTC）</span>" in page


@pytest.mark.parametrize(("lang", "words"), ids=["zh", "en"], argvalues=[
    ("zh", ["画面里有两个人（抽查的 5 帧中有 4 帧）", "--role-play"]),
    ("en", ["Two people are in view (on 4 of 5 frames checked)", "--role-play"]),
])
def test_a_role_play_scored_as_practice_alone_says_so_at_the_top(lang: str, words: list[str], tmp_path: Path) -> None:
    notice = {"code": "two_people_in_view", "checks": 5, "found": 4}
    result = fake_result({})
    result = dataclasses.replace(result, summary={**result.summary, "notices": [notice]})
    data = rep.report_from_result(result, source="role.mp4")
    assert [{k: n[k] for k in notice} for n in data["notices"]] == [notice]
    assert data["notices"][0]["text"]["zh"].startswith("画面里有两个人")
    page = rep.render_html(data, lang)  # type: ignore[arg-type]
    shown = page.index('id="notice-two_people_in_view"')
    assert shown < page.index('id="overall"')  # above the scores it qualifies
    for w in words:
        assert w in page
    # Kept by the store: the stored session's report says it too.
    db = Database(f"sqlite:///{tmp_path / 'pc.db'}", tmp_path / "data")
    db.upgrade()
    sid = store_result(db, result)
    assert rep.report_from_session(db, sid)["notices"] == data["notices"]


def test_a_report_without_notices_shows_none() -> None:
    data = rep.report_from_result(fake_result({}), source="alone.mp4")
    assert data["notices"] == [] and 'class="notice advice"' not in rep.render_html(data, "en")


def test_a_finding_without_a_peak_time_shows_none() -> None:
    result = fake_result({})
    result = dataclasses.replace(result, findings=[dataclasses.replace(result.findings[0], peak_ms=None)])
    page = rep.render_html(rep.report_from_result(result, source="live"), "en")
    assert "clearest at — s" not in page and "— s" not in page


@pytest.mark.parametrize(("lang", "text"), [("zh", "0.4 秒（时间太短，仅供参考）"),
                                            ("en", "0.4 s (too short to rely on)")])
def test_a_posture_score_from_a_moment_seen_says_it_is_too_short_to_rely_on(lang: str, text: str) -> None:
    r = fake_result()
    glimpse = repo.RuleOutcome("standing.arms_crossed", 1.0, 2.0, 0.4, 0.0, 0.9, None, {}, judged_frames=12)
    data = rep.report_from_result(dataclasses.replace(r, rules=[*r.rules, glimpse]), source="v.mp4")
    rules = {x["rule_id"]: x for x in data["rules"]}
    assert rules["standing.arms_crossed"]["thin_evidence"] is True
    assert rules["standing.upright"]["thin_evidence"] is False  # 10 s seen
    page = rep.render_html(data, lang)  # type: ignore[arg-type]
    row = page[page.index('data-rule="standing.arms_crossed"'):]
    assert text in row[:row.index("</tr>")]
    upright = page[page.index('data-rule="standing.upright"'):]
    assert "仅供参考" not in upright[:upright.index("</tr>")] and "rely on" not in upright[:upright.index("</tr>")]


def test_an_event_is_never_too_short_to_rely_on() -> None:
    data = rep.report_from_result(_with_handshake_lean(1), source="v.mp4")
    assert {x["rule_id"]: x for x in data["rules"]}["handshake.lean"]["thin_evidence"] is False


@pytest.mark.parametrize(("lang", "text"), ids=["zh", "en"], argvalues=[
    ("zh", ["72% 的时间无法评估，总分只反映看得清的部分。主要原因：", "与客户的距离需从正侧面拍摄才能测量"]),
    ("en", ["72% of the time could not be assessed: the score covers only what could be seen. Main reasons: ",
            "the distance to the customer can only be measured filmed side-on"]),
])
def test_a_score_mostly_unassessed_says_what_it_covers(lang: str, text: list[str]) -> None:
    # An oblique role-play: 99 beside "72 % not assessable" read as a near-perfect run.
    r = fake_result()
    blind = repo.RuleOutcome("distance.customer", None, 1.0, 0.0, 0.0, 1.0, "side_on_view_needed",
                             {"side_on_view_needed": 1.0}, judged_frames=0)
    result = dataclasses.replace(r, rules=[*r.rules, blind], unknown_share=0.72)
    page = rep.render_html(rep.report_from_result(result, source="v.mp4"), lang)  # type: ignore[arg-type]
    notice = page[page.index('id="mostly-unassessable"'):]
    assert all(t in notice[:notice.index("</p>")] for t in text), notice[:300]
    assert 'id="mostly-unassessable"' not in rep.render_html(rep.report_from_result(r, source="v.mp4"), lang)  # type: ignore[arg-type]


@pytest.mark.parametrize(("lang", "words"), ids=["zh", "en"], argvalues=[
    ("zh", ["入职自检（2026-A）：未通过——必做规则需每条达到 80 分。", "未达到的规则：抬头挺胸，不弯腰驼背 70"]),
    ("en", ["Onboarding self-check (2026-A): not passed — each required rule needs 80.", "Fell short: "]),
])
def test_a_self_check_report_says_the_result_and_the_rules_short_of_the_mark(
        lang: str, words: list[str], tmp_path: Path) -> None:
    # The live page said "3 rules fell short: see the report"; the report named none of them.
    db = Database(f"sqlite:///{tmp_path / 'pc.db'}", tmp_path / "data")
    db.upgrade()
    with db.session() as s:
        person = repo.create_person(s, "李雷")
        cohort = repo.create_cohort(s, "2026-A")
        repo.add_member(s, cohort.id, person.id)
        person_id = person.id
    sid = store_result(db, showing_the_onboarding(fake_result(penalty=3.0)), person_id=person_id,
                       scenario="onboarding")
    data = rep.report_from_session(db, sid)
    assert [(c["cohort"], c["result"], c["not_passed"]) for c in data["self_check"]] == [
        ("2026-A", "failed", ["standing.upright"])]
    page = rep.render_html(data, lang)  # type: ignore[arg-type]
    for w in words:
        assert w in page, w
    # A clip uploaded as the self-check that shows none of its actions and no sitting:
    # incomplete, and the report names what the recording does not show.
    short = store_result(db, fake_result(), person_id=person_id, scenario="onboarding")
    data = rep.report_from_session(db, short)
    assert [c["result"] for c in data["self_check"]] == ["incomplete"]
    assert [m["id"] for m in data["self_check"][0]["missing_steps"]] == [
        "bow_greet", "handshake", "card_exchange", "sit_talk"]
    said = {"zh": "缺少以下步骤：鞠躬问候、握手、交换名片、坐下交谈。",
            "en": "these steps were not seen: Bow and greet, Handshake, Card exchange, Sit and talk."}
    assert said[lang] in rep.render_html(data, lang)  # type: ignore[arg-type]
    other = store_result(db, fake_result(), person_id=person_id)  # not the self-check: nothing said
    assert rep.report_from_session(db, other)["self_check"] == []


def test_rules_with_nothing_to_judge_are_named_apart_from_what_the_coach_could_not_see() -> None:
    # A solo self-check: no handshake happened and no customer stood in view. Listed as
    # "could not be assessed" beside a face too far to read, they read as faults of the
    # recording; they are one line of rules this recording had nothing for.
    r = fake_result()
    idle = [repo.RuleOutcome("handshake.lean", None, 1.0, 0.0, 0.0, 0.0, "no_event_yet", {}, judged_frames=0),
            repo.RuleOutcome("distance.customer", None, 1.0, 0.0, 0.0, 0.0, "no_customer_in_view", {},
                             judged_frames=0),
            repo.RuleOutcome("face.smile", None, 1.0, 0.0, 0.0, 1.0, "face_not_read", {"face_not_read": 1.0},
                             judged_frames=0)]
    result = dataclasses.replace(r, rules=[*[x for x in r.rules if x.rule_id != "face.smile"], *idle])
    page = rep.render_html(rep.report_from_result(result, source="v.mp4"), "zh")
    assert 'class="na-rule" data-rule="face.smile"' in page
    line = re.search(r'<p class="not-applied">.*?</p>', page, re.S)
    assert line and "本次未涉及的规则" in line.group(0)
    assert 'data-rule="handshake.lean"' in line.group(0) and 'data-rule="distance.customer"' in line.group(0)
    assert 'class="na-rule" data-rule="handshake.lean"' not in page


def test_a_chinese_report_quotes_the_handbook_clauses_with_full_width_punctuation() -> None:
    # "表情 (微笑, 三米六齿)" and "握手: 注视对方" stood out in the Chinese report and PDF.
    from posture_coach.rules import RULES_BY_ID

    for cls in RULES_BY_ID.values():
        zh = rep.handbook_clause(cls.clause, "zh")
        assert not any(c in zh for c in "(),:;"), (cls.id, zh)
    assert rep.handbook_clause("seed 003 表情 (微笑, 三米六齿)", "zh").endswith("表情（微笑，三米六齿）")
    assert rep.handbook_clause("seed 003 表情 (微笑, 三米六齿)", "en").endswith("表情 (微笑, 三米六齿)")
