"""Face features: from one :class:`~posture_coach.types.Observation` to named numbers.

Pure numpy (no cv2, no MediaPipe), so the rules stay image-free and recordings replay
exactly. The engine attaches these values to :class:`~posture_coach.features.Features`::

    f = f.with_values(compute_face_features(obs, neutral))

Every value is a float or ``None`` (not measurable: no face, or no teeth measure).
Units are in the names: ``_deg`` degrees, ``_px`` pixels, ``_ipd`` multiples of the
inter-pupil distance, flags are 0.0/1.0, blendshape-based scores are 0..1.

Head pose conventions (checked against the GENKI-4K labels, see bench/face_eval.py):

- ``head_yaw_deg`` > 0: the head is turned to the subject's own left (in an unmirrored
  photo the face points towards the image's right);
- ``head_pitch_deg`` > 0: chin up, looking up;
- ``head_roll_deg`` > 0: the head is tilted towards the subject's own left shoulder
  (the subject's right eye is higher than the left one).

Blendshapes come from landmarks, not pixels (MEDIAPIPE_NOTES pitfall 8): left and right
are averaged and, when a personal neutral is given, the neutral is subtracted.
"""

from __future__ import annotations

import functools
import itertools
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from posture_coach.types import FaceObs, FloatArray, Observation, PoseLm

# -- face-mesh indices (478-point model with irises) ---------------------------------
#: Eye corners: the eye drawn on the image's left in an unmirrored photo is the
#: subject's right eye (outer 33, inner 133; lids 159 / 145; iris centre 468).
R_EYE_OUTER, R_EYE_INNER, R_EYE_TOP, R_EYE_BOTTOM, R_IRIS = 33, 133, 159, 145, 468
L_EYE_OUTER, L_EYE_INNER, L_EYE_TOP, L_EYE_BOTTOM, L_IRIS = 263, 362, 386, 374, 473
MOUTH_R, MOUTH_L = 61, 291  # outer mouth corners (subject's right, left)
INNER_R, INNER_L = 78, 308  # inner mouth corners
LIP_UPPER_INNER, LIP_LOWER_INNER = 13, 14
LIP_UPPER_OUTER, LIP_LOWER_OUTER = 0, 17
#: The inner-lip ring, in order around the mouth opening (lower lip first, then upper).
INNER_LIP_RING: tuple[int, ...] = (
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191,
)
#: The upper half of the ring, from the right inner corner to the left one.
INNER_LIP_UPPER: tuple[int, ...] = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LIP_LOWER: tuple[int, ...] = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)

#: Adult inter-pupil distance, the scale of every metric estimate (mm).
ADULT_IPD_MM = 63.0
#: Eyeball radius used to turn an iris offset into a gaze angle (mm), and a typical
#: palpebral fissure width (mm): iris offset / eye width * width = r sin(angle).
EYEBALL_RADIUS_MM = 12.0
EYE_WIDTH_MM = 30.0

#: Every feature this module produces.
FACE_FEATURE_NAMES: tuple[str, ...] = (
    "face_present", "head_in_view",
    "head_yaw_deg", "head_pitch_deg", "head_roll_deg", "face_frontal",
    "smile_raw", "smile_score", "upper_up_raw", "upper_up", "stretch_raw", "stretch",
    "roll_lower_raw", "roll_lower", "pucker_raw", "pucker",
    "blink_l", "blink_r", "blink", "eye_open_ratio",
    "iris_offset_x", "iris_offset_y", "gaze_yaw_deg", "gaze_pitch_deg",
    "jaw_open", "mouth_ar", "mouth_width_px", "mouth_width_ipd", "mouth_widen_ipd", "ipd_px",
    "brow_down", "frown", "sneer", "negative_expression_score",
    "teeth_count", "teeth_band_px", "teeth_fill_ratio", "teeth_judged",
    "teeth_left_ipd", "teeth_right_ipd", "teeth_yaw_deg",
)

#: Values a personal neutral holds (medians over a neutral capture).
NEUTRAL_KEYS: tuple[str, ...] = (
    "smile_raw", "upper_up_raw", "stretch_raw", "roll_lower_raw", "pucker_raw",
    "brow_down", "frown", "sneer", "jaw_open", "mouth_ar", "blink",
    "mouth_width_ipd",
    "head_yaw_deg", "head_pitch_deg", "head_roll_deg", "iris_offset_x", "iris_offset_y",
)

#: Default near-frontal limit (RULES.md: abs yaw <= 20 deg). Rules use their own param.
FRONTAL_MAX_YAW_DEG = 20.0


def _bs(face: FaceObs, *names: str) -> float | None:
    vals = [face.blendshapes[n] for n in names if n in face.blendshapes]
    return float(sum(vals) / len(vals)) if vals else None


def _px(face: FaceObs, size: tuple[int, int]) -> FloatArray:
    w, h = size
    pts: FloatArray = face.landmarks[:, :2] * np.array([float(w), float(h)])
    return pts


def _dist(a: FloatArray, b: FloatArray) -> float:
    return float(np.hypot(a[0] - b[0], a[1] - b[1]))


def head_pose_deg(transform: FloatArray | None) -> tuple[float, float, float] | None:
    """(yaw, pitch, roll) in degrees from MediaPipe's facial transformation matrix.

    The matrix maps the canonical face (x to the subject's left, y up, z out of the
    face) into camera space (x right, y up, z towards the viewer). Yaw and pitch come
    from where the face normal points, roll from the tilt of the face's x axis.
    """
    if transform is None:
        return None
    m = np.asarray(transform, dtype=np.float64)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        return None
    rot = m[:3, :3]
    det = float(np.linalg.det(rot))
    if det <= 0:
        return None
    rot = rot / np.cbrt(det)
    fwd = rot @ np.array([0.0, 0.0, 1.0])
    xax = rot @ np.array([1.0, 0.0, 0.0])
    yaw = math.degrees(math.atan2(float(fwd[0]), float(fwd[2])))
    pitch = math.degrees(math.atan2(float(fwd[1]), math.hypot(float(fwd[0]), float(fwd[2]))))
    roll = -math.degrees(math.atan2(float(xax[1]), float(xax[0])))
    return yaw, pitch, roll


def _eye(pts: FloatArray, outer: int, inner: int, top: int, bottom: int, iris: int
         ) -> tuple[float, float, float] | None:
    """Iris offset along the eye (+ towards the subject's left), down the eye, and the
    eye opening (lid gap / eye width)."""
    a, b = pts[outer], pts[inner]
    width = _dist(a, b)
    if width <= 1e-6 or len(pts) <= iris:
        return None
    ux, uy = (b[0] - a[0]) / width, (b[1] - a[1]) / width
    centre = (a + b) / 2.0
    d = pts[iris] - centre
    along = float(d[0] * ux + d[1] * uy) / width
    across = float(-d[0] * uy + d[1] * ux) / width
    gap = _dist(pts[top], pts[bottom]) / width
    return along, across, gap


#: Pose points of the head that must be seen for "a face is in view" (nose and both eyes).
_HEAD_POINTS: tuple[int, ...] = (PoseLm.NOSE, PoseLm.LEFT_EYE, PoseLm.RIGHT_EYE)
HEAD_MIN_VISIBILITY = 0.5


def head_in_view(obs: Observation) -> float | None:
    """1.0 when the pose model sees the head in the frame (nose and both eyes, visibility
    ``HEAD_MIN_VISIBILITY``), 0.0 when it does not, ``None`` without a pose: where the face
    model found no face, tells "face out of frame" from "a face in view it could not read"
    (too small, too dark, turned away)."""
    pose = obs.pose
    if pose is None:
        return None
    return 1.0 if pose.sees(HEAD_MIN_VISIBILITY, *_HEAD_POINTS) else 0.0


def compute_face_features(
    obs: Observation, neutral: Mapping[str, float] | None = None,
    frontal_max_yaw_deg: float = FRONTAL_MAX_YAW_DEG,
) -> dict[str, float | None]:
    """Measure the face of one frame; ``neutral`` = the person's neutral (see
    :func:`face_neutral_from_observations`), or ``None`` for population defaults."""
    values: dict[str, float | None] = dict.fromkeys(FACE_FEATURE_NAMES)
    face = obs.face
    values["face_present"] = 0.0 if "face" in obs.ran else None
    if face is None:
        values["head_in_view"] = head_in_view(obs)
        return values
    values["face_present"] = 1.0
    neu = neutral or {}
    pts = _px(face, obs.image_size)

    pose = head_pose_deg(face.transform)
    if pose is not None:
        yaw, pitch, roll = pose
        values["head_yaw_deg"], values["head_pitch_deg"], values["head_roll_deg"] = yaw, pitch, roll
        values["face_frontal"] = 1.0 if abs(yaw) <= frontal_max_yaw_deg else 0.0

    # Smile: average of both sides, minus the neutral when known.
    smile = _bs(face, "mouthSmileLeft", "mouthSmileRight")
    if smile is not None:
        values["smile_raw"] = smile
        values["smile_score"] = float(np.clip(smile - neu.get("smile_raw", 0.0), 0.0, 1.0))
    # More smile cues (see face_temporal.smile_evidence), each above the neutral: the upper
    # lip raised (teeth shown) and the lips stretched sideways count for a smile; the lower
    # lip rolled in and the lips pursed count against it.
    for key, names in (("upper_up", ("mouthUpperUpLeft", "mouthUpperUpRight")),
                       ("stretch", ("mouthStretchLeft", "mouthStretchRight")),
                       ("roll_lower", ("mouthRollLower",)),
                       ("pucker", ("mouthPucker",))):
        v = _bs(face, *names)
        if v is not None:
            values[f"{key}_raw"] = v
            values[key] = float(np.clip(v - neu.get(f"{key}_raw", 0.0), 0.0, 1.0))

    # Eyes: blink blendshapes (asymmetric, so both sides are kept) and lid geometry.
    bl = _bs(face, "eyeBlinkLeft")
    br = _bs(face, "eyeBlinkRight")
    values["blink_l"], values["blink_r"] = bl, br
    if bl is not None and br is not None:
        values["blink"] = (bl + br) / 2.0
    if len(pts) >= 478:
        right = _eye(pts, R_EYE_OUTER, R_EYE_INNER, R_EYE_TOP, R_EYE_BOTTOM, R_IRIS)
        left = _eye(pts, L_EYE_OUTER, L_EYE_INNER, L_EYE_TOP, L_EYE_BOTTOM, L_IRIS)
        if right is not None and left is not None:
            # Along the eye axis (outer -> inner) the two eyes point opposite ways: on the
            # right eye + is towards the subject's left, on the left eye the reverse.
            off_x = (right[0] - left[0]) / 2.0
            off_y = (right[1] - left[1]) / 2.0  # left eye's axis runs the other way
            values["iris_offset_x"] = off_x
            values["iris_offset_y"] = off_y
            values["eye_open_ratio"] = (right[2] + left[2]) / 2.0
            values["ipd_px"] = _dist(pts[R_IRIS], pts[L_IRIS])
            values["gaze_yaw_deg"] = _gaze_angle(off_x - neu.get("iris_offset_x", 0.0),
                                                 values["head_yaw_deg"])
            values["gaze_pitch_deg"] = _gaze_angle(-(off_y - neu.get("iris_offset_y", 0.0)),
                                                   values["head_pitch_deg"])

    # Mouth: jaw opening (blendshape), inner-lip gap over mouth width, widths in px.
    values["jaw_open"] = _bs(face, "jawOpen")
    mw = _dist(pts[MOUTH_R], pts[MOUTH_L])
    values["mouth_width_px"] = mw
    if mw > 1e-6:
        values["mouth_ar"] = _dist(pts[LIP_UPPER_INNER], pts[LIP_LOWER_INNER]) / mw
    ipd = values["ipd_px"]
    if ipd is not None and ipd > 1e-6:
        values["mouth_width_ipd"] = mw / ipd
        if "mouth_width_ipd" in neu:
            values["mouth_widen_ipd"] = mw / ipd - neu["mouth_width_ipd"]

    # Expression: negative cues, each above the neutral.
    for key, names in (("brow_down", ("browDownLeft", "browDownRight")),
                       ("frown", ("mouthFrownLeft", "mouthFrownRight")),
                       ("sneer", ("noseSneerLeft", "noseSneerRight"))):
        v = _bs(face, *names)
        values[key] = None if v is None else max(0.0, v - neu.get(key, 0.0))
    cues = [values[k] for k in ("brow_down", "frown", "sneer")]
    if all(c is not None for c in cues):
        values["negative_expression_score"] = max(float(c) for c in cues if c is not None)

    _teeth_values(values, obs)
    return values


def _gaze_angle(offset: float, head_deg: float | None) -> float | None:
    """Head angle plus the eye-in-head angle from the iris offset (eyeball model)."""
    if head_deg is None:
        return None
    s = float(np.clip(offset * EYE_WIDTH_MM / EYEBALL_RADIUS_MM, -1.0, 1.0))
    return head_deg + math.degrees(math.asin(s))


def _teeth_values(values: dict[str, float | None], obs: Observation) -> None:
    """Copy the edge ``teeth`` measure (posture_coach.teeth) into features."""
    m = obs.measures.get("teeth")
    if not isinstance(m, Mapping):
        return
    judged = bool(m.get("judged", False))
    values["teeth_judged"] = 1.0 if judged else 0.0
    for key, src in (("teeth_count", "count"), ("teeth_band_px", "band_px"),
                     ("teeth_fill_ratio", "fill_ratio"), ("teeth_yaw_deg", "yaw_deg")):
        v = m.get(src)
        values[key] = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
    ipd = m.get("ipd_px")
    if isinstance(ipd, int | float) and ipd > 0:
        for key, src in (("teeth_left_ipd", "left_px"), ("teeth_right_ipd", "right_px")):
            v = m.get(src)
            if isinstance(v, int | float) and not isinstance(v, bool):
                values[key] = float(v) / float(ipd)


# -- the dental-arch model ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DentalArch:
    """Upper dental arch as a parabola seen from the front, for counting teeth.

    Tooth crown widths (mm, mesio-distal) from the midline outwards, laid end to end
    along the arch; the arch is ``z = -depth * (x / half_width)^2`` (x to the subject's
    left, z towards the camera, incisal midpoint at the origin), projected on the image
    plane with the head yaw. The lips sit ``lip_ahead_mm`` in front of the incisors.
    """

    widths_mm: tuple[float, ...] = (8.5, 6.5, 7.5, 7.0, 6.5, 10.0)
    #: Crown heights (mm, cervical line to incisal edge / cusp tip), same order.
    heights_mm: tuple[float, ...] = (10.5, 9.0, 10.0, 8.5, 7.5, 7.0)
    half_width_mm: float = 17.5   # canine cusp from the midline
    depth_mm: float = 9.5         # incisal point to the inter-canine line
    ipd_mm: float = ADULT_IPD_MM
    lip_ahead_mm: float = 6.0
    min_visible: float = 0.5      # a tooth counts when this share of its crown shows

    def boundaries(self, yaw_deg: float) -> tuple[FloatArray, FloatArray]:
        """Projected tooth edges (mm, + = subject's left, 0 = the upper lip's centre
        landmark) of the left and right halves, from the midline outwards."""
        x, z = self._edges_on_arch()
        th = math.radians(yaw_deg)
        shift = self.lip_ahead_mm * math.sin(th)  # the lip landmark moves more than the teeth
        left: FloatArray = x * math.cos(th) + z * math.sin(th) - shift
        right: FloatArray = -x * math.cos(th) + z * math.sin(th) - shift
        return left, right

    def _edges_on_arch(self) -> tuple[FloatArray, FloatArray]:
        """Tooth edges (x, z in mm) laid along the parabola; independent of the yaw."""
        return _arch_edges(self.widths_mm, self.half_width_mm, self.depth_mm)

    def count(self, left_mm: float, right_mm: float, yaw_deg: float = 0.0) -> int:
        """Upper teeth shown by a band from ``-right_mm`` to ``+left_mm`` (mm, around the
        upper lip's centre) on a head turned by ``yaw_deg``."""
        lo, hi = -abs(right_mm), abs(left_mm)
        n = 0
        for edges in self.boundaries(yaw_deg):
            for a, b in itertools.pairwise(edges):
                u0, u1 = min(a, b), max(a, b)
                if u1 - u0 < 1e-6:
                    continue
                overlap = max(0.0, min(u1, hi) - max(u0, lo))
                if overlap / (u1 - u0) >= self.min_visible:
                    n += 1
        return n

    def crown_heights_at(self, u_mm: FloatArray, yaw_deg: float = 0.0) -> FloatArray:
        """Crown height (mm) of the tooth whose projection covers each image position
        ``u_mm`` (+ = subject's left, 0 = the upper lip's centre landmark); beyond the last
        modelled tooth, the last one's."""
        left, right = self.boundaries(yaw_deg)
        h = np.asarray(self.heights_mm, np.float64)
        n = len(h) - 1
        u = np.asarray(u_mm, np.float64)
        il = np.clip(np.searchsorted(left, u, side="right") - 1, 0, n)
        ir = np.clip(np.searchsorted(-right, -u, side="right") - 1, 0, n)
        out: FloatArray = np.where(u >= left[0], h[il], h[ir])
        return out

    def count_ipd(self, left_ipd: float, right_ipd: float, yaw_deg: float = 0.0) -> int:
        """The same with extents in inter-pupil distances (scaled by ``ipd_mm``)."""
        return self.count(left_ipd * self.ipd_mm, right_ipd * self.ipd_mm, yaw_deg)


@functools.lru_cache(maxsize=16)
def _arch_edges(widths_mm: tuple[float, ...], half_width_mm: float, depth_mm: float
                ) -> tuple[FloatArray, FloatArray]:
    c = depth_mm / max(half_width_mm, 1e-6) ** 2
    xs = np.linspace(0.0, 60.0, 601)
    ds = np.sqrt(1.0 + (2.0 * c * xs) ** 2)
    arc = np.concatenate(([0.0], np.cumsum((ds[1:] + ds[:-1]) / 2.0 * np.diff(xs))))
    s = np.concatenate(([0.0], np.cumsum(widths_mm)))
    x: FloatArray = np.interp(s, arc, xs)
    z: FloatArray = -c * x**2
    x.setflags(write=False)
    z.setflags(write=False)
    return x, z


def face_neutral_from_observations(observations: Iterable[Observation]) -> dict[str, float]:
    """A personal neutral: medians of :data:`NEUTRAL_KEYS` over a neutral capture.

    Store it with the profile (e.g. ``Profile.face_neutral``) and pass it to
    :func:`compute_face_features`. Empty when no frame showed a face.
    """
    cols: dict[str, list[float]] = {k: [] for k in NEUTRAL_KEYS}
    for obs in observations:
        if obs.face is None:
            continue
        raw = compute_face_features(obs)
        for k in NEUTRAL_KEYS:
            v = raw.get(k)
            if v is not None:
                cols[k].append(v)
    return {k: float(statistics.median(v)) for k, v in cols.items() if v}
