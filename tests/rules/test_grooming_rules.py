"""Grooming rules on hand-made feature values, and their calibration tables."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from posture_coach.features import Features, View
from posture_coach.grooming import GROOMING_FEATURE_NAMES, REASON_CODES, reason_code
from posture_coach.rules.base import REASONS
from posture_coach.rules.grooming import GROOMING_RULES, Badge, FacialHair, HairColour, HairTidy, Nails

REPO = Path(__file__).resolve().parents[2]
CAL = tomllib.loads((REPO / "calibration" / "default.toml").read_text(encoding="utf-8"))
P: dict[str, dict[str, Any]] = {f"grooming.{k}": v for k, v in CAL["grooming"].items()}


def feats(**values: float | None) -> Features:
    v: dict[str, float | None] = dict.fromkeys(GROOMING_FEATURE_NAMES)
    v.update(values)
    return Features(0, False, View(), values=v)


def test_calibration_tables_complete() -> None:
    for rule in GROOMING_RULES:
        table = P[rule.id]
        names = {p.name for p in rule.params}
        assert names <= set(table), (rule.id, names - set(table))
        assert set(table) - names <= {"onset_s", "offset_s", "min_duration_s"}
        for prm in rule.params:
            assert isinstance(table[prm.name], prm.kind if prm.kind is not float else (int, float))
    packs = CAL["rule_packs"]
    assert "grooming.facial_hair" not in packs["grooming"]["rules"]
    assert "grooming.facial_hair" in packs["grooming_clean_shaven"]["rules"]


def test_texts_and_reasons() -> None:
    for rule in GROOMING_RULES:
        for attr in ("title_zh", "title_en", "cue_zh", "cue_en", "explain_zh", "explain_en", "clause"):
            assert getattr(rule, attr).strip(), (rule.id, attr)
    for code in REASON_CODES:
        assert code in REASONS, code


def test_no_measure_is_unknown() -> None:
    for rule in GROOMING_RULES:
        v = rule().check(feats(), P[rule.id])
        assert v.status == "unknown" and v.reason == "grooming_not_measured", v


@pytest.mark.parametrize(("cov", "specks", "status"), [(0.1, 0.0, "pass"), (0.6, 0.12, "warn"), (1.2, 0.3, "fail")])
def test_facial_hair(cov: float, specks: float, status: str) -> None:
    p = P["grooming.facial_hair"]
    v = FacialHair().check(feats(fh_chin_coverage=cov, fh_chin_specks=specks, fh_upper_lip_coverage=0.0,
                                 fh_upper_lip_specks=0.0), p)
    assert v.status == status and v.states["facial_hair_score"] == pytest.approx(cov + p["specks_weight"] * specks)


def test_facial_hair_texture_outweighs_smooth_shade() -> None:
    """A smooth shadow under the nose (darker, no specks, skin's redness kept) stays under
    the limit; the same darkness with stubble specks and greyer colour does not."""
    p = P["grooming.facial_hair"]
    shade = FacialHair().check(feats(fh_upper_lip_coverage=0.9, fh_upper_lip_specks=0.0, fh_upper_lip_redness_loss=0.0,
                                     fh_chin_coverage=0.0, fh_chin_specks=0.0), p)
    assert shade.status == "pass", shade
    stubble = FacialHair().check(feats(fh_upper_lip_coverage=0.4, fh_upper_lip_specks=0.2,
                                       fh_upper_lip_redness_loss=0.5, fh_chin_coverage=0.0, fh_chin_specks=0.0), p)
    assert stubble.status in ("warn", "fail"), stubble
    assert stubble.states["facial_hair_score"] == pytest.approx(
        0.4 + p["specks_weight"] * 0.2 + p["redness_weight"] * 0.5)


def test_reason_passes_through() -> None:
    v = FacialHair().check(feats(fh_reason=reason_code("too_dark")), P["grooming.facial_hair"])
    assert v.status == "unknown" and v.reason == "too_dark"
    v = Nails().check(feats(nails_reason=reason_code("palm_facing_camera")), P["grooming.nails"])
    assert v.reason == "palm_facing_camera"


def test_hair_tidy_and_colour() -> None:
    p = P["grooming.hair_tidy"]
    assert HairTidy().check(feats(hair_over_face_share=0.05), p).states["hair_over_face"] is False
    assert HairTidy().check(feats(hair_over_face_share=0.5), p).status == "warn"
    assert HairTidy().check(feats(hair_over_face_share=0.8), p).status == "fail"
    # strands (thin dark lines down the face) weigh more than a dark share (brows, frames)
    assert HairTidy().check(feats(hair_over_face_share=0.3, hair_strand_share=0.0), p).status == "pass"
    assert HairTidy().check(feats(hair_over_face_share=0.3, hair_strand_share=0.03), p).status == "warn"
    c = P["grooming.hair_colour"]
    for chroma, hue, unusual in ((5.0, 250.0, False), (30.0, 60.0, False), (40.0, 270.0, True), (70.0, 40.0, True)):
        v = HairColour().check(feats(hair_chroma=chroma, hair_hue_deg=hue), c)
        assert v.states["hair_hue_unusual"] is unusual, (chroma, hue)


def test_nails() -> None:
    p = P["grooming.nails"]
    assert Nails().check(feats(nail_delta_e=4.0, nail_fingers=4), p).status == "pass"
    assert Nails().check(feats(nail_delta_e=30.0, nail_fingers=4), p).status == "fail"
    assert Nails().check(feats(nail_delta_e=30.0, nail_fingers=1), p).status == "unknown"


def test_badge() -> None:
    p = P["grooming.badge"]
    card = {"fill": 0.95, "aspect": 1.6, "area_sw2": 0.03, "y_sw": 0.4}
    left = {f"badge_left_{k}": v for k, v in card.items()}
    v = Badge().check(feats(badge_chest_judged=1.0, badge_left_tilt_deg=3.0, **left), p)
    assert v.status == "pass" and v.states["badge_on_left_chest"] is True
    v = Badge().check(feats(badge_chest_judged=1.0, badge_left_tilt_deg=30.0, **left), p)
    assert v.status == "warn"
    right = {f"badge_right_{k}": v for k, v in card.items()}
    v = Badge().check(feats(badge_chest_judged=1.0, **right), p)
    assert v.status == "warn" and v.value == "right_chest"
    assert Badge().check(feats(badge_chest_judged=1.0), p).value == "not_seen"
