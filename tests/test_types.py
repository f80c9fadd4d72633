"""Stage data round-trip exactly through their dict form (the recording format)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from posture_coach.types import FaceObs, HandObs, Observation, PoseObs


def make_observation(seed: int = 0) -> Observation:
    rng = np.random.default_rng(seed)
    pose = PoseObs(rng.random((33, 3)), rng.random(33), rng.random(33), rng.random((33, 3)))
    face = FaceObs(rng.random((478, 3)), {"mouthSmileLeft": 0.25, "jawOpen": 0.1}, rng.random((4, 4)))
    hands = (HandObs(rng.random((21, 3)), "left", 0.9, None),)
    return Observation(7, 233, (640, 480), pose, face, hands, "clip.mp4", frozenset({"pose", "face", "hands"}))


def test_observation_round_trips_bit_exactly_through_json() -> None:
    obs = make_observation()
    back = Observation.from_dict(json.loads(json.dumps(obs.to_dict())))
    assert back.pose is not None and obs.pose is not None
    assert np.array_equal(back.pose.landmarks, obs.pose.landmarks)
    assert back.face is not None and obs.face is not None
    assert np.array_equal(back.face.transform, obs.face.transform)  # type: ignore[arg-type]
    assert back.face.blendshapes == obs.face.blendshapes
    assert back.hands[0].side == "left"
    assert back.to_dict() == obs.to_dict()


def test_arrays_are_read_only() -> None:
    obs = make_observation()
    assert obs.pose is not None
    with pytest.raises(ValueError):
        obs.pose.landmarks[0, 0] = 1.0


def test_bad_shapes_and_sides_are_rejected() -> None:
    with pytest.raises(ValueError):
        PoseObs.from_dict({"lm": [[0.0, 0.0]], "vis": [1.0], "pres": [1.0]})
    with pytest.raises(ValueError):
        HandObs.from_dict({"lm": [[0.0, 0.0, 0.0]] * 21, "side": "up", "score": 1.0})


def test_hand_lookup_prefers_the_most_confident() -> None:
    lm = np.zeros((21, 3))
    obs = Observation(0, 0, (10, 10), hands=(HandObs(lm, "right", 0.4), HandObs(lm, "right", 0.8)))
    hand = obs.hand("right")
    assert hand is not None and hand.score == 0.8
    assert obs.hand("left") is None
    assert not obs.person
