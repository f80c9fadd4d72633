"""Calibration loading and validation; personal baselines."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from posture_coach.calibration import (
    REPO_DEFAULT,
    CalibrationMotionError,
    Profile,
    default_calibration_path,
    load_calibration,
    moving_frames,
)
from posture_coach.errors import ConfigError
from posture_coach.rules import ALL_RULES, REASONS, RULES_BY_ID
from tests.helpers_pose import face_at, front_standing, observation

PACKAGED = Path(__file__).resolve().parents[1] / "src/posture_coach/data/default.toml"


def test_default_loads_and_covers_every_rule() -> None:
    cal = load_calibration()
    for rule in ALL_RULES:
        params = cal.params(rule.id)
        assert {p.name for p in rule.params} == set(params), rule.id
        assert rule.id in cal.temporal
    assert cal.temporal["sitting.chin_on_hand"].onset_s == 1.5
    assert cal.temporal["standing.arms_crossed"].onset_s == 0.3  # the [temporal] default
    assert 0 <= cal.warn_credit <= 1


def test_packaged_copy_is_identical_to_the_repo_source_of_truth() -> None:
    assert REPO_DEFAULT.is_file()
    assert default_calibration_path() == REPO_DEFAULT
    assert PACKAGED.read_bytes() == REPO_DEFAULT.read_bytes(), (
        "calibration/default.toml changed: copy it to src/posture_coach/data/default.toml"
    )


def test_every_threshold_key_carries_its_unit() -> None:
    units = ("_deg", "_sw", "_tl", "_hw", "_ratio", "_s", "_hz", "_ms", "_height", "_hidden",
             "visibility", "visibility_hand", "_margin", "_torso", "_offset", "variant")
    data = tomllib.loads(REPO_DEFAULT.read_text(encoding="utf-8"))
    for family in ("standing", "sitting"):
        for name, table in data[family].items():
            for key in table:
                assert key.endswith(units), f"[{family}.{name}] {key} names no unit"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "custom.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_partial_custom_file_overrides_only_its_keys(tmp_path: Path) -> None:
    p = _write(tmp_path, "[standing.upright]\nfail_incline_deg = 12\n")
    cal = load_calibration(p)
    assert cal.params("standing.upright")["fail_incline_deg"] == 12.0
    assert cal.params("standing.upright")["warn_incline_deg"] == 6.0
    assert str(p) in cal.sources


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("[standing.uprite]\nfail_incline_deg = 1.0\n",
         ["custom.toml", "[standing.uprite]", "unknown rule"]),
        ("[standing.upright]\nfail_incline = 1.0\n",
         ["custom.toml", "[standing.upright]", "unknown key 'fail_incline'"]),
        ("[standing.upright]\nfail_incline_deg = \"ten\"\n",
         ["custom.toml", "[standing.upright]", "fail_incline_deg", "must be float", "str"]),
        ("[standing.upright]\nfail_incline_deg = true\n",
         ["[standing.upright]", "fail_incline_deg", "must be float"]),
        ("[standing.stance]\nvariant = 3\n", ["[standing.stance]", "variant", "must be str"]),
        ("[features]\nmin_vis = 0.5\n", ["[features]", "unknown key 'min_vis'"]),
        ("[scoring.weights]\n\"sitting.nope\" = 1.0\n", ["[scoring.weights]", "sitting.nope"]),
        ("[rule_packs.x]\nrules = [\"standing.nope\"]\n", ["[rule_packs.x]", "standing.nope"]),
        ("[rule_packs.x]\nposture = \"lying\"\n", ["[rule_packs.x]", "posture"]),
        ("[rule_packs.x.params.\"standing.stance\"]\nvariant_x = \"men\"\n",
         ["[rule_packs.x.params.standing.stance]", "variant_x"]),
        ("[standing]\nupright = 3\n", ["[standing]", "not a rule table"]),
        ("[standing.upright\n", ["custom.toml", "not valid TOML"]),
    ],
)
def test_validation_errors_name_file_table_and_key(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_calibration(p)
    for frag in fragments:
        assert frag in str(err.value), str(err.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_calibration(tmp_path / "nope.toml")


def test_rule_pack_overrides() -> None:
    cal = load_calibration()
    assert cal.params("standing.stance")["variant"] == "any"
    women = cal.with_pack("standing_women")
    assert women.params("standing.stance")["variant"] == "women"
    assert women.rule_packs["standing_women"].posture == "standing"
    with pytest.raises(ConfigError, match="unknown rule pack"):
        cal.with_pack("nope")


def test_catalogue_texts_are_bilingual() -> None:
    for rule in ALL_RULES:
        for attr in ("title_zh", "title_en", "clause", "cue_zh", "cue_en",
                     "explain_zh", "explain_en"):
            assert getattr(rule, attr), (rule.id, attr)
        assert rule.__doc__, rule.id
        assert rule.states
    for code, (zh, en) in REASONS.items():
        assert zh and en, code


def test_rule_ids_are_the_public_contract() -> None:
    # RULES.md ids of the standing and sitting families: they never change.
    assert set(RULES_BY_ID) >= {
        "standing.upright", "standing.shoulders_level", "standing.arms_crossed",
        "standing.hands_on_hips", "standing.hands_in_pockets", "standing.hands_front",
        "standing.stance", "standing.steady", "sitting.upright", "sitting.shoulders_level",
        "sitting.legs_crossed", "sitting.leg_shaking", "sitting.chin_on_hand",
        "sitting.hands_still",
    }


# -- profiles -------------------------------------------------------------------------


def test_profile_from_observations_save_load(tmp_path: Path) -> None:
    cal = load_calibration()
    j = front_standing()
    obs = [observation(j, t_ms=i * 33, face=face_at(j, 60)) for i in range(10)]
    prof = Profile.from_observations(obs, cal, name="alice")
    assert prof.frames == 10
    assert prof.view == "front"
    assert prof.neck_ratio == pytest.approx(50 / 80)
    assert prof.face_width_rel == pytest.approx(60 / 640)
    assert prof.roll_deg == pytest.approx(0.0)
    path = prof.save(tmp_path / "profiles" / "alice.json")
    assert Profile.load(path) == prof


def test_a_profile_saved_again_by_windows_tools_is_read_or_refused_clearly(tmp_path: Path) -> None:
    j = front_standing()
    prof = Profile.from_observations([observation(j, t_ms=i * 33) for i in range(5)], load_calibration(),
                                     name="张小红")
    text = prof.save(tmp_path / "p.json").read_text(encoding="utf-8")
    bom = tmp_path / "bom.json"  # Notepad's "UTF-8" adds a byte-order mark
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert Profile.load(bom) == prof
    gbk = tmp_path / "gbk.json"  # saved as ANSI on a Chinese Windows
    gbk.write_bytes(text.encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        Profile.load(gbk)
    with pytest.raises(ConfigError, match="a folder, not a profile"):
        Profile.load(tmp_path)


def _walking(j: dict[str, tuple[float, float]], dx: float) -> dict[str, tuple[float, float]]:
    return {k: (x + dx, y) for k, (x, y) in j.items()}


def test_moving_frames_are_left_out_of_the_baseline() -> None:
    # Walking in with the shoulder line 3.6 degrees off, then standing still and level: the
    # baseline is the still part (a gait's tilt is no camera roll).
    cal = load_calibration()
    still = front_standing()
    walk = front_standing(tilt_px=5.0)  # 5 px over an 80 px shoulder line
    frames = [observation(_walking(walk, 40.0 * i), t_ms=i * 67, frame=i) for i in range(6)]
    frames += [observation(still, t_ms=(6 + i) * 67, frame=6 + i) for i in range(8)]
    moving = moving_frames(frames, cal.features["calib_max_motion_sw_s"])
    assert moving == set(range(7))  # the first still frame is reached by a jump: moving too
    prof = Profile.from_observations(frames, cal)
    assert prof.frames == 7 and prof.roll_deg == pytest.approx(0.0)


def test_a_photo_is_never_moving() -> None:
    cal = load_calibration()
    assert moving_frames([observation(front_standing())], cal.features["calib_max_motion_sw_s"]) == set()


def test_profile_refuses_a_capture_with_no_still_frame() -> None:
    cal = load_calibration()
    walk = [observation(_walking(front_standing(), 40.0 * i), t_ms=i * 67, frame=i) for i in range(8)]
    with pytest.raises(CalibrationMotionError, match="hold still") as err:
        Profile.from_observations(walk, cal)
    assert err.value.reason == "moving" and isinstance(err.value, ConfigError)


def test_a_lone_still_frame_at_the_end_of_a_walk_is_no_baseline() -> None:
    # A camera that repeats its last frame (or a capture cut as the person pauses mid-stride)
    # leaves one or two frames that did not move: too few to be a neutral pose.
    cal = load_calibration()
    walk = [observation(_walking(front_standing(tilt_px=5.0), 40.0 * i), t_ms=i * 67, frame=i)
            for i in range(8)]
    repeated = [observation(_walking(front_standing(tilt_px=5.0), 40.0 * 7), t_ms=(8 + i) * 67,
                            frame=8 + i) for i in range(2)]
    with pytest.raises(CalibrationMotionError, match="held still in 2"):
        Profile.from_observations(walk + repeated, cal)
    # Held still for longer, the same walk-in ends in a baseline.
    held = [observation(_walking(front_standing(tilt_px=5.0), 40.0 * 7), t_ms=(8 + i) * 67,
                        frame=8 + i) for i in range(int(cal.features["calib_min_still_frames"]) + 1)]
    assert Profile.from_observations(walk + held, cal).frames >= cal.features["calib_min_still_frames"]


def test_profile_needs_a_usable_frame() -> None:
    from posture_coach.types import Observation

    with pytest.raises(ConfigError, match="shoulders"):
        Profile.from_observations([Observation(0, 0, (640, 480))])


@pytest.mark.parametrize(
    ("content", "match"),
    [("{not json", "not valid JSON"), ("[]", "JSON object"),
     (json.dumps({"neck_ratio": 0.6, "bogus": 1}), "unknown profile key"),
     (json.dumps({"neck_ratio": 0.6, "version": 99}), "version"),
     (json.dumps({"neck_ratio": -1}), "invalid profile"),
     # A profile also comes back from a browser (the live page keeps it): no text or NaN
     # where the rules read numbers.
     (json.dumps({"neck_ratio": 0.6, "sw_rel": "wide"}), "sw_rel must be a finite number"),
     ('{"neck_ratio": 0.6, "roll_deg": NaN}', "roll_deg must be a finite number"),
     (json.dumps({"neck_ratio": 0.6, "face_neutral": {"jawOpen": "x"}}), "face_neutral.jawOpen"),
     (json.dumps({"neck_ratio": 0.6, "clothing_colours": [1, None]}), "clothing_colours"),
     (json.dumps({"neck_ratio": 0.6, "view": "upside-down"}), "view one of"),
     (json.dumps({"neck_ratio": 0.6, "frames": "many"}), "frames")],
)
def test_bad_profiles(tmp_path: Path, content: str, match: str) -> None:
    p = tmp_path / "p.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        Profile.load(p)
