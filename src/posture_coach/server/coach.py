"""The server's view of the rules engine: imported lazily, degrading when it is absent.

The engine, calibration and rule catalogue are the core's; the server only needs a
handful of names from them. Keeping the lookup here means the live page still shows
landmarks (with every rule "not assessable") on an install whose engine is broken or
missing, instead of a dead session.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleInfo:
    """The user-facing texts of one rule."""

    id: str
    title_zh: str
    title_en: str
    cue_zh: str
    cue_en: str
    explain_zh: str
    explain_en: str
    recommended: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "family": self.id.split(".", 1)[0],
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "cue_zh": self.cue_zh,
            "cue_en": self.cue_en,
            "explain_zh": self.explain_zh,
            "explain_en": self.explain_en,
            "recommended": self.recommended,
        }

    def cue(self, lang: str) -> str:
        return self.cue_zh if lang == "zh" else self.cue_en


def _text(obj: Any, name: str, fallback: str) -> str:
    value = getattr(obj, name, None)
    return value if isinstance(value, str) and value else fallback


def rule_catalogue() -> list[RuleInfo]:
    """Every rule the installed engine knows (``posture_coach.rules.ALL_RULES``)."""
    try:
        from posture_coach.rules import ALL_RULES
    except ImportError as exc:
        log.warning("rule catalogue unavailable: %s", exc)
        return []
    out: list[RuleInfo] = []
    for rule in ALL_RULES:
        rid = getattr(rule, "id", None)
        if not isinstance(rid, str):
            continue
        title_en = _text(rule, "title_en", rid)
        out.append(
            RuleInfo(
                id=rid,
                title_zh=_text(rule, "title_zh", title_en),
                title_en=title_en,
                cue_zh=_text(rule, "cue_zh", _text(rule, "title_zh", title_en)),
                cue_en=_text(rule, "cue_en", title_en),
                explain_zh=_text(rule, "explain_zh", ""),
                explain_en=_text(rule, "explain_en", ""),
                recommended=bool(getattr(rule, "recommended", False)),
            )
        )
    return out


def reason_catalogue() -> dict[str, dict[str, str]]:
    """Reason codes of ``unknown`` verdicts with their zh/en texts."""
    try:
        from posture_coach.rules.base import REASONS
    except ImportError:
        return {}
    return {code: {"zh": zh, "en": en} for code, (zh, en) in REASONS.items()}


class EngineFactory:
    """Builds :class:`~posture_coach.engine.CoachEngine` objects, or explains why not."""

    def __init__(self) -> None:
        self.error: str | None = None
        self._engine_cls: Any = None
        self._profile_cls: Any = None
        self._calibration: Any = None
        try:
            from posture_coach import calibration as cal_mod
            from posture_coach import engine as engine_mod

            self._engine_cls = engine_mod.CoachEngine
            self._profile_cls = getattr(cal_mod, "Profile", None)
            self._calibration = cal_mod.load_calibration()
        except Exception as exc:  # ImportError while the engine is being written, ConfigError
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("rules engine unavailable, serving landmarks only: %s", self.error)

    @property
    def available(self) -> bool:
        return self._engine_cls is not None and self.error is None

    def create(self, posture: str, profile: Any = None, extra_rules: tuple[str, ...] = ()) -> Any:
        """A fresh engine for one live session (``None`` when the engine is unavailable).

        ``extra_rules`` adds opt-in rules (the grooming self-check) to the default set.
        """
        if not self.available:
            return None
        from posture_coach.rules import DEFAULT_RULE_IDS

        ids = list(DEFAULT_RULE_IDS) + [r for r in extra_rules if r not in DEFAULT_RULE_IDS]
        return self._engine_cls(self._calibration, profile, mode="video", posture=posture, rule_ids=ids)

    def smile_calibrated(self, profile: Any) -> str:
        """What a calibration's smile step gave (:func:`calibration.smile_step_outcome`)."""
        from posture_coach.calibration import smile_step_outcome

        p = self._calibration.rules.get("face.smile") if self._calibration is not None else None
        return smile_step_outcome(p or {}, getattr(profile, "smile_level", None))

    def pack_rules(self, pack: str) -> tuple[str, ...]:
        """The rules of a calibration rule pack (empty when unknown)."""
        if self._calibration is None or pack not in self._calibration.rule_packs:
            return ()
        return tuple(self._calibration.rule_packs[pack].rules)

    @staticmethod
    def live_score(engine: Any) -> float | None:
        """The overall score so far, without closing open episodes.

        ``engine.summary()`` closes the open episodes at the last frame, which is right
        at the end of a session but would split episodes if called every second.
        """
        try:
            summary = engine.summary_so_far()
        except Exception:  # an engine without a timeline: no live score, not a dead session
            return None
        score = summary.overall_score
        return None if score is None else float(score)

    def profile_from_dict(self, data: Mapping[str, Any]) -> Any:
        """A baseline the page kept from an earlier calibration (``Profile.to_dict``);
        ``ConfigError`` when it is not one."""
        if self._profile_cls is None:
            raise RuntimeError("calibration profiles are not available in this install")
        return self._profile_cls.from_dict(data, source="kept calibration")

    def profile(self, neutral: Sequence[Any], smile: Sequence[Any] = ()) -> Any:
        """A personal baseline from the calibration observations."""
        if self._profile_cls is None:
            raise RuntimeError("calibration profiles are not available in this install")
        build = self._profile_cls.from_observations
        try:
            params: Mapping[str, Any] = inspect.signature(build).parameters
        except (TypeError, ValueError):
            params = {}
        kwargs: dict[str, Any] = {}
        if "calibration" in params and self._calibration is not None:
            kwargs["calibration"] = self._calibration
        if smile and "smile" in params:  # a smile baseline, once profiles carry one
            kwargs["smile"] = list(smile)
        return build(list(neutral), **kwargs)
