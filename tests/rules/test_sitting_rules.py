"""sitting.upright beyond the basic cases: hunching, views without ears, the front view
with and without a personal baseline (issue 4)."""

from __future__ import annotations

from typing import Any

import pytest

from posture_coach.calibration import CalibrationSet, load_calibration
from posture_coach.engine import CoachEngine
from posture_coach.features import Features, View, compute_features, nose_height_tl
from posture_coach.rules.sitting import SittingUpright
from tests.helpers_pose import front_sitting, observation, side_sitting

EARS = {"left_ear", "right_ear"}


@pytest.fixture(scope="module")
def cal() -> CalibrationSet:
    return load_calibration()


def _judge(cal: CalibrationSet, joints: dict[str, tuple[float, float]], **kw: Any) -> Any:
    engine = CoachEngine(cal, None, mode="image", posture="sitting", rule_ids=["sitting.upright"])
    return engine.update(observation(joints, **kw)).verdicts["sitting.upright"]


def _drop_nose(j: dict[str, tuple[float, float]], below_shoulders_px: float) -> dict[str, tuple[float, float]]:
    """The head hanging: the nose this far below the shoulder line (negative: above)."""
    j = dict(j)
    sy = (j["left_shoulder"][1] + j["right_shoulder"][1]) / 2
    j["nose"] = (j["nose"][0], sy + below_shoulders_px)
    return j


def test_nose_height_is_in_torso_lengths_and_positive_above_the_shoulders() -> None:
    assert nose_height_tl((100.0, 50.0), (100.0, 100.0), 120.0) == pytest.approx(50 / 120)
    assert nose_height_tl((100.0, 110.0), (100.0, 100.0), 120.0) < 0


# --- side / oblique: a forward lean with the head hanging is a hunched slump


def test_side_attentive_forward_lean_with_the_head_up_is_welcome(cal: CalibrationSet) -> None:
    v = _judge(cal, side_sitting(12))
    assert v.status == "pass" and v.states["sitting_lean"] == "slight_forward"


def test_side_forward_lean_with_the_head_hanging_is_slumped(cal: CalibrationSet) -> None:
    # 12 deg forward, the nose level with the shoulders (a head hanging over the desk)
    v = _judge(cal, _drop_nose(side_sitting(12), 0.0))
    assert v.status == "warn" and v.states["sitting_lean"] == "slumped"


def test_side_upright_trunk_with_a_bowed_head_is_not_a_slump(cal: CalibrationSet) -> None:
    # Looking down at the lap with an upright trunk is a gaze matter, not a slump.
    v = _judge(cal, _drop_nose(side_sitting(0), 0.0))
    assert v.states["sitting_lean"] == "upright"


# --- views without ears (e.g. landmark vectors that carry no ears)


def test_no_ears_wide_shoulders_but_thighs_sideways_is_an_oblique_view(cal: CalibrationSet) -> None:
    # Reclined 30 deg: the trunk foreshortens, SW / torso length reads "front"; the
    # thighs pointing to the image right tell a turned body, facing right.
    j = side_sitting(-30)
    j["left_shoulder"] = (j["left_shoulder"][0] + 40, j["left_shoulder"][1])
    j["right_shoulder"] = (j["right_shoulder"][0] - 40, j["right_shoulder"][1])
    f = compute_features(observation(j, hidden=EARS), cal.features)
    assert f.view.view == "oblique" and f.view.facing == 1


def test_no_ears_deep_recline_faces_where_the_knees_point_not_the_nose(cal: CalibrationSet) -> None:
    # Reclined 35 deg with the head back along the trunk: the nose is *behind* the
    # shoulders; the knees still point forward, so this is leaning back, not hunching.
    j = side_sitting(-35)
    sx = (j["left_shoulder"][0] + j["right_shoulder"][0]) / 2
    j["nose"] = (sx - 20, j["nose"][1])
    v = _judge(cal, j, hidden=EARS)
    assert v.states["sitting_lean"] == "leaning_back" and v.status == "fail"


def test_no_ears_reclined_with_the_knees_raised_faces_where_the_knees_point(cal: CalibrationSet) -> None:
    # Feet up on a stool: the knees sit above the hips, the thighs rise steeply but
    # still point the way the person faces (a standing stride's knees hang below).
    j = side_sitting(-25)
    hx = (j["left_hip"][0] + j["right_hip"][0]) / 2
    hy = (j["left_hip"][1] + j["right_hip"][1]) / 2
    j.update({"left_knee": (hx + 40, hy - 60), "right_knee": (hx + 36, hy - 60)})
    sx = (j["left_shoulder"][0] + j["right_shoulder"][0]) / 2
    j["nose"] = (sx, j["nose"][1])  # the nose neither ahead nor behind: no cue from it
    f = compute_features(observation(j, hidden=EARS), cal.features)
    assert f.view.facing == 1
    assert _judge(cal, j, hidden=EARS).states["sitting_lean"] == "leaning_back"


def _no_facing_cue(lean_deg: float) -> dict[str, tuple[float, float]]:
    """Side view without ears, thighs hidden and the nose over the shoulders."""
    j = side_sitting(lean_deg)
    sx = (j["left_shoulder"][0] + j["right_shoulder"][0]) / 2
    j["nose"] = (sx, j["nose"][1])
    return j


def test_facing_unknown_a_vertical_trunk_passes_either_way(cal: CalibrationSet) -> None:
    v = _judge(cal, _no_facing_cue(0), hidden=EARS | {"left_knee", "right_knee"})
    assert v.status == "pass" and v.states["sitting_lean"] == "upright"
    assert v.states["torso_incline_deg"] is None  # no signed angle without a facing


def _nose_on_the_trunk_line(lean_deg: float) -> dict[str, tuple[float, float]]:
    """No ears, thighs hidden, and the nose on the hip-to-shoulder line extended."""
    j = side_sitting(lean_deg)
    hx, hy = (j["left_hip"][0] + j["right_hip"][0]) / 2, (j["left_hip"][1] + j["right_hip"][1]) / 2
    sx, sy = (j["left_shoulder"][0] + j["right_shoulder"][0]) / 2, j["left_shoulder"][1]
    j["nose"] = (sx + 0.4 * (sx - hx), sy + 0.4 * (sy - hy))
    return j


def test_facing_unknown_a_tilted_trunk_cannot_be_judged(cal: CalibrationSet) -> None:
    # 25 deg off vertical with nothing to tell the front: leaning back one way, slumped
    # forward the other.
    v = _judge(cal, _nose_on_the_trunk_line(-25), hidden=EARS | {"left_knee", "right_knee"})
    assert v.status == "unknown" and v.reason == "facing_unknown"


def test_the_face_is_on_the_nose_side_of_the_trunk_line(cal: CalibrationSet) -> None:
    # The same reclined trunk with the head kept upright, the nose straight above the
    # shoulders: the nose is off the trunk's line on the side the person faces (a face
    # cannot hang behind the spine), so it leans back.
    v = _judge(cal, _no_facing_cue(-25), hidden=EARS | {"left_knee", "right_knee"})
    assert v.states["sitting_lean"] == "leaning_back" and v.status == "fail"
    assert v.states["torso_incline_deg"] == pytest.approx(-25.0, abs=3.0)


def test_no_ears_front_body_stays_front(cal: CalibrationSet) -> None:
    f = compute_features(observation(front_sitting(), hidden=EARS), cal.features)
    assert f.view.view == "front"


# --- front view without a baseline


def test_front_without_baseline_needs_one(cal: CalibrationSet) -> None:
    v = _judge(cal, front_sitting())
    assert v.status == "unknown" and v.reason == "baseline_needed"


def test_front_without_baseline_still_sees_a_head_hanging_below_the_shoulders(cal: CalibrationSet) -> None:
    v = _judge(cal, _drop_nose(front_sitting(), 10.0))
    assert v.status == "warn" and v.states["sitting_lean"] == "slumped"


# --- front view against the personal baseline (features as ratios to the baseline)


def _front(cal: CalibrationSet, **values: float | None) -> Any:
    f = Features(t_ms=0, person=True, posture="sitting", has_profile=True,
                 view=View(view="front", shoulders_visible=True, face_visible=True), values=values)
    return SittingUpright().check(f, cal.rules["sitting.upright"])


@pytest.mark.parametrize(("name", "values", "lean"), [
    ("unchanged", dict(sw_size_rel=1.0, face_size_rel=1.0, neck_ratio_rel=1.0), "upright"),
    # trunk back, head riding along: shoulders and face smaller, neck as long
    ("leaning back", dict(sw_size_rel=0.95, face_size_rel=0.96, neck_ratio_rel=0.985), "leaning_back"),
    # trunk back, head kept forward: the neck shortens as well
    ("slumped back", dict(sw_size_rel=0.91, face_size_rel=0.90, neck_ratio_rel=0.90), "slumped"),
    # ... or with the face tipped down (the chin poking forward and down)
    ("slumped back, face down", dict(sw_size_rel=0.91, face_size_rel=0.89, neck_ratio_rel=0.96,
                                     head_pitch_rel_deg=-5.5), "slumped"),
    # an arm raised to the face narrows the shoulders alone (the neck reads longer)
    ("arm raised", dict(sw_size_rel=0.95, face_size_rel=0.995, neck_ratio_rel=1.035), "upright"),
    # trunk turned: narrower shoulders, face unchanged
    ("trunk turned", dict(sw_size_rel=0.93, face_size_rel=1.0, neck_ratio_rel=1.0), "upright"),
    # looking down 20 deg: the neck shortens, the face pitches, the trunk stays
    ("looking down", dict(sw_size_rel=1.0, face_size_rel=1.02, neck_ratio_rel=0.86, head_pitch_rel_deg=-19.0),
     "upright"),
    # the same shorter neck with the face level: the head sank (hunched)
    ("head sunk", dict(sw_size_rel=1.0, face_size_rel=1.0, neck_ratio_rel=0.86, head_pitch_rel_deg=0.0),
     "slumped"),
    ("head sunk, no face mesh", dict(sw_size_rel=1.0, neck_ratio_rel=0.86), "slumped"),
    ("closer to the screen", dict(sw_size_rel=1.03, face_size_rel=1.08, neck_ratio_rel=1.0), "slight_forward"),
])
def test_front_with_baseline(cal: CalibrationSet, name: str, values: dict[str, float], lean: str) -> None:
    v = _front(cal, **values)
    assert v.states["sitting_lean"] == lean, (name, v)
    assert (v.status == "pass") is (lean in ("upright", "slight_forward")), (name, v)


def test_front_with_baseline_without_shoulder_width_falls_back_on_the_face(cal: CalibrationSet) -> None:
    assert _front(cal, face_size_rel=0.85, neck_ratio_rel=1.0).states["sitting_lean"] == "leaning_back"
    assert _front(cal, face_size_rel=0.97, neck_ratio_rel=1.0).states["sitting_lean"] == "upright"


# --- crossed legs from the 3-D world landmarks (front and oblique views)


def _world(left_ankle_x: float, right_ankle_x: float) -> Any:
    import numpy as np

    w = np.zeros((33, 3))
    w[23], w[24] = (0.1, 0.0, 0.0), (-0.1, 0.0, 0.0)  # hips 0.2 m apart: half-width 0.1 m
    w[27], w[28] = (left_ankle_x, 0.8, 0.0), (right_ankle_x, 0.8, 0.0)
    return w


def test_ankles_out_on_their_own_sides_read_about_one_hip_half_width() -> None:
    from posture_coach.features import ankle_own_side_hw

    assert ankle_own_side_hw(_world(0.12, -0.13)) == pytest.approx(1.2)


def test_the_top_legs_ankle_past_the_midline_reads_negative() -> None:
    from posture_coach.features import ankle_own_side_hw

    # right leg over the left: its ankle ends up on the left of the midline
    assert ankle_own_side_hw(_world(0.12, 0.04)) == pytest.approx(-0.4)


@pytest.mark.parametrize(("own_side", "crossed"), [(1.1, False), (0.5, False), (0.1, True), (-0.6, True)])
def test_legs_crossed_from_the_ankle_at_the_midline(cal: CalibrationSet, own_side: float, crossed: bool) -> None:
    from posture_coach.rules.sitting import LegsCrossed

    # 2-D cues all say "not crossed" (an oblique camera hides the crossing in the image)
    f = Features(t_ms=0, person=True, posture="sitting",
                 view=View(view="oblique", shoulders_visible=True, hips_visible=True, knees_visible=True,
                           legs_visible=True),
                 values=dict(knee_height_gap_tl=0.12, ankle_other_knee_tl=0.7, knees_swapped=0.0,
                             ankle_own_side_hw=own_side))
    v = LegsCrossed().check(f, cal.rules["sitting.legs_crossed"])
    assert v.states["legs_crossed"] is crossed


# --- front view, trunk moved back: the 3-D trunk tilt tells leaning back from a slump

BACK_SHORT_NECK = dict(sw_size_rel=0.93, face_size_rel=0.93, neck_ratio_rel=0.95)


def test_trunk_back_with_a_shorter_neck_reads_as_a_slump_without_3d(cal: CalibrationSet) -> None:
    assert _front(cal, **BACK_SHORT_NECK).states["sitting_lean"] == "slumped"


def test_trunk_tilted_back_in_3d_is_leaning_back_not_a_slump(cal: CalibrationSet) -> None:
    v = _front(cal, **BACK_SHORT_NECK, world_torso_back_rel_deg=6.0)
    assert v.states["sitting_lean"] == "leaning_back"


def test_trunk_tipped_forward_in_3d_stays_a_slump(cal: CalibrationSet) -> None:
    v = _front(cal, **BACK_SHORT_NECK, world_torso_back_rel_deg=-4.0)
    assert v.states["sitting_lean"] == "slumped"


def test_world_trunk_tilt_is_positive_when_the_shoulders_are_farther_than_the_hips() -> None:
    import numpy as np

    from posture_coach.features import world_torso_back_deg

    w = np.zeros((33, 3))
    w[11], w[12] = (0.2, -0.5, 0.1), (-0.2, -0.5, 0.1)  # shoulders 0.5 m up (y down), 0.1 m back
    assert world_torso_back_deg(w) == pytest.approx(np.degrees(np.arctan2(0.1, 0.5)))
    assert world_torso_back_deg(None) is None
