"""The calibration's "give a natural smile" step: a gentle natural smile counts as a smile.

The step used to be recorded and thrown away. A person whose natural, closed-lip smile
scores under the population threshold then read "not smiling" for a whole practice.
"""

from __future__ import annotations

import numpy as np
import pytest

from posture_coach.calibration import Profile, load_calibration, personal_smile_params
from posture_coach.engine import CoachEngine
from posture_coach.types import FaceObs, Observation
from tests.helpers_pose import front_standing, observation


def _face(smile: float) -> FaceObs:
    blend = {"mouthSmileLeft": smile, "mouthSmileRight": smile, "mouthUpperUpLeft": 0.0,
             "mouthUpperUpRight": 0.0, "mouthStretchLeft": 0.0, "mouthStretchRight": 0.0,
             "mouthRollLower": 0.0, "mouthPucker": 0.0, "jawOpen": 0.0}
    return FaceObs(landmarks=np.full((478, 3), 0.5), blendshapes=blend, transform=np.eye(4))


def _obs(smile: float, i: int = 0) -> Observation:
    return observation(front_standing(), t_ms=i * 33, frame=i, face=_face(smile))


def test_thresholds_come_down_to_the_persons_natural_smile_and_never_go_up() -> None:
    p = load_calibration().rules["face.smile"]
    on, off = float(p["on_score"]), float(p["off_score"])
    gentle = personal_smile_params(p, 0.2)  # a natural smile of 0.2: smiling from 0.12
    assert gentle["on_score"] == pytest.approx(0.6 * 0.2) and gentle["off_score"] == pytest.approx(0.12 * off / on)
    assert personal_smile_params(p, 0.8)["on_score"] == on  # a broad smile: the standard stays
    assert personal_smile_params(p, 0.05)["on_score"] == on  # no real smile captured: unchanged
    assert personal_smile_params(p, None) == dict(p)


def test_a_smile_capture_gives_the_profile_the_persons_smile_level() -> None:
    neutral = [_obs(0.02, i) for i in range(10)]
    profile = Profile.from_observations(neutral, smile=[_obs(0.22, i) for i in range(10, 20)])
    assert profile.smile_level == pytest.approx(0.20, abs=0.01)  # above the neutral face
    assert Profile.from_dict(profile.to_dict()).smile_level == profile.smile_level
    assert Profile.from_observations(neutral).smile_level is None  # no capture: not known
    assert Profile.from_observations(neutral, smile=[_obs(0.3, 10)]).smile_level is None  # one frame says nothing


@pytest.mark.parametrize(("with_smile_capture", "status"), [(False, "warn"), (True, "pass")])
def test_a_gentle_natural_smile_passes_once_it_was_calibrated(with_smile_capture: bool, status: str) -> None:
    neutral = [_obs(0.02, i) for i in range(10)]
    smile = [_obs(0.20, i) for i in range(10, 20)] if with_smile_capture else []
    profile = Profile.from_observations(neutral, smile=smile)
    photo = CoachEngine(load_calibration(), profile, mode="image", posture="standing", rule_ids=["face.smile"])
    assert photo.update(_obs(0.18)).verdicts["face.smile"].status == status  # smiling gently, as at calibration
    video = CoachEngine(load_calibration(), profile, mode="video", posture="standing", rule_ids=["face.smile"])
    for i in range(60):  # 2 s of the same gentle smile: the video's hysteresis agrees
        verdict = video.update(_obs(0.18, i)).verdicts["face.smile"]
    assert verdict.status == status


def test_the_page_is_told_what_the_smile_step_gave() -> None:
    from posture_coach.server.coach import EngineFactory

    factory = EngineFactory()
    said = {level: factory.smile_calibrated(Profile(neck_ratio=0.5, smile_level=level))
            for level in (None, 0.05, 0.2, 0.8)}
    assert said == {None: "not_seen", 0.05: "not_seen", 0.2: "personal", 0.8: "standard"}
