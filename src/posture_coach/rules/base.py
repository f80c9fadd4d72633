"""What a rule is: a small class with a stable id, declared parameters and a pure check.

A rule reads :class:`~posture_coach.features.Features` and its calibrated parameters and
returns a :class:`Verdict` for one frame. It keeps no state: persistence (onset, offset,
episodes) is the engine's job, and windowed signals (sway, oscillation) arrive as
features computed by the engine. Thresholds never live here; they come from
``calibration/default.toml`` (one table per rule id, units in key names).

Writing a rule::

    class ShouldersLevel(Rule):
        \"\"\"Shoulders level: no shoulder higher than the other.\"\"\"
        id = "standing.shoulders_level"
        params = (Param("fail_tilt_deg", "deg", "tilt that fails"), ...)
        def judge(self, f, p): ...

then add the class to ``ALL_RULES`` in :mod:`posture_coach.rules`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from posture_coach.features import Features, Posture, ViewName

Status = Literal["pass", "warn", "fail", "unknown"]
StateValue = bool | float | int | str | None
ParamValue = float | int | str | bool
Params = Mapping[str, ParamValue]
Lang = Literal["zh", "en"]

#: Severity order, used to keep the worst status of an episode.
SEVERITY: dict[str, int] = {"unknown": -1, "pass": 0, "warn": 1, "fail": 2}

#: Why a rule could not judge a frame: code -> (Chinese, English).
REASONS: dict[str, tuple[str, str]] = {
    "no_person": ("画面中没有检测到人", "no person in view"),
    "shoulders_not_visible": ("肩部不在画面内或被遮挡", "shoulders out of frame or hidden"),
    "hips_not_visible": ("髋部不在画面内", "hips out of frame"),
    "legs_not_visible": ("膝盖或脚踝不在画面内", "knees or ankles out of frame"),
    "feet_not_visible": ("双脚不在画面内", "feet out of frame"),
    "arms_not_visible": ("手臂不在画面内或被遮挡", "arms out of frame or hidden"),
    "far_hand_hidden": ("侧身时远侧的手被身体挡住，看不出是否插在口袋里",
                        "at an angle the far hand is hidden behind the body: a pocket cannot be told"),
    "face_not_visible": ("面部不在画面内", "face out of frame"),
    "face_not_read": ("面部在画面内但无法识别（离镜头太远、光线太暗或侧脸）",
                      "face in view but not readable (too far from the camera, too dark, or turned away)"),
    "side_view_needed": ("需要侧面或斜侧面拍摄", "a side or oblique view is needed"),
    "front_view_needed": ("需要正面拍摄", "a front view is needed"),
    "view_unknown": ("无法判断拍摄角度", "camera angle could not be determined"),
    "facing_unknown": ("侧面拍摄但无法判断人朝向哪一侧，上身前倾还是后仰无从区分",
                       "side view, but which way the person faces is unclear: a forward "
                       "and a backward lean look alike"),
    "view_turned_calibrate": ("身体斜对镜头，肩线倾斜可能是拍摄角度造成的（建议正对镜头拍摄，或先做个人校准）",
                              "turned from the camera, the shoulder line's tilt may come from the camera angle "
                              "(film facing the camera, or calibrate first)"),
    "baseline_needed": ("需要先做个人校准（正面端正姿势）",
                        "a personal baseline is needed (calibrate in a neutral pose)"),
    "not_standing": ("当前不是站姿", "the person is not standing"),
    "not_sitting": ("当前不是坐姿", "the person is not sitting"),
    "posture_unknown": ("无法判断站姿或坐姿（腿部不在画面内）：请选择“站姿”或“坐姿”"
                        "（练习页面的“检查项目”，上传录像时的“姿势”）",
                        "standing or sitting could not be told (legs out of frame): choose Standing or "
                        "Sitting (Rule pack on the practice page, Posture when uploading)"),
    "needs_video": ("需要连续视频才能判断", "needs video: cannot be judged from one image"),
    "warming_up": ("需要先累积几秒画面才能判断（如开始时、换姿势后）",
                   "needs a few seconds of frames before it can judge (at the start, after a change of posture)"),
    "walking": ("正在走动，站立时再判断", "walking: judged once standing"),
    "hands_in_use": ("双手正在递物、握手、指引方向或鞠躬问候，此时不要求双手交叠",
                     "the hands are busy (a handover, a handshake, showing the way): "
                     "no clasped hands expected"),
    "courtesy_lean": ("握手、鞠躬或递物时身体前倾、手臂前伸是礼节，此时不判断姿势",
                      "leaning in and reaching out during a handshake, a bow or a handover "
                      "is courtesy: the posture is not judged then"),
}


def reason_text(code: str, lang: Lang = "en") -> str:
    """Human text for a reason code; unknown codes are shown as they are."""
    zh, en = REASONS.get(code, (code, code))
    return zh if lang == "zh" else en


@dataclass(frozen=True, slots=True)
class Param:
    """A tunable value a rule declares; its value comes from the calibration file."""

    name: str
    unit: str  # "deg", "sw" (shoulder widths), "tl" (torso lengths), "ratio", "s", "" …
    description: str
    kind: type = float  # float, int, str or bool: the TOML type it must have


@dataclass(frozen=True, slots=True)
class Verdict:
    """One rule's judgement of one frame."""

    rule_id: str
    status: Status
    value: float | str | None = None
    limit: float | None = None
    reason: str | None = None
    states: Mapping[str, StateValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        value = round(self.value, 4) if isinstance(self.value, float) else self.value
        limit = round(self.limit, 4) if isinstance(self.limit, float) else self.limit
        return {"status": self.status, "value": value, "limit": limit, "reason": self.reason}


def severity(rule: type[Rule] | Rule, value: object) -> float | None:
    """How bad a verdict's value is, comparable within one rule (None: not numeric)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return -float(value) if rule.lower_is_worse else abs(float(value))


def grade(value: float, warn: float | None, fail: float) -> Status:
    """``fail`` at or above ``fail``, ``warn`` at or above ``warn``, else ``pass``."""
    if value >= fail:
        return "fail"
    if warn is not None and value >= warn:
        return "warn"
    return "pass"


def showing_the_way(f: Features, sfx: str) -> bool:
    """Is this hand (``sfx`` l or r) raised to show the way: at the hip line or above, not
    folded in crossed arms or clasped with the other hand? With an open palm it is the
    handbook's way-showing gesture. A hand hanging open at the side, or one of a pair
    crossed on the chest, shows nothing: a practice of crossed arms read "point with an
    open hand: 100, judged over 3.4 s" without any gesture made."""
    above = f.get(f"wrist_above_hip_{sfx}_sw")
    return (above is not None and above >= 0.0
            and f.get("arms_folded") != 1.0 and f.get("hands_together") != 1.0)


def event_active(f: Features, *kinds: str) -> bool:
    """Is an interaction event of one of these kinds open on this frame (``ev_<kind>_active``)?"""
    return any(f.get(f"ev_{kind}_active") == 1.0 for kind in kinds)


def num(p: Params, key: str) -> float:
    """A numeric parameter (the calibration loader has already checked its type)."""
    v = p[key]
    assert isinstance(v, int | float) and not isinstance(v, bool), key
    return float(v)


class Rule:
    """Base class of every rule. Subclasses set the class attributes and ``judge``.

    Gates applied before ``judge`` (each gives ``unknown`` with a reason, never
    ``fail``): a person must be in view, the posture must match, the view must be one
    the rule can judge, and video-only rules need video.
    """

    id: ClassVar[str]
    title_zh: ClassVar[str]
    title_en: ClassVar[str]
    clause: ClassVar[str]
    states: ClassVar[tuple[str, ...]]
    params: ClassVar[tuple[Param, ...]] = ()
    views: ClassVar[frozenset[ViewName]] = frozenset({"front", "oblique", "side"})
    posture: ClassVar[Posture | None] = None
    needs_video: ClassVar[bool] = False
    #: A recommended behaviour (e.g. hands clasped in front): missing it only warns.
    recommended: ClassVar[bool] = False
    #: The verdict's value gets worse as it falls (e.g. elbow span of crossed arms).
    lower_is_worse: ClassVar[bool] = False
    #: An event rule (a handshake's lean) gives one verdict per event, on its close: its
    #: judged frames count events, not time.
    judged_on_close: ClassVar[bool] = False
    #: The verdict's evidence is the time watched: a score from a moment seen says it rests
    #: on little evidence (``[scoring] thin_evidence_s``). Event rules rest on their events.
    evidence_in_time: ClassVar[bool] = True
    #: Opt-in rules (the grooming self-check) run only when a pack or drill names them.
    default_enabled: ClassVar[bool] = True
    #: The unit of the verdict's value when it has one throughout (reports print it with
    #: the finding's peak); None where the value's meaning changes with the view.
    value_unit: ClassVar[str | None] = None
    cue_zh: ClassVar[str]
    cue_en: ClassVar[str]
    explain_zh: ClassVar[str]
    explain_en: ClassVar[str]

    def check(self, f: Features, p: Params) -> Verdict:
        """Judge one frame. Pure: same features and params, same verdict."""
        if not f.person:
            return self.unknown("no_person")
        if self.posture is not None and f.posture != self.posture:
            if f.posture == "unknown":
                return self.unknown("posture_unknown")
            return self.unknown("not_standing" if self.posture == "standing" else "not_sitting")
        if self.needs_video and not f.video:
            return self.unknown("needs_video")
        if not f.view.shoulders_visible:
            return self.unknown("shoulders_not_visible")
        if f.view.view not in self.views:
            if f.view.view == "unknown":
                return self.unknown("view_unknown")
            return self.unknown("front_view_needed" if "front" in self.views
                                else "side_view_needed")
        return self.judge(f, p)

    def judge(self, f: Features, p: Params) -> Verdict:
        """The rule's own test, once the common gates have passed."""
        raise NotImplementedError

    # -- helpers for subclasses -------------------------------------------------------

    def verdict(
        self, status: Status, value: float | str | None = None, limit: float | None = None,
        reason: str | None = None, /, **states: StateValue,
    ) -> Verdict:
        full: dict[str, StateValue] = dict.fromkeys(self.states)
        full.update(states)
        return Verdict(self.id, status, value, limit, reason, full)

    def unknown(self, reason: str, /, **states: StateValue) -> Verdict:
        return self.verdict("unknown", None, None, reason, **states)

    def cue(self, lang: Lang = "en") -> str:
        return self.cue_zh if lang == "zh" else self.cue_en

    def title(self, lang: Lang = "en") -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def explain(self, lang: Lang = "en") -> str:
        return self.explain_zh if lang == "zh" else self.explain_en

    @classmethod
    def describe(cls, values: Params | None = None) -> dict[str, Any]:
        """The catalogue entry for this rule, with the calibrated values if given."""
        values = values or {}
        return {
            "id": cls.id,
            "title_zh": cls.title_zh,
            "title_en": cls.title_en,
            "clause": cls.clause,
            "states": list(cls.states),
            "views": sorted(cls.views),
            "posture": cls.posture,
            "needs_video": cls.needs_video,
            "doc": inspect.cleandoc(cls.__doc__ or ""),
            "cue_zh": cls.cue_zh,
            "cue_en": cls.cue_en,
            "explain_zh": cls.explain_zh,
            "explain_en": cls.explain_en,
            "params": [
                {"name": prm.name, "unit": prm.unit, "description": prm.description,
                 "value": values.get(prm.name)}
                for prm in cls.params
            ],
        }
