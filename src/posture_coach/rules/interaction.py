"""Hands, interaction and distance rules 递接、握手、手势、距离.

Seeds 000 §二.三/四/六, 001 §4.5.4–4.5.7, 002 (呈递名片, 握手, 打招呼), 003 (握手, 递接物品,
距离, 三米六齿). The cues come from :mod:`posture_coach.interaction_features` and the
events from :mod:`posture_coach.events`, both merged into the frame's features by the
engine (:class:`posture_coach.interaction_features.InteractionTracker`).

Event rules (handover, handshake, bow, card viewing) judge an event on the frame it
closes (``ev_<kind>_closed`` = 1) and say ``unknown: no_event_yet`` on other frames
(``event_in_progress`` while one is open). Their calibration tables set ``onset_s = 0``
and ``min_duration_s = 0`` so that a one-frame verdict counts: the event machines have
already applied the minimum durations. For a still image (``f.video`` false) the
handshake, handover and gesture rules judge the frame itself.
"""

from __future__ import annotations

from typing import ClassVar

from posture_coach.features import Features, Posture
from posture_coach.interaction_features import partner_in_view
from posture_coach.rules.base import (
    REASONS,
    Param,
    Params,
    Rule,
    Status,
    Verdict,
    event_active,
    grade,
    num,
    showing_the_way,
)

#: Reasons these rules add (registered at import; the lead may move them into base.REASONS).
INTERACTION_REASONS: dict[str, tuple[str, str]] = {
    "no_event_yet": ("未检测到该动作", "the action was not seen"),  # live: not yet; a recording: not at all
    "event_in_progress": ("动作进行中，结束后判断", "in progress: judged when it ends"),
    "hands_not_visible": ("手部不在画面内或未检测到", "hands out of frame or not detected"),
    "not_in_smile_range": ("对方不在三米范围内", "the other person is not within 3 m"),
    "smile_not_measured": ("无法判断是否微笑（未检测到面部）", "smile not measured (the face was not detected)"),
    "no_customer_in_view": ("画面中没有客户（在两人同框的角色扮演中判断）",
                            "no customer in view (judged in a two-person role-play)"),
    "distance_unknown": ("无法估计距离（需要面部或两人同框）",
                         "distance unknown (needs the face, or both people in view)"),
    # Said of the distance only (a role-play filmed at about 45°, as advised, judges the
    # other rules): the trainer must not read it as a fault of the whole recording.
    "side_on_view_needed": ("与客户的距离需从正侧面拍摄才能测量（两人左右并排于画面中；其他规则斜 45° 拍摄即可）",
                            "the distance to the customer can only be measured filmed side-on (the two side "
                            "by side across the image; the other rules are fine at about 45°)"),
}
for _code, _text in INTERACTION_REASONS.items():
    REASONS.setdefault(_code, _text)


def _closed(f: Features, kind: str) -> bool:
    return f.get(f"ev_{kind}_closed") == 1.0


def _band(x: float, lo: float, hi: float, margin: float) -> Status:
    """pass inside [lo, hi], warn within ``margin`` outside it, fail beyond."""
    if lo <= x <= hi:
        return "pass"
    if lo - margin <= x <= hi + margin:
        return "warn"
    return "fail"


def _lean_unknown(f: Features) -> str:
    """Why no lean could be measured: from the front without a baseline the 2-D image cannot show it."""
    if f.view.view == "front":
        return "side_view_needed"
    if not f.view.hips_visible:
        return "hips_not_visible"
    return "view_unknown" if f.view.view == "unknown" else "side_view_needed"


class _EventRule(Rule):
    """An event rule: judged when its event closes."""

    event: ClassVar[str]
    #: In a video, a verdict only when the event closes (one judged frame per event), so a
    #: report counts events, not seconds. False: also judged between events, frame by frame.
    judged_on_close: ClassVar[bool] = True
    #: An event's verdict rests on the event, however short: never "too little time seen".
    evidence_in_time: ClassVar[bool] = False

    def waiting(self, f: Features, **states: bool | float | int | str | None) -> Verdict:
        return self.unknown("event_in_progress" if event_active(f, self.event) else "no_event_yet", **states)


class HandoverTwoHands(_EventRule):
    """Hand over a card or an object with both hands, facing the receiver.

    Event ``handover``: the hands rise to chest height and move towards the receiver
    (the camera when alone, the other person in a role-play) for at least the event's
    minimum time. Two hands = the wrists stay within ~0.5 SW for most of the event; one
    hand reaching while the other hangs fails. A still image is judged as it is.
    """

    value_unit = "hands"  # the hands on the card: "1 hand" rather than "peak 1.00"
    id = "handover.two_hands"
    event = "handover"
    title_zh = "双手递接名片/物品，正面朝向对方"
    title_en = "Hand over cards and objects with both hands"
    clause = "seed 001 §4.5.4 递接物品; seed 002 呈递名片; seed 003 递接物品"
    states = ("handover", "hands_used")
    params = (Param("min_hands_used", "", "hands that must hold the card (2 = both)", int),)
    cue_zh = "请用双手递出"
    cue_en = "Use both hands"
    explain_zh = "递接名片或物品时应双手递接、文字正面朝向对方，以示尊重。单手递送显得随意。"
    explain_en = ("Offer a card or an object with both hands, its face turned towards the receiver: "
                  "one hand looks casual.")

    def judge(self, f: Features, p: Params) -> Verdict:
        need = num(p, "min_hands_used")
        if not f.video:
            reach = max(f.get("reach_l") or 0.0, f.get("reach_r") or 0.0)
            if f.get("reach_l") is None and f.get("reach_r") is None:
                return self.unknown("arms_not_visible")
            if reach < 1.0 or f.get("handshake_alone") == 1.0 or f.get("arms_folded") == 1.0:
                return self.unknown("no_event_yet", handover=False)
            used = 2 if f.get("two_hands_out") == 1.0 or f.get("hands_together") == 1.0 else 1
            return self.verdict("pass" if used >= need else "fail", float(used), need, handover=True,
                                hands_used=used)
        if not _closed(f, self.event):
            return self.waiting(f)
        used_f = f.get("ev_handover_hands_used")
        if used_f is None:
            return self.unknown("arms_not_visible", handover=True)
        used = int(used_f)
        return self.verdict("pass" if used >= need else "fail", float(used), need, handover=True, hands_used=used)


class HandoverLookAtCard(_EventRule):
    """After receiving a card, look at it attentively for 3–5 seconds.

    Event ``card_view``: both hands together at chest height (holding the card, not
    reaching) with the head pitched down towards them (nose below the ear line).
    """

    value_unit = "s"
    id = "handover.look_at_card"
    event = "card_view"
    title_zh = "接过名片后认真观看 3–5 秒"
    title_en = "Read a received card for 3–5 s"
    clause = "seed 003 递接物品: 接过名片后认真观看"
    states = ("card_viewed_s",)
    needs_video = True
    params = (
        Param("fail_below_s", "s", "viewing shorter than this fails"),
        Param("warn_below_s", "s", "viewing shorter than this warns"),
        Param("warn_above_s", "s", "viewing longer than this warns"),
    )
    cue_zh = "请认真看一下名片"
    cue_en = "Take a moment to read the card"
    explain_zh = "接过名片后应认真看 3–5 秒，可轻声读出对方姓名职务，再妥善收好，以示重视。"
    explain_en = ("After receiving a card, read it for 3–5 seconds before putting it away: it shows "
                  "respect for the giver.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if not _closed(f, self.event):
            return self.waiting(f)
        dur = f.get("ev_card_view_duration_s") or 0.0
        status: Status = "pass"
        if dur < num(p, "fail_below_s"):
            status = "fail"
        elif dur < num(p, "warn_below_s") or dur > num(p, "warn_above_s"):
            status = "warn"
        return self.verdict(status, dur, num(p, "warn_below_s"), card_viewed_s=round(dur, 2))


class HandshakeLean(_EventRule):
    """Lean forward slightly while shaking hands (5–20°).

    Event ``handshake``: the right hand extended at waist–chest height (alone) or two
    people's hands joined (role-play, :mod:`posture_coach.two_person`). The lean is the
    2-D torso angle from a side or oblique view; from the front it is estimated against
    the calibrated baseline (shoulder-width growth), else ``side_view_needed``.
    In a still image the frame itself is judged and the state ``handshake`` says whether
    a handshake is seen.
    """

    value_unit = "deg"
    id = "handshake.lean"
    event = "handshake"
    title_zh = "握手时身体稍微前倾"
    title_en = "Lean in slightly when shaking hands"
    clause = "seed 000 §二.四 握手; seed 003 握手"
    states = ("handshake", "lean_deg", "duration_s", "hand")
    params = (
        Param("min_lean_deg", "deg", "lean below this is too upright"),
        Param("max_lean_deg", "deg", "lean above this is too deep"),
        Param("warn_margin_deg", "deg", "outside the band by less than this warns"),
    )
    cue_zh = "握手时身体稍向前倾"
    cue_en = "Lean in a little as you shake"
    explain_zh = "握手时上身稍微前倾（约 5–20°），表示热情和尊重；挺直后仰显得冷淡，过度弯腰显得卑微。"
    explain_en = ("Lean the upper body in slightly (about 5–20°) while shaking hands: upright or leaning "
                  "back looks cold, a deep bend looks servile.")

    def _grade(self, lean: float | None, f: Features, p: Params, **states: bool | float | int | str | None) -> Verdict:
        if lean is None:
            return self.unknown(_lean_unknown(f), **states)
        status = _band(lean, num(p, "min_lean_deg"), num(p, "max_lean_deg"), num(p, "warn_margin_deg"))
        return self.verdict(status, lean, num(p, "min_lean_deg"), lean_deg=round(lean, 2), **states)

    def judge(self, f: Features, p: Params) -> Verdict:
        if not f.video:
            tp = f.get("tp_handshake")
            seen = tp if tp is not None else f.get("handshake_alone")
            if seen is None:
                return self.unknown("arms_not_visible")
            if seen < 1.0:
                return self.unknown("no_event_yet", handshake=False)
            lean = f.get("tp_lean_deg") if tp is not None else f.get("lean_deg")
            hand = None if f.get("handshake_hand_right") is None else (
                "right" if f.get("handshake_hand_right") == 1.0 else "left")
            return self._grade(lean, f, p, handshake=True, hand=hand)
        if not _closed(f, self.event):
            return self.waiting(f, handshake=event_active(f, self.event))
        right = f.get("ev_handshake_hand_right")
        hand = None if right is None else ("right" if right >= 0.5 else "left")
        dur = f.get("ev_handshake_duration_s")
        return self._grade(f.get("ev_handshake_lean_deg"), f, p, handshake=True, hand=hand,
                           duration_s=None if dur is None else round(dur, 2))


class HandshakeDuration(_EventRule):
    """Shake hands for 1–3 seconds, with the right hand."""

    value_unit = "s"
    id = "handshake.duration"
    event = "handshake"
    title_zh = "握手停留 1–3 秒，用右手"
    title_en = "Shake hands for 1–3 s, right hand"
    clause = "seed 003 握手 1–3 秒; seed 002 握手"
    states = ("duration_s", "hand")
    needs_video = True
    params = (
        Param("min_duration_hold_s", "s", "shorter handshakes are too brief"),
        Param("max_duration_hold_s", "s", "longer handshakes linger"),
        Param("warn_margin_s", "s", "outside the band by less than this warns"),
        Param("require_right_hand", "", "a left-hand handshake fails", bool),
    )
    cue_zh = "握手 1–3 秒，用右手"
    cue_en = "Shake for 1–3 seconds, right hand"
    explain_zh = "握手一般用右手，时间以 1–3 秒为宜：太短显得敷衍，太长令人不适。"
    explain_en = "Shake with the right hand for 1–3 seconds: shorter feels perfunctory, longer uncomfortable."

    def judge(self, f: Features, p: Params) -> Verdict:
        if not _closed(f, self.event):
            return self.waiting(f)
        dur = f.get("ev_handshake_duration_s") or 0.0
        right = f.get("ev_handshake_hand_right")
        hand = None if right is None else ("right" if right >= 0.5 else "left")
        status = _band(dur, num(p, "min_duration_hold_s"), num(p, "max_duration_hold_s"), num(p, "warn_margin_s"))
        if p["require_right_hand"] is True and hand == "left":
            status = "fail"
        return self.verdict(status, dur, num(p, "max_duration_hold_s"), duration_s=round(dur, 2), hand=hand)


class HandshakeAttention(_EventRule):
    """Look at the other person while shaking hands, no glancing around."""

    value_unit = "share"
    id = "handshake.attention"
    event = "handshake"
    title_zh = "握手时注视对方，不东张西望"
    title_en = "Look at the other person while shaking hands"
    clause = "seed 003 握手: 注视对方"
    states = ("gaze_on_target",)
    needs_video = True
    params = (
        Param("min_attention_share", "ratio", "share of the handshake facing the other person: pass"),
        Param("warn_attention_share", "ratio", "below this fails, in between warns"),
    )
    cue_zh = "握手时看着对方"
    cue_en = "Look at them as you shake"
    explain_zh = "握手时应面带微笑、目光注视对方，东张西望显得心不在焉。"
    explain_en = "Look the other person in the eye while shaking hands; looking away seems absent-minded."

    def judge(self, f: Features, p: Params) -> Verdict:
        if not _closed(f, self.event):
            return self.waiting(f)
        share = f.get("ev_handshake_attention_share")
        if share is None:
            # Alone and not facing the camera, the person the gaze should meet is not in view.
            alone = not partner_in_view(f.values)
            return self.unknown("front_view_needed" if alone and f.view.view != "front" else "face_not_visible")
        status: Status = ("pass" if share >= num(p, "min_attention_share")
                          else "warn" if share >= num(p, "warn_attention_share") else "fail")
        return self.verdict(status, share, num(p, "min_attention_share"),
                            gaze_on_target=share >= num(p, "min_attention_share"))


class GreetingBow(_EventRule):
    """Greet with a slight forward lean of the body (a small bow) and a nod.

    Event ``bow``: a torso lean (side/oblique 2-D angle, or the front estimate against
    the baseline) without a hand held out. Recommended: a bow out of the band warns.
    """

    value_unit = "deg"
    id = "greeting.bow"
    event = "bow"
    title_zh = "打招呼时身体微微前倾、点头示意"
    title_en = "Greet with a slight bow"
    clause = "seed 002 打招呼"
    states = ("bow", "lean_deg")
    recommended = True
    needs_video = True
    params = (
        Param("min_lean_deg", "deg", "a bow shallower than this warns"),
        Param("max_lean_deg", "deg", "a bow deeper than this warns"),
    )
    cue_zh = "微微欠身致意"
    cue_en = "A slight bow when greeting"
    explain_zh = "与人打招呼时身体微微前倾、点头示意，显得谦和有礼。"
    explain_en = "When greeting, lean forward slightly and nod: it reads as polite and modest."

    def judge(self, f: Features, p: Params) -> Verdict:
        if not _closed(f, self.event):
            if f.get("lean_deg") is None and not event_active(f, self.event):
                return self.unknown(_lean_unknown(f), bow=False)
            return self.waiting(f, bow=event_active(f, self.event))
        lean = f.get("ev_bow_lean_deg")
        if lean is None:
            return self.unknown(_lean_unknown(f), bow=True)
        status: Status = "pass" if num(p, "min_lean_deg") <= lean <= num(p, "max_lean_deg") else "warn"
        return self.verdict(status, lean, num(p, "max_lean_deg"), bow=True, lean_deg=round(lean, 2))


class GestureOpenPalm(_EventRule):
    """Point the way with the fingers together (palm up), never with one finger.

    Hand landmarks: the index straight with the other fingers curled = pointing (fail,
    on the ``pointing`` event's close in video); all fingers straight and together on a
    hand raised to show the way = open palm (pass; an open hand at rest shows nothing).
    Whether the palm faces up is not judged (unreliable in 2-D).
    """

    id = "gesture.open_palm"
    event = "pointing"
    judged_on_close = False  # an open hand shown passes on its frames
    # Its score is a share of the frames judged, so a score from a moment seen rests on
    # little evidence, as a frame rule's (the live page and the report both say so).
    evidence_in_time = True
    title_zh = "指示方向时手指并拢、掌心向上，不用手指指点他人"
    title_en = "Point with an open hand, not a finger"
    clause = "seed 001 §4.5.7 手势"
    states = ("pointing_finger",)
    cue_zh = "手指并拢，用手掌指示"
    cue_en = "Fingers together, gesture with the palm"
    explain_zh = "指示方向时应五指并拢、掌心向上，以肘为轴伸出手臂；用一根手指指点他人显得不礼貌。"
    explain_en = ("Show the way with the fingers together and the palm up; pointing a single finger at "
                  "people is rude.")

    def judge(self, f: Features, p: Params) -> Verdict:
        pts = [f.get("pointing_l"), f.get("pointing_r")]
        palms = [f.get("open_palm_l"), f.get("open_palm_r")]
        if f.video and _closed(f, self.event):
            dur = f.get("ev_pointing_duration_s")
            return self.verdict("fail", dur, None, pointing_finger=True)
        if all(x is None for x in pts):
            # No hand shape read. In a video, with the wrists in view, that is hands at rest
            # (the hand model is not run for them, ``hand_gate``): no gesture to judge yet.
            arms_seen = any(f.get(f"wrist_chest_{s}") is not None for s in ("l", "r"))
            if f.video and arms_seen:
                return self.waiting(f, pointing_finger=event_active(f, self.event))
            return self.unknown("hands_not_visible")
        if not f.video and f.get("pointing_shown") == 1.0:  # one photo: the frame's reading
            return self.verdict("fail", 1.0, None, pointing_finger=True)
        if any(x == 1.0 and showing_the_way(f, sfx) for x, sfx in zip(palms, ("l", "r"), strict=True)):
            return self.verdict("pass", 0.0, None, pointing_finger=False)
        if f.video:
            return self.waiting(f, pointing_finger=event_active(f, self.event))
        return self.unknown("no_event_yet", pointing_finger=False)


_REGIONS = ("scalp", "ear", "eye", "nose", "mouth")


class GestureFaceTouching(_EventRule):
    """No scratching the head, picking the ears or nose, rubbing the eyes, picking teeth, biting nails.

    Fingertips (hand landmarks, else the pose hand points) within a small radius of the
    scalp, ear, eye, nose or mouth for at least 1 s (event ``face_touch``).
    """

    id = "gesture.face_touching"
    event = "face_touch"
    judged_on_close = False  # hands away from the face pass on every frame
    # Its score is a share of the frames judged, so a score from a moment seen rests on
    # little evidence, as a frame rule's (the live page and the report both say so).
    evidence_in_time = True
    title_zh = "不搔头、掏耳、抠鼻、揉眼、剔牙、咬手指"
    title_en = "Keep the hands away from the face"
    clause = "seed 001 §4.5.6 举止禁忌"
    states = ("face_touch_region",)
    cue_zh = "请把手从面部移开"
    cue_en = "Hands away from your face"
    explain_zh = "在客户面前搔头、掏耳、抠鼻、揉眼、剔牙、咬手指等小动作显得不雅、不卫生。"
    explain_en = ("Scratching the head, touching the ears, nose or eyes, picking teeth or biting nails "
                  "in front of a customer looks careless and unhygienic.")

    def judge(self, f: Features, p: Params) -> Verdict:
        if f.video and _closed(f, self.event):
            code = f.get("ev_face_touch_code")
            region = _REGIONS[int(code) - 1] if code is not None and 1 <= code <= len(_REGIONS) else None
            return self.verdict("fail", f.get("ev_face_touch_duration_s"), None, face_touch_region=region)
        code = f.get("face_touch_code")
        if code is None:
            return self.unknown("face_not_visible" if f.get("face_touch_fw") is None and not f.view.face_visible
                                else "hands_not_visible")
        region = _REGIONS[int(code) - 1] if code >= 1 else "none"
        if f.video:
            if event_active(f, self.event):
                return self.unknown("event_in_progress", face_touch_region=region)
            return self.verdict("pass", f.get("face_touch_fw"), None, face_touch_region=region)
        # A still cannot show the 1 s: a hand at the face only warns.
        return self.verdict("warn" if code >= 1 else "pass", f.get("face_touch_fw"), None, face_touch_region=region)


class GestureCalmHands(Rule):
    """Gestures not too fast, no flailing: sustained wrist speed above a limit."""

    value_unit = "sw_s"
    id = "gesture.calm_hands"
    title_zh = "手势不过快，不手舞足蹈"
    title_en = "Calm, measured gestures"
    clause = "seed 001 §4.5.7 手势"
    states = ("hand_speed_sw_per_s",)
    needs_video = True
    params = (
        Param("warn_speed_sw_per_s", "sw/s", "mean wrist speed that warns"),
        Param("fail_speed_sw_per_s", "sw/s", "mean wrist speed that fails"),
    )
    cue_zh = "手势放慢一些"
    cue_en = "Slow your gestures down"
    explain_zh = "手势应自然、幅度适中，过快过大的动作显得浮躁、不稳重。"
    explain_en = "Keep gestures natural and moderate: fast, large movements look restless."

    def judge(self, f: Features, p: Params) -> Verdict:
        speed = f.get("hand_speed_sw_per_s")
        if speed is None:
            return self.unknown("arms_not_visible")
        status = grade(speed, num(p, "warn_speed_sw_per_s"), num(p, "fail_speed_sw_per_s"))
        return self.verdict(status, speed, num(p, "fail_speed_sw_per_s"), hand_speed_sw_per_s=round(speed, 3))


def _customer_distance(f: Features, p: Params) -> tuple[float | None, str]:
    """Metres to the customer, or None and the reason it is unknown.

    Two people in frame: between them. Alone, the camera is the customer only in a drill
    that says so (``camera_is_customer``): a trainer's tripod 2.5 m away is not a customer
    standing too far.
    """
    d = f.get("tp_distance_m")
    if d is not None:
        return d, ""
    if not p["camera_is_customer"]:
        return None, "no_customer_in_view"
    d = f.get("distance_cam_m")
    return (d, "") if d is not None else (None, "distance_unknown")


class DistanceCustomer(Rule):
    """Keep 60–80 cm from the customer when standing.

    Two people in frame (role-play, side-on camera): the centre-to-centre distance with
    their torso lengths / shoulder widths as the scale, less ``body_depth_m`` (the
    handbook's 60–80 cm is the space between the two people, 站立时应与客户保持 60~80 厘米
    的距离; their centres are two half chest depths further apart: people shaking hands
    stand about 1 m centre to centre); only from the side (``side_on_view_needed``
    otherwise: at an angle the gap is foreshortened). Alone: the distance to the camera from the
    inter-pupil distance (63 mm) and the camera's field of view (the face's front to the
    lens already). The body angle (成一定角度) is not measured.
    """

    value_unit = "cm"  # metres, shown in centimetres as the handbook's 60–80 厘米
    id = "distance.customer"
    title_zh = "与客户保持 60–80 cm（站立），成一定角度"
    title_en = "Keep 60–80 cm from the customer"
    clause = "seed 000 §二.六 距离; seed 003 距离"
    states = ("distance_m", "body_angle_deg")
    posture: ClassVar[Posture | None] = None
    params = (
        Param("min_distance_m", "m", "closer than this is too close"),
        Param("max_distance_m", "m", "farther than this is too far"),
        Param("warn_margin_m", "m", "outside the band by less than this warns"),
        Param("body_depth_m", "m", "two people: taken off the centre-to-centre distance (two half "
              "chest depths), as the handbook's distance is the space between them"),
        Param("camera_is_customer", "", "alone: the camera stands in for the customer (drills set it)", bool),
    )
    cue_zh = "与对方保持约一臂距离"
    cue_en = "Keep about an arm's length"
    explain_zh = ("站立交谈时与客户保持 60–80 厘米（两人身体之间的空隙，约为胸前到胸前），太近令人压迫，太远显得疏远。"
                  "距离由两人的肩宽估算，误差约 ±15 厘米：略超出时只提示“注意”。")
    explain_en = ("Stand 60–80 cm from the customer (the space between the two bodies, about chest to chest): "
                  "closer feels pushy, farther feels distant. The distance is estimated from the two people's "
                  "shoulder widths, to about ±15 cm: just outside the range only warns.")

    def judge(self, f: Features, p: Params) -> Verdict:
        d, why = _customer_distance(f, p)
        if d is None:
            return self.unknown(why)
        if f.get("tp_distance_m") is not None:  # centre to centre: the space between them
            if f.view.view != "side":
                # The distance is read across the image: filmed at an angle, the gap along
                # the line of sight is foreshortened (roleplay_oblique: 0.71 m for 1.03 m).
                return self.unknown("side_on_view_needed")
            d = max(0.0, d - num(p, "body_depth_m"))
        status = _band(d, num(p, "min_distance_m"), num(p, "max_distance_m"), num(p, "warn_margin_m"))
        return self.verdict(status, d, num(p, "max_distance_m"), distance_m=round(d, 3))


class DistanceSmileRange(Rule):
    """Smile when the other person comes within three metres (三米六齿)."""

    value_unit = "m"
    id = "distance.smile_range"
    title_zh = "对方进入三米范围时微笑"
    title_en = "Smile once the customer is within 3 m"
    clause = "seed 003 三米六齿"
    states = ("smiling", "distance_m")
    params = (Param("smile_within_m", "m", "distance at or below which a smile is expected"),
              Param("camera_is_customer", "", "alone: the camera stands in for the customer (drills set it)", bool))
    cue_zh = "客户走近了，请微笑"
    cue_en = "They are close: smile"
    explain_zh = "客户进入三米范围时应面带微笑、目光相迎。"
    explain_en = "When a customer comes within three metres, greet them with a smile."

    def judge(self, f: Features, p: Params) -> Verdict:
        d, why = _customer_distance(f, p)
        if d is None:
            return self.unknown(why)
        if d > num(p, "smile_within_m"):
            return self.unknown("not_in_smile_range", distance_m=round(d, 3))
        smiling = f.get("smiling")
        if smiling is None:
            return self.unknown("smile_not_measured", distance_m=round(d, 3))
        return self.verdict("pass" if smiling >= 0.5 else "fail", d, num(p, "smile_within_m"),
                            smiling=smiling >= 0.5, distance_m=round(d, 3))


INTERACTION_RULES: tuple[type[Rule], ...] = (
    HandoverTwoHands, HandoverLookAtCard, HandshakeLean, HandshakeDuration, HandshakeAttention,
    GreetingBow, GestureOpenPalm, GestureFaceTouching, GestureCalmHands, DistanceCustomer,
    DistanceSmileRange,
)
