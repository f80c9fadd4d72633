"""Sitting rules 坐姿 (seed 000 §二.二, seed 001 §4.5.3 坐姿禁忌, seed 002 与客人交谈,
seed 003 坐姿).

Leg cues are normalised by the torso length (TL), which, unlike the shoulder width,
does not collapse in a side view.
"""

from __future__ import annotations

from typing import ClassVar

from posture_coach.features import Features, Posture, ViewName
from posture_coach.rules.base import Param, Params, Rule, Status, Verdict, grade, num
from posture_coach.rules.standing import StandingShouldersLevel

_SIDEISH: frozenset[ViewName] = frozenset({"side", "oblique"})


class SittingUpright(Rule):
    """Sit upright: no leaning back, no slumping; a slight forward lean is welcome.

    Side or oblique view: the hip-to-shoulder angle from vertical in the sagittal plane
    (see :func:`~posture_coach.features.sagittal_angles`), positive when leaning
    forward. A reclined trunk is ``leaning_back`` when the head goes back with it, and
    ``slumped`` when the head stays carried forward of the shoulders (the pelvis rolled
    back, the spine rounded, the chin poking forward to keep looking ahead). A forward
    lean is ``slumped`` from ``warn_forward_deg`` on, and already from
    ``hunch_min_forward_deg`` when the head hangs down with it (the nose at most
    ``slumped_max_nose_height_tl`` torso lengths above the shoulders: hunched over the
    desk), while an attentive lean keeps the head up. When nothing tells which way a
    sideways person faces (no ears, no thighs, the nose over the shoulders), the trunk
    is judged only if both facings pass (near vertical), else ``facing_unknown``.

    Front view (a laptop camera), against the calibrated upright baseline: the trunk
    moving back narrows the shoulders in the image and the face with them (an arm
    raised to the face narrows only the shoulders, a turned head only the face); then a
    shorter neck (nose to shoulder line / SW) or a face tipped down means ``slumped``,
    else ``leaning_back``. With the trunk in place a shorter neck is ``slumped`` (a sunk,
    hunched head) once the part explained by the face pitching down (looking at the
    desk) is taken off. Without a shoulder width the face size stands in. Without a
    baseline, a front view with the hips in frame still shows a hanging head (the nose's
    height above the shoulders, in torso lengths, does not depend on the view):
    ``slumped``; anything else needs the baseline (``baseline_needed``), as a lean
    towards or away from the camera does not show in 2-D.
    """

    id = "sitting.upright"
    title_zh = "上身挺直，不后仰不瘫坐"
    title_en = "Sit upright: no leaning back or slumping"
    clause = "seed 000 §二.二 坐姿; seed 001 §4.5.3 坐姿禁忌; seed 003 坐姿"
    states = ("sitting_lean", "torso_incline_deg")
    posture: ClassVar[Posture | None] = "sitting"
    params = (
        Param("slumped_min_head_forward_deg", "deg", "reclined with the ear this far ahead of the "
              "shoulder (from vertical): slumped, not leaning back"),
        Param("warn_back_deg", "deg", "leaning back this far behind vertical warns"),
        Param("fail_back_deg", "deg", "leaning back this far behind vertical fails"),
        Param("slight_forward_min_deg", "deg", "forward lean from here on is 'slight_forward'"),
        Param("warn_forward_deg", "deg", "forward lean that counts as slumping (warn)"),
        Param("fail_forward_deg", "deg", "forward lean that counts as slumping (fail)"),
        Param("hunch_min_forward_deg", "deg", "forward lean from which a hanging head makes "
              "it a slump (hunched over)"),
        Param("slumped_max_nose_height_tl", "tl", "nose at most this high above the shoulder "
              "midpoint (torso lengths): the head hangs (side/oblique, with a forward lean)"),
        Param("front_slumped_max_nose_height_tl", "tl", "front view without a baseline: the "
              "nose at most this high above the shoulder midpoint is a slump"),
        Param("warn_back_sw_shrink_ratio", "ratio", "front: shoulders narrower than the "
              "baseline by this (the trunk moved back) warns: leaning back or slumped"),
        Param("fail_back_sw_shrink_ratio", "ratio", "front: the same, fails"),
        Param("back_min_face_per_sw_shrink_ratio", "ratio", "front: the face must shrink "
              "by at least this share of the shoulders' shrink for the trunk to count as "
              "moved back (the head rides on the trunk)"),
        Param("back_max_neck_growth_ratio", "ratio", "front: the trunk only counts as moved "
              "back while the neck is at most this much longer than the baseline"),
        Param("back_slumped_min_neck_drop_ratio", "ratio", "front, trunk moved back: the neck "
              "shorter than the baseline by this means the head stayed forward (slumped)"),
        Param("back_min_world_tilt_deg", "deg", "front, trunk moved back: the 3-D trunk tilted back "
              "this much against the baseline means leaning back, not slumped"),
        Param("back_slumped_min_pitch_down_deg", "deg", "front, trunk moved back: the face "
              "pitched down this much against the baseline also means slumped"),
        Param("neck_drop_per_pitch_down_deg_ratio", "ratio", "front: neck shortening per "
              "degree the face pitches down, discounted before a slump is judged"),
        Param("fail_face_shrink_ratio", "ratio", "face smaller than baseline by this (front, "
              "shoulder width unknown): leaning back"),
        Param("forward_face_growth_ratio", "ratio", "face larger than baseline by this "
              "(front): slight forward lean"),
        Param("warn_neck_drop_ratio", "ratio", "neck shorter than baseline by this warns"),
        Param("fail_neck_drop_ratio", "ratio", "neck shorter than baseline by this fails"),
    )
    cue_zh = "请坐直，不要后仰"
    cue_en = "Sit up straight"
    explain_zh = ("坐时上身挺直、略向前倾以示专注；后仰或瘫坐显得懒散、不尊重客户。")
    explain_en = ("Sit with the back straight, leaning slightly towards the customer to "
                  "show attention; leaning back or slumping looks careless.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if f.view.view in _SIDEISH:
            return self._side(f, p)
        return self._front(f, p)

    def _side(self, f: Features, p: Params) -> Verdict:
        inc, head = f.get("sagittal_incline_deg"), f.get("sagittal_head_deg")
        if inc is None:
            lo, hi = f.get("sagittal_incline_lo_deg"), f.get("sagittal_incline_hi_deg")
            if lo is not None and hi is not None:
                # Which way the person faces is unknown: judge only when both readings
                # agree (a trunk near vertical passes either way); no signed angle.
                first, second = self._side_lean(lo, None, f, p), self._side_lean(hi, None, f, p)
                if first[1] == second[1] == "pass":
                    lean = first[0] if first[0] == second[0] else "upright"
                    return self.verdict("pass", round(lo if abs(lo) >= abs(hi) else hi, 2), first[2], sitting_lean=lean)
                return self.unknown("facing_unknown")
            return self.unknown("view_unknown" if f.view.hips_visible else "hips_not_visible")
        lean, status, limit = self._side_lean(inc, head, f, p)
        return self.verdict(status, inc, limit, sitting_lean=lean, torso_incline_deg=round(inc, 2))

    def _side_lean(self, inc: float, head: float | None, f: Features, p: Params) -> tuple[str, Status, float]:
        """``(sitting_lean, status, limit)`` for a sagittal torso incline (+ forward)."""
        lean = "upright"
        status: Status = "pass"
        limit = num(p, "fail_back_deg")
        if inc <= -num(p, "warn_back_deg"):
            # Reclined: the head carried forward of the shoulders is the slump (瘫坐), the
            # head going back with the trunk is leaning back (后仰). Both are faults.
            slumped = head is not None and head >= num(p, "slumped_min_head_forward_deg")
            lean = "slumped" if slumped else "leaning_back"
            status = "fail" if inc <= -num(p, "fail_back_deg") else "warn"
        elif inc >= num(p, "warn_forward_deg"):
            lean = "slumped"
            status = grade(inc, num(p, "warn_forward_deg"), num(p, "fail_forward_deg"))
            limit = num(p, "fail_forward_deg")
        elif inc >= num(p, "hunch_min_forward_deg") and self._head_hangs(f, p):
            # Hunched over: the trunk forward and the head hanging with it (驼背瘫坐).
            lean = "slumped"
            status = "warn"
            limit = num(p, "warn_forward_deg")
        elif inc >= num(p, "slight_forward_min_deg"):
            lean = "slight_forward"
        return lean, status, limit

    @staticmethod
    def _head_hangs(f: Features, p: Params, key: str = "slumped_max_nose_height_tl") -> bool:
        nose = f.get("nose_height_tl")
        return nose is not None and nose <= num(p, key)

    def _front(self, f: Features, p: Params) -> Verdict:
        if not f.has_profile:
            # A lean towards or away from the camera does not show in 2-D; a head hanging
            # below the shoulders' level does (hips in frame, see nose_height_tl).
            if self._head_hangs(f, p, "front_slumped_max_nose_height_tl"):
                return self.verdict("warn", f.get("nose_height_tl"),
                                    num(p, "front_slumped_max_nose_height_tl"),
                                    sitting_lean="slumped")
            return self.unknown("baseline_needed")
        neck = f.get("neck_ratio_rel")
        if neck is None:
            return self.unknown("face_not_visible")
        face = f.get("face_size_rel")
        sw = f.get("sw_size_rel")
        drop = 1.0 - neck
        # The trunk moved away from the camera: the shoulders look narrower than at
        # calibration, and the face with them, the neck not longer against the shoulder
        # width (a turned head narrows only the face; an arm raised to the face, or a
        # turned trunk, narrows the shoulders alone, so the neck reads longer).
        if sw is not None:
            shrink = 1.0 - sw
            back = (shrink >= num(p, "warn_back_sw_shrink_ratio")
                    and drop >= -num(p, "back_max_neck_growth_ratio")
                    and (face is None
                         or 1.0 - face >= num(p, "back_min_face_per_sw_shrink_ratio") * shrink))
            status = grade(shrink, num(p, "warn_back_sw_shrink_ratio"),
                           num(p, "fail_back_sw_shrink_ratio"))
            limit = num(p, "fail_back_sw_shrink_ratio")
        else:
            shrink = 0.0 if face is None else 1.0 - face
            back = shrink >= num(p, "fail_face_shrink_ratio")
            status, limit = "fail", num(p, "fail_face_shrink_ratio")
        pitch = f.get("head_pitch_rel_deg")
        if back:
            # Reclined: slumped when the head stays forward (its nose sinks towards the
            # shoulder line, or the face tips down), leaning back when it goes back with
            # the trunk.
            slumped = (drop >= num(p, "back_slumped_min_neck_drop_ratio")
                       or (pitch is not None and -pitch >= num(p, "back_slumped_min_pitch_down_deg")))
            # ... unless the 3-D trunk clearly tilted back: leaning back shortens the neck
            # in the image almost as much as a slump does, but a slump tips the trunk forward.
            world_back = f.get("world_torso_back_rel_deg")
            if slumped and world_back is not None and world_back >= num(p, "back_min_world_tilt_deg"):
                slumped = False
            return self.verdict(status, shrink, limit,
                                sitting_lean="slumped" if slumped else "leaning_back")
        # Trunk in place: a shorter neck is a sunk, hunched head, unless the face shows
        # the head merely pitched down (looking at the desk: the face rules' business).
        if pitch is not None:
            drop -= num(p, "neck_drop_per_pitch_down_deg_ratio") * max(0.0, -pitch)
        if drop >= num(p, "warn_neck_drop_ratio"):
            status = grade(drop, num(p, "warn_neck_drop_ratio"), num(p, "fail_neck_drop_ratio"))
            return self.verdict(status, drop, num(p, "fail_neck_drop_ratio"),
                                sitting_lean="slumped")
        lean = ("slight_forward"
                if face is not None and face >= 1.0 + num(p, "forward_face_growth_ratio")
                else "upright")
        return self.verdict("pass", drop, num(p, "fail_neck_drop_ratio"), sitting_lean=lean)


class SittingShouldersLevel(StandingShouldersLevel):
    """Shoulders level while seated; measured as for standing."""

    id = "sitting.shoulders_level"
    title_zh = "坐姿双肩平正"
    title_en = "Keep the shoulders level (seated)"
    clause = "seed 000 §二.二 坐姿"
    posture: ClassVar[Posture | None] = "sitting"


class LegsCrossed(Rule):
    """No crossed legs (跷二郎腿).

    Knees and ankles must be in frame. Crossed when an ankle rests near the other knee,
    the knees swap their left-right order (front view), one knee rides clearly higher
    than the other, or (front/oblique, 3-D world landmarks) an ankle has moved to the
    midline or past it. With the legs out of frame the answer is ``legs_not_visible``.
    """

    id = "sitting.legs_crossed"
    title_zh = "不跷二郎腿"
    title_en = "Do not cross the legs"
    clause = "seed 001 §4.5.3 坐姿禁忌"
    states = ("legs_crossed",)
    posture: ClassVar[Posture | None] = "sitting"
    params = (
        Param("max_ankle_other_knee_tl", "tl", "an ankle this close to the other knee"),
        Param("min_knee_height_gap_tl", "tl", "one knee this much higher than the other"),
        Param("max_ankle_own_side_hw", "hw", "3-D (front/oblique): an ankle this close to the "
              "midline, or past it, in hip half-widths"),
    )
    cue_zh = "请把双腿放平，不要跷腿"
    cue_en = "Uncross your legs"
    explain_zh = "与客户交谈时跷二郎腿显得傲慢、随意。双膝应并拢或自然平放。"
    explain_en = ("Crossing the legs in front of a customer looks arrogant and casual; "
                  "keep the knees together and the feet on the floor.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if not f.view.legs_visible:
            return self.unknown("legs_not_visible")
        gap = f.get("knee_height_gap_tl")
        ankle = f.get("ankle_other_knee_tl")
        if gap is None or ankle is None:
            return self.unknown("legs_not_visible")
        own_side = f.get("ankle_own_side_hw")
        crossed = (f.get("knees_swapped") == 1.0
                   or ankle <= num(p, "max_ankle_other_knee_tl")
                   or gap >= num(p, "min_knee_height_gap_tl")
                   or (own_side is not None and own_side <= num(p, "max_ankle_own_side_hw")))
        return self.verdict("fail" if crossed else "pass", gap,
                            num(p, "min_knee_height_gap_tl"), legs_crossed=crossed)


class LegShaking(Rule):
    """No jiggling legs or feet.

    Judges the engine's windowed 2–8 Hz oscillation amplitude of the knees and ankles
    (the shoulders when the legs are out of frame), in torso lengths. Needs video; the
    ≥ 2 s persistence lives in the rule's ``onset_s``.
    """

    value_unit = "tl"
    id = "sitting.leg_shaking"
    title_zh = "不抖动腿脚"
    title_en = "No leg shaking"
    clause = "seed 001 §4.5.3 坐姿禁忌"
    states = ("leg_shaking",)
    posture: ClassVar[Posture | None] = "sitting"
    needs_video = True
    params = (Param("fail_amp_tl", "tl", "2–8 Hz oscillation amplitude that fails"),)
    cue_zh = "请不要抖腿"
    cue_en = "Keep your legs still"
    explain_zh = "抖腿显得紧张、不耐烦，也会分散客户的注意力。"
    explain_en = "A jiggling leg looks nervous or impatient and distracts the customer."

    def judge(self, f: Features, p: Params) -> Verdict:
        amp = f.get("leg_osc_tl")
        if amp is None:
            return self.unknown("warming_up")
        shaking = amp >= num(p, "fail_amp_tl")
        return self.verdict("fail" if shaking else "pass", amp, num(p, "fail_amp_tl"),
                            leg_shaking=shaking)


class ChinOnHand(Rule):
    """No propping the chin on a hand (托腮).

    A hand (hand landmarks when found, else the pose's wrist and finger points) near
    the chin with its elbow well below it. The ≥ 1.5 s persistence is ``onset_s``.
    """

    value_unit = "sw"
    id = "sitting.chin_on_hand"
    title_zh = "不用手托腮"
    title_en = "Do not rest the chin on a hand"
    clause = "seed 001 §4.5.3 坐姿禁忌"
    states = ("chin_on_hand",)
    posture: ClassVar[Posture | None] = "sitting"
    params = (
        Param("max_chin_hand_sw", "sw", "hand this close to the chin"),
        Param("min_elbow_drop_sw", "sw", "elbow at least this far below the hand"),
    )
    cue_zh = "请把手从下巴移开"
    cue_en = "Hand away from your chin"
    explain_zh = "用手托腮显得疲倦、无聊，对客户不够尊重。"
    explain_en = "Resting the chin on a hand looks bored or tired to the customer."

    def judge(self, f: Features, p: Params) -> Verdict:
        d = f.get("chin_hand_sw")
        if d is None:
            return self.unknown(
                "face_not_visible" if f.get("neck_ratio") is None else "arms_not_visible"
            )
        drop = f.get("chin_hand_elbow_drop_sw")
        # A fingertip on the scalp, an ear, an eye, the nose or the lips (face_touch_code
        # 1-5, from the interaction cues) is a face touch (gesture.face_touching, its own
        # finding), not a propped chin, although the hand is then near the chin with the
        # elbow below it. A propped chin has no fingertip on those regions (code 0).
        touch = f.get("face_touch_code")
        elsewhere = touch is not None and 1 <= touch <= 5
        on = (d <= num(p, "max_chin_hand_sw") and not elsewhere
              and drop is not None and drop >= num(p, "min_elbow_drop_sw"))
        return self.verdict("fail" if on else "pass", d, num(p, "max_chin_hand_sw"),
                            chin_on_hand=on)


class HandsStill(Rule):
    """No fiddling with fingers, clothes or small objects.

    Judges the engine's windowed high-frequency hand motion (wrist and finger points
    relative to the shoulders, in SW): sustained small fast movement is fidgeting.
    """

    value_unit = "sw"
    id = "sitting.hands_still"
    title_zh = "不摆弄手指、衣角、小物件"
    title_en = "Keep the hands still: no fidgeting"
    clause = "seed 001 §4.5.3 坐姿禁忌"
    states = ("fidgeting",)
    posture: ClassVar[Posture | None] = "sitting"
    needs_video = True
    params = (
        Param("warn_fidget_sw", "sw", "high-frequency hand motion that warns"),
        Param("fail_fidget_sw", "sw", "high-frequency hand motion that fails"),
    )
    cue_zh = "双手放稳"
    cue_en = "Rest your hands"
    explain_zh = "摆弄手指、衣角或笔等小物件显得紧张、心不在焉。"
    explain_en = "Fiddling with fingers, clothes or a pen looks nervous and distracted."

    def judge(self, f: Features, p: Params) -> Verdict:
        amp = f.get("fidget_sw")
        if amp is None:
            arms = f.get("elbow_angle_l_deg") is not None or f.get("elbow_angle_r_deg") is not None
            return self.unknown("warming_up" if arms else "arms_not_visible")
        status = grade(amp, num(p, "warn_fidget_sw"), num(p, "fail_fidget_sw"))
        return self.verdict(status, amp, num(p, "fail_fidget_sw"), fidgeting=status == "fail")


SITTING_RULES: tuple[type[Rule], ...] = (
    SittingUpright, SittingShouldersLevel, LegsCrossed, LegShaking, ChinOnHand, HandsStill,
)
