"""Ground-truth labels: the JSONL sidecar written next to each clip.

Format (``clip.mp4`` + ``clip.labels.jsonl``, one JSON object per line):

1. a header ``{"kind": "header", "version": 1, "scenario", "seed", "fps", "width",
   "height", "camera": {...}, "body": {...}, "split": "tune"|"eval", ...}``;
2. one line per frame ``{"kind": "frame", "frame", "t_ms", "posture", "states",
   "angles", "keypoints2d", "view", "framing", "legs_visible", "hips_visible"}``;
3. events ``{"kind": "event", "type", "start_ms", "end_ms", ...}`` at the end.

Conventions
-----------
* ``t_ms = round(frame * 1000 / fps)`` (the pipeline's times for these constant-rate clips).
* ``keypoints2d``: pixels, origin top-left, y down, ``[x, y, visible]``; names follow
  MediaPipe's landmark names (``left_*`` = the subject's own left). ``visible`` is True
  when the point is inside the image and the surface drawn at its pixel either belongs
  to the joint's own body parts (:data:`OWN_PARTS`) and lies less than
  :data:`DEPTH_TOLERANCE_M` in front of the joint centre (joint centres lie 2-15 cm
  under the skin), or lies less than 3 cm in front of it. So a wrist behind the other
  arm, a far-side hip in a side view or a hip behind the chair are not visible. An
  approximation near silhouettes.
* ``angles.torso_incline_deg`` / ``states.torso_incline_deg``: the 3-D angle of the
  hip-midpoint → shoulder-midpoint line from vertical, in the person's sagittal plane,
  **positive = leaning forward**, negative = leaning back (exact, from the posed
  skeleton, not from MediaPipe).
* ``shoulder_tilt_deg``: the tilt of the shoulder line **in the image**, degrees,
  **positive = the subject's left shoulder higher in the image** (includes camera roll;
  ``angles.shoulder_tilt_3d_deg`` is the same in the world, without roll). Left out in a
  side view, where the shoulder line is foreshortened.
* ``posture == "transition"`` between held postures: only the geometric states
  (``torso_incline_deg``, ``shoulder_tilt_deg``) are given then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

LABEL_VERSION = 1

# part ids as in posture_coach.synth.body.PART_IDS (kept here so labels need no extra)
_H, _T, _UAL, _UAR, _LAL, _LAR, _HL, _HR, _THL, _THR, _SHL, _SHR, _FL, _FR = range(1, 15)
#: Body parts whose surface may be in front of a joint without hiding it.
OWN_PARTS: dict[str, set[int]] = {
    "nose": {_H}, "left_eye": {_H}, "right_eye": {_H}, "left_ear": {_H}, "right_ear": {_H},
    "left_shoulder": {_T, _UAL}, "right_shoulder": {_T, _UAR},
    "left_elbow": {_UAL, _LAL}, "right_elbow": {_UAR, _LAR},
    "left_wrist": {_LAL, _HL}, "right_wrist": {_LAR, _HR},
    "left_hip": {_T, _THL}, "right_hip": {_T, _THR},
    "left_knee": {_THL, _SHL}, "right_knee": {_THR, _SHR},
    "left_ankle": {_SHL, _FL}, "right_ankle": {_SHR, _FR},
    "left_big_toe": {_FL}, "right_big_toe": {_FR}, "left_small_toe": {_FL},
    "right_small_toe": {_FR}, "left_heel": {_SHL, _FL}, "right_heel": {_SHR, _FR},
}  # fmt: skip
#: How far (m) the joint's own surface may lie in front of the joint centre.
DEPTH_TOLERANCE_M: dict[str, float] = {
    "nose": 0.05, "eye": 0.05, "ear": 0.06, "shoulder": 0.15, "elbow": 0.10,
    "wrist": 0.08, "hip": 0.22, "knee": 0.14, "ankle": 0.10, "toe": 0.08, "heel": 0.08,
}  # fmt: skip


def _tolerance(name: str) -> float:
    return next(v for k, v in DEPTH_TOLERANCE_M.items() if name.endswith(k))


#: anny COCO names → MediaPipe names (the rest are identical).
MP_NAMES = {
    "left_big_toe": "left_foot_index",
    "right_big_toe": "right_foot_index",
}
#: COCO points left out of the sidecar (MediaPipe has no small-toe landmark).
SKIP = {"left_small_toe", "right_small_toe"}

#: The RULES.md state keys this generator can label.
STATE_KEYS = (
    "hunched", "torso_incline_deg", "shoulder_tilt_deg", "arms_crossed", "hands_on_hips",
    "hands_in_pockets", "hands_front", "sitting_lean", "legs_crossed", "chin_on_hand",
    "smiling", "yawning", "pointing_finger", "leg_shaking", "fidgeting",
    "stance_width_ratio", "feet_angle_deg", "upper_teeth_visible", "face_touch_region",
    "gaze_on_target",
)  # fmt: skip


def labels_path(video: Path) -> Path:
    """``clip.mp4`` → ``clip.labels.jsonl``."""
    return video.with_name(video.stem + ".labels.jsonl")


def torso_incline_deg(kp: Mapping[str, FloatArray]) -> float:
    """Forward (+) / backward (-) lean of hip-mid → shoulder-mid from vertical, degrees.

    World axes: Z up, -Y the person's forward.
    """
    hip = (kp["left_hip"] + kp["right_hip"]) / 2
    sh = (kp["left_shoulder"] + kp["right_shoulder"]) / 2
    d = sh - hip
    return float(np.degrees(np.arctan2(-d[1], d[2])))


def shoulder_tilt_3d_deg(kp: Mapping[str, FloatArray]) -> float:
    """World tilt of the shoulder line, degrees, + = left shoulder higher."""
    d = kp["left_shoulder"] - kp["right_shoulder"]
    return float(np.degrees(np.arctan2(d[2], np.hypot(d[0], d[1]))))


def shoulder_tilt_image_deg(px: Mapping[str, FloatArray]) -> float:
    """Image tilt of the shoulder line, degrees, + = the subject's left shoulder higher."""
    lx, ly = px["left_shoulder"][:2]
    rx, ry = px["right_shoulder"][:2]
    return float(np.degrees(np.arctan2(ry - ly, abs(lx - rx))))


def stance_measures(kp: Mapping[str, FloatArray]) -> tuple[float, float]:
    """(``stance_width_ratio``, ``feet_angle_deg``) from 3-D keypoints: the floor-plane
    distance between the ankles over the shoulder-keypoint distance, and the angle
    between the two feet's heel → big-toe directions on the floor (0 = parallel, a V
    stance ~40-60°, a T-step ~60-90°)."""
    ank = kp["left_ankle"][:2] - kp["right_ankle"][:2]
    sw = float(np.linalg.norm(kp["left_shoulder"] - kp["right_shoulder"]))
    fl = kp["left_big_toe"][:2] - kp["left_heel"][:2]
    fr = kp["right_big_toe"][:2] - kp["right_heel"][:2]
    cosang = float(fl @ fr / (np.linalg.norm(fl) * np.linalg.norm(fr) + 1e-12))
    return float(np.linalg.norm(ank)) / sw, float(np.degrees(np.arccos(np.clip(cosang, -1, 1))))


def view_of(yaw_deg: float) -> str:
    """front (|yaw| ≤ 20°), oblique (≤ 65°) or side."""
    a = abs(yaw_deg)
    return "front" if a <= 20 else "oblique" if a <= 65 else "side"


def frame_labels(
    *,
    frame: int,
    fps: float,
    posture: str,
    posture_states: Mapping[str, Any] | None,
    kp_world: Mapping[str, FloatArray],
    kp_px: Mapping[str, FloatArray],
    kp_depth: Mapping[str, float],
    depth_map: FloatArray,
    part_map: npt.NDArray[np.uint8],
    width: int,
    height: int,
    yaw_deg: float,
    stance: bool = False,
) -> dict[str, Any]:
    """One frame's label line. ``posture_states`` None = in a transition. ``stance``:
    add ``stance_width_ratio`` / ``feet_angle_deg`` (standing with both feet planted)."""
    # --- keypoints: in frame, and not hidden behind the body's own surface
    keypoints: dict[str, list[Any]] = {}
    in_frame: dict[str, bool] = {}
    for name, p in kp_px.items():
        if name in SKIP:
            continue
        x, y = float(p[0]), float(p[1])
        inside = 0 <= x < width and 0 <= y < height
        vis = inside
        if inside:
            xi, yi = int(x), int(y)
            patch = depth_map[max(0, yi - 1) : yi + 2, max(0, xi - 1) : xi + 2]
            surface = float(np.max(patch))  # the farthest of a 3×3 patch: lenient at edges
            ahead = kp_depth[name] - surface  # how far the drawn surface is in front (m)
            own = int(part_map[yi, xi]) in OWN_PARTS[name]
            vis = ahead < 0.03 or (own and ahead < _tolerance(name))
        key = MP_NAMES.get(name, name)
        keypoints[key] = [round(x, 1), round(y, 1), bool(vis)]
        in_frame[name] = inside

    incline = torso_incline_deg(kp_world)
    view = view_of(yaw_deg)
    angles: dict[str, float] = {
        "torso_incline_deg": round(incline, 2),
        "shoulder_tilt_3d_deg": round(shoulder_tilt_3d_deg(kp_world), 2),
    }
    states: dict[str, Any] = {"torso_incline_deg": round(incline, 2)}
    sw_px = float(np.hypot(*(kp_px["left_shoulder"][:2] - kp_px["right_shoulder"][:2])))
    if view != "side" and sw_px > 20 and in_frame["left_shoulder"] and in_frame["right_shoulder"]:
        tilt = shoulder_tilt_image_deg(kp_px)
        angles["shoulder_tilt_deg"] = round(tilt, 2)
        states["shoulder_tilt_deg"] = round(tilt, 2)
    # 2-D torso angle from image vertical (unsigned), for reference
    hip = (kp_px["left_hip"][:2] + kp_px["right_hip"][:2]) / 2
    sh = (kp_px["left_shoulder"][:2] + kp_px["right_shoulder"][:2]) / 2
    v = sh - hip
    angles["torso_incline_image_deg"] = round(float(np.degrees(np.arctan2(abs(v[0]), -v[1]))), 2)

    if stance:
        ratio, feet = stance_measures(kp_world)
        angles["stance_width_ratio"] = states["stance_width_ratio"] = round(ratio, 3)
        angles["feet_angle_deg"] = states["feet_angle_deg"] = round(feet, 2)
    if posture_states is not None:
        for k, val in posture_states.items():
            states[k] = val
        _check_states(states, incline)

    hips = in_frame["left_hip"] and in_frame["right_hip"]
    legs = all(in_frame[k] for k in ("left_knee", "right_knee", "left_ankle", "right_ankle"))
    framing = "full_body" if legs else "half_body" if hips else "head_shoulders"
    return {
        "kind": "frame",
        "frame": frame,
        "t_ms": round(frame * 1000 / fps),
        "posture": posture,
        "states": states,
        "angles": angles,
        "keypoints2d": keypoints,
        "view": view,
        "framing": framing,
        "legs_visible": legs,
        "hips_visible": hips,
    }


def _check_states(states: dict[str, Any], incline: float) -> None:
    """Drop asserted states the measured geometry does not clearly support."""
    h = states.get("hunched", "unset")
    if h is True and incline < 10.0:
        del states["hunched"]
    if h is False and abs(incline) > 5.0:
        del states["hunched"]
    if "hunched" not in states and states.get("_hunched_candidate") and incline >= 10.0:
        states["hunched"] = True
    states.pop("_hunched_candidate", None)
    lean = states.get("sitting_lean")
    ok = {
        "upright": abs(incline) <= 7.0,
        "slight_forward": 4.0 <= incline <= 25.0,
        "leaning_back": incline <= -10.0,
        "slumped": True,
    }
    if lean is not None and not ok.get(lean, False):
        del states["sitting_lean"]


def write_labels(
    path: Path, header: Mapping[str, Any], frames: Iterable[Mapping[str, Any]], events: Iterable[Mapping[str, Any]]
) -> None:
    """Write the sidecar (compact JSON, one object per line)."""
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"kind": "header", "version": LABEL_VERSION, **header}) + "\n")
        for fr in frames:
            f.write(json.dumps(fr, separators=(",", ":")) + "\n")
        for ev in events:
            f.write(json.dumps({"kind": "event", **ev}, separators=(",", ":")) + "\n")


def read_labels(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Read a sidecar → (header, frames, events). Needs no extra."""
    header: dict[str, Any] = {}
    frames: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            obj = json.loads(line)
            kind = obj.get("kind")
            if kind == "header":
                header = obj
            elif kind == "event":
                events.append(obj)
            else:
                frames.append(obj)
    return header, frames, events
