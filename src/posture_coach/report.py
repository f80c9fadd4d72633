"""Session reports: one JSON document, and a self-contained HTML page rendered from it (zh/en).

:func:`report_from_session` (a stored session, with trainer reviews) and
:func:`report_from_result` (a fresh :class:`~posture_coach.store.repo.AnalysisResult`,
no database) build the same JSON shape; :func:`render_html` turns it into one HTML file
with inline CSS, an inline SVG timeline drawn from the findings and events, evidence
snapshots embedded as data URIs, and rules that could not be assessed listed with the
reasons why. Its print stylesheet (A4, page numbers, no awkward page breaks) is what
:mod:`posture_coach.pdf` prints to PDF with headless Chromium.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
import mimetypes
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from .errors import notice_text, notices_with_texts, reason_texts
from .fileio import commit, partial_path
from .rules import RULES_BY_ID
from .rules.base import reason_text
from .scoring import MOSTLY_UNASSESSABLE, NOT_APPLICABLE_REASONS, points, thin_evidence

Lang = Literal["zh", "en"]
SCHEMA = "posture-coach.report/1"
STATUS_COLOURS = {"pass": "#4caf50", "warn": "#ff9800", "fail": "#e53935", "unknown": "#9e9e9e"}

T: dict[str, tuple[str, str]] = {
    "title": ("服务礼仪评估报告", "Etiquette assessment report"),
    "source": ("录像", "Video"),
    "source_live": ("实时练习（摄像头画面未保存）", "Live practice (no camera frames kept)"),
    "person": ("学员", "Trainee"),
    "duration": ("时长", "Duration"),
    "analysed": ("分析时间", "Analysed"),
    "overall": ("总分", "Overall score"),
    "overall_reviewed": ("培训师复核后总分", "Score after trainer review"),
    "unknown_share": ("无法评估占比", "Not assessable"),
    "timeline": ("时间轴：发现的问题与事件", "Timeline: findings and events"),
    "rules": ("各项规则得分（对照手册条款）", "Scores per rule (against the handbook clauses)"),
    "rule": ("规则", "Rule"),
    "clause": ("手册条款", "Handbook clause (quoted from the Chinese original)"),
    "score": ("得分", "Score"),
    "assessable": ("可评估时长 / 事件数", "Assessable time / events"),
    "event_one": ("{n} 次", "{n} event"),
    "event_many": ("{n} 次", "{n} events"),
    "thin_evidence": ("（时间太短，仅供参考）", " (too short to rely on)"),
    "not_assessable": ("无法评估", "Not assessable"),
    "why": ("原因", "Why"),
    "findings": ("发现的问题与证据", "Findings and evidence"),
    "no_findings": ("没有发现违规。", "No violations found."),
    "pending": ("分析尚未完成，请稍后刷新本页。", "The analysis has not finished yet; reload this page later."),
    "failed": ("分析失败", "The analysis failed"),
    "not_analysed": ("—（未分析）", "— (not analysed)"),
    "peak": ("最明显时刻", "clearest at"),
    "value": ("最明显时测得", "measured"),
    "steps": ("场景步骤", "Scenario steps"),
    "step": ("步骤", "Step"),
    "step_result": ("结果", "Result"),
    "step_notes": ("说明", "Notes"),
    "outcome_pass": ("通过", "pass"),
    "outcome_warn": ("注意", "warning"),
    "outcome_fail": ("未通过", "fail"),
    "outcome_not_assessable": ("无法评估", "not assessable"),
    "outcome_not_yet_assessable": ("暂不可评估", "not assessable yet"),
    "outcome_pending": ("未进行", "not reached"),
    "missing_event": ("未检测到动作：", "No action detected: "),
    "seen_elsewhere": ("{event}出现在第 {at} 秒，不在本步骤时间内，请在提示该步骤时再做",
                       "{event} came at {at} s, outside this step: do it when the step asks for it"),
    "timing_note": ("{rule}：{onset} 秒开始（要求 {within} 秒内），保持 {held} 秒（要求至少 {hold} 秒）",
                    "{rule}: started at {onset} s (needs ≤ {within} s), held {held} s (needs ≥ {hold} s)"),
    "timing_never": ("{rule}：始终没有做到（要求 {within} 秒内开始）",
                     "{rule}: never happened (needs to start within {within} s)"),
    "no_evidence_live": ("实时练习不保存画面，因此没有证据截图。",
                         "A live practice keeps no frames, so there is no evidence picture."),
    "no_evidence": ("未保存证据截图（默认不保存画面；上传时勾选“保留证据截图”即可保存）。",
                    "No evidence snapshot kept (frames are not stored unless asked; tick "
                    "\u201ckeep evidence\u201d when uploading)."),
    "teeth": ("露齿检测截图", "Teeth crop"),
    "review": ("培训师复核", "Trainer review"),
    "missed": ("培训师补充的问题（系统未检出）", "Added by a trainer (not flagged by the coach)"),
    "missed_mark": ("培训师补充", "added by a trainer"),
    "signed": ("培训师（签字）", "Trainer (signature)"),
    "signed_date": ("日期", "Date"),
    "trainer_judged": ("由培训师判定（系统无法评估）", "judged by a trainer (the coach could not assess it)"),
    "missed_how": ("每处补充的问题按 {s} 秒未做到计入该规则（标为“整段录像”的按全程计），按录像时长折算扣分。",
                   "Each added moment counts as {s} s of the rule not kept (one marked \u201cthe whole "
                   "recording\u201d as all of it), taken off in proportion to the recording's length."),
    "whole_recording": ("整段录像", "the whole recording"),
    "agree": ("同意", "agrees"),
    "disagree": ("不同意（不计分）", "disagrees (not counted)"),
    "not_assessable_list": ("无法评估的规则及原因", "Rules that could not be assessed, and why"),
    "not_applied_list": ("本次未涉及的规则（录像中没有相应的动作或情境，如握手、递名片、客户、坐姿）",
                         "Rules with nothing to judge here (the recording holds no such action or situation: "
                         "a handshake, a card, a customer, sitting)"),
    "time_s": ("时间（秒）", "time (s)"),
    "event": ("动作", "Action"),
    "self_check_passed": ("入职自检（{cohort}）：通过——每条必做规则都达到 {mark} 分。",
                          "Onboarding self-check ({cohort}): passed — every required rule reached {mark}."),
    "self_check_failed": ("入职自检（{cohort}）：未通过——必做规则需每条达到 {mark} 分。",
                          "Onboarding self-check ({cohort}): not passed — each required rule needs {mark}."),
    "self_check_incomplete": ("入职自检（{cohort}）：未完成——练习在结束前停止了，需完整做一遍。",
                              "Onboarding self-check ({cohort}): incomplete — the run stopped before the end."),
    "self_check_not_shown": ("入职自检（{cohort}）：未完成——缺少以下步骤：{steps}。需把整个场景做完整。",
                             "Onboarding self-check ({cohort}): incomplete — these steps were not seen: {steps}. "
                             "Do the whole scenario again."),
    "self_check_not_assessable": ("入职自检（{cohort}）：无法评估——画面中无法判断必做规则，需重做。",
                                  "Onboarding self-check ({cohort}): not assessable — the required rules could "
                                  "not be judged; do it again."),
    "self_check_short": ("未达到的规则：{rules}。", " Fell short: {rules}."),
    "self_check_not_counted": ("（培训班结果以之前完整完成的一次为准。）",
                               " (The cohort counts an earlier finished attempt.)"),
    "mostly_unassessable": ("{pct}% 的时间无法评估，总分只反映看得清的部分。",
                            "{pct}% of the time could not be assessed: the score covers only what could be seen."),
    "main_reasons": ("主要原因：{why}。", " Main reasons: {why}."),
    "measured": ("测量结果", "Measured"),
    # One word per status on every page, report and CSV: 通过 / 注意 / 未通过 / 无法评估.
    "status_warn": ("注意", "warning"),
    "status_fail": ("未通过", "fail"),
    "none": ("无", "none"),
    "seconds": ("秒", "s"),
    "reasons_share": ("无法评估时间中各原因占比", "share of the unassessable time per reason"),
    "generated": ("由服务礼仪教练 posture-coach 生成", "Generated by posture-coach"),
    "stride": ("抽帧间隔", "Frame stride"),
    "role_play_left": ("两人角色扮演：学员在画面左侧",
                       "Role-play (two people): the trainee is on the left of the image"),
    "role_play_right": ("两人角色扮演：学员在画面右侧",
                        "Role-play (two people): the trainee is on the right of the image"),
    "role_play_profile": ("两人角色扮演：学员按校准时的服装颜色识别",
                          "Role-play (two people): the trainee is found by the clothes worn at calibration"),
}


#: A timed step's rule as the live page names its timing ("微笑时机", not the rule's title).
TIMING_NAMES: dict[str, tuple[str, str]] = {"face.smile": ("微笑时机", "Smile timing")}

#: The timeline's event rows: interaction events (a span each) and posture changes.
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "handover": ("递物（名片）", "Handover (card)"),
    "handshake": ("握手", "Handshake"),
    "bow": ("鞠躬", "Bow"),
    "face_touch": ("摸脸", "Face touch"),
    "pointing": ("用手指指", "Pointing finger"),
    "card_view": ("看名片", "Looking at the card"),
    "posture": ("姿势", "Posture"),
}
POSTURE_NAMES: dict[str, tuple[str, str]] = {
    "standing": ("站姿", "standing"), "sitting": ("坐姿", "sitting"), "unknown": ("不确定", "unknown"),
}


#: Units of the rules' values (``Rule.value_unit``): (Chinese suffix, English suffix, decimals).
VALUE_UNITS: dict[str, tuple[str, str, int]] = {
    "deg": ("°", "°", 1),
    "sw": (" 倍肩宽", " × shoulder width", 2),
    "tl": (" 倍躯干长", " × torso length", 2),
    "sw_s": (" 倍肩宽/秒", " shoulder widths/s", 2),
    "s": (" 秒", " s", 1),
    "m": (" 米", " m", 2),
    "cm": (" 厘米", " cm", 0),  # a value in metres shown in centimetres (the handbook's 60–80 厘米)
    "teeth": (" 颗", " teeth", 0),
    "per_min": (" 次/分钟", " per minute", 1),
    "share": (" %", " %", 0),  # a share of the time, shown in percent
    "hands": (" 只手", " hand", 0),  # the hands a card was handed over with (2 hands)
}


def value_text(rule_id: str, value: object, lang: Lang) -> str:
    """A finding's peak value with its rule's unit (plain, rounded, where it has none)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    cls = RULES_BY_ID.get(rule_id)
    unit = VALUE_UNITS.get(cls.value_unit or "") if cls is not None else None
    if unit is None:
        return f"{value:.2f}"
    zh, en, decimals = unit
    if cls is not None and cls.value_unit in ("share", "cm"):
        value = 100.0 * value
    if cls is not None and cls.value_unit == "hands" and round(value) != 1:
        en += "s"  # 2 hands
    return f"{value:.{decimals}f}{zh if lang == 'zh' else en}"


def _peak_texts(rule_id: str | None, value: float | None) -> dict[str, str]:
    """A finding's peak value with its unit in both languages (for pages that show it)."""
    rid = rule_id or ""
    return {"zh": value_text(rid, value, "zh"), "en": value_text(rid, value, "en")}


def tr(key: str, lang: Lang) -> str:
    zh, en = T[key]
    return zh if lang == "zh" else en


#: The source handbooks the rules quote, by their number in ``shared/seeds/`` (a rule's
#: ``clause`` names them "seed NNN"): (Chinese title, English name).
HANDBOOKS: dict[str, tuple[str, str]] = {
    "000": ("客户经理服务行为规范", "Customer Manager Service Conduct Code"),
    "001": ("客服礼仪管理制度", "Customer Service Etiquette Rules"),
    "002": ("服务行为规范手册", "Service Conduct Handbook"),
    "003": ("服务礼仪及行为规范", "Service Etiquette and Conduct Standards"),
    "004": ("客户经理服务规范", "Customer Manager Service Standards"),
}
_SEED = re.compile(r"\bseed\s+(\d+)\b\s*")


def handbook_clause(clause: str, lang: Lang) -> str:
    """A rule's ``clause`` for people: each internal "seed NNN" becomes its handbook's name.

    ``"seed 000 §二.一 站姿; seed 001 §4.5.1 站姿禁忌"`` reads, in Chinese,
    ``"《客户经理服务行为规范》§二.一 站姿；《客服礼仪管理制度》§4.5.1 站姿禁忌"`` and, in
    English, ``"Customer Manager Service Conduct Code §二.一 站姿; Customer Service Etiquette
    Rules §4.5.1 站姿禁忌"``. The section text is a quotation of the Chinese original and is
    left as it is; clauses are joined with "；" (zh) or "; " (en). A number with no known
    handbook reads "手册 NNN" / "handbook NNN".
    """

    def name(m: re.Match[str]) -> str:
        num = m.group(1).zfill(3)
        rest = " " if m.end() < len(m.string) else ""  # the space before the section, if any
        book = HANDBOOKS.get(num)
        if book is None:
            return (f"手册 {num}" if lang == "zh" else f"handbook {num}") + rest
        return f"《{book[0]}》" if lang == "zh" else book[1] + rest  # 《》 needs no space

    parts = [_SEED.sub(name, p.strip()) for p in re.split(r"[;；]", clause) if p.strip()]
    if lang == "zh":  # the quoted sections' own brackets and commas, full-width in Chinese text
        parts = [p.replace(" (", "（").replace("(", "（").replace(")", "）").replace(", ", "，")
                 .replace(": ", "：") for p in parts]
    return ("；" if lang == "zh" else "; ").join(parts)


def reader_time_zone(name: str | None) -> dt.tzinfo | None:
    """An IANA time zone name from the reader's browser (``Asia/Shanghai``) as a tzinfo;
    ``None`` (this machine's local time) when absent or not a known zone."""
    if not name or len(name) > 64 or not all(c.isalnum() or c in "/_+-" for c in name) or ".." in name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def analysed_at_text(value: str, tz: dt.tzinfo | None = None, lang: Lang = "en") -> str:
    """An ISO analysis time for people, in the local time of the machine that shows it
    (``tz`` in tests): ``"2026-11-25 03:41 UTC+08:00"`` on a Beijing machine,
    ``"2026-11-24 19:41 UTC"`` where local time is UTC; in Chinese ``"2026年11月25日 03:41（北京时间）"``
    (another offset in brackets as ``UTC+05:30``); a time without an offset is printed
    as given (none is made up); a value that is not an ISO time is returned as given."""
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except (TypeError, ValueError):
        return value
    zh = lang == "zh"
    fmt = "%Y年%m月%d日 %H:%M" if zh else "%Y-%m-%d %H:%M"
    if when.utcoffset() is None:
        return when.strftime(fmt)
    when = when.astimezone(tz)
    text = when.strftime(fmt)
    offset = when.utcoffset() or dt.timedelta(0)
    if zh and offset == dt.timedelta(hours=8):
        return f"{text}（北京时间）"
    if not offset:
        zone = "UTC"
    else:
        sign = "-" if offset < dt.timedelta(0) else "+"
        minutes = abs(offset) // dt.timedelta(minutes=1)
        zone = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{text}（{zone}）" if zh else f"{text} {zone}"


def _rule_meta(rule_id: str) -> dict[str, str]:
    cls = RULES_BY_ID.get(rule_id)
    if cls is None:
        return {"title_zh": rule_id, "title_en": rule_id, "clause": "", "explain_zh": "", "explain_en": ""}
    return {"title_zh": cls.title_zh, "title_en": cls.title_en, "clause": cls.clause,
            "explain_zh": cls.explain_zh, "explain_en": cls.explain_en}


def events_judged(rule_id: str, judged_frames: int | None, assessable_s: float | None) -> int | None:
    """How many events an event rule judged on their close (one frame each), ``None`` for
    a frame rule, a rule also judged between events (face touching, open palm: their time
    is real time), a photo, or a result stored without the count: an on-close rule's
    assessable time (a frame per event) would read as a few hundredths of a second."""
    cls = RULES_BY_ID.get(rule_id)
    if cls is None or not cls.judged_on_close or judged_frames is None or assessable_s is None:
        return None  # a frame rule, or an event rule that also passes frames between events
    return judged_frames


@functools.cache
def _missed_violation_s() -> float:
    from .calibration import load_calibration

    return load_calibration().missed_violation_s


@functools.cache
def _thin_evidence_s() -> float:
    from .calibration import load_calibration

    return load_calibration().thin_evidence_s


def rule_thin_evidence(rule_id: str, score: float | None, assessable_s: float | None) -> bool:
    """Does this stored rule result's score rest on little judged time (``[scoring]
    thin_evidence_s`` of the default calibration; never an event rule's)?"""
    cls = RULES_BY_ID.get(rule_id)
    return thin_evidence(score, assessable_s, _thin_evidence_s() if cls is not None and cls.evidence_in_time else 0.0)


def _assessable_cell(r: Mapping[str, Any], lang: Lang) -> str:
    n = r.get("events_judged")
    if n is not None:
        return tr("event_one" if n == 1 else "event_many", lang).format(n=n)
    text = f'{_secs_text(r.get("assessable_s"))} {tr("seconds", lang)}'
    return text + tr("thin_evidence", lang) if r.get("thin_evidence") else text


def _colon(lang: Lang) -> str:
    """A label's colon: full-width in Chinese text."""
    return "：" if lang == "zh" else ": "


def _semi(lang: Lang) -> str:
    return "；" if lang == "zh" else "; "


def _paren(text: str, lang: Lang) -> str:
    """An aside in brackets: full-width in Chinese text (escaped)."""
    return f"（{_e(text)}）" if lang == "zh" else f" ({_e(text)})"


def _secs_text(x: Any) -> str:
    """Seconds as people read them: one decimal (9.7, not 9.733)."""
    return "—" if not isinstance(x, int | float) else f"{float(x):.1f}"


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


# -- building the JSON ----------------------------------------------------------------------


def report_from_result(result: Any, *, source: str, stride: int = 1, person: str | None = None,
                       session_id: int | None = None, role_play: str | None = None) -> dict[str, Any]:
    """The report of an analysis that was not stored (``posture-coach score``, batch)."""
    rules = []
    counts: dict[str, int] = {}
    for f in result.findings:
        counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
    for r in result.rules:
        rules.append({"rule_id": r.rule_id, **_rule_meta(r.rule_id), "score": _r(r.score),
                      "score_reviewed": _r(r.score), "weight": r.weight, "assessable_s": _r(r.assessable_s, 3),
                      "events_judged": events_judged(r.rule_id, r.judged_frames, r.assessable_s),
                      "thin_evidence": rule_thin_evidence(r.rule_id, r.score, r.assessable_s),
                      "unknown_share": _r(r.unknown_share), "top_reason": r.top_reason,
                      "reasons": dict(r.reasons), "findings": counts.get(r.rule_id, 0)})
    findings = [{"id": i + 1, "rule_id": f.rule_id, "status": f.status, "start_ms": f.start_ms,
                 "end_ms": f.end_ms, "peak": _r(f.peak), "peak_text": _peak_texts(f.rule_id, f.peak),
                 "peak_ms": f.peak_ms, "penalty_s": _r(f.penalty_s, 3),
                 "evidence": {k: str(p) for k, p in f.evidence.items()}, "review": None}
                for i, f in enumerate(result.findings)]
    return {
        "schema": SCHEMA,
        "session": {"id": session_id, "source": source, "person": person, "kind": "recorded", "scenario": None,
                    "duration_s": _r(result.duration_s, 3), "frames": result.frames, "stride": stride,
                    "role_play": role_play,
                    "analysed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "status": "done"},
        "overall_score": _r(result.overall_score), "overall_score_reviewed": _r(result.overall_score),
        "unknown_share": _r(result.unknown_share),
        "evidence_kept": any(f["evidence"] for f in findings),
        "rules": rules, "findings": findings,
        # What the analysis noticed about the input (errors.NOTICE_TEXTS), e.g. two people in view.
        "notices": notices_with_texts((result.summary or {}).get("notices")),
        "events": [{"type": e.type, "t_ms": e.t_ms, **{k: v for k, v in e.data.items() if k not in ("type", "t_ms")}}
                   for e in result.events],
    }


def report_from_session(db: Any, session_id: int) -> dict[str, Any]:
    """The report of a stored session, with the trainers' decisions applied."""
    from .store import repo

    with db.session() as s:
        row = repo.get_session(s, session_id)
        rs = repo.reviewed_scores(row)
        decisions = repo.finding_decisions(row)
        trainers = {u.id: u.username for u in s.scalars(_users_q(row))}
        counts: dict[str, int] = {}
        for ep in row.episodes:
            if ep.kind == "finding" and ep.rule_id:
                counts[ep.rule_id] = counts.get(ep.rule_id, 0) + 1
        rules = [{"rule_id": rr.rule_id, **_rule_meta(rr.rule_id), "score": _r(rr.score),
                  "score_reviewed": _r(rs.rules.get(rr.rule_id)), "weight": rr.weight,
                  "assessable_s": _r(rr.assessable_s, 3), "unknown_share": _r(rr.unknown_share),
                  "events_judged": events_judged(rr.rule_id, rr.judged_frames, rr.assessable_s),
                  "thin_evidence": rule_thin_evidence(rr.rule_id, rr.score, rr.assessable_s),
                  "top_reason": rr.top_reason, "reasons": dict(rr.reasons or {}),
                  "findings": counts.get(rr.rule_id, 0)} for rr in row.rule_results]
        findings = []
        for ep in row.episodes:
            if ep.kind != "finding":
                continue
            rv = decisions.get(ep.id)
            findings.append({
                "id": ep.id, "rule_id": ep.rule_id, "status": ep.status, "start_ms": ep.start_ms,
                "end_ms": ep.end_ms, "peak": _r(ep.peak), "peak_text": _peak_texts(ep.rule_id, ep.peak),
                "peak_ms": ep.peak_ms, "penalty_s": _r(ep.penalty_s, 3),
                "evidence": {ev.kind: str(db.path(ev.path)) for ev in ep.evidence},
                "review": None if rv is None else {"decision": rv.decision, "comment": rv.comment,
                                                   "trainer": trainers.get(rv.trainer_id)},
            })
        missed = [{"rule_id": rv.rule_id, "at_ms": rv.at_ms, "comment": rv.comment,
                   "trainer": trainers.get(rv.trainer_id)} for rv in row.reviews if rv.decision == "missed"]
        events = [{"type": ep.event_type, "t_ms": ep.start_ms,
                   **{k: v for k, v in (ep.data or {}).items() if k not in ("type", "t_ms")}}
                  for ep in row.episodes if ep.kind == "event"]
        return {
            "schema": SCHEMA,
            "session": {"id": row.id, "source": row.source, "person": row.person.name if row.person else None,
                        "kind": row.kind, "scenario": row.scenario, "duration_s": _r(row.duration_s, 3),
                        "frames": row.frames, "stride": row.stride, "role_play": row.role_play,
                        "posture": row.posture,  # as uploaded: auto, standing or sitting
                        "status": row.status,
                        "failure_reason": row.failure_reason,  # errors.REASON_TEXTS key
                        "analysed_at": None if row.analysed_at is None
                        else row.analysed_at.isoformat(timespec="seconds")},
            "overall_score": _r(row.overall_score), "overall_score_reviewed": _r(rs.overall),
            "unknown_share": _r(row.unknown_share),
            "evidence_kept": any(f["evidence"] for f in findings),
            "rules": rules, "findings": findings, "missed": missed, "events": events,
            # A live drill or scenario saved from the page: its steps' outcomes.
            "drill": (row.summary or {}).get("drill"),
            "notices": notices_with_texts((row.summary or {}).get("notices")),
            # The onboarding self-check: this attempt's result in each of the person's
            # cohorts, as HR's cohort view counts it ("see the report" must find it here).
            "self_check": repo.self_check_for_trainee(s, session_id) if row.scenario == "onboarding" else [],
        }


def _users_q(row: Any) -> Any:
    from sqlalchemy import select

    from .store.models import User

    return select(User).where(User.id.in_({rv.trainer_id for rv in row.reviews}))


def write_json(report: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    commit(tmp, path)
    return path


# -- HTML -----------------------------------------------------------------------------------


def _e(x: object) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _pct(x: float | None) -> str:
    return "—" if x is None else str(points(x))


def _sec(ms: int | None) -> str:
    return "—" if ms is None else _secs_text(ms / 1000.0)


def _data_uri(path: str | None) -> str | None:
    if not path:
        return None
    p = Path(path)
    if not p.is_file():
        return None
    mime = mimetypes.guess_type(p.name)[0] or "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(p.read_bytes()).decode('ascii')}"


def _event_details(ev: Mapping[str, Any], lang: Lang) -> str:
    """What a trainer hovering an event wants: how long it was held and the lean at its peak."""
    parts = []
    held, lasted = ev.get("held_s"), ev.get("duration_s")
    if isinstance(held, int | float):
        parts.append(f"保持 {held:.1f} 秒" if lang == "zh" else f"held {held:.1f} s")
    elif isinstance(lasted, int | float):
        parts.append(f"持续 {lasted:.1f} 秒" if lang == "zh" else f"lasted {lasted:.1f} s")
    # A greeting's judged lean (against the person's upright reading), else the peak frame's.
    lean = ev.get("lean_deg")
    if lean is None and isinstance(ev.get("peak"), Mapping):
        lean = ev["peak"].get("lean_deg")
    if isinstance(lean, int | float) and ev.get("type") in ("handshake", "bow", "handover"):
        parts.append(f"前倾 {lean:.1f}°" if lang == "zh" else f"lean {lean:.1f}°")
    return "".join(f" · {p}" for p in parts)


def _self_check_html(results: Sequence[Mapping[str, Any]], rules: Mapping[str, Mapping[str, Any]],
                     lang: Lang) -> str:
    """The onboarding self-check's result per cohort, with the required rules that fell
    short of the pass mark and their scores."""
    out = []
    sep = "、" if lang == "zh" else ", "
    for c in results:
        result = str(c.get("result"))
        missing = [str(m.get("title_zh" if lang == "zh" else "title_en") or m.get("id"))
                   for m in c.get("missing_steps") or () if isinstance(m, Mapping)]
        key = "self_check_not_shown" if result == "incomplete" and missing else f"self_check_{result}"
        text = tr(key, lang).format(cohort=c.get("cohort"), mark=points(float(c["pass_score"])),
                                    steps=sep.join(missing))
        short = [f"{_title(rules.get(rid, _rule_meta(rid)), lang)} {_pct(rules.get(rid, {}).get('score_reviewed'))}"
                 for rid in c.get("not_passed") or ()]
        if short and result == "failed":
            text += tr("self_check_short", lang).format(rules=sep.join(short))
        if not c.get("counted"):
            text += tr("self_check_not_counted", lang)
        css = "notice" if result != "passed" else "notice ok"
        out.append(f'<p class="{css} self-check" data-result="{_e(result)}">{_e(text)}</p>')
    return "".join(out)


def _mostly_unassessable(report: Mapping[str, Any], lang: Lang) -> str:
    """A score of 99 beside "72 % not assessable" reads as a near-perfect role-play: say
    that the score covers only what could be seen, and why the rest could not."""
    share = report.get("unknown_share")
    if not isinstance(share, int | float) or share < MOSTLY_UNASSESSABLE:
        return ""
    counts: dict[str, int] = {}
    for r in report.get("rules", []):
        why = r.get("top_reason")
        if why and why not in NOT_APPLICABLE_REASONS and (r.get("unknown_share") or 0) >= MOSTLY_UNASSESSABLE:
            counts[why] = counts.get(why, 0) + 1
    top = sorted(counts, key=lambda k: -counts[k])[:2]
    sep = "；" if lang == "zh" else "; "
    text = tr("mostly_unassessable", lang).format(pct=points(share))
    if top:
        text += tr("main_reasons", lang).format(why=sep.join(reason_text(k, lang) for k in top))
    return f'<p class="notice advice" id="mostly-unassessable">{_e(text)}</p>'


def events_table(events: Sequence[Mapping[str, Any]], lang: Lang) -> str:
    """The actions seen (a handshake, a card handed over, a bow…) with what was measured:
    what the timeline's hover text says, printed, so that a PDF keeps it too."""
    rows = [e for e in events if str(e.get("type")) in EVENT_NAMES and e.get("type") != "posture"]
    if not rows:
        return ""
    out = [f'<table class="events"><thead><tr><th>{_e(tr("event", lang))}</th>'
           f'<th>{_e(tr("time_s", lang))}</th><th>{_e(tr("measured", lang))}</th></tr></thead><tbody>']
    for ev in rows:
        start = int(ev.get("start_ms", ev.get("t_ms")) or 0)
        end = ev.get("end_ms")
        span = _sec(start) if end is None else f"{_sec(start)}–{_sec(int(end))}"
        name = EVENT_NAMES[str(ev["type"])][0 if lang == "zh" else 1]
        details = _event_details(ev, lang).removeprefix(" · ") or "—"
        out.append(f'<tr class="event-row" data-kind="{_e(ev["type"])}"><td>{_e(name)}</td>'
                   f'<td class="num">{_e(span)}</td><td>{_e(details)}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _steps_html(steps: Sequence[Mapping[str, Any]], lang: Lang) -> str:
    """A saved drill's or scenario's steps: outcome, each rule's outcome, missing actions and
    a timed rule's onset and hold (the live page's drill result, kept with the session)."""
    sep = "、" if lang == "zh" else ", "
    out = [f"<h2>{_e(tr('steps', lang))}</h2><table class=\"steps\"><thead><tr>"
           f"<th>{_e(tr('step', lang))}</th><th>{_e(tr('step_result', lang))}</th>"
           f"<th>{_e(tr('step_notes', lang))}</th></tr></thead><tbody>"]
    for st in steps:
        outcome = str(st.get("outcome"))
        key = f"outcome_{outcome}"
        notes: list[str] = []
        for rid, r in (st.get("rules") or {}).items():
            rk = f"outcome_{r.get('outcome')}"
            if rk in T:
                notes.append(f"{_title(_rule_meta(rid), lang)}{_colon(lang)}{tr(rk, lang)}")
        missing = [EVENT_NAMES.get(e, (e, e))[0 if lang == "zh" else 1] for e in st.get("missing_events") or ()]
        if missing:
            notes.append(tr("missing_event", lang) + sep.join(missing))
        # The action was made, at another time: said, so that the rule table's "judged on
        # 2 handshakes" and this step's "no handshake" do not read as a contradiction.
        for ev, times in (st.get("missing_seen_at") or {}).items():
            if times:
                when = sep.join(f"{float(t):.1f}" for t in times[:3])
                notes.append(tr("seen_elsewhere", lang).format(
                    event=EVENT_NAMES.get(ev, (ev, ev))[0 if lang == "zh" else 1], at=when))
        tm = st.get("timing")
        if isinstance(tm, Mapping) and tm.get("outcome") in ("pass", "warn", "fail"):
            rule = TIMING_NAMES.get(str(tm.get("rule")), ("", ""))[0 if lang == "zh" else 1] or \
                _title(_rule_meta(str(tm.get("rule"))), lang)
            if tm.get("onset_s") is None:
                notes.append(tr("timing_never", lang).format(rule=rule, within=f"{tm.get('within_s'):g}"))
            else:
                notes.append(tr("timing_note", lang).format(
                    rule=rule, onset=f"{tm['onset_s']:.1f}", within=f"{tm.get('within_s'):g}",
                    held=f"{tm.get('held_s', 0):.1f}", hold=f"{tm.get('hold_s'):g}"))
        title = st.get("title_zh" if lang == "zh" else "title_en") or st.get("id")
        colour = STATUS_COLOURS.get(outcome, STATUS_COLOURS["unknown"])
        out.append(f'<tr class="step" data-step="{_e(st.get("id"))}"><td>{_e(title)}</td>'
                   f'<td style="color:{colour};font-weight:600">{_e(tr(key, lang) if key in T else outcome)}</td>'
                   f'<td>{_e(" · ".join(notes))}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _title(rule: Mapping[str, Any], lang: Lang) -> str:
    return str(rule.get("title_zh" if lang == "zh" else "title_en") or rule.get("rule_id"))


def timeline_svg(report: Mapping[str, Any], lang: Lang, width: int = 1000) -> str:
    """Findings (one row per rule that has any) and events on one time axis, from the data."""
    findings: Sequence[Mapping[str, Any]] = report.get("findings", [])
    events: Sequence[Mapping[str, Any]] = report.get("events", [])
    dur_ms = max(
        [int((report["session"].get("duration_s") or 0) * 1000)]
        + [int(f.get("end_ms") or f.get("start_ms") or 0) for f in findings]
        + [int(e.get("t_ms") or 0) for e in events] + [1000]
    )
    titles = {r["rule_id"]: _title(r, lang) for r in report.get("rules", [])}
    # Violations a trainer added at a moment are on their rule's row too (a diamond).
    added = [m for m in report.get("missed") or () if m.get("at_ms") is not None and m.get("rule_id")]
    rows = sorted({str(f["rule_id"]) for f in findings} | {str(m["rule_id"]) for m in added},
                  key=lambda rid: list(titles).index(rid) if rid in titles else 999)
    # Events: the closed ones (an opening marker ``<kind>_start`` or a dropped one says
    # nothing a trainer can use), one row per kind, in a fixed order.
    shown = [e for e in events if str(e.get("type")) in EVENT_NAMES]
    kinds = [k for k in EVENT_NAMES if any(e.get("type") == k for e in shown)]
    names = {k: EVENT_NAMES[k][0 if lang == "zh" else 1] for k in kinds}
    labels = [titles.get(rid, rid) for rid in rows] + list(names.values())
    # The label column fits the longest label (CJK glyphs are about twice as wide).
    longest = max((sum(12.5 if ord(c) > 0x2E80 else 6.6 for c in lbl) for lbl in labels), default=0.0)
    label_w, pad, row_h = round(min(0.42 * width, max(150.0, longest + 18))), 10, 26
    plot_w = width - label_w - 2 * pad
    n_rows = len(rows) + len(kinds)
    height = 40 + max(n_rows, 1) * row_h + 30

    def x(ms: float) -> float:
        return label_w + plot_w * max(0.0, min(1.0, ms / dur_ms))

    secs = _e(tr("seconds", lang))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-label="{_e(tr("timeline", lang))}">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>']
    # time axis: ticks at a round step
    dur_s = dur_ms / 1000.0
    step = next((st for st in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if dur_s / st <= 10), 1200)
    axis_y = height - 24
    out.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" stroke="#555"/>')
    t = 0.0
    while t <= dur_s + 1e-9:
        xx = x(t * 1000)
        out.append(f'<line x1="{xx:.1f}" y1="30" x2="{xx:.1f}" y2="{axis_y + 4}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{xx:.1f}" y="{axis_y + 17}" font-size="11" text-anchor="middle" '
                   f'fill="#444">{t:g}</text>')
        t += step
    out.append(f'<text x="{label_w + plot_w}" y="20" font-size="11" text-anchor="end" fill="#444">'
               f'{_e(tr("time_s", lang))}</text>')
    for i, rid in enumerate(rows):
        y = 36 + i * row_h
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" font-size="12" text-anchor="end" '
                   f'fill="#222">{_e(titles.get(rid, rid))}</text>')
        for f in findings:
            if f["rule_id"] != rid:
                continue
            x0 = x(f["start_ms"])
            end = f.get("end_ms")
            x1 = x(float(end) if end is not None else float(f["start_ms"]))
            colour = STATUS_COLOURS.get(str(f.get("status")), "#999")
            rv = f.get("review") or {}
            dash = ' stroke-dasharray="4 2" fill-opacity="0.35"' if rv.get("decision") == "disagree" else ""
            out.append(f'<rect class="finding" data-rule="{_e(rid)}" x="{x0:.1f}" y="{y + 3}" '
                       f'width="{max(x1 - x0, 3):.1f}" height="{row_h - 8}" rx="3" fill="{colour}" '
                       f'stroke="#333"{dash}><title>{_e(titles.get(rid, rid))}{_colon(lang)}{_sec(f["start_ms"])}–'
                       f'{_sec(f.get("end_ms"))} {secs}</title></rect>')
            if f.get("peak_ms") is not None:
                px = x(f["peak_ms"])
                out.append(f'<path d="M{px:.1f},{y + 1} l-4,-5 h8 z" fill="#222"/>')
        for m in added:
            if m["rule_id"] != rid:
                continue
            mx = x(float(m["at_ms"]))
            out.append(f'<path class="missed" data-rule="{_e(rid)}" d="M{mx:.1f},{y + 2} l8,9 l-8,9 l-8,-9 z" '
                       f'fill="#8e24aa" stroke="#333"><title>{_e(tr("missed_mark", lang))}{_colon(lang)}'
                       f'{_sec(m["at_ms"])} {secs}</title></path>')
    for j, kind in enumerate(kinds):
        y = 36 + (len(rows) + j) * row_h
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" font-size="12" text-anchor="end" '
                   f'fill="#1e88e5">{_e(names[kind])}</text>')
        for ev in (e for e in shown if e.get("type") == kind):
            if kind == "posture":
                word = POSTURE_NAMES.get(str(ev.get("posture")), ("", str(ev.get("posture"))))
                text = word[0 if lang == "zh" else 1]
                ex = x(ev.get("t_ms") or 0)
                out.append(f'<g class="event" data-kind="posture"><path d="M{ex:.1f},{y + 4} l6,8 l-6,8 '
                           f'l-6,-8 z" fill="#90a4ae"><title>{_e(text)} @ {_sec(ev.get("t_ms"))} {secs}</title></path>'
                           f'<text x="{ex + 8:.1f}" y="{y + 16}" font-size="10" fill="#546e7a">{_e(text)}</text></g>')
                continue
            start = int(ev.get("start_ms", ev.get("t_ms")) or 0)
            end = int(ev.get("end_ms") or start)
            x0, x1 = x(float(start)), x(float(end))
            out.append(f'<rect class="event" data-kind="{_e(kind)}" x="{x0:.1f}" y="{y + 5}" '
                       f'width="{max(x1 - x0, 3):.1f}" height="{row_h - 12}" rx="3" fill="#1e88e5" '
                       f'fill-opacity="0.75"><title>{_e(names[kind])}{_colon(lang)}{_sec(start)}–{_sec(end)} {secs}'
                       f'{_e(_event_details(ev, lang))}</title></rect>')
    if not rows and not kinds:
        done = report["session"].get("status") in (None, "done")
        msg, colour = (tr("no_findings", lang), "#4caf50") if done else (tr("not_analysed", lang), "#999")
        out.append(f'<text x="{label_w}" y="50" font-size="13" fill="{colour}">{_e(msg)}</text>')
    out.append("</svg>")
    return "".join(out)


def _score_bar(score: float | None) -> str:
    if score is None:
        return ""
    w = 120
    sc = max(0.0, min(1.0, score))
    colour = "#4caf50" if sc >= 0.8 else "#ff9800" if sc >= 0.5 else "#e53935"
    return (f'<svg class="bar" width="{w}" height="12" viewBox="0 0 {w} 12"><rect width="{w}" height="12" '
            f'fill="#eee"/><rect width="{w * sc:.1f}" height="12" fill="{colour}"/></svg>')


CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",system-ui,sans-serif;margin:24px auto;
max-width:1100px;color:#222;padding:0 16px}
h1{font-size:24px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 10px;border-bottom:2px solid #eee;padding-bottom:4px}
.meta{color:#555;font-size:13px;display:flex;flex-wrap:wrap;gap:4px 20px}
.notice{border-left:4px solid #c62828;background:#fdecea;padding:8px 12px;margin:12px 0}
.notice.advice{border-left-color:#f9a825;background:#fff8e1}
.notice.ok{border-left-color:#2e7d32;background:#e8f5e9}
.scores{display:flex;gap:16px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:8px;padding:10px 16px;min-width:160px}
.card .big{font-size:30px;font-weight:700}.card .lbl{font-size:12px;color:#666}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #eee;padding:6px 8px;
text-align:left;vertical-align:top}th{background:#fafafa}td.num{text-align:right;white-space:nowrap}
.na{color:#777}.clause{color:#666;font-size:12px}td.clause{min-width:11em}
td.num .clause{display:block;white-space:nowrap}
table.rules td:first-child{min-width:8em}td.barcell{width:1%}table.rules th:last-child{white-space:nowrap}
table.steps td:nth-child(-n+2){white-space:nowrap}
table.events{width:auto;min-width:50%}table.events td{padding-right:28px}table.events td.num{text-align:left}
.finding{display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:14px;border:1px solid #ddd;border-radius:8px;
padding:12px;margin:10px 0}.finding img{max-width:100%;border-radius:4px;border:1px solid #ccc}
.finding .teeth img{max-width:256px}
.tag{display:inline-block;border-radius:4px;padding:1px 6px;color:#fff;font-size:12px}
.tag.warn{background:#ff9800}.tag.fail{background:#e53935}.review{background:#f3f7ff;border-radius:6px;padding:6px 8px;
margin-top:8px;font-size:13px}.disagreed{opacity:.6}.noev{color:#777;font-size:13px}
footer{margin-top:30px;color:#999;font-size:12px}
"""

#: A trainer's comment longer than this (characters) lets its finding break across printed
#: pages: kept whole, a finding taller than what is left of a page moves to the next one and
#: leaves that page mostly empty (a 2,000-character comment is about half an A4 page).
LONG_COMMENT_CHARS = 400

# Printing (a browser's "Print", and the PDF, which is this page printed by Chromium): A4 with
# page numbers, no screen-only width limits, colours kept, and no heading, table row, finding
# card or the timeline split across pages.
PRINT_CSS = """
@media print{
@page{size:A4;margin:14mm 12mm 16mm;
@bottom-right{content:counter(page) " / " counter(pages);font-size:9px;color:#888}}
html,body{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;padding:0;max-width:none;font-size:13px}
h1{margin-top:0}h2{break-after:avoid;page-break-after:avoid}
thead{display:table-header-group}th.score{white-space:nowrap}
tr,.card,.scores,div.finding,svg.timeline{break-inside:avoid;page-break-inside:avoid}
div.finding.long{break-inside:auto;page-break-inside:auto}
div.finding{grid-template-columns:minmax(0,1fr) 240px}
svg.bar{width:72px}
.no-print,button,input,select,textarea,nav{display:none!important}
footer{break-before:avoid}
.signoff{display:flex!important}
}
.signoff{display:none;gap:48px;margin-top:28px;font-size:13px;break-inside:avoid}
"""


def _running_head_css(report: Mapping[str, Any], lang: Lang, when: str) -> str:
    """Printed pages after the first carry the report's title, the trainee and the analysis
    time (``when``, as the header says it) at the top: a page pulled from a file still says
    whose it is."""
    sess = report.get("session") or {}
    parts = [tr("title", lang), str(sess.get("person") or ""), when]
    text = " · ".join(p for p in parts if p)
    # A CSS string inside <style>: quotes and backslashes escaped, and no "<" (a name
    # holding "</style>" must not end the style sheet).
    quoted = "".join(f"\\{ord(c):x} " if c in '\\"<>\n\r' else c for c in text)
    return ('@media print{@page{@top-left{content:"' + quoted + '";font-size:9px;color:#888;'
            'font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif}}'
            '@page:first{@top-left{content:none}}}')


def render_html(report: Mapping[str, Any], lang: Lang = "zh", *, timeline_width: int = 1000,
                tz: dt.tzinfo | None = None) -> str:
    """The whole report as one self-contained HTML page.

    ``timeline_width`` is the SVG timeline's drawing width: it scales to the page width, so a
    narrower drawing (the PDF uses 760, about an A4 page's text width) prints larger labels.
    ``tz``: the reader's time zone for the analysis time (default: this machine's).
    """
    if lang not in ("zh", "en"):
        raise ValueError("lang must be 'zh' or 'en'")
    sess = report["session"]
    rules: Sequence[Mapping[str, Any]] = report.get("rules", [])
    titles = {r["rule_id"]: r for r in rules}
    live = sess.get("kind") == "live"  # a saved live practice: no video behind it
    source_name = tr("source_live", lang) if live else Path(str(sess.get("source") or "")).name
    when = analysed_at_text(str(sess["analysed_at"]), tz, lang) if sess.get("analysed_at") else ""
    h: list[str] = [
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">',
        f"<title>{_e(tr('title', lang))} — {_e(source_name)}</title>",
        f"<style>{CSS}{PRINT_CSS}{_running_head_css(report, lang, when)}</style></head><body>",
        f"<h1>{_e(tr('title', lang))}</h1>",
        '<div class="meta">',
        f"<span>{_e(tr('source_live', lang))}</span>" if live
        else f"<span>{_e(tr('source', lang))}{_colon(lang)}{_e(source_name)}</span>",
    ]
    if sess.get("person"):
        h.append(f"<span>{_e(tr('person', lang))}{_colon(lang)}{_e(sess['person'])}</span>")
    dur = sess.get("duration_s")
    h.append(f"<span>{_e(tr('duration', lang))}{_colon(lang)}"
             f"{'—' if dur is None else _e(_secs_text(dur)) + ' ' + _e(tr('seconds', lang))}</span>")
    # The frame count is for whoever checks the analysis (the JSON keeps it), not for the
    # trainee's file; a coarse stride is said, as it thins the evidence.
    if (sess.get("stride") or 1) > 1:
        h.append(f"<span>{_e(tr('stride', lang))}{_colon(lang)}{_e(sess.get('stride'))}</span>")
    if sess.get("role_play") in ("left", "right", "profile"):
        h.append(f"<span>{_e(tr('role_play_' + str(sess['role_play']), lang))}</span>")
    if when:
        h.append(f"<span>{_e(tr('analysed', lang))}{_colon(lang)}{_e(when)}</span>")
    h.append("</div>")
    analysed = sess.get("status") in (None, "done")  # a report made from a result, or a finished job
    if sess.get("status") in ("queued", "running"):
        h.append(f'<p class="notice" id="not-analysed">{_e(tr("pending", lang))}</p>')
    elif not analysed:
        texts = reason_texts(sess.get("failure_reason"))
        why = f"{_colon(lang)}{texts[lang]}" if texts else ""
        h.append(f'<p class="notice" id="not-analysed">{_e(tr("failed", lang) + why)}</p>')
    for note in report.get("notices") or ():
        text = notice_text(note, lang)
        if text:
            h.append(f'<p class="notice advice" id="notice-{_e(note.get("code"))}">{_e(text)}</p>')
    if not analysed:  # no scores, timeline or rule table: empty ones would read as results
        h.append(_footer(report, lang))
        return "\n".join(h)

    # scores
    h.append('<div class="scores">')
    h.append(f'<div class="card"><div class="lbl">{_e(tr("overall", lang))}</div>'
             f'<div class="big" id="overall">{_pct(report.get("overall_score"))}</div></div>')
    if report.get("overall_score_reviewed") != report.get("overall_score"):
        h.append(f'<div class="card"><div class="lbl">{_e(tr("overall_reviewed", lang))}</div>'
                 f'<div class="big" id="overall-reviewed">{_pct(report.get("overall_score_reviewed"))}</div></div>')
    h.append(f'<div class="card"><div class="lbl">{_e(tr("unknown_share", lang))}</div>'
             f'<div class="big">{_pct(report.get("unknown_share"))}%</div></div>')
    h.append("</div>")
    h.append(_mostly_unassessable(report, lang))

    h.append(_self_check_html(report.get("self_check") or [], {r["rule_id"]: r for r in rules}, lang))
    drill = report.get("drill")
    if isinstance(drill, Mapping) and drill.get("steps"):
        h.append(_steps_html(drill["steps"], lang))

    # timeline
    h.append(f"<h2>{_e(tr('timeline', lang))}</h2>")
    h.append(timeline_svg(report, lang, width=timeline_width))
    h.append(events_table(report.get("events", []), lang))

    # rules table (assessable ones)
    h.append(f"<h2>{_e(tr('rules', lang))}</h2>")
    h.append(f"<table class=\"rules\"><thead><tr><th>{_e(tr('rule', lang))}</th><th>{_e(tr('clause', lang))}</th>"
             f"<th class=\"score\">{_e(tr('score', lang))}</th><th></th><th>{_e(tr('assessable', lang))}</th>"
             f"<th>{_e(tr('unknown_share', lang))}</th></tr></thead><tbody>")
    not_assessable: list[Mapping[str, Any]] = []
    for r in rules:
        reviewed = r.get("score_reviewed")
        by_trainer = r.get("score") is None and reviewed is not None
        if r.get("score") is None and not by_trainer:
            not_assessable.append(r)
            continue
        # A rule the coach could not judge but a trainer found broken: the trainer's score,
        # said as such (not also listed as not assessable).
        score_txt = _pct(r.get("score")) if r.get("score") is not None else "—"
        if reviewed is not None and reviewed != r.get("score"):
            score_txt += f" → {_pct(reviewed)}"
            if by_trainer:
                score_txt += f'<span class="clause">{_paren(tr("missed_mark", lang), lang)}</span>'
        judged = tr("trainer_judged", lang) if by_trainer else _assessable_cell(r, lang)
        # The rule id stays in the markup (data-rule, a tooltip), not in the trainee's file.
        h.append(f'<tr class="rule" data-rule="{_e(r["rule_id"])}"><td title="{_e(r["rule_id"])}">'
                 f'{_e(_title(r, lang))}</td>'
                 f'<td class="clause">{_e(handbook_clause(str(r.get("clause") or ""), lang))}</td>'
                 f'<td class="num">{score_txt}</td>'
                 f'<td class="barcell">{_score_bar(reviewed if reviewed is not None else r.get("score"))}</td>'
                 f'<td class="num">{_e(judged)}</td>'
                 f'<td class="num">{"—" if by_trainer else str(_pct(r.get("unknown_share"))) + "%"}</td></tr>')
    h.append("</tbody></table>")

    # findings
    h.append(f"<h2>{_e(tr('findings', lang))}</h2>")
    findings: Sequence[Mapping[str, Any]] = report.get("findings", [])
    if not findings:
        h.append(f"<p>{_e(tr('no_findings' if analysed else 'not_analysed', lang))}</p>")
    for f in findings:
        meta = titles.get(f["rule_id"], {"rule_id": f["rule_id"]})
        rv = f.get("review")
        cls = "finding disagreed" if rv and rv.get("decision") == "disagree" else "finding"
        if rv and len(str(rv.get("comment") or "")) > LONG_COMMENT_CHARS:
            cls += " long"  # may break across printed pages rather than leave one mostly empty
        status = str(f.get("status"))
        h.append(f'<div class="{cls}" id="finding-{_e(f.get("id"))}"><div>')
        h.append(f'<b>{_e(_title(meta, lang))}</b> <span class="tag {_e(status)}">'
                 f'{_e(tr("status_fail" if status == "fail" else "status_warn", lang))}</span>')
        h.append(f'<div class="clause">{_e(handbook_clause(str(meta.get("clause") or ""), lang))}</div>')
        explain = meta.get("explain_zh" if lang == "zh" else "explain_en")
        if explain:
            h.append(f"<p>{_e(explain)}</p>")
        # A live run keeps no frames, so its findings have no peak time: say none, not "— s".
        peak_at = (f"{_semi(lang)}{_e(tr('peak', lang))} {_sec(f.get('peak_ms'))} {_e(tr('seconds', lang))}"
                   if f.get("peak_ms") is not None else "")
        h.append(f"<div>{_sec(f['start_ms'])}–{_sec(f.get('end_ms'))} {_e(tr('seconds', lang))}"
                 + peak_at
                 + (f"{_semi(lang)}{_e(tr('value', lang))} {_e(value_text(str(f['rule_id']), f.get('peak'), lang))}"
                    if f.get("peak") is not None else "")
                 + "</div>")
        if rv:
            h.append(f'<div class="review">{_e(tr("review", lang))}{_colon(lang)}{_e(rv.get("trainer"))} '
                     f'{_e(tr("agree" if rv.get("decision") == "agree" else "disagree", lang))}'
                     + (f" — {_e(rv.get('comment'))}" if rv.get("comment") else "") + "</div>")
        h.append("</div><div>")
        ev = f.get("evidence") or {}
        snap = _data_uri(ev.get("snapshot"))
        if snap:
            h.append(f'<img class="snapshot" alt="snapshot" src="{snap}">')
        else:
            h.append(f'<p class="noev">{_e(tr("no_evidence_live" if live else "no_evidence", lang))}</p>')
        teeth = _data_uri(ev.get("teeth"))
        if teeth:
            h.append(f'<div class="teeth"><div class="clause">{_e(tr("teeth", lang))}</div>'
                     f'<img alt="teeth" src="{teeth}"></div>')
        h.append("</div></div>")

    # violations a trainer saw and the coach did not flag
    missed: Sequence[Mapping[str, Any]] = report.get("missed") or []
    if missed:
        h.append(f"<h2>{_e(tr('missed', lang))}</h2>")
        h.append(f'<p class="hint">{_e(tr("missed_how", lang).format(s=_secs_text(_missed_violation_s())))}</p>')
        h.append('<ul class="missed">')
        for m in missed:
            meta = titles.get(m["rule_id"], {"rule_id": m["rule_id"]})
            at = (f" · {_sec(m.get('at_ms'))} {_e(tr('seconds', lang))}" if m.get("at_ms") is not None
                  else f" · {_e(tr('whole_recording', lang))}")
            note = f" — {_e(m.get('comment'))}" if m.get("comment") else ""
            h.append(f"<li><b>{_e(_title(meta, lang))}</b>{at}{note}{_paren(str(m.get('trainer')), lang)}</li>")
        h.append("</ul>")

    # Rules that had nothing to judge here (no handshake in the recording, no customer in
    # view, not sitting): one line, apart from what the coach could not see.
    not_applied = [r for r in not_assessable if r.get("top_reason") in NOT_APPLICABLE_REASONS]
    not_assessable = [r for r in not_assessable if r.get("top_reason") not in NOT_APPLICABLE_REASONS]
    # not assessable, honestly
    h.append(f'<div class="keep"><h2>{_e(tr("not_assessable_list", lang))}</h2>')
    if not not_assessable:
        h.append(f"<p>{_e(tr('none', lang))}</p>")
    else:
        h.append(f"<table><thead><tr><th>{_e(tr('rule', lang))}</th><th>{_e(tr('why', lang))}"
                 f"<span class=\"clause\">{_paren(tr('reasons_share', lang), lang)}</span></th></tr></thead><tbody>")
        for r in not_assessable:
            reasons: Mapping[str, float] = r.get("reasons") or {}
            top = r.get("top_reason")
            if reasons:
                ranked = sorted(reasons.items(), key=lambda kv: -kv[1])
                # A reason under half a percent of the time says nothing a reader can act on.
                shown = [kv for kv in ranked if points(kv[1]) > 0] or ranked[:1]
                why = "<br>".join(f"{_e(reason_text(k, lang))} — {points(v)}%" for k, v in shown)
            else:
                why = _e(reason_text(str(top), lang) if top else tr("not_assessable", lang))
            h.append(f'<tr class="na-rule" data-rule="{_e(r["rule_id"])}"><td title="{_e(r["rule_id"])}">'
                     f'{_e(_title(r, lang))}</td><td class="na">{why}</td></tr>')
        h.append("</tbody></table>")
    if not_applied:
        # "；" between them: the titles hold "、" and "，" themselves.
        names = _semi(lang).join(f'<span data-rule="{_e(r["rule_id"])}">{_e(_title(r, lang))}</span>'
                                 for r in not_applied)
        h.append(f'<p class="not-applied"><b>{_e(tr("not_applied_list", lang))}</b>{_colon(lang)}{names}</p>')
    h.append("</div>")
    h.append(_signoff(lang))
    h.append(_footer(report, lang))
    return "\n".join(h)


def _signoff(lang: Lang) -> str:
    """Printed only: where the trainer signs the report for the trainee's file."""
    return (f'<div class="signoff"><span>{_e(tr("signed", lang))}{_colon(lang)}____________</span>'
            f'<span>{_e(tr("signed_date", lang))}{_colon(lang)}____________</span></div>')


def _footer(report: Mapping[str, Any], lang: Lang) -> str:
    # The schema id is for programs reading the JSON; a printed report names the product.
    return f'<footer data-schema="{_e(report.get("schema"))}">{_e(tr("generated", lang))}</footer></body></html>'


def write_html(report: Mapping[str, Any], path: Path, lang: Lang = "zh") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    tmp.write_text(render_html(report, lang), encoding="utf-8")
    commit(tmp, path)
    return path
