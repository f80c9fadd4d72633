"""Two people in one frame: pair picking (pure) and the mask strategy on a real UT-Interaction frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posture_coach.events import load_interaction_calibration
from posture_coach.two_person import TwoPersonResult, pick_pair, two_person_measures
from tests.rules.test_interaction_rules import SIZE, pose


@pytest.fixture(scope="module")
def p() -> dict[str, float]:
    return dict(load_interaction_calibration().params)


def test_pick_pair_prefers_joined_hands_and_trainee_side(p: dict[str, float]) -> None:
    a = pose(cx=0.35, sw=0.12, wrists=((0.45, 0.45), (0.30, 0.6)))
    b = pose(cx=0.65, sw=0.12, wrists=((0.70, 0.6), (0.46, 0.45)))
    bystander = pose(cx=0.9, sw=0.12)
    res = TwoPersonResult((a, b, bystander), SIZE, 0.0, 3)
    t, o = pick_pair(res, p, "left")
    assert t is a and o is b
    t, o = pick_pair(res, p, "right")
    assert t is b and o is a
    m = two_person_measures(res, p, "left")
    assert m["handshake"] is True and m["n_persons"] == 3 and m["distance_m"] is not None


def test_measures_with_one_person(p: dict[str, float]) -> None:
    m = two_person_measures(TwoPersonResult((pose(),), SIZE, 0.0, 2), p)
    assert m["handshake"] is None and m["n_persons"] == 1


def test_mask_strategy_on_real_handshake(model_dir: Path, shared_dir: Path, p: dict[str, float]) -> None:
    from posture_coach.landmarker import LandmarkerConfig, Landmarkers
    from posture_coach.sources import read_image
    from posture_coach.two_person import TwoPersonDetector, observe_two_person
    from posture_coach.types import Frame

    path = shared_dir / "data/real/ut_interaction_frames/handshake/0_2_34.png"
    if not path.is_file():
        pytest.skip("UT-Interaction frame not present")
    cfg = LandmarkerConfig(pose_model=model_dir / "pose_landmarker_full.task", face=False, hands=False,
                           mode="image", min_pose_confidence=0.3)
    with Landmarkers(cfg) as lm:
        det = TwoPersonDetector(lm, strategy="mask")
        frame = Frame(read_image(path), 0, 0, str(path))
        obs = lm.observe(frame, tasks=("pose",))
        out = observe_two_person(det, frame, obs, p, trainee="left")
    tp = out.measures["two_person"]
    assert tp["n_persons"] == 2 and tp["handshake"] is True
    assert out.pose is not None
    xs = [np.mean(np.asarray(q["lm"])[[11, 12], 0]) for q in tp["persons"]]
    assert out.pose.landmarks[11:13, 0].mean() == pytest.approx(min(xs), abs=1e-3)  # the left person
    with pytest.raises(ValueError):
        TwoPersonDetector(lm, strategy="bogus")  # type: ignore[arg-type]
