"""Standing rules 站姿 (seed 000 §二.一, seed 001 §4.5.1 站姿禁忌, seed 003 站立).

All distances are 2-D and normalised by the shoulder width (SW); see
:mod:`posture_coach.features` for how each cue is measured.
"""

from __future__ import annotations

import math
from typing import ClassVar

from posture_coach.features import Features, Posture, ViewName
from posture_coach.rules.base import Param, Params, Rule, Status, Verdict, event_active, grade, num, showing_the_way

_FRONTISH: frozenset[ViewName] = frozenset({"front", "oblique"})
_SIDEISH: frozenset[ViewName] = frozenset({"side", "oblique"})


def _worst(a: Status, b: Status) -> Status:
    order = ("pass", "warn", "fail")
    return a if order.index(a) >= order.index(b) else b


#: Events during which a forward lean is the courtesy the handbooks ask for.
COURTESY_LEAN_EVENTS: tuple[str, ...] = ("handshake", "bow", "handover")


class StandingUpright(Rule):
    """Head up, chest out, no stooping or hunched back.

    From the side or at an angle: the hip-to-shoulder line against the vertical, and
    how far the ear sits ahead of the shoulder. From the front a forward hunch is
    invisible in 2-D, so the rule compares the neck length (nose to the shoulder line,
    in shoulder widths) with the person's calibrated upright baseline, and says
    ``baseline_needed`` without one. While a handshake, a bow or a handover is going on
    the handbooks ask for a forward lean (身体应稍微前倾; 鞠躬): ``courtesy_lean``, not
    judged (``handshake.lean`` and ``greeting.bow`` judge it).
    """

    id = "standing.upright"
    title_zh = "抬头挺胸，不弯腰驼背"
    title_en = "Stand upright: head up, no hunching"
    clause = "seed 000 §二.一 站姿; seed 001 §4.5.1 站姿禁忌"
    states = ("hunched", "torso_incline_deg")
    posture: ClassVar[Posture | None] = "standing"
    params = (
        Param("warn_incline_deg", "deg", "torso lean from vertical (side view) that warns"),
        Param("fail_incline_deg", "deg", "torso lean from vertical (side view) that fails"),
        Param("warn_head_forward_deg", "deg", "ear ahead of shoulder (side view) that warns"),
        Param("warn_neck_drop_ratio", "ratio", "neck shortening vs baseline (front) that warns"),
        Param("fail_neck_drop_ratio", "ratio", "neck shortening vs baseline (front) that fails"),
    )
    cue_zh = "挺胸抬头"
    cue_en = "Stand tall, chin up"
    explain_zh = "站立时应抬头挺胸、收腹立腰。弯腰驼背显得疲惫、不自信。"
    explain_en = ("Stand with the head up and the chest open. A stooped back looks tired "
                  "and unconfident to the customer.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if event_active(f, *COURTESY_LEAN_EVENTS):
            return self.unknown("courtesy_lean")
        if f.view.view in _SIDEISH:
            incline, head = f.get("sagittal_incline_deg"), f.get("sagittal_head_deg")
            if incline is None:
                return self.unknown("hips_not_visible")
            status = grade(abs(incline), num(p, "warn_incline_deg"), num(p, "fail_incline_deg"))
            if head is not None and head >= num(p, "warn_head_forward_deg"):
                status = _worst(status, "warn")
            return self.verdict(status, incline, num(p, "fail_incline_deg"),
                                hunched=status == "fail", torso_incline_deg=round(incline, 2))
        if not f.has_profile:
            return self.unknown("baseline_needed")
        rel = f.get("neck_ratio_rel")
        if rel is None:
            return self.unknown("face_not_visible")
        drop = 1.0 - rel
        status = grade(drop, num(p, "warn_neck_drop_ratio"), num(p, "fail_neck_drop_ratio"))
        return self.verdict(status, drop, num(p, "fail_neck_drop_ratio"),
                            hunched=status == "fail")


def perspective_tilt_deg(f: Features, camera_elevation_deg: float, default_yaw_deg: float) -> float:
    """How much the camera's perspective alone may tilt the shoulder line in the image.

    A level shoulder line turned ``psi`` from the camera, seen from ``e`` above or below
    shoulder height, leans ``atan(tan e * tan psi)`` in the image: the nearer shoulder
    sits further from the horizon (renders, neutral bodies: 3.2° at 35°, −1.9° at 40°;
    2-D truth, before any landmark error). Neither the camera's height nor its pitch can
    be read from one person, so at an angle this is an uncertainty, not a correction:
    up to ``camera_elevation_deg`` either way. A personal baseline taken in the same
    set-up holds this tilt already (its ``roll_deg``), and a front view has none (0).
    """
    if f.has_profile or f.view.view != "oblique":
        return 0.0
    yaw = f.get("body_yaw_deg")
    psi = min(abs(yaw if yaw is not None else default_yaw_deg), 60.0)
    return math.degrees(math.atan(math.tan(math.radians(camera_elevation_deg)) * math.tan(math.radians(psi))))


class StandingShouldersLevel(Rule):
    """Shoulders level: neither shoulder higher than the other.

    The shoulder line against the horizontal, after removing the camera roll measured
    at calibration; without a profile, the roll read from the standing body's axis over
    the last seconds (``camera_roll_est_deg``, from the front, feet in view), else the
    camera is assumed level. Not judged while a handshake, a bow or a handover is going
    on (``courtesy_lean``): an arm reaching out lifts and brings forward its shoulder
    (roleplay_oblique: 4.4–4.7° during both).

    At an angle and without a baseline the camera's perspective may tilt the line by up
    to :func:`perspective_tilt_deg` (``u``): the rule fails or warns only when the tilt
    is over the limit by more than ``u``, passes when it is under the warning by more
    than ``u``, and otherwise says ``view_turned_calibrate`` (a level person seen at
    35–40° read 4–7° here, which used to fail).
    """

    value_unit = "deg"
    id = "standing.shoulders_level"
    title_zh = "双肩平正，不一肩高一肩低"
    title_en = "Keep the shoulders level"
    clause = "seed 000 §二.一 站姿; seed 003 站立"
    states = ("shoulder_tilt_deg",)
    posture: ClassVar[Posture | None] = "standing"
    views = _FRONTISH
    params = (
        Param("warn_tilt_deg", "deg", "shoulder-line tilt that warns"),
        Param("fail_tilt_deg", "deg", "shoulder-line tilt that fails"),
        Param("camera_elevation_deg", "deg", "without a baseline, at an angle: how far above or below "
              "shoulder height the camera may be (sets the perspective's uncertainty)"),
        Param("oblique_default_yaw_deg", "deg", "the body's turn assumed at an angle when it is not measured"),
    )
    cue_zh = "双肩放平"
    cue_en = "Level your shoulders"
    explain_zh = "双肩应平正放松，一肩高一肩低显得随意、不端正。"
    explain_en = "Keep both shoulders relaxed and level; a raised shoulder looks casual."

    def judge(self, f: Features, p: Params) -> Verdict:
        if event_active(f, *COURTESY_LEAN_EVENTS):
            return self.unknown("courtesy_lean")
        tilt = f.get("shoulder_tilt_deg")
        if tilt is None:
            return self.unknown("shoulders_not_visible")
        # Without a baseline, a rolled camera tilts the line too: the roll read from the
        # standing body over the last seconds (engine) is taken out. (A roll turns the top
        # of the picture towards the image's right: the subject's left shoulder drops.)
        roll = f.get("camera_roll_est_deg")
        level = tilt + roll if roll is not None else tilt
        warn, fail = num(p, "warn_tilt_deg"), num(p, "fail_tilt_deg")
        u = perspective_tilt_deg(f, num(p, "camera_elevation_deg"), num(p, "oblique_default_yaw_deg"))
        status = grade(abs(level) - u, warn, fail)
        if status == "pass" and abs(level) + u >= warn:
            return self.unknown("view_turned_calibrate", shoulder_tilt_deg=round(tilt, 2))
        return self.verdict(status, abs(level), fail + u, shoulder_tilt_deg=round(tilt, 2))


class ArmsCrossed(Rule):
    """No arms folded across the chest.

    Both forearms across the torso: each wrist far from its own hip and away from the
    other wrist, wrists between shoulder and hip height, elbows drawn in (elbow span
    below about one shoulder width). On renders crossed arms gave wrist-to-hip 0.92–1.27
    SW and elbow span 0.79–0.92 SW, against 0.30–0.35 / 1.14–1.20 with arms hanging.
    The forearms must cross: a wrist at the other elbow, elbows drawn in tightly, or
    both forearms collapsed in 2-D (hands tucked under the other arm, where MediaPipe
    places each hidden wrist back at its own elbow).
    """

    id = "standing.arms_crossed"
    title_zh = "不双手抱胸"
    title_en = "Do not cross the arms"
    clause = "seed 001 §4.5.1 站姿禁忌"
    states = ("arms_crossed",)
    posture: ClassVar[Posture | None] = "standing"
    views = _FRONTISH
    params = (
        Param("min_wrist_hip_sw", "sw", "each wrist at least this far from its own hip"),
        Param("max_elbow_span_sw", "sw", "elbows closer together than this"),
        Param("max_wrist_opp_elbow_sw", "sw", "a wrist this close to the OTHER elbow (forearms across)"),
        Param("tight_elbow_span_sw", "sw", "elbows this close: crossed even if hidden wrists are misplaced"),
        Param("max_tucked_forearm_sw", "sw", "both forearms this short in 2-D: hands tucked under the other arm "
              "(MediaPipe puts a hidden wrist back at its own elbow)"),
        Param("max_folded_forearm_sw", "sw", "both forearms at most this long in 2-D, with the elbows drawn "
              "in and the wrists at chest height: folded forearms across the chest"),
        Param("max_folded_elbow_span_sw", "sw", "elbows at most this far apart for folded forearms"),
        Param("max_folded_wrist_height", "torso", "wrists above this for folded forearms (0 = shoulders, 1 = hips)"),
        Param("min_wrist_height", "torso", "wrists below this (0 = shoulders, 1 = hips)"),
        Param("max_wrist_height", "torso", "wrists above this (0 = shoulders, 1 = hips)"),
    )
    lower_is_worse = True  # the value is the elbow span: arms drawn in = worse
    cue_zh = "请放下双臂"
    cue_en = "Uncross your arms"
    explain_zh = "双手抱胸给人防备、冷漠、居高临下的感觉，服务中应避免。"
    explain_en = ("Folded arms read as defensive or aloof to a customer; keep the hands "
                  "relaxed or clasped in front.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if not f.view.hips_visible:
            return self.unknown("hips_not_visible")
        forearms = [f.get("forearm_l_sw"), f.get("forearm_r_sw")]
        tucked = all(v is not None and v <= num(p, "max_tucked_forearm_sw") for v in forearms)
        if event_active(f, "handover", "handshake") and not tucked:
            # Hands on a card or in a handshake (an open interaction event) bring the
            # forearms together in front of the chest, which from an oblique camera looks
            # like folded arms; they cannot be folded while handing something over. Both
            # forearms collapsed to a stub (hands tucked away) is no handover: a card held
            # out towards the camera still shows ~0.25 SW of forearm.
            return self.verdict("pass", f.get("elbow_span_sw"), num(p, "max_elbow_span_sw"), arms_crossed=False)
        need = ("wrist_hip_l_sw", "wrist_hip_r_sw", "elbow_span_sw", "wrist_height_l", "wrist_height_r")
        vals = [f.get(k) for k in need]
        if any(v is None for v in vals):
            return self.unknown("arms_not_visible")
        wl, wr, span, hl, hr = (float(v) for v in vals)  # type: ignore[arg-type]
        opp = [v for v in (f.get("wrist_opp_elbow_l_sw"), f.get("wrist_opp_elbow_r_sw")) if v is not None]
        if not opp:
            return self.unknown("arms_not_visible")
        lo, hi = num(p, "min_wrist_height"), num(p, "max_wrist_height")
        # Forearms folded flat across the chest, seen from the front: MediaPipe keeps each
        # wrist near its own elbow, so both forearms look short, the wrists sit at chest
        # height, and the elbows are drawn in (a card held out to the camera also shortens
        # the forearms, but keeps the elbows out: span 1.3 SW).
        folded = (
            all(v is not None and v <= num(p, "max_folded_forearm_sw") for v in forearms)
            and span <= num(p, "max_folded_elbow_span_sw")
            and lo <= min(hl, hr) and max(hl, hr) <= num(p, "max_folded_wrist_height")
        )
        crossed = folded or (
            min(wl, wr) >= num(p, "min_wrist_hip_sw")
            and span <= num(p, "max_elbow_span_sw")
            and (min(opp) <= num(p, "max_wrist_opp_elbow_sw") or span <= num(p, "tight_elbow_span_sw") or tucked)
            and lo <= hl <= hi and lo <= hr <= hi
        )
        return self.verdict("fail" if crossed else "pass", span,
                            num(p, "max_elbow_span_sw"), arms_crossed=crossed)


def _per_side(
    f: Features, keys: tuple[str, ...]
) -> dict[str, tuple[float, ...] | None]:
    """Per side ("l"/"r"), the named features (``{}`` placeholder) or None if any is missing."""
    out: dict[str, tuple[float, ...] | None] = {}
    for sfx in ("l", "r"):
        vals = [f.get(k.format(sfx)) for k in keys]
        out[sfx] = None if any(v is None for v in vals) else tuple(
            float(v) for v in vals if v is not None
        )
    return out


def _far_side(f: Features) -> str | None:
    """The suffix ("l"/"r") of the arm turned away from the camera in an oblique view.

    A person facing the image left (``facing`` -1) shows the camera their left side, so
    the right arm is the far one; None outside oblique views or when the facing is unknown.
    """
    if f.view.view != "oblique" or f.view.facing == 0:
        return None
    return "r" if f.view.facing < 0 else "l"


def _sides_state(flags: dict[str, bool]) -> str:
    left, right = flags.get("l", False), flags.get("r", False)
    return "both" if left and right else "left" if left else "right" if right else "none"


class HandsOnHips(Rule):
    """No hands on the hips (叉腰); one hand counts.

    Per arm: the wrist near its own hip, the elbow flared out beyond the shoulder line,
    and the elbow bent. On renders hands on hips gave wrist-to-hip 0.38–0.49 SW and an
    elbow span of 1.97–2.14 SW (hanging arms: 1.14–1.20). In an oblique view the far
    arm's elbow, drawn back, projects towards the body and its wrist is hidden behind
    the waist, so that arm is judged with the ``far_`` thresholds.
    """

    id = "standing.hands_on_hips"
    title_zh = "不叉腰"
    title_en = "No hands on the hips"
    clause = "seed 001 §4.5.1 站姿禁忌"
    states = ("hands_on_hips", "hands_on_hips_unseen")
    posture: ClassVar[Posture | None] = "standing"
    views = _FRONTISH
    params = (
        Param("max_wrist_hip_sw", "sw", "wrist within this distance of its own hip"),
        Param("min_elbow_out_sw", "sw", "elbow at least this far outside the shoulder"),
        Param("max_elbow_angle_deg", "deg", "elbow bent more than this (180 = straight)"),
        Param("flared_min_elbow_out_sw", "sw", "an elbow flared at least this far out (and bent)..."),
        Param("flared_max_wrist_hip_sw", "sw", "...lets the wrist be this far from the hip point (a heavy "
              "body's waist)"),
        Param("far_max_wrist_hip_sw", "sw", "oblique view, the far arm: wrist within this distance of its hip"),
        Param("far_min_elbow_out_sw", "sw", "oblique view, the far arm: elbow at least this far outside the shoulder "
              "(also alone, when that hand is hidden)"),
        Param("far_max_elbow_angle_deg", "deg", "oblique view, the far arm: elbow bent more than this"),
    )
    cue_zh = "请把手从腰间放下"
    cue_en = "Take your hands off your hips"
    explain_zh = "叉腰显得傲慢、不耐烦，是站姿禁忌。双手应自然下垂或交叠于身前。"
    explain_en = ("Hands on the hips look impatient or arrogant; let the arms hang "
                  "naturally or clasp the hands in front.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if not f.view.hips_visible:
            return self.unknown("hips_not_visible")
        sides = _per_side(f, ("wrist_hip_{}_sw", "elbow_out_{}_sw", "elbow_angle_{}_deg"))
        far = _far_side(f)
        flags: dict[str, bool] = {}
        out_max: float | None = None
        for sfx, vals in sides.items():
            # The far arm of an oblique view: its elbow, drawn back on the hip, swings
            # towards the body in projection, and its hand is behind the waist (the
            # wrist is a guess, or hidden), so it has its own, looser thresholds.
            pre = "far_" if sfx == far else ""
            if vals is None:
                elbow_out_hidden = f.get(f"elbow_out_{sfx}_sw")
                if sfx == far and elbow_out_hidden is not None and f.get(f"wrist_hip_{sfx}_sw") is None:
                    # Far hand hidden behind the body with the elbow flared out: on the hip
                    # (a far hand in a pocket or hanging keeps its elbow at the side).
                    flags[sfx] = elbow_out_hidden >= num(p, "far_min_elbow_out_sw")
                    out_max = elbow_out_hidden if out_max is None else max(out_max, elbow_out_hidden)
                continue
            wrist_hip, elbow_out, angle = vals
            if f.get(f"reach_{sfx}") == 1.0:
                # A hand held out to someone (a card, a handshake) has its elbow bent and,
                # for the far arm at an angle, out from the body too: not on the hip.
                flags[sfx] = False
                continue
            max_wrist_hip = num(p, pre + "max_wrist_hip_sw")
            if elbow_out >= num(p, "flared_min_elbow_out_sw"):
                # Akimbo, elbow far out: on a heavy body the hand rests on the waist, well
                # away from MediaPipe's hip point.
                max_wrist_hip = max(max_wrist_hip, num(p, "flared_max_wrist_hip_sw"))
            flags[sfx] = (wrist_hip <= max_wrist_hip
                          and elbow_out >= num(p, pre + "min_elbow_out_sw")
                          and angle <= num(p, pre + "max_elbow_angle_deg"))
            out_max = elbow_out if out_max is None else max(out_max, elbow_out)
        state = _sides_state(flags)
        if state != "none":
            # One hand on the hip fails whatever the other does; when the other arm is out
            # of sight (the far arm of an oblique view, hidden behind the body) the state
            # names only the hand seen, and says which arm could not be seen.
            unseen = [name for sfx, name in (("l", "left"), ("r", "right")) if sfx not in flags]
            return self.verdict("fail", out_max, num(p, "min_elbow_out_sw"), hands_on_hips=state,
                                hands_on_hips_unseen=unseen[0] if len(unseen) == 1 else None)
        if len(flags) < 2:
            # One arm clear, the other unseen: it may be the one on the hip.
            return self.unknown("arms_not_visible")
        return self.verdict("pass", out_max, num(p, "min_elbow_out_sw"), hands_on_hips="none")


class HandsInPockets(Rule):
    """No hands in the pockets.

    A wrist at hip or upper-thigh height, close to the body, while the hand itself is
    hidden: the pose's finger points have low visibility and, when the hand landmarker
    ran, it found no hand on that side. At an angle the far hand hidden that way may just
    hang behind the body: ``far_hand_hidden`` (unknown), unless the near hand is in a
    pocket as well (partly hidden at the hip).
    """

    id = "standing.hands_in_pockets"
    title_zh = "不把手插入口袋"
    title_en = "No hands in the pockets"
    clause = "seed 001 §4.5.1 站姿禁忌"
    states = ("hands_in_pockets",)
    posture: ClassVar[Posture | None] = "standing"
    views = _FRONTISH
    params = (
        Param("max_wrist_lat_sw", "sw", "wrist within this sideways distance of its hip"),
        Param("min_wrist_height", "torso", "wrist at least this low (1 = hip line)"),
        Param("max_wrist_height", "torso", "wrist no lower than this"),
        Param("min_hand_hidden", "ratio", "finger points hidden at least this much (0–1)"),
        Param("near_min_hand_hidden", "ratio", "at an angle, a hidden far hand counts only with the near hand "
              "at the hip hidden at least this much"),
    )
    cue_zh = "请把手从口袋里拿出来"
    cue_en = "Hands out of your pockets"
    explain_zh = "手插口袋显得随意、不尊重客户。双手应自然下垂或交叠于身前。"
    explain_en = ("Hands in the pockets look casual and disrespectful; let them hang "
                  "naturally or clasp them in front.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if not f.view.hips_visible:
            return self.unknown("hips_not_visible")
        sides = _per_side(f, ("wrist_lat_{}_sw", "wrist_height_{}", "hand_hidden_{}"))
        far = _far_side(f)

        def pocketed(sfx: str, min_hidden: float) -> bool:
            vals = sides.get(sfx)
            if vals is None:
                return False
            lat, height, hidden = vals
            return (lat <= num(p, "max_wrist_lat_sw")
                    and num(p, "min_wrist_height") <= height <= num(p, "max_wrist_height")
                    and hidden >= min_hidden and f.get(f"hand_detected_{sfx}") != 1.0)

        flags = {sfx: pocketed(sfx, num(p, "min_hand_hidden")) for sfx, v in sides.items() if v is not None}
        hidden_max = max((vals[2] for vals in sides.values() if vals is not None), default=None)
        if far is not None and flags.get(far):
            # At an angle the far hand hanging behind the body is as hidden as one in a
            # pocket (eval_onboarding, hands hanging: 14 frames read as pockets). It counts
            # when the near hand is in a pocket too: then partly hidden at the hip (renders:
            # 0.42-0.51 in a front pocket, 0.02-0.03 hanging).
            near = "l" if far == "r" else "r"
            if not pocketed(near, num(p, "near_min_hand_hidden")):
                return self.unknown("far_hand_hidden")
        if any(flags.values()):
            return self.verdict("fail", hidden_max, num(p, "min_hand_hidden"),
                                hands_in_pockets=True)
        if len(flags) < 2:
            return self.unknown("arms_not_visible")
        return self.verdict("pass", hidden_max, num(p, "min_hand_hidden"),
                            hands_in_pockets=False)


class HandsFront(Rule):
    """Recommended: hands clasped, resting naturally in front of the lower abdomen.

    Both wrists close together, near the body midline, at lower-abdomen height. Not
    doing it only warns: arms hanging at the sides are acceptable, this is the ideal.
    """

    value_unit = "sw"
    id = "standing.hands_front"
    title_zh = "双手交叠，自然下垂于身前"
    title_en = "Hands clasped in front (recommended)"
    clause = "seed 000 §二.一 站姿; seed 003 站立"
    states = ("hands_front",)
    posture: ClassVar[Posture | None] = "standing"
    views = _FRONTISH
    recommended = True
    params = (
        Param("max_wrists_gap_sw", "sw", "wrists closer together than this"),
        Param("max_mid_offset_oblique_sw", "sw", "the same in an oblique view (hands in front of the body "
              "shift sideways in projection)"),
        Param("max_mid_offset_sw", "sw", "wrists' midpoint this close to the body midline"),
        Param("min_wrist_height", "torso", "wrists at least this low (1 = hip line)"),
        Param("max_wrist_height", "torso", "wrists no lower than this"),
    )
    cue_zh = "双手交叠于身前"
    cue_en = "Clasp your hands in front"
    explain_zh = "标准服务站姿：双手交叠，自然下垂于小腹前，显得端庄、随时准备服务。"
    explain_en = ("The service stance: hands lightly clasped in front of the lower "
                  "abdomen, which looks composed and ready to help.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if not f.view.hips_visible:
            return self.unknown("hips_not_visible")
        # The resting stance: while the hands hand something over, shake hands, show the way
        # with an open palm or greet with a bow (the handbook's own gestures) it is not asked
        # for (a trainer disagreed with "clasp your hands" over every greeting and see-off).
        if event_active(f, "handover", "handshake", "pointing", "bow") or any(
                f.get(f"open_palm_{s}") == 1.0 and showing_the_way(f, s) for s in ("l", "r")):
            return self.unknown("hands_in_use")
        if f.get("walking") == 1.0:  # walking up to the customer: the arms swing, no stance yet
            return self.unknown("walking")
        need = ("wrists_gap_sw", "wrists_mid_offset_sw", "wrist_height_l", "wrist_height_r")
        vals = [f.get(k) for k in need]
        if any(v is None for v in vals):
            return self.unknown("arms_not_visible")
        gap, offset, hl, hr = (float(v) for v in vals)  # type: ignore[arg-type]
        lo, hi = num(p, "min_wrist_height"), num(p, "max_wrist_height")
        max_offset = num(p, "max_mid_offset_oblique_sw" if f.view.view == "oblique" else "max_mid_offset_sw")
        front = (gap <= num(p, "max_wrists_gap_sw") and offset <= max_offset
                 and lo <= hl <= hi and lo <= hr <= hi)
        return self.verdict("pass" if front else "warn", gap, num(p, "max_wrists_gap_sw"),
                            hands_front=front)


class Stance(Rule):
    """Feet: men no wider than the shoulders; women heels together, toes in a V or T.

    Which stance applies is the ``variant`` parameter, set by the chosen rule pack
    (``any`` checks the width only). The coach never infers it from the image.
    The feet angle is the angle between the two heel-to-toe lines *in the image*, a
    projection that depends on camera height.
    """

    id = "standing.stance"
    title_zh = "站姿脚位：男士双脚不超过肩宽，女士丁字步或V字步"
    title_en = "Stance: feet within shoulder width (men), heels together in a V/T (women)"
    clause = "seed 000 §二.一 站姿"
    states = ("stance_width_ratio", "feet_angle_deg")
    posture: ClassVar[Posture | None] = "standing"
    views = _FRONTISH
    params = (
        Param("variant", "", "any | men | women: chosen by the rule pack", kind=str),
        Param("warn_width_ratio", "sw", "ankle distance that warns (any/men)"),
        Param("fail_width_ratio", "sw", "ankle distance that fails (any/men)"),
        Param("women_max_heel_gap_ratio", "sw", "heels further apart than this warn (women)"),
        Param("women_fail_width_ratio", "sw", "ankle distance that fails (women)"),
        Param("women_min_feet_angle_deg", "deg", "feet closer to parallel warn (women)"),
    )
    cue_zh = "调整脚位"
    cue_en = "Adjust your feet"
    explain_zh = "男士双脚分开不超过肩宽；女士脚跟并拢，脚尖呈V字或丁字步。"
    explain_en = ("Men: feet no wider than the shoulders. Women: heels together with the "
                  "toes apart in a V, or one heel at the other foot's instep (T).")

    def judge(self, f: Features, p: Params) -> Verdict:
        width = f.get("stance_width_ratio")
        if width is None:
            return self.unknown("feet_not_visible")
        angle = f.get("feet_angle_deg")
        states = {"stance_width_ratio": round(width, 3),
                  "feet_angle_deg": None if angle is None else round(angle, 1)}
        if p["variant"] == "women":
            heel = f.get("heel_gap_ratio")
            heels_apart = heel is not None and heel > num(p, "women_max_heel_gap_ratio")
            parallel = angle is not None and angle < num(p, "women_min_feet_angle_deg")
            status: Status = (
                "fail" if width >= num(p, "women_fail_width_ratio")
                else "warn" if heels_apart or parallel
                else "pass"
            )
            return self.verdict(status, width, num(p, "women_fail_width_ratio"), **states)
        status = grade(width, num(p, "warn_width_ratio"), num(p, "fail_width_ratio"))
        return self.verdict(status, width, num(p, "fail_width_ratio"), **states)


class Steady(Rule):
    """Stand still: no swaying, no shaking legs.

    Judges two windowed signals from the engine: the hip-midpoint sway (standard
    deviation over the window, in SW) and the 2–8 Hz knee/ankle oscillation amplitude
    (in torso lengths). Needs video.
    """

    value_unit = "sw"
    id = "standing.steady"
    title_zh = "身体不晃动，不抖腿"
    title_en = "Stand still: no swaying or leg shaking"
    clause = "seed 001 §4.5.1 站姿禁忌"
    states = ("sway",)
    posture: ClassVar[Posture | None] = "standing"
    needs_video = True
    params = (
        Param("warn_sway_sw", "sw", "hip sway (std over the window) that warns"),
        Param("fail_sway_sw", "sw", "hip sway (std over the window) that fails"),
        Param("fail_leg_osc_tl", "tl", "2–8 Hz knee/ankle amplitude that fails"),
    )
    cue_zh = "请站稳，不要晃动"
    cue_en = "Stand still"
    explain_zh = "站立时身体晃动或抖腿显得紧张、不稳重。"
    explain_en = "Swaying or jiggling a leg while standing looks nervous and restless."

    def judge(self, f: Features, p: Params) -> Verdict:
        sway = f.get("sway_sw")
        if sway is None:
            return self.unknown("warming_up" if f.view.hips_visible else "hips_not_visible")
        status = grade(sway, num(p, "warn_sway_sw"), num(p, "fail_sway_sw"))
        osc = f.get("leg_osc_tl")
        if osc is not None and osc >= num(p, "fail_leg_osc_tl"):
            status = "fail"
        return self.verdict(status, sway, num(p, "fail_sway_sw"), sway=round(sway, 4))


STANDING_RULES: tuple[type[Rule], ...] = (
    StandingUpright, StandingShouldersLevel, ArmsCrossed, HandsOnHips, HandsInPockets,
    HandsFront, Stance, Steady,
)
