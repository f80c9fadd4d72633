"""Head-pose sign conventions and the no-face path of face_features."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posture_coach.face_features import FACE_FEATURE_NAMES, compute_face_features, head_pose_deg
from posture_coach.types import Observation


def _rot_y(deg: float) -> np.ndarray:
    t = math.radians(deg)
    m = np.eye(4)
    m[0, 0], m[0, 2], m[2, 0], m[2, 2] = math.cos(t), math.sin(t), -math.sin(t), math.cos(t)
    return m


def _rot_x(deg: float) -> np.ndarray:
    t = math.radians(deg)
    m = np.eye(4)
    m[1, 1], m[1, 2], m[2, 1], m[2, 2] = math.cos(t), -math.sin(t), math.sin(t), math.cos(t)
    return m


def test_yaw_sign() -> None:
    pose = head_pose_deg(_rot_y(15.0))  # face normal towards camera +x (the subject's left)
    assert pose is not None and pose[0] == pytest.approx(15.0)


def test_pitch_sign_chin_up_positive() -> None:
    pose = head_pose_deg(_rot_x(-10.0))  # normal tilted towards camera +y (up)
    assert pose is not None and pose[1] == pytest.approx(10.0)


def test_no_face() -> None:
    v = compute_face_features(Observation(0, 0, (10, 10), ran=frozenset({"face"})))
    assert set(v) == set(FACE_FEATURE_NAMES)
    assert v["face_present"] == 0.0 and v["smile_score"] is None


def test_negative_smile_cues_count_against() -> None:
    from posture_coach.face_temporal import smile_evidence
    from posture_coach.types import FaceObs

    blend = {"mouthSmileLeft": 0.3, "mouthSmileRight": 0.3, "mouthRollLower": 0.1, "mouthPucker": 0.05,
             "jawOpen": 0.2}
    obs = Observation(frame_index=0, timestamp_ms=0, image_size=(100, 100),
                      face=FaceObs(landmarks=np.full((478, 3), 0.5), blendshapes=blend, transform=None),
                      ran=frozenset({"face"}))
    v = compute_face_features(obs, {"roll_lower_raw": 0.04})
    assert v["roll_lower"] == pytest.approx(0.06) and v["pucker"] == pytest.approx(0.05)
    p = {"roll_lower_weight": -1.0, "pucker_weight": -1.0}
    assert smile_evidence(v, p) == pytest.approx(0.3 - 0.06 - 0.05)
    assert smile_evidence(v, {"pucker_weight": -10.0}) == 0.0  # clipped to 0..1
    assert smile_evidence(v, {}) == pytest.approx(0.3)  # old calibrations: no negative cues
