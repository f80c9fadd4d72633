"""Pixel measurements at the edge: what landmarks alone cannot tell (teeth, grooming).

Each measure is a function ``(frame, observation) -> dict | None`` registered in
:data:`MEASURES` under a name. The pipeline runs them right after the landmarkers and
stores the JSON-friendly results in ``Observation.measures[name]``, so recordings replay
them exactly and the rules (pure, image-free) can judge them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from .types import Frame, Observation

Measure = Callable[[Frame, Observation], Mapping[str, Any] | None]

#: name -> measure. Modules that provide measures register here (explicit list below).
MEASURES: dict[str, Measure] = {}


def register(name: str) -> Callable[[Measure], Measure]:
    def deco(fn: Measure) -> Measure:
        MEASURES[name] = fn
        return fn

    return deco


def _load_builtin() -> None:
    """Import the modules that register measures (kept explicit, like ALL_RULES)."""
    import importlib

    for mod in ("posture_coach.teeth", "posture_coach.grooming"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:  # not built yet
            if exc.name != mod:
                raise


def measure(frame: Frame, obs: Observation, timings: dict[str, float] | None = None) -> Observation:
    """Run every registered measure; return the observation with ``measures`` filled in."""
    if not MEASURES:
        return obs
    out: dict[str, Any] = dict(obs.measures)
    for name, fn in MEASURES.items():
        t0 = time.perf_counter()
        value = fn(frame, obs)
        if value is not None:
            out[name] = dict(value)
        if timings is not None:
            timings[name] = (time.perf_counter() - t0) * 1000.0
    return dataclasses.replace(obs, measures=out)


_load_builtin()
