"""Grooming features for the rules: pure reads of the recorded ``grooming`` pixel measure.

The measure itself (cv2, pixels) is :mod:`posture_coach.grooming`; this half is part of
the core (no cv2, no mediapipe) so that rules and the engine can use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .types import Observation

#: The grooming measure's tasks: what each needs in view.
TASKS: tuple[str, ...] = ("face", "hands", "chest")
#: Which measure task each grooming rule needs (for :func:`tasks_for_rules`).
RULE_TASKS: dict[str, str] = {
    "grooming.facial_hair": "face",
    "grooming.hair_tidy": "face",
    "grooming.hair_colour": "face",
    "grooming.nails": "hands",
    "grooming.badge": "chest",
}


def tasks_for_rules(rule_ids: Iterable[str]) -> frozenset[str]:
    """The measure tasks the given (active) rule ids need; empty = skip the measure.

    Pure (no cv2), so a server can decide per session, per drill step, what to measure:
    ``pixels.measure(frame, obs, options={"grooming": tasks_for_rules(step.rules)})``."""
    return frozenset(RULE_TASKS[r] for r in rule_ids if r in RULE_TASKS)


def measures_of(obs: Observation) -> Mapping[str, Any] | None:
    m = obs.measures.get("grooming")
    return m if isinstance(m, Mapping) else None


# -- features for the rules (pure: read the recorded measure, no pixels) --------------------

#: Reason codes a grooming feature can carry; ``*_reason`` features hold the index.
REASON_CODES: tuple[str, ...] = (
    "grooming_not_measured", "face_not_visible", "face_too_small", "face_not_frontal", "too_dark",
    "overexposed", "skin_not_visible", "low_contrast", "hair_out_of_frame", "hair_not_visible",
    "hands_not_visible", "palm_facing_camera", "hand_too_small", "hand_out_of_frame",
    "chest_not_visible", "shoulders_not_visible", "chest_too_small", "chest_out_of_frame", "colour_cast",
)

#: Every feature :func:`grooming_features` produces.
GROOMING_FEATURE_NAMES: tuple[str, ...] = (
    "fh_upper_lip_coverage", "fh_upper_lip_specks", "fh_upper_lip_redness_loss", "fh_chin_coverage",
    "fh_chin_specks", "fh_chin_redness_loss", "fh_reason",
    "hair_over_face_share", "hair_strand_share", "hof_reason",
    "hair_L", "hair_chroma", "hair_hue_deg", "hc_reason",
    "nail_delta_e", "nail_delta_e_max", "nail_fingers", "nails_reason",
    "badge_left_fill", "badge_left_aspect", "badge_left_area_sw2", "badge_left_tilt_deg", "badge_left_y_sw",
    "badge_left_x_sw", "badge_right_fill", "badge_right_aspect", "badge_right_area_sw2", "badge_right_y_sw",
    "badge_chest_judged", "badge_reason",
)


def reason_code(code: str | None) -> float:
    return float(REASON_CODES.index(code)) if code in REASON_CODES else 0.0


def reason_of(value: float | None) -> str:
    if value is None:
        return REASON_CODES[0]
    i = int(value)
    return REASON_CODES[i] if 0 <= i < len(REASON_CODES) else REASON_CODES[0]


def _num(d: Any, key: str) -> float | None:
    if not isinstance(d, Mapping):
        return None
    v = d.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _best_card(cards: list[Any], left: bool) -> Mapping[str, Any] | None:
    side = [c for c in cards if isinstance(c, Mapping) and (_num(c, "x_sw") or 0.0) * (1 if left else -1) > 0]
    if not side:
        return None

    def likeness(c: Mapping[str, Any]) -> float:  # a ranking prior only; the rule applies the limits
        aspect = _num(c, "aspect") or 0.0
        shape = 1.0 if 1.1 <= aspect <= 2.2 else 0.3
        return (_num(c, "fill") or 0.0) * min(1.0, (_num(c, "area_sw2") or 0.0) / 0.02) * shape

    return max(side, key=likeness)


def grooming_features(obs: Observation) -> dict[str, float | None]:
    """Named numbers from the recorded ``grooming`` measure (``None`` = not measured);
    ``*_reason`` = index into :data:`REASON_CODES` when a check could not be judged."""
    v: dict[str, float | None] = dict.fromkeys(GROOMING_FEATURE_NAMES)
    m = measures_of(obs)
    if m is None:
        return v
    fh = m.get("facial_hair")
    if isinstance(fh, Mapping):
        if fh.get("judged"):
            for reg in ("upper_lip", "chin"):
                v[f"fh_{reg}_coverage"] = _num(fh.get(reg), "coverage")
                v[f"fh_{reg}_specks"] = _num(fh.get(reg), "specks")
                v[f"fh_{reg}_redness_loss"] = _num(fh.get(reg), "redness_loss")
        else:
            v["fh_reason"] = reason_code(fh.get("reason"))
    hof = m.get("hair_over_face")
    if isinstance(hof, Mapping):
        if hof.get("judged"):
            v["hair_over_face_share"] = _num(hof, "dark_share")
            v["hair_strand_share"] = _num(hof, "strand_share")
        else:
            v["hof_reason"] = reason_code(hof.get("reason"))
    hc = m.get("hair_colour")
    if isinstance(hc, Mapping):
        if hc.get("judged"):
            v["hair_L"], v["hair_chroma"], v["hair_hue_deg"] = (_num(hc, "L"), _num(hc, "chroma"), _num(hc, "hue_deg"))
        else:
            v["hc_reason"] = reason_code(hc.get("reason"))
    nails = m.get("nails")
    if isinstance(nails, Mapping):
        if nails.get("judged"):
            v["nail_delta_e"] = _num(nails, "delta_e_median")
            v["nail_delta_e_max"] = _num(nails, "delta_e_max")
            v["nail_fingers"] = _num(nails, "n_fingers")
        else:
            v["nails_reason"] = reason_code(nails.get("reason"))
    badge = m.get("badge")
    if isinstance(badge, Mapping):
        if badge.get("judged"):
            v["badge_chest_judged"] = 1.0
            cards = badge.get("cards")
            cards = list(cards) if isinstance(cards, list) else []
            lc, rc = _best_card(cards, True), _best_card(cards, False)
            for prefix, card, keys in (("badge_left", lc, ("fill", "aspect", "area_sw2", "tilt_deg", "y_sw", "x_sw")),
                                       ("badge_right", rc, ("fill", "aspect", "area_sw2", "y_sw"))):
                if card is not None:
                    for key in keys:
                        v[f"{prefix}_{key}"] = _num(card, key)
        else:
            v["badge_reason"] = reason_code(badge.get("reason"))
    return v
