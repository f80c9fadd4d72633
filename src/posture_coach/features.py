"""Per-frame features: one pass from an :class:`~posture_coach.types.Observation` to
named measurements that the rules judge.

A feature is a float, or ``None`` when it cannot be measured honestly in this frame
(a joint is hidden or out of frame, the view is wrong, or it needs a personal baseline
that is missing). Rules never look at landmarks directly; they read features by name.

Units are in the names: ``_deg`` degrees, ``_sw`` multiples of the shoulder width
(SW, 2-D, pixels), ``_tl`` multiples of the torso length (shoulder midpoint to hip
midpoint; used where SW collapses in a side view), ``_rel`` a ratio to the person's
calibrated baseline, flags are 0.0/1.0.

All geometry is done in pixels after undoing the camera roll measured at calibration.
"Left" and "right" are the subject's own sides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from posture_coach import geometry as g
from posture_coach.face_features import head_pose_deg
from posture_coach.geometry import Point
from posture_coach.types import FloatArray, Observation, PoseLm, Side

if TYPE_CHECKING:
    from posture_coach.calibration import Profile

ViewName = Literal["front", "oblique", "side", "unknown"]
Framing = Literal["none", "head_shoulders", "half_body", "full_body"]
Posture = Literal["standing", "sitting", "unknown"]

# Face-mesh indices: cheek extremes for face width, and the chin tip.
_FACE_LEFT_CHEEK = 454
_FACE_RIGHT_CHEEK = 234
_FACE_CHIN = 152

#: Feature names, for documentation and for tests that every name is produced.
FEATURE_NAMES: tuple[str, ...] = (
    "sw_px", "torso_px", "sw_torso_ratio",
    "torso_incline_deg", "head_forward_deg", "shoulder_tilt_deg",
    "sagittal_incline_deg", "sagittal_head_deg",
    "torso_fwd_tl", "torso_up_tl", "head_fwd_tl", "head_up_tl", "body_yaw_deg",
    "neck_ratio", "neck_ratio_rel", "face_size_rel", "sw_size_rel", "nose_height_tl",
    "head_pitch_rel_deg", "world_torso_back_rel_deg",
    "wrist_hip_l_sw", "wrist_hip_r_sw", "wrist_opp_elbow_l_sw", "wrist_opp_elbow_r_sw",
    "elbow_span_sw", "elbow_out_l_sw", "elbow_out_r_sw",
    "elbow_angle_l_deg", "elbow_angle_r_deg", "wrist_height_l", "wrist_height_r",
    "wrist_lat_l_sw", "wrist_lat_r_sw", "wrists_gap_sw", "wrists_mid_offset_sw",
    "hand_hidden_l", "hand_hidden_r", "hand_detected_l", "hand_detected_r",
    "stance_width_ratio", "heel_gap_ratio", "feet_angle_deg",
    "thigh_drop_tl", "knee_height_gap_tl", "ankle_other_knee_tl", "knees_swapped", "ankle_own_side_hw",
    "chin_hand_sw", "chin_hand_elbow_drop_sw",
    "forearm_l_sw", "forearm_r_sw",
)

#: Features added by the engine from a time window (video only); ``None`` per image.
WINDOW_FEATURE_NAMES: tuple[str, ...] = (
    "sway_sw", "leg_osc_tl", "leg_osc_hz", "fidget_sw",
    "walking",  # 1.0 while the hips cross the picture ([signals] walk_min_sw in the last second)
)


@dataclass(frozen=True, slots=True)
class View:
    """How the person is seen: the camera angle and how much of the body is in frame."""

    view: ViewName = "unknown"
    framing: Framing = "none"
    #: +1 when the person faces the image right, -1 the image left, 0 front/unknown.
    facing: int = 0
    shoulders_visible: bool = False
    hips_visible: bool = False
    knees_visible: bool = False
    legs_visible: bool = False
    face_visible: bool = False

    def to_dict(self) -> dict[str, str]:
        return {"view": self.view, "framing": self.framing}


@dataclass(frozen=True, slots=True)
class Features:
    """Everything the rules may read about one frame."""

    t_ms: int
    person: bool
    view: View
    #: Posture read from hip-knee geometry; the engine may override it (rule packs).
    posture: Posture = "unknown"
    values: Mapping[str, float | None] = field(default_factory=dict)
    has_profile: bool = False
    #: Whether windowed features (sway, oscillation) are available: video mode only.
    video: bool = False

    def get(self, name: str) -> float | None:
        """A named feature, or ``None`` when it is not measurable in this frame."""
        return self.values.get(name)

    def with_values(self, extra: Mapping[str, float | None], **changes: object) -> Features:
        """A copy with more (or replaced) values and optional field changes."""
        merged = dict(self.values)
        merged.update(extra)
        return replace(self, values=merged, **changes)  # type: ignore[arg-type]


class _Body:
    """Roll-corrected pixel landmarks with visibility gates, for one frame."""

    def __init__(self, obs: Observation, params: Mapping[str, float], roll_deg: float) -> None:
        assert obs.pose is not None
        pose = obs.pose
        w, h = obs.image_size
        self.roll_deg = roll_deg
        pts = g.to_pixels(pose.landmarks, obs.image_size)
        if roll_deg:
            centre = (w / 2.0, h / 2.0)
            pts = [g.rotate(p, centre, -roll_deg) for p in pts]
        self.pts = pts
        margin = params["frame_margin"]
        lm = pose.landmarks
        vis = pose.visibility
        self._ok = [
            g.is_visible(float(vis[i]), lm[i], params["min_visibility"], margin)
            for i in range(len(pts))
        ]
        self._ok_hand = [
            g.is_visible(float(vis[i]), lm[i], params["min_visibility_hand"], margin)
            for i in range(len(pts))
        ]
        self.vis = vis

    def ok(self, *idx: PoseLm) -> bool:
        return all(self._ok[i] for i in idx)

    def ok_hand(self, *idx: PoseLm) -> bool:
        """Looser gate for wrists and hand points, which are often partly hidden."""
        return all(self._ok_hand[i] for i in idx)

    def p(self, i: PoseLm) -> Point:
        return self.pts[i]


_SIDE_LM: dict[Side, dict[str, PoseLm]] = {
    "left": {
        "shoulder": PoseLm.LEFT_SHOULDER, "elbow": PoseLm.LEFT_ELBOW,
        "wrist": PoseLm.LEFT_WRIST, "hip": PoseLm.LEFT_HIP, "knee": PoseLm.LEFT_KNEE,
        "ankle": PoseLm.LEFT_ANKLE, "heel": PoseLm.LEFT_HEEL, "toe": PoseLm.LEFT_FOOT_INDEX,
        "pinky": PoseLm.LEFT_PINKY, "index": PoseLm.LEFT_INDEX, "thumb": PoseLm.LEFT_THUMB,
    },
    "right": {
        "shoulder": PoseLm.RIGHT_SHOULDER, "elbow": PoseLm.RIGHT_ELBOW,
        "wrist": PoseLm.RIGHT_WRIST, "hip": PoseLm.RIGHT_HIP, "knee": PoseLm.RIGHT_KNEE,
        "ankle": PoseLm.RIGHT_ANKLE, "heel": PoseLm.RIGHT_HEEL,
        "toe": PoseLm.RIGHT_FOOT_INDEX,
        "pinky": PoseLm.RIGHT_PINKY, "index": PoseLm.RIGHT_INDEX, "thumb": PoseLm.RIGHT_THUMB,
    },
}
_OTHER: dict[Side, Side] = {"left": "right", "right": "left"}
_SUFFIX: dict[Side, str] = {"left": "l", "right": "r"}
_SIDES: tuple[Side, Side] = ("left", "right")


def compute_features(
    obs: Observation, params: Mapping[str, float], profile: Profile | None = None
) -> Features:
    """Measure one frame. ``params`` is the ``[features]`` table of the calibration."""
    values: dict[str, float | None] = dict.fromkeys(FEATURE_NAMES)
    if obs.pose is None:
        return Features(
            t_ms=obs.timestamp_ms, person=obs.person,
            view=View(face_visible=obs.face is not None), values=values,
            has_profile=profile is not None,
        )
    body = _Body(obs, params, profile.roll_deg if profile is not None else 0.0)
    L, R = PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER
    shoulders = body.ok(L, R)
    hips = body.ok(PoseLm.LEFT_HIP, PoseLm.RIGHT_HIP)
    knees = hips and body.ok(PoseLm.LEFT_KNEE, PoseLm.RIGHT_KNEE)
    ankles = body.ok(PoseLm.LEFT_ANKLE, PoseLm.RIGHT_ANKLE)
    legs = knees and ankles

    sw = g.dist(body.p(L), body.p(R)) if shoulders else 0.0
    sh_mid = g.midpoint(body.p(L), body.p(R))
    hip_mid = g.midpoint(body.p(PoseLm.LEFT_HIP), body.p(PoseLm.RIGHT_HIP))
    tl = g.dist(sh_mid, hip_mid) if (shoulders and hips) else 0.0
    if sw > 0:
        values["sw_px"] = sw
    if tl > 0:
        values["torso_px"] = tl
        values["sw_torso_ratio"] = sw / tl

    view, facing = _classify_view(body, params, sw, tl)
    framing: Framing = (
        "full_body" if hips and ankles
        else "half_body" if hips
        else "head_shoulders" if shoulders
        else "none"
    )
    vw = View(
        view=view, framing=framing, facing=facing, shoulders_visible=shoulders,
        hips_visible=hips, knees_visible=knees, legs_visible=legs,
        face_visible=obs.face is not None,
    )

    if shoulders and ankles:
        # Shoulders over the feet, from the vertical (+ = shoulders to the image's right):
        # a standing body keeps its centre over its feet, so over time this is the camera's
        # roll (engine._Signals.roll), whatever the hips do.
        ankle_mid = g.midpoint(body.p(PoseLm.LEFT_ANKLE), body.p(PoseLm.RIGHT_ANKLE))
        values["body_axis_deg"] = math.degrees(math.atan2(sh_mid[0] - ankle_mid[0], ankle_mid[1] - sh_mid[1]))
    if shoulders and sw > 0:
        _upper_body(values, body, obs, profile, vw, sw, sh_mid, hip_mid, tl)
        if tl > 0 and body.ok(PoseLm.NOSE):
            values["nose_height_tl"] = nose_height_tl(body.p(PoseLm.NOSE), sh_mid, tl)
        if profile is not None:
            values["head_pitch_rel_deg"] = head_pitch_rel_deg(obs, profile)
            now = world_torso_back_deg(obs.pose.world)
            if now is not None and profile.world_torso_back_deg is not None:
                values["world_torso_back_rel_deg"] = now - profile.world_torso_back_deg
        _arms(values, body, obs, vw, sw, sh_mid, hip_mid, tl)
        if ankles:
            _feet(values, body, sw)
    if knees and tl > 0:
        _legs(values, body, vw, sw, tl)
        if vw.legs_visible and vw.view != "side" and obs.pose.world is not None:
            values["ankle_own_side_hw"] = ankle_own_side_hw(obs.pose.world)

    # Standing or sitting from the thighs. From the side (or at an angle) the far knee hides
    # behind the near leg (visibility 0.25-0.55 on the side renders): the knee in view tells it.
    thigh_drop = values.get("thigh_drop_tl")
    if thigh_drop is None and hips and tl > 0 and view in ("side", "oblique"):
        seen = [_thigh_drop(body, side, tl) for side in _SIDES if body.ok(_SIDE_LM[side]["knee"])]
        thigh_drop = sum(seen) / len(seen) if seen else None
    f = Features(
        t_ms=obs.timestamp_ms, person=True, view=vw,
        posture=_classify_posture(thigh_drop, params),
        values=values, has_profile=profile is not None,
    )
    if vw.view in ("side", "oblique"):
        incline, head = sagittal_angles(f, params["hip_forward_offset_tl"], params["front_sw_torso_ratio"],
                                        params["min_forward_scale_ratio"])
        f = f.with_values({"sagittal_incline_deg": incline, "sagittal_head_deg": head})
        lo_hi = sagittal_incline_range(f, params["hip_forward_offset_tl"], params["front_sw_torso_ratio"],
                                       params["min_forward_scale_ratio"])
        if lo_hi is not None:
            f = f.with_values({"sagittal_incline_lo_deg": lo_hi[0], "sagittal_incline_hi_deg": lo_hi[1]})
    return f


def _classify_view(
    body: _Body, params: Mapping[str, float], sw: float, tl: float
) -> tuple[ViewName, int]:
    """Front, oblique or side, and which way a sideways person faces."""
    facing = 0
    nose_ok = body.ok(PoseLm.NOSE)
    ears_ok = body.ok_hand(PoseLm.LEFT_EAR, PoseLm.RIGHT_EAR)  # one ear is often hidden
    nose_offset: float | None = None
    if nose_ok and ears_ok:
        ear_l, ear_r = body.p(PoseLm.LEFT_EAR), body.p(PoseLm.RIGHT_EAR)
        ear_mid = g.midpoint(ear_l, ear_r)
        span = max(abs(ear_l[0] - ear_r[0]), 1e-6)
        dx = body.p(PoseLm.NOSE)[0] - ear_mid[0]
        nose_offset = abs(dx) / span
        facing = 1 if dx > 0 else -1

    view: ViewName = "unknown"
    ratio = sw / tl if tl > 0 and sw > 0 else None
    if nose_offset is not None:
        # The nose against the ears is the cleanest cue (front ≤ 0.1, 35–40° oblique
        # 0.5–0.9, side > 4 on the tune renders); shoulder width against torso length
        # is ambiguous when seated. Guard against a head turned on a frontal body.
        if nose_offset <= params["front_max_nose_offset"]:
            view = "front"
        elif nose_offset >= params["side_min_nose_offset"]:
            view = "side"
        elif ratio is not None and ratio >= params["front_override_sw_torso"]:
            view = "front"
        else:
            view = "oblique"
    elif ratio is not None:
        # Shoulder width against torso length does not depend on distance to camera.
        if ratio >= params["front_min_sw_torso"]:
            view = "oblique" if _turned_without_ears(body, params, sw, tl) else "front"
        elif ratio <= params["side_max_sw_torso"]:
            view = "side"
        else:
            view = "oblique"
    if facing == 0 and view in ("side", "oblique"):
        facing = _facing_fallback(body, params, tl)
    if view == "front":
        facing = 0
    return view, facing


def _turned_without_ears(body: _Body, params: Mapping[str, float], sw: float, tl: float) -> bool:
    """A turned body although its shoulders look wide (no ears to tell; seated).

    A reclined or hunched trunk is foreshortened, so shoulder width / torso length reads
    "front" for many turned bodies. Two cues a frontal body cannot show: the nose outside
    the shoulders (a head turned 90 deg on a frontal body keeps it within ~0.3 SW of the
    midpoint), or every visible thigh pointing sideways to the same side (seated, seen
    from the front, the thighs point at the camera).
    """
    if sw <= 0 or tl <= 0:
        return False
    sh_mid = g.midpoint(body.p(PoseLm.LEFT_SHOULDER), body.p(PoseLm.RIGHT_SHOULDER))
    if body.ok(PoseLm.NOSE) and abs(body.p(PoseLm.NOSE)[0] - sh_mid[0]) / sw >= params[
            "front_max_nose_outside_sw"]:
        return True
    dxs = _thigh_dx_tl(body, tl)
    limit = params["front_max_thigh_sideways_tl"]
    return bool(dxs) and (all(d >= limit for d in dxs) or all(d <= -limit for d in dxs))


def _facing_fallback(body: _Body, params: Mapping[str, float], tl: float) -> int:
    """Facing direction without both ears: seated knees lead the hips; else the face is on
    the nose's side of the trunk's line; else unknown (0).

    The knees come first: the thighs of a seated person point forward whatever the trunk
    does, while the nose is behind the shoulders in a deep recline (sitting_fyp CSV:
    reclined rows read as hunched forward when the nose decided). The nose sits about
    10 cm in front of the neck, about 0.2 torso lengths off the hip-to-shoulder line in
    profile, on the side the person faces whether the trunk leans back or forward (the
    horizontal offset does not survive a recline: a nose on the line of a tilted trunk is
    "ahead" of the shoulders whichever way the person faces, so it is no cue);
    ``facing_min_nose_off_axis_tl`` is half of that. Measured: it agrees with the ears on
    every side/oblique frame of 10 sample clips (954 frames, all ≥ 0.15 TL off the line).
    """
    if tl <= 0:
        return 0
    # Each thigh whose hip and knee are seen (from the side the far knee is often hidden).
    dxs = _thigh_dx_tl(body, tl, level_only=True)
    if dxs:
        dx = sum(dxs) / len(dxs)
        if abs(dx) >= params["facing_min_knee_ahead_tl"]:
            return 1 if dx > 0 else -1
    sh_mid = g.midpoint(body.p(PoseLm.LEFT_SHOULDER), body.p(PoseLm.RIGHT_SHOULDER))
    if body.ok(PoseLm.NOSE, PoseLm.LEFT_HIP, PoseLm.RIGHT_HIP):
        hip_mid = g.midpoint(body.p(PoseLm.LEFT_HIP), body.p(PoseLm.RIGHT_HIP))
        # > 0: the nose on the image's +x side of the hip -> shoulder line.
        off = g.signed_offset_from_line(body.p(PoseLm.NOSE), hip_mid, sh_mid) / tl
        if abs(off) >= params["facing_min_nose_off_axis_tl"]:
            return 1 if off > 0 else -1
    return 0


def _thigh_dx_tl(body: _Body, tl: float, *, level_only: bool = False) -> list[float]:
    """Horizontal knee-minus-hip offsets (torso lengths) of the thighs that are seen.

    ``level_only``: only thighs nearer horizontal than vertical (seated), so that a
    standing stride does not decide which way a person faces.
    """
    out = []
    for hip, knee in ((PoseLm.LEFT_HIP, PoseLm.LEFT_KNEE), (PoseLm.RIGHT_HIP, PoseLm.RIGHT_KNEE)):
        if body.ok(hip, knee):
            dx, dy = (body.p(knee)[0] - body.p(hip)[0]), (body.p(knee)[1] - body.p(hip)[1])
            if not level_only or abs(dx) >= abs(dy) or dy < 0:
                out.append(dx / tl)
    return out


def _classify_posture(thigh_drop: float | None, params: Mapping[str, float]) -> Posture:
    # Standing thighs hang down a torso-length or so; seated thighs point forward,
    # so their vertical drop collapses in every view (side: horizontal; front:
    # foreshortened towards the camera).
    if thigh_drop is None:
        return "unknown"
    if thigh_drop >= params["standing_min_thigh_drop_tl"]:
        return "standing"
    if thigh_drop <= params["sitting_max_thigh_drop_tl"]:
        return "sitting"
    return "unknown"


def _body_yaw_deg(obs: Observation) -> float | None:
    """Body yaw from the front (0) to side-on (90), from MediaPipe's world shoulders.

    The world landmarks carry the model's depth guess (metres, hip-centred): noisy for a
    lean seen from the front, but the shoulder line's turn is read to a few degrees
    (tune renders: 35-40 deg obliques read 27-39 deg, side views 83-86 deg).
    """
    pose = obs.pose
    if pose is None or pose.world is None:
        return None
    v = pose.world[PoseLm.LEFT_SHOULDER] - pose.world[PoseLm.RIGHT_SHOULDER]
    return math.degrees(math.atan2(abs(float(v[2])), abs(float(v[0]))))


def forward_scale(f: Features, front_sw_torso_ref: float, min_scale: float) -> float:
    """How much of a forward/backward (sagittal) displacement shows in the image.

    A side view shows it whole (1); a body turned ``psi`` from the camera shows
    ``sin(psi)`` of it, so a 20 deg lean seen at 35 deg reads ~12 deg in 2-D. The yaw is
    ``body_yaw_deg`` when known, else the shoulder width against the torso length
    compared with a frontal body's (``front_sw_torso_ref``); never below ``min_scale``.
    """
    if f.view.view == "side":
        return 1.0
    yaw = f.get("body_yaw_deg")
    if yaw is not None:
        s = math.sin(math.radians(yaw))
    else:
        ratio = f.get("sw_torso_ratio")
        if ratio is None:
            return 1.0
        s = math.sin(math.acos(min(1.0, ratio / front_sw_torso_ref)))
    return max(min_scale, min(1.0, s))


def sagittal_angles(
    f: Features, hip_forward_offset_tl: float, front_sw_torso_ref: float, min_scale: float
) -> tuple[float | None, float | None]:
    """Torso incline and head-forward angles in the body's sagittal plane, + forward.

    From the 2-D components (``torso_fwd_tl`` …): the forward component is divided by
    :func:`forward_scale` (oblique views), and the hip midpoint is moved back by
    ``hip_forward_offset_tl`` torso lengths: MediaPipe's hip points sit on the front of
    the hip crease, ahead of the hip-joint centres, which reads as a lean back.
    Returns ``(torso_incline_deg, head_forward_deg)``, each ``None`` when unmeasurable.
    """
    scale = forward_scale(f, front_sw_torso_ref, min_scale)
    incline: float | None = None
    head: float | None = None
    fwd, up = f.get("torso_fwd_tl"), f.get("torso_up_tl")
    if fwd is not None and up is not None:
        incline = math.degrees(math.atan2(fwd / scale + hip_forward_offset_tl, up))
    hf, hu = f.get("head_fwd_tl"), f.get("head_up_tl")
    if hf is not None and hu is not None:
        head = math.degrees(math.atan2(hf / scale, hu))
    return incline, head


def sagittal_incline_range(
    f: Features, hip_forward_offset_tl: float, front_sw_torso_ref: float, min_scale: float
) -> tuple[float, float] | None:
    """The torso incline for either facing, ``(lo, hi)`` degrees, when the facing is unknown.

    A side or oblique view where neither the ears, the thighs nor the nose tell which way
    the person faces still bounds the lean: the trunk is ``torso_across_tl`` off vertical
    in one direction or the other. A rule may judge when both readings agree (a trunk
    close to vertical is upright whichever way it faces). ``None`` when the facing is
    known (use :func:`sagittal_angles`) or the trunk is not measured.
    """
    across, up = f.get("torso_across_tl"), f.get("torso_up_tl")
    if across is None or up is None or f.view.facing != 0:
        return None
    scale = forward_scale(f, front_sw_torso_ref, min_scale)
    lo = math.degrees(math.atan2(-across / scale + hip_forward_offset_tl, up))
    hi = math.degrees(math.atan2(across / scale + hip_forward_offset_tl, up))
    return lo, hi


def _upper_body(
    values: dict[str, float | None], body: _Body, obs: Observation,
    profile: Profile | None, vw: View, sw: float, sh_mid: Point, hip_mid: Point, tl: float,
) -> None:
    pl, pr = body.p(PoseLm.LEFT_SHOULDER), body.p(PoseLm.RIGHT_SHOULDER)
    # Positive = the subject's left shoulder is higher, whichever way they face.
    values["shoulder_tilt_deg"] = math.degrees(
        math.atan2(pr[1] - pl[1], max(abs(pl[0] - pr[0]), 1e-6))
    )
    if vw.facing != 0:
        values["body_yaw_deg"] = _body_yaw_deg(obs)
    if vw.facing != 0 and vw.hips_visible and tl > 0:
        values["torso_incline_deg"] = vw.facing * g.angle_from_vertical_deg(hip_mid, sh_mid)
        # Sagittal components in torso lengths (+ forward, + up), for sagittal_angles().
        values["torso_fwd_tl"] = vw.facing * (sh_mid[0] - hip_mid[0]) / tl
        values["torso_up_tl"] = (hip_mid[1] - sh_mid[1]) / tl
    elif vw.view in ("side", "oblique") and vw.hips_visible and tl > 0:
        # Facing unknown: the trunk's sideways offset without its sign, for
        # sagittal_incline_range() (a near-vertical trunk is upright either way).
        values["torso_across_tl"] = abs(sh_mid[0] - hip_mid[0]) / tl
        values["torso_up_tl"] = (hip_mid[1] - sh_mid[1]) / tl
    if vw.facing != 0 and body.ok_hand(PoseLm.LEFT_EAR, PoseLm.RIGHT_EAR):
        ear_mid = g.midpoint(body.p(PoseLm.LEFT_EAR), body.p(PoseLm.RIGHT_EAR))
        values["head_forward_deg"] = vw.facing * g.angle_from_vertical_deg(sh_mid, ear_mid)
        if tl > 0:
            values["head_fwd_tl"] = vw.facing * (ear_mid[0] - sh_mid[0]) / tl
            values["head_up_tl"] = (sh_mid[1] - ear_mid[1]) / tl
    if body.ok(PoseLm.NOSE):
        neck = g.point_line_distance(body.p(PoseLm.NOSE), pl, pr) / sw
        values["neck_ratio"] = neck
        if profile is not None and profile.neck_ratio > 0:
            values["neck_ratio_rel"] = neck / profile.neck_ratio
    if profile is not None:
        values["face_size_rel"] = _face_size_rel(body, obs, profile)
        if profile.sw_rel and vw.view == "front":
            # Shoulder width (share of the image width) against the baseline's: the trunk
            # moving away from (< 1) or towards (> 1) the camera.
            values["sw_size_rel"] = sw / obs.image_size[0] / profile.sw_rel


def nose_height_tl(nose: Point, sh_mid: Point, tl: float) -> float:
    """Height of the nose above the shoulder midpoint, in torso lengths (+ up).

    Vertical image distances do not change when the body turns about the vertical axis,
    so this reads alike from the front, obliquely and from the side (sitting_fyp CSV:
    upright and reclined 0.37-0.42 in every view). A head hanging forward and down, as in
    a hunched slouch, brings it down (slouching rows 0.22-0.26, some below zero).
    """
    return (sh_mid[1] - nose[1]) / tl


def world_torso_back_deg(world: FloatArray | None) -> float | None:
    """The trunk's tilt away from the camera, degrees, from MediaPipe's 3-D world landmarks
    (+ = shoulders farther from the camera than the hips). Its depth is learned, so only
    changes against the personal baseline are used: seen from the front, leaning back
    moves it up (tune renders, front_full: +5.4 to +8.1 deg median), a slump down (laptop
    slumps: -1.8 to -6.1), sitting upright or only pitching the head stays within ±1.
    """
    if world is None:
        return None
    sh = [(float(world[PoseLm.LEFT_SHOULDER][k]) + float(world[PoseLm.RIGHT_SHOULDER][k])) / 2 for k in range(3)]
    hp = [(float(world[PoseLm.LEFT_HIP][k]) + float(world[PoseLm.RIGHT_HIP][k])) / 2 for k in range(3)]
    dy, dz = sh[1] - hp[1], sh[2] - hp[2]  # world y points down, z away from the camera
    if abs(dy) < 1e-6 and abs(dz) < 1e-6:
        return None
    return math.degrees(math.atan2(dz, -dy))


def head_pitch_rel_deg(obs: Observation, profile: Profile) -> float | None:
    """Head pitch (face mesh) against the baseline's, degrees, + up, - looking down.

    Looking down shortens the nose-to-shoulder-line distance as a slump does (synthetic
    laptop renders: 19 deg down shortens it 14 %, 31 deg 25 %), with the trunk unmoved.
    """
    neutral = (profile.face_neutral or {}).get("head_pitch_deg")
    if obs.face is None or neutral is None:
        return None
    pose = head_pose_deg(obs.face.transform)
    return None if pose is None else pose[1] - neutral


def face_width_rel(obs: Observation) -> float | None:
    """Face width (cheek to cheek, face mesh) as a share of the image width."""
    if obs.face is None:
        return None
    w, h = obs.image_size
    a = obs.face.landmarks[_FACE_LEFT_CHEEK]
    b = obs.face.landmarks[_FACE_RIGHT_CHEEK]
    return math.hypot((a[0] - b[0]) * w, (a[1] - b[1]) * h) / w


def ear_span_rel(obs: Observation, min_visibility: float) -> float | None:
    """Ear-to-ear distance (pose) as a share of the image width: a face-size fallback."""
    if obs.pose is None:
        return None
    vis = obs.pose.visibility
    if min(vis[PoseLm.LEFT_EAR], vis[PoseLm.RIGHT_EAR]) < min_visibility:
        return None
    w, h = obs.image_size
    a = obs.pose.landmarks[PoseLm.LEFT_EAR]
    b = obs.pose.landmarks[PoseLm.RIGHT_EAR]
    return math.hypot((a[0] - b[0]) * w, (a[1] - b[1]) * h) / w


def _face_size_rel(body: _Body, obs: Observation, profile: Profile) -> float | None:
    # Compare like with like: the face mesh if both now and at calibration, else ears.
    now = face_width_rel(obs)
    if now is not None and profile.face_width_rel:
        return now / profile.face_width_rel
    ears = ear_span_rel(obs, 0.0) if body.ok_hand(PoseLm.LEFT_EAR, PoseLm.RIGHT_EAR) else None
    if ears is not None and profile.ear_span_rel:
        return ears / profile.ear_span_rel
    return None


def _arms(
    values: dict[str, float | None], body: _Body, obs: Observation, vw: View,
    sw: float, sh_mid: Point, hip_mid: Point, tl: float,
) -> None:
    pl, pr = body.p(PoseLm.LEFT_SHOULDER), body.p(PoseLm.RIGHT_SHOULDER)
    # Unit vector towards the subject's left, along the shoulder line.
    ux, uy = (pl[0] - pr[0]) / sw, (pl[1] - pr[1]) / sw
    torso_dy = hip_mid[1] - sh_mid[1] if vw.hips_visible else 0.0
    elbows: dict[Side, Point] = {}
    wrists: dict[Side, Point] = {}
    for side in _SIDES:
        lm = _SIDE_LM[side]
        sfx = _SUFFIX[side]
        outward = 1.0 if side == "left" else -1.0
        _hand_flags(values, body, obs, side)
        if not body.ok_hand(lm["elbow"]):  # elbows hide behind crossed arms too
            continue
        elbow = body.p(lm["elbow"])
        elbows[side] = elbow
        shoulder = body.p(lm["shoulder"])
        values[f"elbow_out_{sfx}_sw"] = outward * (
            (elbow[0] - shoulder[0]) * ux + (elbow[1] - shoulder[1]) * uy
        ) / sw
        if not body.ok_hand(lm["wrist"]):
            continue
        wrist = body.p(lm["wrist"])
        wrists[side] = wrist
        values[f"elbow_angle_{sfx}_deg"] = g.interior_angle_deg(shoulder, elbow, wrist)
        if vw.hips_visible:
            hip = body.p(lm["hip"])
            values[f"wrist_hip_{sfx}_sw"] = g.dist(wrist, hip) / sw
            values[f"wrist_lat_{sfx}_sw"] = abs(
                (wrist[0] - hip[0]) * ux + (wrist[1] - hip[1]) * uy
            ) / sw
            if torso_dy > 0:
                values[f"wrist_height_{sfx}"] = (wrist[1] - sh_mid[1]) / torso_dy
    for side in _SIDES:
        other = _OTHER[side]
        if side in wrists and other in elbows:
            values[f"wrist_opp_elbow_{_SUFFIX[side]}_sw"] = g.dist(wrists[side], elbows[other]) / sw
    if len(elbows) == 2:
        values["elbow_span_sw"] = g.dist(elbows["left"], elbows["right"]) / sw
    if len(wrists) == 2:
        values["wrists_gap_sw"] = g.dist(wrists["left"], wrists["right"]) / sw
        wm = g.midpoint(wrists["left"], wrists["right"])
        centre = g.midpoint(sh_mid, hip_mid) if vw.hips_visible else sh_mid
        values["wrists_mid_offset_sw"] = abs(
            (wm[0] - centre[0]) * ux + (wm[1] - centre[1]) * uy
        ) / sw
    _chin_hand(values, body, obs, sw, wrists, elbows)
    _forearms(values, sw, wrists, elbows)
    if vw.hips_visible and torso_dy > 0:
        _wrists_without_elbows(values, body, sw, sh_mid, hip_mid, torso_dy, (ux, uy))


def _forearms(
    values: dict[str, float | None], sw: float, wrists: dict[Side, Point], elbows: dict[Side, Point],
) -> None:
    """Projected forearm length (elbow to wrist, SW) per side (standing.arms_crossed).

    A forearm pointing at the camera is short in 2-D; so is one whose hand is tucked
    under the other arm, where MediaPipe puts the hidden wrist back at its own elbow.
    """
    for side in _SIDES:
        if side in wrists and side in elbows:
            values[f"forearm_{_SUFFIX[side]}_sw"] = g.dist(wrists[side], elbows[side]) / sw


def _wrists_without_elbows(
    values: dict[str, float | None], body: _Body, sw: float, sh_mid: Point, hip_mid: Point,
    torso_dy: float, u: tuple[float, float],
) -> None:
    """Wrist heights and the wrists' midpoint offset when an elbow is hidden (standing.hands_front).

    Hands clasped in front, seen obliquely, hide the far elbow behind the body while the
    far wrist still shows next to the near hand: :func:`_arms` measures a wrist only with
    its elbow, so these fill the wrist-only values it left out.
    """
    pts: dict[Side, Point] = {}
    for side in _SIDES:
        wrist_lm = _SIDE_LM[side]["wrist"]
        if not body.ok_hand(wrist_lm):
            return
        pts[side] = body.p(wrist_lm)
        key = f"wrist_height_{_SUFFIX[side]}"
        if values.get(key) is None:
            values[key] = (pts[side][1] - sh_mid[1]) / torso_dy
    if values.get("wrists_mid_offset_sw") is None:
        wm = g.midpoint(pts["left"], pts["right"])
        centre = g.midpoint(sh_mid, hip_mid)
        values["wrists_mid_offset_sw"] = abs((wm[0] - centre[0]) * u[0] + (wm[1] - centre[1]) * u[1]) / sw
    if values.get("wrists_gap_sw") is None:
        values["wrists_gap_sw"] = g.dist(pts["left"], pts["right"]) / sw


def _hand_flags(values: dict[str, float | None], body: _Body, obs: Observation, side: Side) -> None:
    lm = _SIDE_LM[side]
    sfx = _SUFFIX[side]
    pts = (lm["pinky"], lm["index"], lm["thumb"])
    values[f"hand_hidden_{sfx}"] = 1.0 - sum(float(body.vis[i]) for i in pts) / 3.0
    if "hands" in obs.ran:
        values[f"hand_detected_{sfx}"] = 1.0 if obs.hand(side) is not None else 0.0


def _chin_hand(
    values: dict[str, float | None], body: _Body, obs: Observation, sw: float,
    wrists: dict[Side, Point], elbows: dict[Side, Point],
) -> None:
    chin = _chin(body, obs)
    if chin is None:
        return
    best: tuple[float, Side, Point] | None = None
    for side in _SIDES:
        pts = _hand_points(body, obs, side)
        for p in pts:
            d = g.dist(p, chin)
            if best is None or d < best[0]:
                best = (d, side, p)
    if best is None:
        return
    d, side, p = best
    values["chin_hand_sw"] = d / sw
    if side in elbows:
        values["chin_hand_elbow_drop_sw"] = (elbows[side][1] - p[1]) / sw


def _chin(body: _Body, obs: Observation) -> Point | None:
    if obs.face is not None:
        w, h = obs.image_size
        c = obs.face.landmarks[_FACE_CHIN]
        return _rotate_like_body((float(c[0]) * w, float(c[1]) * h), body, obs)
    if not body.ok(PoseLm.NOSE, PoseLm.MOUTH_LEFT, PoseLm.MOUTH_RIGHT):
        return None
    # Pose has no chin point: extend nose -> mouth (chin sits ~1.5 nose-mouth gaps below).
    nose = body.p(PoseLm.NOSE)
    mouth = g.midpoint(body.p(PoseLm.MOUTH_LEFT), body.p(PoseLm.MOUTH_RIGHT))
    return (mouth[0] + 1.5 * (mouth[0] - nose[0]), mouth[1] + 1.5 * (mouth[1] - nose[1]))


def _rotate_like_body(p: Point, body: _Body, obs: Observation) -> Point:
    # Face and hand points must share the body's roll-corrected frame.
    roll = body.roll_deg
    if not roll:
        return p
    w, h = obs.image_size
    return g.rotate(p, (w / 2.0, h / 2.0), -roll)


def _hand_points(body: _Body, obs: Observation, side: Side) -> list[Point]:
    hand = obs.hand(side)
    if hand is not None:
        w, h = obs.image_size
        return [_rotate_like_body((float(r[0]) * w, float(r[1]) * h), body, obs)
                for r in hand.landmarks]
    lm = _SIDE_LM[side]
    return [body.p(i) for i in (lm["wrist"], lm["index"], lm["thumb"], lm["pinky"])
            if body.ok_hand(i)]


def _feet(values: dict[str, float | None], body: _Body, sw: float) -> None:
    la, ra = body.p(PoseLm.LEFT_ANKLE), body.p(PoseLm.RIGHT_ANKLE)
    values["stance_width_ratio"] = abs(la[0] - ra[0]) / sw
    if body.ok(PoseLm.LEFT_HEEL, PoseLm.RIGHT_HEEL):
        lh, rh = body.p(PoseLm.LEFT_HEEL), body.p(PoseLm.RIGHT_HEEL)
        values["heel_gap_ratio"] = g.dist(lh, rh) / sw
        if body.ok(PoseLm.LEFT_FOOT_INDEX, PoseLm.RIGHT_FOOT_INDEX):
            lt, rt = body.p(PoseLm.LEFT_FOOT_INDEX), body.p(PoseLm.RIGHT_FOOT_INDEX)
            # Angle between the two feet as projected in the image: a 2-D proxy, not
            # the true angle on the floor (calibrate thresholds per camera height).
            values["feet_angle_deg"] = g.vector_angle_deg(
                (lt[0] - lh[0], lt[1] - lh[1]), (rt[0] - rh[0], rt[1] - rh[1])
            )


def ankle_own_side_hw(world: FloatArray) -> float | None:
    """How far the ankle nearer the other side still lies on its own side, in hip half-widths.

    Read from MediaPipe's metric world landmarks (hip-centred 3-D), across the hip line
    and in the horizontal plane, so it does not depend on where the camera stands: each
    ankle's offset from the hip midpoint towards its own hip, the smaller of the two.
    Feet side by side put both ankles out on their own side (tune renders, front and
    oblique: 0.54-1.50); the top leg of crossed legs brings its ankle to the midline or
    past it (-1.06 to 0.19). MediaPipe's depth is least reliable from the side: not used there.
    """
    lh = [float(v) for v in world[PoseLm.LEFT_HIP]]
    rh = [float(v) for v in world[PoseLm.RIGHT_HIP]]
    ax, az = lh[0] - rh[0], lh[2] - rh[2]  # the hip line in the horizontal plane (y is vertical)
    width = math.hypot(ax, az)
    if width < 1e-6:
        return None
    ax, az = ax / width, az / width
    mx, mz = (lh[0] + rh[0]) / 2.0, (lh[2] + rh[2]) / 2.0

    def across(i: int) -> float:
        return ((float(world[i][0]) - mx) * ax + (float(world[i][2]) - mz) * az) / (width / 2.0)

    return min(across(PoseLm.LEFT_ANKLE), -across(PoseLm.RIGHT_ANKLE))


def _thigh_drop(body: _Body, side: Side, tl: float) -> float:
    """How far the knee lies below the hip, in torso lengths (standing ~1, seated ~0)."""
    lm = _SIDE_LM[side]
    return (body.p(lm["knee"])[1] - body.p(lm["hip"])[1]) / tl


def _legs(values: dict[str, float | None], body: _Body, vw: View, sw: float, tl: float) -> None:
    drops = [_thigh_drop(body, side, tl) for side in _SIDES]
    values["thigh_drop_tl"] = sum(drops) / len(drops)
    lk, rk = body.p(PoseLm.LEFT_KNEE), body.p(PoseLm.RIGHT_KNEE)
    values["knee_height_gap_tl"] = abs(lk[1] - rk[1]) / tl
    if vw.view != "side":
        lh, rh = body.p(PoseLm.LEFT_HIP), body.p(PoseLm.RIGHT_HIP)
        hip_order = lh[0] - rh[0]
        knee_order = lk[0] - rk[0]
        # Knees in the opposite left-right order to the hips: one thigh crosses over.
        values["knees_swapped"] = 1.0 if hip_order * knee_order < 0 else 0.0
    if vw.legs_visible:
        la, ra = body.p(PoseLm.LEFT_ANKLE), body.p(PoseLm.RIGHT_ANKLE)
        values["ankle_other_knee_tl"] = min(g.dist(la, rk), g.dist(ra, lk)) / tl
