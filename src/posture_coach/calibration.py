"""Calibration: rule thresholds from TOML, and personal baselines (profiles) from JSON.

Thresholds live in ``calibration/default.toml`` (one table per rule id, units in key
names). :func:`load_calibration` reads it, or a custom file layered on top of it, and
validates everything at start-up: an unknown table, an unknown key or a wrong type is a
:class:`~posture_coach.errors.ConfigError` naming the file, the table and the key.

A :class:`Profile` is one person's neutral pose, captured in a few seconds in front of
the camera: camera roll, neck length, face size, view. Rules that cannot see a lean
from the front compare against it.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from posture_coach.errors import ConfigError
from posture_coach.events import INTERACTION_PARAMS
from posture_coach.features import ViewName
from posture_coach.geometry import body_scale
from posture_coach.hand_gate import HAND_GATE_PARAMS
from posture_coach.rules import RULES_BY_ID
from posture_coach.rules.base import Param, Params, ParamValue
from posture_coach.types import Observation, PoseLm

#: The repository's source of truth (absent in an installed wheel).
REPO_DEFAULT = Path(__file__).resolve().parents[2] / "calibration" / "default.toml"
PROFILE_VERSION = 1

PostureOpt = Literal["auto", "standing", "sitting"]

# Schemas of the non-rule tables. Units are in the names, as for rules.
FEATURE_PARAMS: tuple[Param, ...] = (
    Param("min_visibility", "ratio", "joints below this visibility count as not seen"),
    Param("min_visibility_hand", "ratio", "the same for wrists and finger points"),
    Param("frame_margin", "ratio", "share of the image border treated as out of frame"),
    Param("front_min_sw_torso", "ratio", "SW / torso length at or above: front view"),
    Param("side_max_sw_torso", "ratio", "SW / torso length at or below: side view"),
    Param("front_max_nose_offset", "ratio", "nose offset / ear span at or below: front"),
    Param("side_min_nose_offset", "ratio", "nose offset / ear span at or above: side"),
    Param("front_override_sw_torso", "ratio", "SW / torso length at or above: front even when the head is turned"),
    Param("facing_min_nose_off_axis_tl", "tl", "no ears, no thighs: the nose this far off the "
          "hip-to-shoulder line (either side) gives the facing, however the trunk is tilted"),
    Param("facing_min_knee_ahead_tl", "tl", "no ears or nose cue: knees ahead of the hips (seated)"),
    Param("front_max_nose_outside_sw", "sw", "no ears, wide shoulders: nose this far from the "
          "shoulder midpoint means a turned body (oblique), not a front view"),
    Param("front_max_thigh_sideways_tl", "tl", "no ears, wide shoulders: every visible thigh "
          "pointing this far to one side means a turned body (oblique)"),
    Param("standing_min_thigh_drop_tl", "tl", "knee below hip by at least this: standing"),
    Param("sitting_max_thigh_drop_tl", "tl", "knee below hip by at most this: sitting"),
    Param("hip_forward_offset_tl", "tl", "MediaPipe's hip midpoint sits this far ahead of the "
          "hip-joint centre: moved back before the sagittal angles"),
    Param("front_sw_torso_ratio", "ratio", "SW / torso length of a frontal body: body yaw "
          "from it when MediaPipe's world shoulders are missing"),
    Param("min_forward_scale_ratio", "ratio", "oblique views: a lean is scaled up by at most "
          "1 / this"),
    Param("calib_max_motion_sw_s", "sw_s", "calibration capture: frames whose shoulders move "
          "(position and scale) faster than this many SW per second are not a neutral pose"),
    Param("calib_min_still_frames", "frames", "calibration capture with motion in it: at least "
          "this many still frames with both shoulders, or it is refused as moving"),
)
SIGNAL_PARAMS: tuple[Param, ...] = (
    Param("sway_window_s", "s", "window for the hip sway"),
    Param("walk_min_sw", "sw", "hips moved this far in the last second: walking, not swaying"),
    Param("osc_window_s", "s", "window for leg oscillation and fidgeting"),
    Param("band_low_hz", "hz", "oscillation band, low edge"),
    Param("band_high_hz", "hz", "oscillation band, high edge"),
    Param("fidget_low_hz", "hz", "fidgeting band, low edge"),
    Param("osc_min_sustained", "ratio", "leg oscillation: share of the window a rhythm must fill"),
    Param("min_fill_ratio", "ratio", "how full a window must be before it is judged"),
    Param("roll_window_s", "s", "the camera's roll: median of the standing body's axis over this window"),
    Param("roll_min_s", "s", "the camera's roll is read once this much of the window is in"),
    Param("roll_max_deg", "deg", "a body axis further off vertical than this is a lean, not the camera"),
)
ENGINE_PARAMS: tuple[Param, ...] = (
    Param("max_frame_gap_ms", "ms", "a longer gap between frames counts as this much"),
    Param("posture_switch_s", "s", "auto posture: a new posture must hold this long"),
    Param("posture_hold_s", "s", "keep the last posture this long when legs leave view"),
    *HAND_GATE_PARAMS,
)
TEMPORAL_PARAMS: tuple[Param, ...] = (
    Param("onset_s", "s", "a violation must persist this long to be flagged"),
    Param("offset_s", "s", "and be gone this long to be cleared"),
    Param("min_duration_s", "s", "shorter episodes are dropped from timeline and score"),
)
#: The cropped second hand pass (``landmarker.HandCrop``): where and how often a small
#: or missed hand is read again in a magnified crop around the pose wrist.
HAND_CROP_PARAMS: tuple[Param, ...] = (
    Param("enabled", "", "run the cropped second hand pass at all", bool),
    Param("side_sw", "sw", "crop side: at least this many shoulder widths"),
    Param("side_tl", "tl", "and at least this many torso lengths"),
    Param("out_px", "px", "the crop is resized to this many pixels a side", int),
    Param("max_frame_share", "ratio", "crop only where its side is at most this share of the "
          "frame's longer side (where it magnifies: a small person)"),
    Param("min_visibility", "ratio", "the pose wrist's visibility at least this"),
    Param("min_raise_tl", "tl", "the wrist at least this far above the hip line"),
    Param("max_offset_body", "body", "no full-frame hand within this many body scales of the wrist"),
    Param("min_confidence", "ratio", "the crop hand landmarker's detector confidence"),
    Param("search_after_misses", "frames", "after this many crops in a row found no hand, the "
          "wrist is searched less often", int),
    Param("search_every", "frames", "then cropped only every this-many frames", int),
    Param("refine_below_px", "px", "a full-frame hand smaller than this (wrist to middle knuckle) "
          "is read again in a crop"),
    Param("refine_side_sw", "sw", "that crop's side"),
    Param("reread_every", "frames", "a wrist whose crop found its hand is cropped again every "
          "this-many frames (the last hand is carried between)", int),
)
_SECTIONS: dict[str, tuple[Param, ...]] = {
    "hand_crop": HAND_CROP_PARAMS,
    "interaction": INTERACTION_PARAMS,
    "features": FEATURE_PARAMS,
    "signals": SIGNAL_PARAMS,
    "engine": ENGINE_PARAMS,
    "temporal": TEMPORAL_PARAMS,
}
_PACK_KEYS = {"title_zh": str, "title_en": str, "posture": str, "rules": list, "params": dict}


@dataclass(frozen=True, slots=True)
class TemporalParams:
    """Persistence settings of one rule, in seconds."""

    onset_s: float
    offset_s: float
    min_duration_s: float


@dataclass(frozen=True, slots=True)
class RulePack:
    """A named selection of rules, with the posture it implies and parameter overrides."""

    name: str
    title_zh: str
    title_en: str
    posture: PostureOpt
    rules: tuple[str, ...]
    params: Mapping[str, Mapping[str, ParamValue]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CalibrationSet:
    """Validated calibration: every rule's parameters and the engine's settings."""

    sources: tuple[str, ...]
    features: Mapping[str, float]
    interaction: Mapping[str, float]
    hand_crop: Mapping[str, ParamValue]
    signals: Mapping[str, float]
    engine: Mapping[str, float]
    rules: Mapping[str, Mapping[str, ParamValue]]
    temporal: Mapping[str, TemporalParams]
    warn_credit: float
    weights: Mapping[str, float]
    rule_packs: Mapping[str, RulePack]
    #: A frame rule's score resting on less judged time than this says so (s).
    thin_evidence_s: float = 0.0
    #: What a violation a trainer adds (one the coach missed, at a moment) costs its rule (s).
    missed_violation_s: float = 0.0

    def params(self, rule_id: str) -> Params:
        """The parameters of one rule (``KeyError`` for an unknown id)."""
        return self.rules[rule_id]

    def weight(self, rule_id: str) -> float:
        return self.weights.get(rule_id, 1.0)

    def with_pack(self, name: str) -> CalibrationSet:
        """This calibration with a rule pack's parameter overrides applied."""
        if name not in self.rule_packs:
            known = ", ".join(sorted(self.rule_packs)) or "none"
            raise ConfigError(f"unknown rule pack {name!r} (known: {known})")
        pack = self.rule_packs[name]
        rules = {rid: dict(vals) for rid, vals in self.rules.items()}
        for rid, over in pack.params.items():
            rules[rid].update(over)
        return replace(self, rules=rules)


# -- loading ------------------------------------------------------------------------


def default_calibration_path() -> Path:
    """The repository's ``calibration/default.toml`` if present, else the packaged copy."""
    if REPO_DEFAULT.is_file():
        return REPO_DEFAULT
    return Path(str(resources.files("posture_coach") / "data" / "default.toml"))


def load_calibration(path: Path | None = None) -> CalibrationSet:
    """Load and validate calibration.

    ``None`` loads the default. A custom file is layered on the default: it may set
    only the keys it changes, but every table and key it names must exist.
    """
    base_path = default_calibration_path()
    raw = _read_toml(base_path)
    tables = _Tables(str(base_path))
    tables.merge(raw, base_path)
    sources = [str(base_path)]
    if path is not None and Path(path).resolve() != base_path.resolve():
        tables.merge(_read_toml(Path(path)), Path(path))
        sources.append(str(path))
    return tables.build(tuple(sources))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: calibration file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None


def _check_type(file: Path, table: str, key: str, value: Any, kind: type) -> ParamValue:
    ok = (
        isinstance(value, int | float) and not isinstance(value, bool)
        if kind is float
        else isinstance(value, int) and not isinstance(value, bool)
        if kind is int
        else isinstance(value, kind)
    )
    if not ok:
        raise ConfigError(
            f"{file}: [{table}] {key} must be {kind.__name__}, got {type(value).__name__} "
            f"{value!r}"
        )
    return float(value) if kind is float else value


def _check_keys(file: Path, table: str, got: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key in got:
        if key not in allowed:
            raise ConfigError(
                f"{file}: [{table}] unknown key {key!r} (expected one of: "
                f"{', '.join(sorted(allowed))})"
            )


class _Tables:
    """Accumulates validated tables from one or more files, then checks completeness."""

    def __init__(self, first: str) -> None:
        self.first = first
        self.sections: dict[str, dict[str, ParamValue]] = {k: {} for k in _SECTIONS}
        self.rules: dict[str, dict[str, ParamValue]] = {rid: {} for rid in RULES_BY_ID}
        self.warn_credit: float | None = None
        self.thin_evidence_s: float | None = None
        self.missed_violation_s: float | None = None
        self.weights: dict[str, float] = {}
        self.packs: dict[str, RulePack] = {}

    def merge(self, raw: Mapping[str, Any], file: Path) -> None:
        for top, value in raw.items():
            if not isinstance(value, dict):
                raise ConfigError(f"{file}: top-level key {top!r} must be a table")
            if top in _SECTIONS:
                self._section(file, top, value)
            elif top == "scoring":
                self._scoring(file, value)
            elif top == "rule_packs":
                for name, pack in value.items():
                    self._pack(file, name, pack)
            else:
                self._family(file, top, value)

    def _section(self, file: Path, name: str, table: Mapping[str, Any]) -> None:
        schema = {p.name: p for p in _SECTIONS[name]}
        _check_keys(file, name, table, schema)
        for key, v in table.items():
            self.sections[name][key] = _check_type(file, name, key, v, schema[key].kind)

    def _family(self, file: Path, family: str, tables: Mapping[str, Any]) -> None:
        for sub, table in tables.items():
            rid = f"{family}.{sub}"
            if not isinstance(table, dict):
                raise ConfigError(f"{file}: [{family}] {sub!r} is not a rule table "
                                  f"(rule tables look like [{family}.<name>])")
            if rid not in RULES_BY_ID:
                raise ConfigError(f"{file}: [{rid}] unknown rule {rid!r} (known: "
                                  f"{', '.join(RULES_BY_ID)})")
            schema = {p.name: p.kind for p in RULES_BY_ID[rid].params}
            schema.update({p.name: p.kind for p in TEMPORAL_PARAMS})
            _check_keys(file, rid, table, schema)
            for key, v in table.items():
                self.rules[rid][key] = _check_type(file, rid, key, v, schema[key])

    def _scoring(self, file: Path, table: Mapping[str, Any]) -> None:
        _check_keys(file, "scoring", table, ("warn_credit", "thin_evidence_s", "missed_violation_s", "weights"))
        if "warn_credit" in table:
            self.warn_credit = float(_check_type(file, "scoring", "warn_credit",
                                                 table["warn_credit"], float))
        if "thin_evidence_s" in table:
            self.thin_evidence_s = float(_check_type(file, "scoring", "thin_evidence_s",
                                                     table["thin_evidence_s"], float))
        if "missed_violation_s" in table:
            self.missed_violation_s = float(_check_type(file, "scoring", "missed_violation_s",
                                                        table["missed_violation_s"], float))
        weights = table.get("weights", {})
        if not isinstance(weights, dict):
            raise ConfigError(f"{file}: [scoring] weights must be a table")
        for rid, w in weights.items():
            if rid not in RULES_BY_ID:
                raise ConfigError(f"{file}: [scoring.weights] unknown rule {rid!r}")
            self.weights[rid] = float(_check_type(file, "scoring.weights", rid, w, float))

    def _pack(self, file: Path, name: str, table: Any) -> None:
        where = f"rule_packs.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{file}: [{where}] must be a table")
        _check_keys(file, where, table, _PACK_KEYS)
        for key, kind in _PACK_KEYS.items():
            if key in table:
                _check_type(file, where, key, table[key], kind)
        posture = table.get("posture", "auto")
        if posture not in ("auto", "standing", "sitting"):
            raise ConfigError(f"{file}: [{where}] posture must be auto, standing or sitting, "
                              f"got {posture!r}")
        rules = table.get("rules", list(RULES_BY_ID))
        for rid in rules:
            if rid not in RULES_BY_ID:
                raise ConfigError(f"{file}: [{where}] rules: unknown rule {rid!r}")
        params: dict[str, dict[str, ParamValue]] = {}
        for rid, over in table.get("params", {}).items():
            at = f"{where}.params.{rid}"
            if rid not in RULES_BY_ID:
                raise ConfigError(f"{file}: [{at}] unknown rule {rid!r}")
            if not isinstance(over, dict):
                raise ConfigError(f"{file}: [{at}] must be a table")
            schema = {p.name: p.kind for p in RULES_BY_ID[rid].params}
            _check_keys(file, at, over, schema)
            params[rid] = {k: _check_type(file, at, k, v, schema[k]) for k, v in over.items()}
        self.packs[name] = RulePack(
            name=name, title_zh=str(table.get("title_zh", name)),
            title_en=str(table.get("title_en", name)), posture=posture,
            rules=tuple(str(r) for r in rules), params=params,
        )

    def build(self, sources: tuple[str, ...]) -> CalibrationSet:
        for name, schema in _SECTIONS.items():
            for prm in schema:
                if prm.name not in self.sections[name]:
                    raise ConfigError(f"{self.first}: [{name}] missing key {prm.name!r}")
        tdef = self.sections["temporal"]
        temporal: dict[str, TemporalParams] = {}
        for rid, rule in RULES_BY_ID.items():
            vals = self.rules[rid]
            for prm in rule.params:
                if prm.name not in vals:
                    raise ConfigError(f"{self.first}: [{rid}] missing key {prm.name!r} "
                                      f"({prm.unit}: {prm.description})")
            temporal[rid] = TemporalParams(**{
                p.name: float(vals.get(p.name, tdef[p.name]))
                for p in TEMPORAL_PARAMS
            })
        rules = {
            rid: {k: v for k, v in vals.items() if k not in {p.name for p in TEMPORAL_PARAMS}}
            for rid, vals in self.rules.items()
        }
        return CalibrationSet(
            sources=sources,
            features={k: float(v) for k, v in self.sections["features"].items()},
            interaction={k: float(v) for k, v in self.sections["interaction"].items()},
            hand_crop=dict(self.sections["hand_crop"]),
            signals={k: float(v) for k, v in self.sections["signals"].items()},
            engine={k: float(v) for k, v in self.sections["engine"].items()},
            rules=rules,
            temporal=temporal,
            warn_credit=1.0 if self.warn_credit is None else self.warn_credit,
            weights=dict(self.weights),
            rule_packs=dict(self.packs),
            thin_evidence_s=0.0 if self.thin_evidence_s is None else self.thin_evidence_s,
            missed_violation_s=0.0 if self.missed_violation_s is None else self.missed_violation_s,
        )


# -- personal baseline ----------------------------------------------------------------


class CalibrationMotionError(ConfigError):
    """The calibration capture holds no still frame: the person was moving throughout."""

    reason = "moving"


def _shoulders_seen(o: Observation, min_visibility: float) -> bool:
    if o.pose is None:
        return False
    vis = o.pose.visibility
    return bool(vis[PoseLm.LEFT_SHOULDER] >= min_visibility and vis[PoseLm.RIGHT_SHOULDER] >= min_visibility)


def moving_frames(observations: Sequence[Observation], max_motion_sw_s: float,
                  min_visibility: float = 0.5) -> set[int]:
    """Positions in ``observations`` of the frames whose shoulders move faster than the limit.

    A baseline taken while walking in or sitting down records a gait's shoulder tilt or a
    half-seated trunk as "neutral" and later blames the person for it. Motion is the shoulder
    midpoint's displacement plus the change of body scale (walking towards the camera), in
    body scales per second (SW, or 0.75 torso lengths when larger, as side-on), to the
    previous and the next frame with a pose; a frame is moving when either exceeds
    ``max_motion_sw_s``. On renders a still person measures
    <= 0.05 SW/s, walking in 0.75-2.1, sitting down 0.3-1.0. Single frames (a photo) and
    frames without both shoulders are never called moving.
    """
    pts: list[tuple[int, int, float, float, float]] = []  # position, t_ms, x, y, scale (pixels)
    for pos, o in enumerate(observations):
        if o.pose is None or not _shoulders_seen(o, min_visibility):
            continue
        lm, vis = o.pose.landmarks, o.pose.visibility
        ls, rs = PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER
        w, h = o.image_size
        lx, ly, rx, ry = lm[ls][0] * w, lm[ls][1] * h, lm[rs][0] * w, lm[rs][1] * h
        mx, my = (lx + rx) / 2, (ly + ry) / 2
        tl: float | None = None
        lh, rh = PoseLm.LEFT_HIP, PoseLm.RIGHT_HIP
        if (vis[lh] >= min_visibility and vis[rh] >= min_visibility
                and max(lm[lh][1], lm[rh][1]) <= 1.0):  # hips in the picture, not guessed below it
            # Side-on the shoulders overlap and their width is mostly jitter: the torso
            # length then sets the scale.
            tl = math.hypot((lm[lh][0] + lm[rh][0]) / 2 * w - mx, (lm[lh][1] + lm[rh][1]) / 2 * h - my)
        scale = body_scale(math.hypot(lx - rx, ly - ry), tl)
        if scale > 0:
            pts.append((pos, o.timestamp_ms, mx, my, scale))
    speeds: dict[int, float] = {}
    for a, b in itertools.pairwise(pts):
        dt = (b[1] - a[1]) / 1000.0
        if dt <= 0:
            continue
        sw = (a[4] + b[4]) / 2
        v = (math.hypot(b[2] - a[2], b[3] - a[3]) + abs(b[4] - a[4])) / sw / dt
        for fi in (a[0], b[0]):
            speeds[fi] = max(speeds.get(fi, 0.0), v)
    return {fi for fi, v in speeds.items() if v > max_motion_sw_s}


#: Profile fields holding one number (None where not measured), checked on loading: a
#: profile also comes from a browser (the live page keeps it) and must not carry a string
#: or NaN into the rules.
_PROFILE_NUMBERS = ("roll_deg", "neck_ratio", "face_width_rel", "ear_span_rel", "sw_rel", "torso_incline_deg",
                    "world_torso_back_deg", "smile_level")


VIEW_NAMES: frozenset[str] = frozenset(get_args(ViewName))


def _finite(key: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or abs(v) > 1e6:
        raise ValueError(f"{key} must be a finite number, not {str(v)[:40]}")


def _check_profile_values(d: Mapping[str, Any]) -> None:
    """Every value of a loaded profile has its field's type (``ValueError`` names the first that does not)."""
    for key in _PROFILE_NUMBERS:
        if d.get(key) is not None or key in ("roll_deg", "neck_ratio"):
            _finite(key, d.get(key, 0.0))
    if isinstance(d.get("version", PROFILE_VERSION), bool):
        raise ValueError("version must be a number")
    if not isinstance(d.get("name", ""), str) or len(d.get("name", "")) > 200 \
            or d.get("view", "unknown") not in VIEW_NAMES:
        raise ValueError(f"name must be text and view one of {sorted(VIEW_NAMES)}")
    if isinstance(d.get("frames", 0), bool) or not isinstance(d.get("frames", 0), int) or d.get("frames", 0) < 0:
        raise ValueError("frames must be a whole number")
    face = d.get("face_neutral")
    if face is not None:
        if not isinstance(face, Mapping) or len(face) > 256:
            raise ValueError("face_neutral must be a table of numbers")
        for k, v in face.items():
            _finite(f"face_neutral.{k}", v)
    colours = d.get("clothing_colours")
    if colours is not None:
        if not isinstance(colours, list) or len(colours) > 256:
            raise ValueError("clothing_colours must be a list of numbers")
        for v in colours:
            _finite("clothing_colours", v)


#: Frames with a face a smile capture needs before it says anything about the smile.
SMILE_MIN_FRAMES = 5


def _smile_level(smile: list[Observation], neutral: Mapping[str, float], cal: CalibrationSet) -> float | None:
    """The median smile score of a smile capture, against the neutral face (None: too few faces)."""
    from posture_coach.face_features import compute_face_features
    from posture_coach.face_temporal import smile_evidence

    if not smile or not neutral:
        return None
    p = cal.rules.get("face.smile", {})
    scores = [e for o in smile if o.face is not None
              and (e := smile_evidence(compute_face_features(o, neutral), p)) is not None]
    return float(statistics.median(scores)) if len(scores) >= SMILE_MIN_FRAMES else None


_SMILE_KEYS = frozenset({"on_score", "off_score", "personal_on_share", "personal_min_on_score"})


def _personal_on(params: Mapping[str, ParamValue], smile_level: float | None) -> float | None:
    """``personal_on_share`` of a natural smile, when it is a smile at all (at or above
    ``personal_min_on_score``); None without a usable smile capture."""
    if smile_level is None or not set(params) >= _SMILE_KEYS:
        return None
    personal = float(params["personal_on_share"]) * smile_level
    return personal if personal >= float(params["personal_min_on_score"]) else None


def personal_smile_params(params: Mapping[str, ParamValue], smile_level: float | None) -> dict[str, ParamValue]:
    """``face.smile``'s parameters for a person whose natural smile scored ``smile_level``:
    the thresholds come down (never up) to ``personal_on_share`` of it, so a gentle natural
    smile counts; not below ``personal_min_on_score``, where a smile is no longer told from a
    face at rest (a capture without a smile leaves them as they are)."""
    out = dict(params)
    personal = _personal_on(params, smile_level)
    if personal is not None and personal < float(out["on_score"]):
        out["off_score"] = personal * float(out["off_score"]) / float(out["on_score"])
        out["on_score"] = personal
    return out


def smile_step_outcome(params: Mapping[str, ParamValue], smile_level: float | None) -> str:
    """What a calibration's smile capture gave: ``personal`` (it lowers the person's smile
    threshold), ``standard`` (their smile is clear at the usual one) or ``not_seen`` (no
    smile could be read in it: the usual threshold stays)."""
    personal = _personal_on(params, smile_level)
    if personal is None:
        return "not_seen"
    return "personal" if personal < float(params["on_score"]) else "standard"


@dataclass(frozen=True, slots=True)
class Profile:
    """One person's neutral pose, measured at calibration.

    ``roll_deg`` is the shoulder-line tilt seen in the neutral pose: camera roll plus the
    person's own habit, both of which later frames should not be blamed for.
    """

    name: str = "default"
    roll_deg: float = 0.0
    neck_ratio: float = 0.0  # nose to shoulder line / SW
    face_width_rel: float | None = None  # face-mesh width / image width
    ear_span_rel: float | None = None  # pose ear-to-ear / image width
    sw_rel: float | None = None  # shoulder width / image width
    torso_incline_deg: float | None = None
    view: str = "unknown"
    frames: int = 0
    image_size: tuple[int, int] = (0, 0)
    # The neutral face (blendshapes, mouth width…), so face rules judge change, not shape.
    face_neutral: dict[str, float] | None = None
    # The person's natural smile (the smile score above their neutral face, median over the
    # "give a natural smile" capture): a gentle smile is still a smile (face.smile).
    smile_level: float | None = None
    # The trunk's tilt in MediaPipe's 3-D world landmarks (features.world_torso_back_deg).
    world_torso_back_deg: float | None = None
    # The clothes' colours on the trunk (appearance.torso_signature, averaged): in a
    # role-play the trainee is the person wearing them (--role-play profile).
    clothing_colours: list[float] | None = None
    version: int = PROFILE_VERSION

    @classmethod
    def from_observations(
        cls, observations: Iterable[Observation], calibration: CalibrationSet | None = None,
        name: str = "default", smile: Iterable[Observation] = (),
    ) -> Profile:
        """Build a baseline from a short neutral capture (medians over usable frames), and
        the person's natural smile from ``smile`` (a capture of it; none: not known)."""
        from posture_coach.face_features import face_neutral_from_observations
        from posture_coach.features import compute_features, ear_span_rel, face_width_rel, world_torso_back_deg

        observations = list(observations)
        cal = calibration or load_calibration()
        fp = cal.features
        moving = moving_frames(observations, fp["calib_max_motion_sw_s"], fp["min_visibility"])
        still = [o for i, o in enumerate(observations) if i not in moving]
        # One still frame amid a walk is an end of the capture or a camera repeating a frame,
        # not a neutral pose: the baseline needs a few.
        still_seen = sum(_shoulders_seen(o, fp["min_visibility"]) for o in still)
        if moving and still_seen < fp["calib_min_still_frames"]:
            raise CalibrationMotionError(
                f"calibration capture: the person moved in {len(moving)} frame(s) and held still "
                f"in {still_seen} (walking in, sitting down); "
                "hold still in a neutral, upright pose for 2 s / "
                "校准时您在移动，请以端正、自然的姿势保持静止约 2 秒"
            )
        observations = still
        tilts: list[float] = []
        necks: list[float] = []
        faces: list[float] = []
        ears: list[float] = []
        sws: list[float] = []
        inclines: list[float] = []
        world_backs: list[float] = []
        views: list[str] = []
        size = (0, 0)
        total = 0
        for obs in observations:
            total += 1
            f = compute_features(obs, fp)
            neck = f.get("neck_ratio")
            if not f.view.shoulders_visible or neck is None:
                continue
            size = obs.image_size
            necks.append(neck)
            views.append(f.view.view)
            sw = f.get("sw_px")
            if sw is not None:
                sws.append(sw / obs.image_size[0])
            tilt = f.get("shoulder_tilt_deg")
            if tilt is not None and f.view.view == "front":
                tilts.append(tilt)
            inc = f.get("torso_incline_deg")
            if inc is not None:
                inclines.append(inc)
            wt = world_torso_back_deg(obs.pose.world) if obs.pose is not None else None
            if wt is not None:
                world_backs.append(wt)
            fw = face_width_rel(obs)
            if fw is not None:
                faces.append(fw)
            es = ear_span_rel(obs, fp["min_visibility"])
            if es is not None:
                ears.append(es)
        if not necks:
            raise ConfigError(
                f"calibration capture: none of {total} frame(s) showed the head and both "
                "shoulders; face the camera, sit or stand upright and keep the shoulders "
                "in frame"
            )

        def med(xs: list[float]) -> float | None:
            return float(statistics.median(xs)) if xs else None

        return cls(
            name=name,
            roll_deg=med(tilts) or 0.0,
            neck_ratio=float(statistics.median(necks)),
            face_width_rel=med(faces),
            ear_span_rel=med(ears),
            sw_rel=med(sws),
            torso_incline_deg=med(inclines),
            view=statistics.mode(views),
            frames=len(necks),
            image_size=size,
            face_neutral=face_neutral_from_observations(observations) or None,
            world_torso_back_deg=med(world_backs),
            smile_level=_smile_level(list(smile), face_neutral_from_observations(observations), cal),
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["image_size"] = list(self.image_size)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "profile") -> Profile:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"{source}: unknown profile key(s) {sorted(unknown)}")
        if d.get("version", PROFILE_VERSION) != PROFILE_VERSION:
            raise ConfigError(f"{source}: profile version {d.get('version')!r} is not "
                              f"{PROFILE_VERSION}; recalibrate")
        try:
            kwargs = dict(d)
            if "image_size" in kwargs:
                w, h = kwargs["image_size"]
                kwargs["image_size"] = (int(w), int(h))
                if not all(0 <= v <= 100_000 for v in kwargs["image_size"]):
                    raise ValueError("image_size must be two sizes in pixels")
            _check_profile_values(kwargs)
            prof = cls(**kwargs)
            if float(prof.neck_ratio) <= 0:
                raise ValueError("neck_ratio must be positive")
        except (TypeError, ValueError, OverflowError) as err:
            raise ConfigError(f"{source}: invalid profile: {err}") from None
        return prof

    def save(self, path: Path) -> Path:
        from .fileio import commit, partial_path

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = partial_path(path)  # a crash or a full disk leaves the old profile whole
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        commit(tmp, path)
        return path

    @classmethod
    def load(cls, path: Path) -> Profile:
        try:
            # utf-8-sig: a profile re-saved by Windows Notepad starts with a byte-order mark.
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: profile not found") from None
        except IsADirectoryError:
            raise ConfigError(f"{path}: a folder, not a profile file (give the .json file "
                              "`posture-coach calibrate` wrote)") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: the profile is not UTF-8 text (saved in another encoding, such as "
                              "GBK?); save it again as UTF-8, or calibrate again", reason="profile_not_utf8") from None
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}: profile is not valid JSON: {err}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: profile must be a JSON object")
        return cls.from_dict(data, source=str(path))
