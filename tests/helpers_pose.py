"""Build Observations from named 2-D joint positions (pixels), for rule tests.

Bodies are drawn in a 640×480 image, facing the camera unless said otherwise, with a
shoulder width (SW) of 80 px and a torso length (TL) of 120 px. The subject's left is
the image right when they face the camera.

    obs = observation(front_standing(arms="crossed"))
    obs = observation(side_sitting(lean_deg=-15), hidden={"left_knee"})
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from posture_coach.types import FaceObs, HandObs, Observation, PoseLm, PoseObs

SIZE = (640, 480)
Joints = dict[str, tuple[float, float]]
HAND_POINTS = ("pinky", "index", "thumb")


def _name(lm: PoseLm) -> str:
    return lm.name.lower()


def observation(
    joints: Mapping[str, tuple[float, float]],
    *,
    t_ms: int = 0,
    frame: int = 0,
    size: tuple[int, int] = SIZE,
    hidden: Iterable[str] = (),
    visibility: Mapping[str, float] | None = None,
    face: FaceObs | None = None,
    hands: tuple[HandObs, ...] = (),
    ran: frozenset[str] = frozenset({"pose", "face", "hands"}),
) -> Observation:
    """An Observation whose pose has the given joints (pixels); others sit at the nose.

    ``hidden`` joints get visibility 0.05; ``visibility`` sets exact values.
    """
    w, h = size
    lm = np.zeros((33, 3))
    vis = np.full(33, 0.99)
    base = joints.get("nose", (w / 2, h / 4))
    for i in PoseLm:
        x, y = joints.get(_name(i), base)
        lm[i] = (x / w, y / h, 0.0)
    hidden = set(hidden)
    for i in PoseLm:
        if _name(i) in hidden:
            vis[i] = 0.05
        if visibility and _name(i) in visibility:
            vis[i] = visibility[_name(i)]
        if not (0 <= lm[i][0] <= 1 and 0 <= lm[i][1] <= 1):
            vis[i] = min(vis[i], 0.3)  # what MediaPipe does for out-of-frame joints
    pose = PoseObs(landmarks=lm, visibility=vis, presence=np.full(33, 0.99))
    return Observation(frame, t_ms, size, pose=pose, face=face, hands=hands, ran=ran)


def _head(cx: float, top: float, facing: int = 0) -> Joints:
    """Head points: ``facing`` 0 = towards the camera, ±1 = towards image right/left."""
    if facing == 0:
        return {
            "nose": (cx, top + 30), "left_eye": (cx + 8, top + 22), "right_eye": (cx - 8, top + 22),
            "left_eye_inner": (cx + 4, top + 22), "right_eye_inner": (cx - 4, top + 22),
            "left_eye_outer": (cx + 12, top + 22), "right_eye_outer": (cx - 12, top + 22),
            "left_ear": (cx + 17, top + 27), "right_ear": (cx - 17, top + 27),
            "mouth_left": (cx + 6, top + 44), "mouth_right": (cx - 6, top + 44),
        }
    f = facing
    return {
        "nose": (cx + 22 * f, top + 30), "left_eye": (cx + 14 * f, top + 22),
        "right_eye": (cx + 13 * f, top + 22), "left_eye_inner": (cx + 16 * f, top + 22),
        "right_eye_inner": (cx + 15 * f, top + 22), "left_eye_outer": (cx + 10 * f, top + 22),
        "right_eye_outer": (cx + 9 * f, top + 22), "left_ear": (cx + 1 * f, top + 27),
        "right_ear": (cx - 1 * f, top + 27), "mouth_left": (cx + 17 * f, top + 44),
        "mouth_right": (cx + 16 * f, top + 44),
    }


def _hand_points(j: Joints) -> None:
    for side in ("left", "right"):
        wx, wy = j[f"{side}_wrist"]
        j[f"{side}_pinky"] = (wx + 3, wy + 10)
        j[f"{side}_index"] = (wx, wy + 12)
        j[f"{side}_thumb"] = (wx - 3, wy + 9)


ARMS_FRONT: dict[str, Joints] = {
    # Arms hanging (renders: elbow span 1.14-1.20 SW, wrist-to-hip 0.30-0.35 SW).
    "neutral": {"left_elbow": (367, 185), "right_elbow": (273, 185),
                "left_wrist": (372, 248), "right_wrist": (268, 248)},
    # Forearms folded across the chest, each wrist at the other elbow.
    "crossed": {"left_elbow": (354, 195), "right_elbow": (286, 195),
                "left_wrist": (292, 180), "right_wrist": (348, 182)},
    "hips_both": {"left_elbow": (410, 190), "right_elbow": (230, 190),
                  "left_wrist": (372, 225), "right_wrist": (268, 225)},
    "hips_left": {"left_elbow": (410, 190), "right_elbow": (273, 185),
                  "left_wrist": (372, 225), "right_wrist": (268, 248)},
    "front": {"left_elbow": (365, 190), "right_elbow": (275, 190),
              "left_wrist": (330, 245), "right_wrist": (310, 245)},
    "pockets": {"left_elbow": (372, 190), "right_elbow": (268, 190),
                "left_wrist": (350, 262), "right_wrist": (290, 262)},
    # Both hands held together at chest height (as for a handover): not crossed.
    "chest": {"left_elbow": (358, 200), "right_elbow": (282, 200),
              "left_wrist": (328, 170), "right_wrist": (312, 170)},
}


def front_standing(arms: str = "neutral", *, tilt_px: float = 0.0, feet_px: float = 22.0,
                   head_drop_px: float = 0.0) -> Joints:
    """A person facing the camera, full body. ``tilt_px`` raises the left shoulder."""
    j: Joints = _head(320, 40 + head_drop_px)
    j.update({
        "left_shoulder": (360, 120 - tilt_px / 2), "right_shoulder": (280, 120 + tilt_px / 2),
        "left_hip": (345, 240), "right_hip": (295, 240),
        "left_knee": (343, 330), "right_knee": (297, 330),
        "left_ankle": (320 + feet_px, 420), "right_ankle": (320 - feet_px, 420),
        "left_heel": (320 + feet_px, 428), "right_heel": (320 - feet_px, 428),
        "left_foot_index": (326 + feet_px, 440), "right_foot_index": (314 - feet_px, 440),
    })
    j.update(ARMS_FRONT[arms])
    _hand_points(j)
    return j


def front_sitting(arms: str = "neutral", *, legs: str = "neutral",
                  head_drop_px: float = 0.0) -> Joints:
    """Facing the camera on a chair: thighs point at the camera (foreshortened)."""
    j = front_standing(arms, head_drop_px=head_drop_px)
    dy = 60.0  # the whole upper body sits lower
    for k in list(j):
        if not k.endswith(("knee", "ankle", "heel", "foot_index")):
            j[k] = (j[k][0], j[k][1] + dy)
    if legs == "neutral":
        j.update({"left_knee": (350, 330), "right_knee": (290, 330),
                  "left_ankle": (350, 420), "right_ankle": (290, 420)})
    elif legs == "crossed":  # left thigh over the right knee
        j.update({"left_knee": (285, 305), "right_knee": (300, 335),
                  "left_ankle": (320, 400), "right_ankle": (292, 420)})
    for side in ("left", "right"):
        ax, ay = j[f"{side}_ankle"]
        j[f"{side}_heel"] = (ax, ay + 8)
        j[f"{side}_foot_index"] = (ax, ay + 20)
    return j


#: MediaPipe places its hip points on the front of the hip crease, this many torso lengths
#: ahead of the hip-joint centres (calibration: ``hip_forward_offset_tl``); the helpers
#: draw them there so that a posed angle reads back as itself.
MP_HIP_FORWARD_TL = 0.05


def _side_body(hip: tuple[float, float], incline_deg: float, facing: int,
               head_forward_px: float = 0.0) -> Joints:
    """Torso from ``hip`` (joint centre) leaning ``incline_deg`` forward (negative = back);
    ``head_forward_px`` carries the head that far forward of the shoulders."""
    tl = 120.0
    r = math.radians(incline_deg)
    sx, sy = hip[0] + facing * tl * math.sin(r), hip[1] - tl * math.cos(r)
    hx = hip[0] + facing * MP_HIP_FORWARD_TL * tl
    j: Joints = _head(sx + facing * head_forward_px, sy - 80, facing)
    j.update({
        "left_shoulder": (sx + 2, sy), "right_shoulder": (sx - 2, sy),
        "left_hip": (hx + 2, hip[1]), "right_hip": (hx - 2, hip[1]),
        "left_elbow": (sx + 4 * facing, sy + 65), "right_elbow": (sx + 2 * facing, sy + 65),
        "left_wrist": (sx + 10 * facing, sy + 125), "right_wrist": (sx + 8 * facing, sy + 125),
    })
    _hand_points(j)
    return j


def side_standing(incline_deg: float = 0.0, facing: int = 1) -> Joints:
    """Seen from the side, facing the image right (``facing=1``) or left (-1)."""
    j = _side_body((320, 240), incline_deg, facing)
    j.update({"left_knee": (322, 330), "right_knee": (318, 330),
              "left_ankle": (321, 420), "right_ankle": (319, 420)})
    return j


def side_sitting(lean_deg: float = 0.0, facing: int = 1, legs: str = "neutral",
                 head_forward_px: float = 0.0) -> Joints:
    """Seated, seen from the side: thighs horizontal, shins vertical."""
    j = _side_body((300, 300), lean_deg, facing, head_forward_px)
    kx = 300 + 90 * facing
    j.update({"left_knee": (kx + 2, 305), "right_knee": (kx - 2, 305),
              "left_ankle": (kx + 2, 400), "right_ankle": (kx - 2, 400)})
    if legs == "crossed":  # right leg over: its knee rides high, its ankle by the left knee
        j.update({"right_knee": (kx - 6, 265), "right_ankle": (kx + 40 * facing, 330)})
    return j


def face_at(joints: Mapping[str, tuple[float, float]], width_px: float,
            size: tuple[int, int] = SIZE) -> FaceObs:
    """A minimal face mesh: only the cheeks (234/454) and chin (152) are meaningful."""
    w, h = size
    nx, ny = joints["nose"]
    lm = np.tile([nx / w, ny / h, 0.0], (478, 1))
    lm[454] = ((nx + width_px / 2) / w, ny / h, 0)
    lm[234] = ((nx - width_px / 2) / w, ny / h, 0)
    lm[152] = (nx / w, (ny + 0.6 * width_px) / h, 0)
    return FaceObs(landmarks=lm)
