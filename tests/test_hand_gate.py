"""Hands on demand: the pure gate (cues, hysteresis, rules that need hands)."""

from __future__ import annotations

from posture_coach.hand_gate import HAND_RULES, HandGate, hand_cue, rules_need_hands


def test_cues() -> None:
    assert hand_cue({}).reason is None
    assert hand_cue({"wrist_chest_l": 0.0, "wrist_chest_r": 1.0}).reason == "wrist_chest_r"
    assert hand_cue({"wrist_above_shoulder_l_sw": -0.2}).reason == "wrist_raised_l"
    assert hand_cue({"wrist_above_shoulder_l_sw": -1.5}).reason is None  # hanging
    assert hand_cue({"face_touch_fw": 0.3}).reason == "near_face"
    assert hand_cue({"ev_handshake_active": 1.0}).reason == "ev_handshake_active"
    assert hand_cue({"tp_handshake": 1.0}).reason == "tp_handshake"


def test_hysteresis_holds_then_releases() -> None:
    g = HandGate(needed=True, hold_ms=1000)
    assert g.wanted  # first frames observed fully
    assert g.update(0, {"wrist_chest_r": 0.0}) is False
    assert g.update(100, {"wrist_chest_r": 1.0}) is True
    assert g.update(700, {"wrist_chest_r": 0.0}) is True  # held
    assert g.update(1100, {}) is True  # exactly at the hold boundary
    assert g.update(1200, {}) is False
    assert g.tasks(("pose", "face", "hands")) == ("pose", "face")
    assert g.frames == 5 and g.frames_on == 3
    g.reset()
    assert g.wanted and g.tasks(("pose", "hands")) == ("pose", "hands")


def test_not_needed_never_wants_hands() -> None:
    g = HandGate(needed=False)
    assert not g.wanted
    assert g.update(0, {"wrist_chest_r": 1.0}) is False
    assert not rules_need_hands(["standing.upright", "face.smile"])
    assert rules_need_hands(["standing.upright", "gesture.open_palm"])
    assert "handover.two_hands" in HAND_RULES


def test_hidden_hands_are_searched_for_every_third_frame_until_one_is_found() -> None:
    g = HandGate(needed=True, search_after_misses=3, search_every=3)
    chest = {"wrist_chest_r": 1.0}
    # wrists at chest height, hands hidden: three empty runs at full rate...
    assert [g.update(i * 33, chest, hands_ran=True, hands_found=0) for i in range(3)] == [True, True, False]
    assert g.searching
    # ...then the palm detector runs on one frame in three
    runs = []
    for i in range(3, 12):
        ran = g.wanted
        runs.append(ran)
        g.update(i * 33, chest, hands_ran=ran, hands_found=0)
    assert runs == [False, False, True] * 3
    # a run that finds a hand returns to every frame at once (tracking is cheap)
    while not g.wanted:
        g.update(400, chest, hands_ran=False)
    assert g.update(433, chest, hands_ran=True, hands_found=1) is True
    assert not g.searching
    assert g.update(466, chest, hands_ran=True, hands_found=2) is True


def test_back_off_starts_afresh_for_a_new_cue_and_can_be_turned_off() -> None:
    g = HandGate(needed=True, hold_ms=100, search_after_misses=2, search_every=4)
    for i in range(4):
        g.update(i * 33, {"wrist_chest_l": 1.0}, hands_ran=g.wanted, hands_found=0)
    assert g.searching
    assert g.update(1000, {}, hands_ran=False) is False  # cue gone, hold over
    assert g.misses == 0
    assert g.update(1033, {"near_face": 1.0, "face_touch_fw": 0.2}) is True  # full rate again
    off = HandGate(needed=True, search_every=1)
    assert all(off.update(i * 33, {"wrist_chest_l": 1.0}, hands_ran=True, hands_found=0) for i in range(10))


def test_the_cost_knobs_come_from_the_engine_table_of_the_calibration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """hands_* keys of [engine] (units in the names) reach the engine's gate; a custom file may
    change them, and a wrong type is refused at load."""
    import pytest

    from posture_coach.calibration import load_calibration
    from posture_coach.engine import CoachEngine
    from posture_coach.errors import ConfigError

    eng = load_calibration().engine
    gate = CoachEngine(load_calibration()).hand_gate
    assert gate.chest_min_above_hip_sw == eng["hands_chest_min_above_hip_sw"]
    assert gate.search_after_misses == int(eng["hands_search_after_misses_runs"])
    assert gate.search_every == int(eng["hands_search_every_frames"])
    custom = tmp_path / "c.toml"
    custom.write_text("[engine]\nhands_search_every_frames = 1\nhands_chest_min_above_hip_sw = 0.2\n")
    gate = CoachEngine(load_calibration(custom)).hand_gate
    assert gate.search_every == 1 and gate.chest_min_above_hip_sw == 0.2
    custom.write_text("[engine]\nhands_search_every_frames = 2.5\n")
    with pytest.raises(ConfigError, match="hands_search_every_frames"):
        load_calibration(custom)


def test_folded_arms_want_no_hands_though_the_wrists_sit_high() -> None:
    # Folded arms hold the wrists 0.5-0.7 body scales under the shoulder line, inside the
    # "raised towards the face" band: nothing a hand rule reads happens there (the page ran
    # the hand model on half the frames of neutral_vs_arms_crossed.mp4 for it: 29 -> 23 fps).
    folded = {"arms_crossed": 1.0, "wrist_above_shoulder_r_sw": -0.55, "wrist_chest_r": 1.0}
    assert hand_cue(folded).reason is None
    assert hand_cue({**folded, "arms_crossed": 0.0}).reason == "wrist_chest_r"
    assert hand_cue({**folded, "face_touch_fw": 0.3}).reason == "near_face"  # a hand at the face still counts
