"""Per-frame cues for the interaction rules (handover, handshake, bow, gestures, distance).

Pure numpy and math: landmarks in, named floats out (``None`` = not measurable here).
Units are in the names, as in :mod:`posture_coach.features`: ``_sw`` shoulder widths
(the body scale, :func:`posture_coach.geometry.body_scale`: the 2-D shoulder width from
the front, 0.75 torso lengths when the shoulders turn away; ``hand_size_*_sw`` alone is
against the 2-D shoulder width), ``_tl`` torso lengths, ``_deg`` degrees, ``_m`` metres, ``_sw_per_s``
shoulder widths per second; flags are 0.0/1.0. Sides are the subject's own.

Parameters come from the ``[interaction]`` table (``calibration/default.toml``);
nothing numeric that could be tuned lives here except geometry (landmark indices).

Entry points:

- :func:`interaction_values` — one frame's cues for the rules and event machines;
- :class:`WristSpeed` — wrist speed across frames (the one stateful cue);
- :func:`classify_hand` — pointing / open palm / other from 21 hand landmarks;
- :func:`face_touch` — nearest face region touched by a fingertip;
- :func:`camera_distance_m` — distance to the camera from the inter-pupil distance;
- :func:`joined_hands`, :func:`torso_lean_towards_deg`, :func:`two_person_distance_m` —
  two-person geometry used by :mod:`posture_coach.two_person`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from posture_coach.geometry import body_scale
from posture_coach.types import FloatArray, HandObs, Observation, PoseLm, PoseObs, Side

Point = tuple[float, float]
HandShape = Literal["pointing", "open_palm", "other"]

#: Face regions a fingertip may touch, in the order of their codes (code = index + 1).
FACE_REGIONS: tuple[str, ...] = ("scalp", "ear", "eye", "nose", "mouth")

#: Names this module produces (values of :func:`interaction_values`).
INTERACTION_FEATURE_NAMES: tuple[str, ...] = (
    "wrist_above_shoulder_l_sw", "wrist_above_shoulder_r_sw", "wrist_above_hip_l_sw", "wrist_above_hip_r_sw",
    "wrist_chest_l", "wrist_chest_r", "forearm_ratio_l", "forearm_ratio_r", "hand_size_l_sw", "hand_size_r_sw",
    "reach_l", "reach_r", "reach_raise_tl", "grip_l", "grip_r", "wrists_gap_sw", "hands_together", "arms_folded",
    "two_hands_out", "card_grip", "handshake_alone", "handshake_hand_right",
    "lean_deg", "lean_source_side", "pointing_l", "pointing_r", "open_palm_l", "open_palm_r", "pointing_shown",
    "face_touch_code", "face_touch_fw", "head_down_ratio", "head_yaw_ratio", "looking_at_target",
    "distance_cam_m", "tp_persons", "tp_handshake", "tp_lean_deg", "tp_distance_m", "hand_speed_sw_per_s",
    "seated", "sagittal_lean_deg",
)

# Hand landmarks (MediaPipe hand topology).
_WRIST = 0
_THUMB_TIP = 4
_FINGERS = ((5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))  # index..pinky: mcp, pip, dip, tip
_TIPS = (4, 8, 12, 16, 20)
# Face mesh: iris centres, nose tip, eye corners, mouth, cheeks (ear level), forehead.
_IRIS_L, _IRIS_R = 473, 468
_FM_NOSE, _FM_MOUTH, _FM_FOREHEAD, _FM_CHIN = 1, 13, 10, 152
_FM_EYES = (33, 133, 263, 362)
_FM_EARS = (234, 454)

_SIDES: tuple[Side, Side] = ("left", "right")
_SFX: dict[Side, str] = {"left": "l", "right": "r"}
_SH = {"left": PoseLm.LEFT_SHOULDER, "right": PoseLm.RIGHT_SHOULDER}
_EL = {"left": PoseLm.LEFT_ELBOW, "right": PoseLm.RIGHT_ELBOW}
_WR = {"left": PoseLm.LEFT_WRIST, "right": PoseLm.RIGHT_WRIST}
_HP = {"left": PoseLm.LEFT_HIP, "right": PoseLm.RIGHT_HIP}
_HAND_PTS = {"left": (PoseLm.LEFT_INDEX, PoseLm.LEFT_PINKY, PoseLm.LEFT_THUMB),
             "right": (PoseLm.RIGHT_INDEX, PoseLm.RIGHT_PINKY, PoseLm.RIGHT_THUMB)}


def _px(lm: FloatArray, i: int, size: tuple[int, int]) -> Point:
    return (float(lm[i, 0]) * size[0], float(lm[i, 1]) * size[1])


def _mid(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0)


def _d(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


# -- hands ---------------------------------------------------------------------------


def _hand_xyz(hand: HandObs | FloatArray, aspect: float) -> FloatArray:
    """3-D hand points on a common scale: the image landmarks as x·aspect, y, z.

    Not the hand model's world landmarks: for the small hands of a person standing a few
    metres away (14-20 px, read in a crop) they fold the fingers of a pointing hand
    straight. Tune renders (pointing_vs_open_palm, seeds 9720-9727): gestures told apart
    11 of 16 with world landmarks, 14 of 16 with these; 65 standing clips (seeds 9600+,
    9800+): 1 false pointing with world landmarks, none with these.
    """
    lm = hand.landmarks if isinstance(hand, HandObs) else hand
    out = np.array(lm, dtype=np.float64, copy=True)
    out[:, 0] *= aspect
    out[:, 2] *= aspect  # MediaPipe's hand z is on the scale of x
    return out


def finger_extension(hand: HandObs | FloatArray, aspect: float = 1.0) -> tuple[float, ...]:
    """Straightness of index..pinky: the mean of the PIP and DIP joint angles, degrees (180 = straight)."""
    p = _hand_xyz(hand, aspect)
    out = []
    for mcp, pip, dip, tip in _FINGERS:
        angs = []
        for a, v, b in ((mcp, pip, dip), (pip, dip, tip)):
            u, w = p[a] - p[v], p[b] - p[v]
            nu, nw = float(np.linalg.norm(u)), float(np.linalg.norm(w))
            c = 1.0 if nu == 0 or nw == 0 else float(np.clip(np.dot(u, w) / (nu * nw), -1.0, 1.0))
            angs.append(math.degrees(math.acos(c)))
        # Also curled when the tip folds back towards the wrist (angles alone miss a fist seen end-on).
        folded = float(np.linalg.norm(p[tip] - p[_WRIST])) < float(np.linalg.norm(p[pip] - p[_WRIST]))
        out.append(0.0 if folded else sum(angs) / 2.0)
    return tuple(out)


def finger_spread_deg(hand: HandObs | FloatArray, aspect: float = 1.0) -> float:
    """Angle between the index and the pinky directions (MCP->tip): fingers together ~ < 25°."""
    p = _hand_xyz(hand, aspect)
    u = p[8] - p[5]
    w = p[20] - p[17]
    nu, nw = float(np.linalg.norm(u)), float(np.linalg.norm(w))
    if nu == 0 or nw == 0:
        return 180.0
    return math.degrees(math.acos(float(np.clip(np.dot(u, w) / (nu * nw), -1.0, 1.0))))


def classify_hand(hand: HandObs | FloatArray, p: Mapping[str, float], aspect: float = 1.0,
                  ext: tuple[float, ...] | None = None) -> HandShape:
    """Pointing (index straight, the others curled or the index clearly standing out of
    them, the thumb off the index tip) vs open palm (all straight, together) vs other.

    An index that is not curled (above ``finger_curled_max_deg``) out of three curled
    fingers also points, though it reads bent: pointing along the line of sight (a camera
    at an angle on the pointing side) foreshortens it to 120-150° joint angles in the
    image (oblique renders, 10200+ at 1280×960: 124-157°, the other three 0).

    An index whose tip reaches clearly beyond every other fingertip in 3-D
    (:func:`index_reach_margin` at least ``point_reach_3d_margin_hand``), out of a hand whose
    other fingers are not all straight, points however bent its joints read: for small
    hands (12-20 px) the hand model often folds a pointing index at its joints while still
    placing its tip out in front (renders 10000+: joint angles 0° on all four fingers, the
    index tip 1.3-1.4 hand sizes from the wrist, the others 0.8-1.0).

    A thumb tip at the index tip (``pinch_max_gap_hand`` hand sizes) is a pinch holding
    something, a card held out in one hand, not a pointing finger. ``ext``: the hand's
    :func:`finger_extension`, when the caller has it already.
    """
    if ext is None:
        ext = finger_extension(hand, aspect)
    straight = [e >= p["finger_straight_min_deg"] for e in ext]
    # An index pointing along the line of sight reads bent in the image (120-150°), but
    # with the other three all curled it still stands out of a fist.
    foreshortened = ext[0] > p["finger_curled_max_deg"] and all(e <= p["finger_curled_max_deg"] for e in ext[1:])
    xyz = _hand_xyz(hand, aspect)
    reach = index_reach_margin(xyz)
    reaching = (reach >= p["point_reach_3d_margin_hand"]
                and sum(e < p["finger_straight_min_deg"] for e in ext[1:]) >= 2)
    if not straight[0] and not foreshortened and not reaching:
        return "other"
    xy = xyz[:, :2]
    size = float(np.linalg.norm(xy[9] - xy[_WRIST]))
    if reaching or foreshortened or fingers_curled(ext, p) or _index_stands_out(reach, ext, p):
        if size > 0 and float(np.linalg.norm(xy[_THUMB_TIP] - xy[8])) <= p["pinch_max_gap_hand"] * size:
            return "other"
        return "pointing"
    if all(straight) and finger_spread_deg(hand, aspect) <= p["palm_together_max_deg"]:
        return "open_palm"
    return "other"


def fingers_curled(ext: tuple[float, ...], p: Mapping[str, float]) -> bool:
    """Two or more of the middle, ring and little fingers curled (``finger_curled_max_deg``):
    a fist, a pointing hand, or a hand closed round something."""
    return sum(e <= p["finger_curled_max_deg"] for e in ext[1:]) >= 2


def index_reach_margin(hand: HandObs | FloatArray, aspect: float = 1.0) -> float:
    """How far the index tip lies beyond the furthest other fingertip from the wrist, in
    hand sizes (wrist to middle knuckle), in 3-D: a finger pointing along the line of sight
    keeps its reach there, where the image shows it short. ``hand``: a :class:`HandObs` or
    points already on :func:`_hand_xyz`'s scale (then ``aspect`` is not used).
    """
    p = _hand_xyz(hand, aspect) if isinstance(hand, HandObs) else hand
    size = float(np.linalg.norm(p[9] - p[_WRIST]))
    if size <= 0:
        return 0.0
    reach = [float(np.linalg.norm(p[tip] - p[_WRIST])) / size for tip in (8, 12, 16, 20)]
    return reach[0] - max(reach[1:])


def _index_stands_out(reach: float, ext: tuple[float, ...], p: Mapping[str, float]) -> bool:
    """The index clearly the straightest finger and the one reaching furthest (``reach``:
    :func:`index_reach_margin`).

    For a small hand (15-20 px, a person a few metres away) the hand model often bends the
    curled fingers of a pointing hand only half-way (120-165°), so "two fingers curled"
    misses it. In an open palm, fingers together, all four are straight alike and the
    middle fingertip is the furthest from the wrist; here the index is straighter than the
    others' mean by ``point_index_margin_deg`` and its tip lies beyond every other
    fingertip by ``point_reach_margin_hand`` hand sizes.
    """
    return (ext[0] - sum(ext[1:]) / 3.0 >= p["point_index_margin_deg"]
            and reach >= p["point_reach_margin_hand"])


def hand_size_px(hand: HandObs, size: tuple[int, int]) -> float:
    """Wrist to middle-finger MCP, pixels (:meth:`HandObs.size_px`)."""
    return hand.size_px(size)


def pinch_point(hand: HandObs, size: tuple[int, int], max_gap_ratio: float) -> Point | None:
    """Midpoint of thumb and index tips when they pinch (gap ≤ ratio × hand size), else None."""
    lm = hand.landmarks
    hs = hand_size_px(hand, size)
    t, i = _px(lm, _THUMB_TIP, size), _px(lm, 8, size)
    if hs <= 0 or _d(t, i) > max_gap_ratio * hs:
        return None
    return _mid(t, i)


# -- face --------------------------------------------------------------------------------


def _face_targets(obs: Observation, min_vis: float) -> tuple[dict[str, list[Point]], float] | None:
    """Face region points (pixels) and a face-width scale, from the face mesh or pose face points."""
    size = obs.image_size
    if obs.face is not None:
        lm = obs.face.landmarks
        ears = [_px(lm, i, size) for i in _FM_EARS]
        fw = _d(*ears)
        top, chin = _px(lm, _FM_FOREHEAD, size), _px(lm, _FM_CHIN, size)
        # Scalp: above the forehead by ~0.35 face heights, plus the temples' upper corners.
        up = (top[0] - chin[0], top[1] - chin[1])
        scalp = (top[0] + 0.35 * up[0], top[1] + 0.35 * up[1])
        return ({
            "scalp": [scalp, top],
            "ear": ears,
            "eye": [_mid(_px(lm, 33, size), _px(lm, 133, size)), _mid(_px(lm, 263, size), _px(lm, 362, size))],
            "nose": [_px(lm, _FM_NOSE, size)],
            "mouth": [_px(lm, _FM_MOUTH, size)],
        }, fw)
    pose = obs.pose
    if pose is None or not pose.sees(min_vis, PoseLm.NOSE, PoseLm.LEFT_EYE, PoseLm.RIGHT_EYE):
        return None
    lm = pose.landmarks
    nose = _px(lm, PoseLm.NOSE, size)
    eyes = [_px(lm, PoseLm.LEFT_EYE, size), _px(lm, PoseLm.RIGHT_EYE, size)]
    ears = [_px(lm, PoseLm.LEFT_EAR, size), _px(lm, PoseLm.RIGHT_EAR, size)]
    fw = max(_d(*ears), 2.0 * _d(*eyes))
    eye_mid = _mid(*eyes)
    mouth = _mid(_px(lm, PoseLm.MOUTH_LEFT, size), _px(lm, PoseLm.MOUTH_RIGHT, size))
    down = (mouth[0] - eye_mid[0], mouth[1] - eye_mid[1])
    scalp = (eye_mid[0] - 1.6 * down[0], eye_mid[1] - 1.6 * down[1])
    targets = {"scalp": [scalp], "eye": eyes, "nose": [nose], "mouth": [mouth]}
    if pose.sees(min_vis, PoseLm.LEFT_EAR) or pose.sees(min_vis, PoseLm.RIGHT_EAR):
        targets["ear"] = ears
    return targets, fw


def fingertips(obs: Observation, min_vis: float) -> list[Point]:
    """Fingertips in pixels: hand landmarks when detected, else the pose hand points."""
    size = obs.image_size
    pts: list[Point] = []
    for side in _SIDES:
        hand = obs.hand(side)
        if hand is not None:
            pts.extend(_px(hand.landmarks, i, size) for i in _TIPS)
        elif obs.pose is not None:
            idx = (PoseLm.LEFT_INDEX, PoseLm.LEFT_THUMB) if side == "left" else (PoseLm.RIGHT_INDEX, PoseLm.RIGHT_THUMB)
            pts.extend(_px(obs.pose.landmarks, i, size) for i in idx if obs.pose.sees(min_vis, i))
    return pts


def face_touch(obs: Observation, p: Mapping[str, float]) -> tuple[str | None, float | None]:
    """The face region nearest to any fingertip if within ``touch_radius_fw`` face widths
    (``touch_radius_outer_fw`` for the ear and the scalp: their points are stand-ins, the
    face's contour beside the ear and a point extrapolated above the forehead, and a
    finger on the ear or in the hair stays further from them).

    Returns (region or None, that distance in face widths; None when nothing is measurable).
    """
    ft = _face_targets(obs, p["min_visibility_hand"])
    tips = fingertips(obs, p["min_visibility_hand"])
    if ft is None or not tips:
        return None, None
    targets, fw = ft
    if fw <= 0:
        return None, None
    best: tuple[float, str] | None = None
    for region in FACE_REGIONS:
        for q in targets.get(region, ()):
            for t in tips:
                d = _d(q, t) / fw
                if best is None or d < best[0]:
                    best = (d, region)
    assert best is not None
    radius = p["touch_radius_outer_fw"] if best[1] in ("ear", "scalp") else p["touch_radius_fw"]
    return (best[1] if best[0] <= radius else None), best[0]


def inter_pupil_px(obs: Observation, min_vis: float) -> float | None:
    """Distance between the pupils in pixels (face-mesh irises, else pose eye centres)."""
    size = obs.image_size
    if obs.face is not None and len(obs.face.landmarks) > max(_IRIS_L, _IRIS_R):
        return _d(_px(obs.face.landmarks, _IRIS_L, size), _px(obs.face.landmarks, _IRIS_R, size))
    if obs.pose is not None and obs.pose.sees(min_vis, PoseLm.LEFT_EYE, PoseLm.RIGHT_EYE):
        return _d(_px(obs.pose.landmarks, PoseLm.LEFT_EYE, size), _px(obs.pose.landmarks, PoseLm.RIGHT_EYE, size))
    return None


def focal_px(image_width: int, hfov_deg: float) -> float:
    """Pinhole focal length in pixels from the horizontal field of view."""
    return (image_width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)


def camera_distance_m(ipd_px: float, image_width: int, hfov_deg: float, ipd_m: float = 0.063,
                      yaw_ratio: float = 0.0) -> float | None:
    """Distance to the camera from the inter-pupil distance (adult mean 63 mm), pinhole model.

    ``yaw_ratio`` (nose offset / ear span, 0 = frontal) undoes part of the foreshortening
    of a turned head (cos of ~ yaw, clamped so a profile face is not blown up).
    """
    if ipd_px <= 0:
        return None
    cos_yaw = max(0.5, math.cos(min(abs(yaw_ratio), 1.0) * math.pi / 2.0))
    return focal_px(image_width, hfov_deg) * ipd_m * cos_yaw / ipd_px


# -- two people ---------------------------------------------------------------------------


def pose_box(pose: PoseObs, min_vis: float = 0.3) -> tuple[float, float, float, float]:
    """Bounding box (x0, y0, x1, y1, normalised) of the visible landmarks."""
    ok = pose.visibility >= min_vis
    lm = pose.landmarks[ok] if bool(ok.any()) else pose.landmarks
    x0, y0 = np.clip(lm[:, :2].min(axis=0), 0.0, 1.0)
    x1, y1 = np.clip(lm[:, :2].max(axis=0), 0.0, 1.0)
    return (round(float(x0), 4), round(float(y0), 4), round(float(x1), 4), round(float(y1), 4))


def person_centre_x(pose: PoseObs) -> float:
    """Normalised x of the shoulder midpoint (the hips are often hidden by the other person)."""
    return float((pose.landmarks[PoseLm.LEFT_SHOULDER, 0] + pose.landmarks[PoseLm.RIGHT_SHOULDER, 0]) / 2.0)


@dataclass(frozen=True, slots=True)
class Body2D:
    """The few pixel points the interaction geometry needs, with scales."""

    sh: Point  # shoulder midpoint
    hip: Point | None
    sw: float
    tl: float | None
    wrists: dict[Side, Point]
    shoulders: dict[Side, Point]
    hand_pts: dict[Side, list[Point]]  # wrist, index, pinky, thumb (pose points), when seen


def body2d(pose: PoseObs, size: tuple[int, int], min_vis: float, min_vis_hand: float) -> Body2D | None:
    lm = pose.landmarks
    if not pose.sees(min_vis, PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER):
        return None
    ls, rs = _px(lm, PoseLm.LEFT_SHOULDER, size), _px(lm, PoseLm.RIGHT_SHOULDER, size)
    sh = _mid(ls, rs)
    hip: Point | None = None
    tl: float | None = None
    if pose.sees(min_vis_hand, PoseLm.LEFT_HIP, PoseLm.RIGHT_HIP):
        hip = _mid(_px(lm, PoseLm.LEFT_HIP, size), _px(lm, PoseLm.RIGHT_HIP, size))
        tl = _d(sh, hip) or None
    wrists = {s: _px(lm, _WR[s], size) for s in _SIDES if pose.sees(min_vis_hand, _WR[s])}
    hands = {s: [_px(lm, i, size) for i in (_WR[s], *_HAND_PTS[s]) if pose.sees(min_vis_hand, i)]
             for s in _SIDES}
    return Body2D(sh, hip, _d(ls, rs), tl, wrists, {"left": ls, "right": rs},
                  {s: pts for s, pts in hands.items() if pts})


def _scale(b: Body2D) -> float:
    """A body scale robust to turning (:func:`posture_coach.geometry.body_scale`)."""
    return body_scale(b.sw, b.tl)


@dataclass(frozen=True, slots=True)
class JoinedHands:
    joined: bool
    gap_sw: float  # closest trainee-wrist to other-wrist distance / mean body scale
    trainee_hand: Side
    height_ok: bool
    between: bool


def joined_hands(trainee: PoseObs, other: PoseObs, size: tuple[int, int],
                 p: Mapping[str, float]) -> JoinedHands | None:
    """Do two people join hands at waist–chest height between them (a handshake)?

    The closest pair of wrists (one per person) must lie within ``join_max_gap_sw`` body
    scales of each other, their midpoint horizontally between the two shoulder midpoints
    (not on one person's chest: a push or a punch), and at waist–chest height for both
    (between ``join_min_height_tl`` and ``join_max_height_tl`` torso lengths below the
    shoulders; a hug puts the hands at the shoulders or the back). ``None`` when a person
    lacks shoulders or both wrists.
    """
    a = body2d(trainee, size, p["min_visibility"], p["min_visibility_hand"])
    b = body2d(other, size, p["min_visibility"], p["min_visibility_hand"])
    if a is None or b is None or not a.hand_pts or not b.hand_pts:
        return None
    # Closest pair of hand points (wrist, index, pinky, thumb), one per person: in a
    # handshake one wrist is often hidden by the other hand, the fingers still meet.
    best: tuple[float, Side, Point, Point] | None = None
    for sa, pa in a.hand_pts.items():
        for pb in b.hand_pts.values():
            for wa in pa:
                for wb in pb:
                    d = _d(wa, wb)
                    if best is None or d < best[0]:
                        best = (d, sa, wa, wb)
    assert best is not None
    d, side, wa, wb = best
    scale = (_scale(a) + _scale(b)) / 2.0
    gap = d / scale
    m = _mid(wa, wb)
    lo, hi = sorted((a.sh[0], b.sh[0]))
    margin = p["join_between_margin_sw"] * scale
    between = lo - margin <= m[0] <= hi + margin
    # Hands well in front of each body: the wrists' midpoint away from both shoulder midpoints.
    clear = min(abs(m[0] - a.sh[0]), abs(m[0] - b.sh[0])) >= p["join_min_clearance_sw"] * scale
    heights = []
    for body in (a, b):
        tl = body.tl if body.tl else body.sw / p["sw_per_tl_front"]
        heights.append((m[1] - body.sh[1]) / tl)
    height_ok = all(p["join_min_height_tl"] <= h <= p["join_max_height_tl"] for h in heights)
    joined = gap <= p["join_max_gap_sw"] and between and clear and height_ok
    return JoinedHands(joined, gap, side, height_ok, between and clear)


@dataclass(frozen=True, slots=True)
class HandshakeEvidence:
    """Why two people are (or are not) read as shaking hands.

    ``kind``: ``"wrists"`` (both people's hand points meet, :func:`joined_hands`),
    ``"reach"`` (one person's hand reaches the meeting zone between them and a detected
    hand there points back at that person: the other's wrist is hidden or misplaced) or
    ``None``. ``hug``: the hug guard that vetoes both: heads close (``hug_max_head_gap_sw``)
    and both wrists of one person reaching across (``hug_min_reach_share`` of the way).
    """

    joined: bool
    gap_sw: float | None
    trainee_hand: Side | None
    kind: str | None
    hug: bool
    point: Point | None  # where the hands meet, pixels


def _head_gap(a: PoseObs, b: PoseObs, size: tuple[int, int], p: Mapping[str, float]) -> float | None:
    """Nose-to-nose distance in pixels, None when either nose is unseen."""
    if not (a.sees(p["min_visibility"], PoseLm.NOSE) and b.sees(p["min_visibility"], PoseLm.NOSE)):
        return None
    return _d(_px(a.landmarks, PoseLm.NOSE, size), _px(b.landmarks, PoseLm.NOSE, size))


def _heights_ok(pt: Point, bodies: Sequence[Body2D], p: Mapping[str, float]) -> bool:
    for body in bodies:
        tl = body.tl if body.tl else body.sw / p["sw_per_tl_front"]
        if not p["join_min_height_tl"] <= (pt[1] - body.sh[1]) / tl <= p["join_max_height_tl"]:
            return False
    return True


def reach_point(x: Body2D, y: Body2D, p: Mapping[str, float]) -> tuple[Side, Point, float] | None:
    """``x``'s hand point furthest towards ``y`` when it lies in the meeting zone between them.

    The zone: between ``reach_min_share`` and ``reach_max_share`` of the way from ``x``'s
    centre line to ``y``'s, at least ``reach_min_clearance_sw`` of ``x``'s body scale out
    from its own centre line, at waist-chest height for both. Returns (side, point, share).
    """
    span = y.sh[0] - x.sh[0]
    if abs(span) < 1e-6 or not x.hand_pts:
        return None
    best: tuple[Side, Point, float] | None = None
    for side, pts in x.hand_pts.items():
        for pt in pts:
            t = (pt[0] - x.sh[0]) / span
            if best is None or t > best[2]:
                best = (side, pt, t)
    assert best is not None
    side, pt, t = best
    if not p["reach_min_share"] <= t <= p["reach_max_share"]:
        return None
    if abs(pt[0] - x.sh[0]) < p["reach_min_clearance_sw"] * _scale(x):
        return None
    if not _heights_ok(pt, (x, y), p):
        return None
    return side, pt, t


def _hand_points_at(hand: HandObs, size: tuple[int, int]) -> tuple[Point, Point]:
    """(wrist, middle-finger MCP) of a detected hand, pixels."""
    return _px(hand.landmarks, 0, size), _px(hand.landmarks, 9, size)


def foreign_hand_near(pt: Point, owner: Body2D, hands: Sequence[HandObs], size: tuple[int, int],
                      p: Mapping[str, float]) -> bool:
    """A detected hand near ``pt`` whose wrist lies on the side away from ``owner``: the other's hand."""
    scale = _scale(owner)
    towards_owner = owner.sh[0] - pt[0]
    for h in hands:
        wr, mcp = _hand_points_at(h, size)
        centre = _mid(wr, mcp)
        if _d(centre, pt) > p["hand_probe_near_sw"] * scale:
            continue
        # The other person's hand points back at the owner: its fingers lie towards the owner.
        if (mcp[0] - wr[0]) * towards_owner > 0:
            return True
    return False


def _arms_across(x: Body2D, y: Body2D, p: Mapping[str, float]) -> bool:
    """Both of ``x``'s wrists at least ``hug_min_reach_share`` of the way towards ``y`` (arms around, or a push)."""
    span = y.sh[0] - x.sh[0]
    if abs(span) < 1e-6 or len(x.wrists) < 2:
        return False
    return all((w[0] - x.sh[0]) / span >= p["hug_min_reach_share"] for w in x.wrists.values())


def handshake_evidence(trainee: PoseObs, other: PoseObs, size: tuple[int, int], p: Mapping[str, float],
                       hands: Sequence[HandObs] = ()) -> HandshakeEvidence | None:
    """Joined hands (:func:`joined_hands`), else a one-sided reach confirmed by a detected hand, with a hug guard.

    Never joined when one body scale exceeds the other by more than ``join_max_scale_ratio``.

    ``hands``: hands found by the hand landmarker near the pair (full-frame coordinates),
    e.g. by :meth:`posture_coach.two_person.TwoPersonDetector.probe_hands`; without them
    only ``"wrists"`` evidence counts. ``None`` when a person lacks both shoulders.
    """
    a = body2d(trainee, size, p["min_visibility"], p["min_visibility_hand"])
    b = body2d(other, size, p["min_visibility"], p["min_visibility_hand"])
    if a is None or b is None:
        return None
    scale = (_scale(a) + _scale(b)) / 2.0
    hg = _head_gap(trainee, other, size, p)
    hug = hg is not None and hg <= p["hug_max_head_gap_sw"] * scale and (_arms_across(a, b, p) or _arms_across(b, a, p))
    jh = joined_hands(trainee, other, size, p)
    gap = None if jh is None else jh.gap_sw
    sa, sb = _scale(a), _scale(b)
    if max(sa, sb) > p["join_max_scale_ratio"] * min(sa, sb):
        # One body much nearer or further than the other: their hands only overlap in 2-D.
        return HandshakeEvidence(False, gap, None if jh is None else jh.trainee_hand, None, hug, None)
    if jh is not None and jh.joined:
        pt = _closest_hand_mid(a, b)
        return HandshakeEvidence(not hug, gap, jh.trainee_hand, "wrists", hug, pt)
    for x, y, is_trainee in ((a, b, True), (b, a, False)):
        r = reach_point(x, y, p)
        if r is None or not foreign_hand_near(r[1], x, hands, size, p):
            continue
        side: Side | None = r[0] if is_trainee else None
        if side is None and jh is not None:
            side = jh.trainee_hand
        return HandshakeEvidence(not hug, gap, side, "reach", hug, r[1])
    return HandshakeEvidence(False, gap, None if jh is None else jh.trainee_hand, None, hug, None)


def _closest_hand_mid(a: Body2D, b: Body2D) -> Point | None:
    best: tuple[float, Point] | None = None
    for pa in a.hand_pts.values():
        for pb in b.hand_pts.values():
            for wa in pa:
                for wb in pb:
                    d = _d(wa, wb)
                    if best is None or d < best[0]:
                        best = (d, _mid(wa, wb))
    return None if best is None else best[1]


def meeting_zones(trainee: PoseObs, other: PoseObs, size: tuple[int, int],
                  p: Mapping[str, float]) -> list[tuple[Point, float]]:
    """Where to look for a hidden hand between two people: (centre, half-size) in pixels.

    One zone per person whose hand reaches the meeting zone (:func:`reach_point`); empty
    when neither does (or a person lacks shoulders).
    """
    a = body2d(trainee, size, p["min_visibility"], p["min_visibility_hand"])
    b = body2d(other, size, p["min_visibility"], p["min_visibility_hand"])
    if a is None or b is None:
        return []
    scale = (_scale(a) + _scale(b)) / 2.0
    out = []
    for x, y in ((a, b), (b, a)):
        r = reach_point(x, y, p)
        if r is not None:
            out.append((r[1], p["hand_probe_half_sw"] * scale))
    return out


def torso_lean_towards_deg(trainee: PoseObs, other: PoseObs, size: tuple[int, int],
                           p: Mapping[str, float]) -> float | None:
    """2-D torso angle (hips -> shoulders) from vertical, positive towards the other person."""
    a = body2d(trainee, size, p["min_visibility"], p["min_visibility_hand"])
    b = body2d(other, size, p["min_visibility"], p["min_visibility_hand"])
    if a is None or a.hip is None or b is None:
        return None
    ang = math.degrees(math.atan2(a.sh[0] - a.hip[0], a.hip[1] - a.sh[1]))
    return ang if b.sh[0] >= a.sh[0] else -ang


def two_person_distance_m(trainee: PoseObs, other: PoseObs, size: tuple[int, int],
                          p: Mapping[str, float]) -> float | None:
    """Centre-to-centre distance between two people standing side-on to the camera, metres.

    The pixels-per-metre scale comes from their torso lengths (``torso_length_m``),
    which survive a side view where shoulder widths collapse; from the front the
    shoulder widths (``shoulder_width_m``) are used. Assumes both at the same depth.
    """
    a = body2d(trainee, size, p["min_visibility"], p["min_visibility_hand"])
    b = body2d(other, size, p["min_visibility"], p["min_visibility_hand"])
    if a is None or b is None:
        return None
    scales = []
    for body in (a, b):
        if body.tl and body.sw / body.tl < p["front_min_sw_torso"]:
            scales.append(body.tl / p["torso_length_m"])
        else:
            scales.append(body.sw / p["shoulder_width_m"])
    ppm = sum(scales) / len(scales)
    if ppm <= 0:
        return None
    return abs(a.sh[0] - b.sh[0]) / ppm


# -- one frame ------------------------------------------------------------------------------


def _front_lean_deg(obs: Observation, sw_px: float, baseline_sw_rel: float | None,
                    p: Mapping[str, float]) -> float | None:
    """Forward lean seen from the front, from the growth of the shoulder width against the baseline.

    A pinhole camera sees the shoulders ``f·SW/D`` wide; leaning by θ brings them
    ``L·sin θ`` closer (L = torso length), so θ = asin(ΔD / L). Needs the person's
    calibrated shoulder width (profile ``sw_rel``), the camera's field of view and the
    anthropometric ``shoulder_width_m`` / ``torso_length_m``: an estimate (±5° or so),
    and stepping towards the camera reads as a lean.

    Only near the camera (the baseline farther than ``front_lean_max_camera_m``: None). A
    10° lean grows the shoulders by ``torso_length_m``·sin 10° / D: 6 % at 1.5 m, 3 % at
    2.7 m, where reaching an arm forward changes them as much (front renders at 2.7 m, an
    11.5° handshake lean: -1.5 % to +2.8 %, estimates 0.4-14°).
    """
    if baseline_sw_rel is None or baseline_sw_rel <= 0 or sw_px <= 0:
        return None
    w = obs.image_size[0]
    f = focal_px(w, p["camera_hfov_deg"])
    d_base = f * p["shoulder_width_m"] / (baseline_sw_rel * w)
    if d_base > p["front_lean_max_camera_m"]:
        return None
    d_now = f * p["shoulder_width_m"] / sw_px
    s = (d_base - d_now) / p["torso_length_m"]
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))


def deprojected_lean_deg(lean_2d_deg: float, sw_over_tl: float, p: Mapping[str, float]) -> float:
    """A forward lean from its 2-D torso angle, undoing the body's turn away from a side view.

    A lean θ in the body's sagittal plane, seen with the body turned φ from facing the
    camera (0 = front, 90° = side), shows a 2-D hip→shoulder angle of atan(tan θ · sin φ).
    The turn comes from the shoulders' foreshortening: cos φ = (SW / TL) / ``sw_per_tl_front``.
    sin φ is floored at ``lean_min_sin_turn`` (near-front views would amplify noise).
    """
    cos_phi = max(0.0, min(1.0, sw_over_tl / p["sw_per_tl_front"]))
    sin_phi = max(math.sqrt(1.0 - cos_phi * cos_phi), p["lean_min_sin_turn"])
    return math.degrees(math.atan(math.tan(math.radians(lean_2d_deg)) / sin_phi))


def interaction_values(
    obs: Observation, p: Mapping[str, float], *, view: str = "unknown", facing: int = 0,
    torso_incline_deg: float | None = None, baseline_sw_rel: float | None = None,
    posture: str = "unknown",
) -> dict[str, float | None]:
    """All per-frame interaction cues of one observation.

    ``view``, ``facing`` and ``torso_incline_deg`` come from the engine's
    :class:`~posture_coach.features.Features` (``f.view.view``, ``f.view.facing``,
    ``f.get("torso_incline_deg")``), ``posture`` from the engine's decision (``f.posture``);
    ``baseline_sw_rel`` from the profile (``sw_rel``).
    """
    v: dict[str, float | None] = dict.fromkeys(INTERACTION_FEATURE_NAMES)
    v["seated"] = 1.0 if posture == "sitting" else 0.0
    _two_person(v, obs)
    pose = obs.pose
    if pose is None:
        return v
    b = body2d(pose, obs.image_size, p["min_visibility"], p["min_visibility_hand"])
    _head(v, obs, p, obs.image_size, view)
    if b is None or b.sw <= 0:
        return v
    heights = {side: _one_hand(v, obs, b, side, view, facing, p) for side in _SIDES if side in b.wrists}
    if len(b.wrists) == 2:
        _both_hands(v, obs, b, heights, view, p)
    _held_out(v, posture)
    _lean(v, obs, b, view, torso_incline_deg, baseline_sw_rel, p)
    code, dist = face_touch(obs, p)
    v["face_touch_code"] = None if dist is None else (0.0 if code is None else float(FACE_REGIONS.index(code) + 1))
    v["face_touch_fw"] = dist
    v["pointing_shown"] = pointing_shown(v, p)
    ipd = inter_pupil_px(obs, p["min_visibility"])
    if ipd is not None:
        v["distance_cam_m"] = camera_distance_m(ipd, obs.image_size[0], p["camera_hfov_deg"], p["ipd_m"],
                                                v["head_yaw_ratio"] or 0.0)
    return v


def _one_hand(v: dict[str, float | None], obs: Observation, b: Body2D, side: Side, view: str, facing: int,
              p: Mapping[str, float]) -> float:
    """One hand's cues (height, reach, shape, grip) into ``v``; returns the wrist's height
    below the shoulder line in torso lengths (0 = shoulder line, 1 = hip line)."""
    pose = obs.pose
    assert pose is not None
    size = obs.image_size
    aspect = size[0] / size[1] if size[1] else 1.0
    s = _SFX[side]
    # Distances between points of the body go in body scales (the shoulder width from the
    # front, 0.75 TL when the shoulders collapse sideways): a "_sw" divided by the 2-D
    # shoulder width grows 3-9x from the side.
    scale = _scale(b)
    wr = b.wrists[side]
    v[f"wrist_above_shoulder_{s}_sw"] = (b.sh[1] - wr[1]) / scale
    if b.hip is not None:
        v[f"wrist_above_hip_{s}_sw"] = (b.hip[1] - wr[1]) / scale
    t = b.tl if b.tl else b.sw / p["sw_per_tl_front"]
    hgt = (wr[1] - b.sh[1]) / t
    v[f"wrist_chest_{s}"] = 1.0 if p["chest_min_tl"] <= hgt <= p["chest_max_tl"] else 0.0
    if pose.sees(p["min_visibility_hand"], _EL[side]):
        sh, el = b.shoulders[side], _px(pose.landmarks, _EL[side], size)
        upper = _d(sh, el)
        if upper > 0:
            v[f"forearm_ratio_{s}"] = _d(el, wr) / upper
    hand = obs.hand(side)
    fingers_closed = False
    if hand is not None:
        # Against the 2-D shoulder width, not the body scale: a hand pointing along the
        # line of sight at an angle is foreshortened with the shoulders (body scale lost
        # 1 of 16 pointing gestures on the oblique renders 10000+, docs/RESULTS.md).
        v[f"hand_size_{s}_sw"] = hand_size_px(hand, size) / b.sw
        # A gesture is made with the hand up (waist height or above); a hand resting in
        # the lap is no pointing or open-palm gesture whatever its fingers do. Nor is a
        # hand whose wrist-to-knuckle span is short against the shoulders: misread (e.g.
        # half hidden behind a card), its finger angles cannot be read. The span is
        # taken in 3-D: a hand pointing at the lens (a camera at an angle on the
        # pointing side) spans 2-4 px in the image and was never read (renders 10000+,
        # 11260+: 3 of 48 pointing gestures found again, docs/RESULTS.md).
        readable = hand.span_px(size) / b.sw >= p["shape_min_hand_sw"]
        ext = finger_extension(hand, aspect) if readable else None
        shape = (classify_hand(hand, p, aspect, ext) if ext is not None and hgt <= p["chest_max_tl"]
                 else "other")
        v[f"pointing_{s}"] = 1.0 if shape == "pointing" else 0.0
        v[f"open_palm_{s}"] = 1.0 if shape == "open_palm" else 0.0
        fingers_closed = ext is not None and fingers_curled(ext, p)
    v[f"reach_{s}"] = _reach(v, s, wr, b.shoulders[side], b, view, facing, p)
    if v[f"reach_{s}"] == 1.0 or v[f"wrist_chest_{s}"] == 1.0:
        # How high a hand held out is (torso lengths above the shoulder line, negative
        # below): the hold of a handshake or a handover is its plateau.
        cur = v["reach_raise_tl"]
        v["reach_raise_tl"] = -hgt if cur is None else max(cur, -hgt)
    grip = _grip(pose, side, wr, b, view, size, p)
    # Judged from the side or at an angle (grip not None): a hand whose fingers the hand
    # model sees curled is closed round something too, whatever the pose's index point.
    v[f"grip_{s}"] = 1.0 if grip == 0.0 and fingers_closed else grip
    # In any view, a card seen at the fingers (the ``card`` pixel measure) is held.
    if _card_at(obs, side):
        v[f"grip_{s}"] = 1.0
    return hgt


def _both_hands(v: dict[str, float | None], obs: Observation, b: Body2D, heights: Mapping[Side, float],
                view: str, p: Mapping[str, float]) -> None:
    """Two wrists in view: together on one thing, or arms folded; the card between them."""
    assert obs.pose is not None
    scale = _scale(b)
    # In body scales: from the side the 2-D shoulder width collapses, and two hands on
    # one card (a card-width apart) read 1.5-2 "shoulder widths" apart (roleplay renders).
    gap = _d(b.wrists["left"], b.wrists["right"]) / scale
    v["wrists_gap_sw"] = gap
    # Each wrist on its own side, a card-width apart or more: folded arms bring the
    # wrists together or cross them over (along the shoulder line's direction).
    sl, sr = b.shoulders["left"], b.shoulders["right"]
    apart = ((b.wrists["left"][0] - b.wrists["right"][0]) * (1.0 if sl[0] >= sr[0] else -1.0)) / b.sw
    # A hand hanging at the side is neither on a card with the other nor folded over it
    # (seen from the side of a hand held out, the held-out wrist can cross over the
    # hanging one, or lie at its elbow, in the image).
    hanging = any(h >= p["hang_min_tl"] for h in heights.values())
    close = gap <= p["together_max_gap_sw"] and not hanging
    if view == "side":  # the shoulders overlap: which side a wrist is on cannot be seen
        v["hands_together"], v["arms_folded"] = (1.0 if close else 0.0), 0.0
    else:
        v["hands_together"] = 1.0 if close and apart >= p["together_min_apart_sw"] else 0.0
        v["arms_folded"] = 1.0 if close and apart < p["together_min_apart_sw"] else 0.0
    v["card_grip"] = _card_grip(obs, obs.image_size, scale, p)
    if view != "side" and not hanging and _forearms_folded(obs.pose, b, obs.image_size, p):
        v["hands_together"], v["arms_folded"] = 0.0, 1.0


def _held_out(v: dict[str, float | None], posture: str) -> None:
    """Both hands held out (a card, a gift) or together on one thing: a two-handed handover;
    one hand out alone: a handshake offered (standing only)."""
    both_out = v.get("reach_l") == 1.0 and v.get("reach_r") == 1.0 and v.get("arms_folded") != 1.0
    if v.get("reach_l") is not None or v.get("reach_r") is not None:
        v["two_hands_out"] = 1.0 if both_out or v.get("hands_together") == 1.0 else 0.0
    v["handshake_alone"], v["handshake_hand_right"] = _handshake_alone(v)
    if posture == "sitting" and v["handshake_alone"] == 1.0:
        # Seated, hands resting on the thighs or a desk lie ahead of the shoulders and read
        # as a reach in 2-D; a handshake is offered standing.
        v["handshake_alone"], v["handshake_hand_right"] = 0.0, None


def _lean(v: dict[str, float | None], obs: Observation, b: Body2D, view: str, torso_incline_deg: float | None,
          baseline_sw_rel: float | None, p: Mapping[str, float]) -> None:
    """The trunk's lean: the 2-D torso angle from the side or at an angle (undoing the body's
    turn); from the front an estimate against the calibrated baseline, else unknown (the
    rule says side_view_needed). The lean towards the other person is seen at the same turn."""
    if view in ("side", "oblique") and torso_incline_deg is not None:
        lean = torso_incline_deg
        if b.tl:
            lean = deprojected_lean_deg(torso_incline_deg, b.sw / b.tl, p)
        v["lean_deg"], v["lean_source_side"] = lean, 1.0
    tp_lean = v.get("tp_lean_deg")
    if tp_lean is not None and b.tl:
        v["tp_lean_deg"] = deprojected_lean_deg(tp_lean, b.sw / b.tl, p)
    elif view == "front":
        est = _front_lean_deg(obs, b.sw, baseline_sw_rel, p)
        if est is not None:
            v["lean_deg"], v["lean_source_side"] = est, 0.0


def _forearms_folded(pose: PoseObs, b: Body2D, size: tuple[int, int], p: Mapping[str, float]) -> bool:
    """Folded arms whose wrists are not together: elbows drawn in, the forearms across or tucked.

    Hands on the other upper arm put each wrist at the other elbow, not beside the other
    wrist; hands tucked under the other arm are hidden, and MediaPipe puts each hidden wrist
    back at its own elbow, a forearm's width apart; forearms folded flat across the chest
    also keep each wrist near its own elbow (both read as "hands together" by the wrist
    gap alone). A card held out to the camera shortens the forearms too, but keeps the
    elbows out (1.3 SW). A card held out with both hands keeps the elbows apart: on the
    tune clips elbow span 0.66-0.87 SW with folded arms against 1.02-1.03 for a two-handed
    card seen at 35-40 degrees, whose near wrist can lie over the far elbow (0.2-0.4 SW).
    Not judged from the side, where the two arms overlap. With both hands high on the
    chest (at most ``folded_max_high_wrist_tl`` torso lengths below the shoulder line) the
    elbows may be out to ``folded_high_max_elbow_span_sw``: hands resting on the upper arms
    sit there, a card is held out lower, at the height it is handed over.
    """
    lm = pose.landmarks
    if len(b.wrists) < 2 or not pose.sees(p["min_visibility_hand"], _EL["left"], _EL["right"]):
        return False
    el = {s: _px(lm, _EL[s], size) for s in _SIDES}
    span = _d(el["left"], el["right"]) / b.sw
    across = min(_d(b.wrists["left"], el["right"]), _d(b.wrists["right"], el["left"])) / b.sw
    forearm = max(_d(b.wrists[s], el[s]) for s in _SIDES) / b.sw
    high = b.tl is not None and max(b.wrists[s][1] - b.sh[1] for s in _SIDES) / b.tl <= p["folded_max_high_wrist_tl"]
    max_span = p["folded_high_max_elbow_span_sw"] if high else p["folded_max_elbow_span_sw"]
    return ((span <= max_span and across <= p["folded_max_wrist_opp_elbow_sw"])
            or (span <= p["folded_short_max_elbow_span_sw"] and forearm <= p["folded_max_forearm_sw"]))


def _reach(v: Mapping[str, float | None], s: str, wr: Point, shoulder: Point, b: Body2D, view: str,
           facing: int, p: Mapping[str, float]) -> float | None:
    """1.0 when the hand is held out towards the receiver at chest height, 0.0 when not.

    From the side: the wrist ahead of the shoulder (in the facing direction) by
    ``reach_min_forward_sw`` body scales. From the front (towards the camera) the arm is
    foreshortened: forearm shorter than ``reach_max_forearm_ratio`` upper arms, or the hand
    bigger than ``reach_min_hand_sw`` shoulder widths (a near hand grows); with the wrist
    ``reach_front_inside_min_sw`` or more inside its shoulder (before the body) a forearm
    up to ``reach_front_inside_max_forearm_ratio`` upper arms. But a wrist
    ``reach_front_max_out_sw`` or more outside its shoulder is an arm raised out to the
    side, showing the way (a hand offered to someone in front stays before the body).
    """
    if v.get(f"wrist_chest_{s}") != 1.0:
        return 0.0
    if view in ("side", "oblique") and facing != 0:
        ahead = facing * (wr[0] - b.sh[0]) / _scale(b)
        # Beyond reach_max_forward_sw the arm is stretched out: showing the way, not a hand
        # offered to someone (a handshake or a card is held with the elbow bent).
        return 1.0 if p["reach_min_forward_sw"] <= ahead <= p["reach_max_forward_sw"] else 0.0
    fr = v.get(f"forearm_ratio_{s}")
    hs = v.get(f"hand_size_{s}_sw")
    if fr is None and hs is None:
        return None
    outward = math.copysign(1.0, shoulder[0] - b.sh[0]) * (wr[0] - shoulder[0]) / b.sw
    if outward >= p["reach_front_max_out_sw"]:
        return 0.0
    # A hand offered before the body (the wrist well inside its shoulder) has its forearm
    # running across as well as towards the camera: less of it is hidden.
    max_fr = (p["reach_front_inside_max_forearm_ratio"] if -outward >= p["reach_front_inside_min_sw"]
              else p["reach_max_forearm_ratio"])
    return 1.0 if ((fr is not None and fr <= max_fr)
                   or (hs is not None and hs >= p["reach_min_hand_sw"])) else 0.0


def _grip(pose: PoseObs, side: Side, wr: Point, b: Body2D, view: str, size: tuple[int, int],
          p: Mapping[str, float]) -> float | None:
    """1.0 when the hand is closed around something (a card held out by one hand), 0.0 when open.

    The pose model's index point lies at the fingers of an open hand (a hanging hand or
    one offered for a handshake, 0.19-0.25 body scales from the wrist on the tune clips)
    and near the knuckles when the fingers curl round a card (0.10-0.15). Judged only from
    the side or at an angle: from the front a hand held out towards the camera is
    foreshortened and would look closed. ``None`` when not judged.
    """
    if view not in ("side", "oblique"):
        return None
    idx = _HAND_PTS[side][0]
    if not pose.sees(p["min_visibility_hand"], idx):
        return None
    extent = _d(wr, _px(pose.landmarks, idx, size)) / _scale(b)
    return 1.0 if extent <= p["grip_max_hand_scale"] else 0.0


def _card_at(obs: Observation, side: Side) -> bool:
    """The ``card`` pixel measure saw a card at this hand's fingers (``posture_coach.card``)."""
    seen = (obs.measures.get("card") or {}).get(side)
    return bool(seen and seen.get("card"))


def _card_grip(obs: Observation, size: tuple[int, int], scale: float, p: Mapping[str, float]) -> float | None:
    """1.0 when both hands pinch a card-width apart (``scale``: the body scale, pixels),
    0.0 when the hands are seen and do not, None unseen."""
    hl, hr = obs.hand("left"), obs.hand("right")
    if hl is None or hr is None:
        return None
    a = pinch_point(hl, size, p["pinch_max_gap_hand"])
    b = pinch_point(hr, size, p["pinch_max_gap_hand"])
    if a is None or b is None:
        return 0.0
    apart = _d(a, b) / scale
    return 1.0 if p["card_min_apart_sw"] <= apart <= p["card_max_apart_sw"] else 0.0


def _handshake_alone(v: Mapping[str, float | None]) -> tuple[float | None, float | None]:
    """One hand reaching at waist–chest height while the other does not (both = a handover)."""
    rl, rr = v.get("reach_l"), v.get("reach_r")
    if rl is None and rr is None:
        return None, None
    if v.get("hands_together") == 1.0 or v.get("arms_folded") == 1.0:
        return 0.0, None
    # A hand closed round something (grip_*) is holding a card out, and a pointing hand is
    # showing the way: neither is offering a handshake.
    if rr == 1.0 and rl != 1.0:
        return (0.0, None) if 1.0 in (v.get("grip_r"), v.get("pointing_r")) else (1.0, 1.0)
    if rl == 1.0 and rr != 1.0:
        return (0.0, None) if 1.0 in (v.get("grip_l"), v.get("pointing_l")) else (1.0, 0.0)
    return 0.0, None


def _head(v: dict[str, float | None], obs: Observation, p: Mapping[str, float], size: tuple[int, int],
          view: str) -> None:
    pose = obs.pose
    assert pose is not None
    if not pose.sees(p["min_visibility"], PoseLm.NOSE):
        return
    if not pose.sees(p["min_visibility_hand"], PoseLm.LEFT_EAR, PoseLm.RIGHT_EAR):
        return
    lm = pose.landmarks
    nose = _px(lm, PoseLm.NOSE, size)
    el, er = _px(lm, PoseLm.LEFT_EAR, size), _px(lm, PoseLm.RIGHT_EAR, size)
    span = _d(el, er)
    if span <= 0:
        return
    em = _mid(el, er)
    v["head_down_ratio"] = (nose[1] - em[1]) / span
    yaw = (nose[0] - em[0]) / span
    v["head_yaw_ratio"] = yaw
    tp = obs.measures.get("two_person") if obs.measures else None
    if isinstance(tp, Mapping) and tp.get("n_persons", 0) >= 2 and tp.get("facing_other") is not None:
        v["looking_at_target"] = 1.0 if tp["facing_other"] else 0.0
    elif view == "front":
        # Alone, the camera stands in for the other person: facing it is looking at them.
        v["looking_at_target"] = 1.0 if abs(yaw) <= p["attention_max_yaw_ratio"] else 0.0
    # Alone and filmed from the side or at an angle, the person faces someone who is not in
    # view (the camera is not the customer): where they look cannot be judged.


def pointing_shown(v: Mapping[str, float | None], p: Mapping[str, float]) -> float | None:
    """1.0 when a hand on this frame points a finger at someone, 0.0 when none does, None
    when no hand shape was read: a hand read as pointing (``pointing_l/_r``) that is doing
    something else is not pointing. The pointing event and the single-photo verdict of
    ``gesture.open_palm`` both read it."""
    # An index finger at the face is a face touch (picking, scratching), not pointing;
    # so is one near it that misses the touch radius (an ear touch of a larger head).
    fw = v.get("face_touch_fw")
    if (v.get("face_touch_code") or 0.0) > 0 or (fw is not None and fw <= p["point_min_face_fw"]):
        return 0.0
    # Both hands together on one thing (a card or a gift held out): fingers wrap round it
    # and an index lying along the card reads as extended. That is a handover, not pointing.
    if v.get("hands_together") == 1.0:
        return 0.0
    # Arms folded: a hand tucked at the other arm, its fingers half hidden, shows no way.
    if v.get("arms_folded") == 1.0:
        return 0.0
    # Hands joined with the other person's (a role-play handshake): the fingers wrap round
    # the other hand, and an index lying along it reads as extended.
    if v.get("tp_handshake") == 1.0:
        return 0.0
    # A hand held out closed round something (reach and grip: a card in one hand) has
    # its index along the card. An arm showing the way is stretched beyond a reach.
    seen = [0.0 if v.get(f"reach_{s}") == 1.0 and v.get(f"grip_{s}") == 1.0 else x
            for s in ("l", "r") if (x := v.get(f"pointing_{s}")) is not None]
    return max(seen) if seen else None


def partner_in_view(v: Mapping[str, float | None]) -> bool:
    """A second person in view (the two-person measure's count): a role-play, where the
    other person, not the camera, is whom the trainee hands to, shakes and looks at."""
    return (v.get("tp_persons") or 0.0) >= 2.0


def _two_person(v: dict[str, float | None], obs: Observation) -> None:
    tp: Any = obs.measures.get("two_person") if obs.measures else None
    if not isinstance(tp, Mapping):
        return
    n = tp.get("n_persons")
    v["tp_persons"] = float(n) if isinstance(n, int | float) else None
    for key, name in (("handshake", "tp_handshake"), ("lean_deg", "tp_lean_deg"), ("distance_m", "tp_distance_m")):
        val = tp.get(key)
        v[name] = None if val is None else float(val)


class WristSpeed:
    """Wrist speed in shoulder widths per second, the faster wrist, between consecutive frames.

    Pixel motion is scaled by an EMA of the body scale (:func:`_scale`: the shoulder width
    from the front, ~0.75 torso lengths when the shoulders collapse in a side view, where
    the 2-D shoulder width would make every reach look several times faster), so a
    wobbling scale is not motion.
    Gaps longer than ``max_gap_ms`` restart the measurement.
    """

    def __init__(self, max_gap_ms: float = 500.0, sw_alpha: float = 0.2) -> None:
        self.max_gap_ms = max_gap_ms
        self.alpha = sw_alpha
        self._sw: float | None = None
        self._last: tuple[int, dict[Side, Point]] | None = None

    def update(self, obs: Observation, p: Mapping[str, float]) -> float | None:
        if obs.pose is None:
            self._last = None
            return None
        b = body2d(obs.pose, obs.image_size, p["min_visibility"], p["min_visibility_hand"])
        scale = _scale(b) if b is not None else 0.0
        if b is None or not b.wrists or scale <= 0:
            self._last = None
            return None
        self._sw = scale if self._sw is None else self._sw + self.alpha * (scale - self._sw)
        t = obs.timestamp_ms
        out: float | None = None
        if self._last is not None:
            t0, prev = self._last
            dt = (t - t0) / 1000.0
            if 0 < dt * 1000.0 <= self.max_gap_ms:
                speeds = [_d(prev[s], w) for s, w in b.wrists.items() if s in prev]
                if speeds:
                    out = max(speeds) / self._sw / dt
        self._last = (t, dict(b.wrists))
        return out


def hand_table(rows: Sequence[Sequence[float]]) -> FloatArray:
    """A (21, 3) hand-landmark array from rows (tests and tables)."""
    arr = np.asarray(rows, dtype=np.float64)
    if arr.shape != (21, 3):
        raise ValueError(f"expected 21 hand landmarks (x, y, z), got {arr.shape}")
    return arr


class InteractionTracker:
    """The engine's one call per frame: cues, wrist speed and events, as flat feature values.

    >>> tracker = InteractionTracker(params)                                 # doctest: +SKIP
    >>> extra, events = tracker.update(obs, f, profile, video=True)          # doctest: +SKIP
    >>> f = f.with_values(extra)                                             # doctest: +SKIP

    ``params`` is the ``[interaction]`` table. In image mode no speed and no events are
    produced (stills are judged one by one).
    """

    def __init__(self, params: Mapping[str, float]) -> None:
        from posture_coach.events import InteractionEvents

        self.p = params
        self.speed = WristSpeed()
        self.events = InteractionEvents(params)
        self._speeds: list[tuple[int, float]] = []

    def update(self, obs: Observation, f: Any = None, profile: Any = None, *,
               video: bool = True) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
        view = f.view.view if f is not None else "unknown"
        facing = f.view.facing if f is not None else 0
        incline = f.get("torso_incline_deg") if f is not None else None
        base = getattr(profile, "sw_rel", None) if profile is not None else None
        posture = str(getattr(f, "posture", "unknown")) if f is not None else "unknown"
        v = interaction_values(obs, self.p, view=view, facing=facing, torso_incline_deg=incline,
                               baseline_sw_rel=base, posture=posture)
        # The standing rule's own lean (hip offset, the turn undone as it undoes it): a lean
        # that rule would fail, gone again within bow_max_s, is a bow (events._bow_level).
        v["sagittal_lean_deg"] = f.get("sagittal_incline_deg") if f is not None else None
        v["hand_speed_sw_per_s"] = None
        if not video:
            return v, []
        t = obs.timestamp_ms
        s = self.speed.update(obs, self.p)
        if s is None:
            self._speeds.clear()
        else:
            self._speeds.append((t, s))
            span = self.p["speed_window_s"] * 1000.0
            self._speeds = [(ti, si) for ti, si in self._speeds if t - ti <= span]
            if self._speeds[-1][0] - self._speeds[0][0] >= 0.8 * span:
                v["hand_speed_sw_per_s"] = sum(si for _, si in self._speeds) / len(self._speeds)
        ev, events = self.events.update(t, obs.frame_index, v)
        v.update(ev)
        return v, events

    def finish(self, t_ms: int) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
        return self.events.finish(t_ms)
