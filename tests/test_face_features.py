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
