"""standing.hands_on_hips and standing.arms_crossed beyond the basic cases: the far arm of
an oblique view, hands tucked under the other arm (issue 4). Features are given as the
feature step would compute them (distances in shoulder widths)."""

from __future__ import annotations

from typing import Any

import pytest

from posture_coach.calibration import CalibrationSet, load_calibration
from posture_coach.features import Features, View
from posture_coach.rules.standing import ArmsCrossed, HandsOnHips


@pytest.fixture(scope="module")
def cal() -> CalibrationSet:
    return load_calibration()


def _features(view: str = "front", facing: int = 0, **values: float | None) -> Features:
    return Features(t_ms=0, person=True, posture="standing",
                    view=View(view=view, facing=facing, shoulders_visible=True, hips_visible=True),  # type: ignore[arg-type]
                    values=values)


def _hips(cal: CalibrationSet, f: Features) -> Any:
    return HandsOnHips().check(f, cal.rules["standing.hands_on_hips"])


HANGING = dict(wrist_hip_l_sw=0.35, elbow_out_l_sw=0.05, elbow_angle_l_deg=172.0)
# The far (right) arm of a person facing the image left, hand on the hip: the elbow drawn
# back swings towards the body in projection; the wrist sits on the waist, above the hip point.
FAR_ON_HIP = dict(wrist_hip_r_sw=0.65, elbow_out_r_sw=0.27, elbow_angle_r_deg=140.0)


def test_far_arm_on_the_hip_counts_in_an_oblique_view(cal: CalibrationSet) -> None:
    v = _hips(cal, _features("oblique", -1, **HANGING, **FAR_ON_HIP))
    assert v.status == "fail" and v.states["hands_on_hips"] == "right"


def test_far_hand_on_a_heavy_waist_still_counts(cal: CalibrationSet) -> None:
    # A heavier body: the hand on the waist lies further from MediaPipe's hip point.
    far = dict(FAR_ON_HIP, wrist_hip_r_sw=0.88)
    v = _hips(cal, _features("oblique", -1, **HANGING, **far))
    assert v.states["hands_on_hips"] == "right"


def test_far_hand_held_out_with_a_card_is_not_on_the_hip(cal: CalibrationSet) -> None:
    # One-handed card to someone, far arm at an angle: elbow bent and out, wrist 0.93 SW
    # from the hip; the reach cue says the hand is held out, not resting on the waist.
    card = dict(wrist_hip_r_sw=0.93, elbow_out_r_sw=0.25, elbow_angle_r_deg=139.0)
    assert _hips(cal, _features("oblique", -1, **HANGING, **card)).states["hands_on_hips"] == "right"
    v = _hips(cal, _features("oblique", -1, **HANGING, **card, reach_r=1.0))
    assert v.states["hands_on_hips"] == "none"


def test_the_same_arm_seen_from_the_front_is_not_on_the_hip(cal: CalibrationSet) -> None:
    # From the front nothing foreshortens the elbow: 0.27 SW out is not flared.
    v = _hips(cal, _features("front", 0, **HANGING, **FAR_ON_HIP))
    assert v.states["hands_on_hips"] == "none"


def test_near_arm_keeps_the_strict_thresholds_in_an_oblique_view(cal: CalibrationSet) -> None:
    near = dict(wrist_hip_l_sw=0.65, elbow_out_l_sw=0.27, elbow_angle_l_deg=140.0)
    v = _hips(cal, _features("oblique", -1, **near, wrist_hip_r_sw=0.35, elbow_out_r_sw=0.05,
                             elbow_angle_r_deg=172.0))
    assert v.states["hands_on_hips"] == "none"


def test_far_hand_hidden_with_the_elbow_flared_is_on_the_hip(cal: CalibrationSet) -> None:
    v = _hips(cal, _features("oblique", -1, **HANGING, elbow_out_r_sw=0.22))
    assert v.states["hands_on_hips"] == "right"


def test_far_hand_hidden_with_the_elbow_at_the_side_is_not(cal: CalibrationSet) -> None:
    # a far hand in a pocket keeps its elbow at the side (0.02-0.03 SW on tune renders)
    v = _hips(cal, _features("oblique", -1, **HANGING, elbow_out_r_sw=0.03))
    assert v.states["hands_on_hips"] == "none"


# --- arms crossed with the hands tucked away

FOLDED = dict(wrist_hip_l_sw=1.0, wrist_hip_r_sw=1.0, elbow_span_sw=0.95,
              wrist_height_l=0.5, wrist_height_r=0.5,
              wrist_opp_elbow_l_sw=0.9, wrist_opp_elbow_r_sw=0.9)


def _crossed(cal: CalibrationSet, **values: float | None) -> Any:
    return ArmsCrossed().check(_features(**{**FOLDED, **values}), cal.rules["standing.arms_crossed"])


def test_both_forearms_collapsed_to_stubs_are_tucked_folded_arms(cal: CalibrationSet) -> None:
    v = _crossed(cal, forearm_l_sw=0.10, forearm_r_sw=0.12)
    assert v.status == "fail" and v.states["arms_crossed"] is True


def test_visible_forearms_not_across_are_not_crossed(cal: CalibrationSet) -> None:
    v = _crossed(cal, forearm_l_sw=0.6, forearm_r_sw=0.6)
    assert v.states["arms_crossed"] is False


def test_a_card_held_out_during_a_handover_is_not_crossed(cal: CalibrationSet) -> None:
    v = _crossed(cal, forearm_l_sw=0.26, forearm_r_sw=0.28, ev_handover_active=1.0)
    assert v.status == "pass" and v.states["arms_crossed"] is False


def test_tucked_hands_stay_crossed_even_if_a_handover_seems_open(cal: CalibrationSet) -> None:
    v = _crossed(cal, forearm_l_sw=0.08, forearm_r_sw=0.10, ev_handover_active=1.0)
    assert v.states["arms_crossed"] is True


def test_forearms_folded_flat_across_the_chest_are_crossed(cal: CalibrationSet) -> None:
    # An older, broader body folding the forearms flat: each wrist stays near its own elbow
    # (forearms 0.2-0.36 SW), the wrists close to the hips in SW (0.58) but at chest height.
    v = _crossed(cal, forearm_l_sw=0.33, forearm_r_sw=0.18, wrist_hip_r_sw=0.58, elbow_span_sw=0.97,
                 wrist_height_l=0.51, wrist_height_r=0.56)
    assert v.status == "fail" and v.states["arms_crossed"] is True


def test_short_forearms_with_the_hands_low_or_the_elbows_out_are_not(cal: CalibrationSet) -> None:
    flat = dict(forearm_l_sw=0.33, forearm_r_sw=0.18, wrist_hip_r_sw=0.58, elbow_span_sw=0.97,
                wrist_height_l=0.51, wrist_height_r=0.56)
    assert _crossed(cal, **{**flat, "wrist_height_r": 0.85}).states["arms_crossed"] is False  # hands in front
    # a card held out to the camera: forearms short, elbows 1.3 SW apart
    assert _crossed(cal, **{**flat, "elbow_span_sw": 1.3}).states["arms_crossed"] is False


def test_akimbo_on_a_heavy_waist_counts_with_the_elbow_far_out(cal: CalibrationSet) -> None:
    # Near arm, a heavy body: the hand on the waist 0.82 SW from the hip point, elbow 0.8 SW out.
    akimbo = dict(wrist_hip_r_sw=0.82, elbow_out_r_sw=0.80, elbow_angle_r_deg=94.0)
    assert _hips(cal, _features("front", 0, **HANGING, **akimbo)).states["hands_on_hips"] == "right"
    # The same wrist distance with the elbow only a little out is no hand on the hip.
    half = dict(akimbo, elbow_out_r_sw=0.35)
    assert _hips(cal, _features("front", 0, **HANGING, **half)).states["hands_on_hips"] == "none"
