"""Pixel measurements at the edge: what landmarks alone cannot tell (teeth, grooming).

Each measure is a function ``(frame, observation) -> dict | None`` registered in
:data:`MEASURES` under a name. The pipeline runs them right after the landmarkers and
stores the JSON-friendly results in ``Observation.measures[name]``, so recordings replay
them exactly and the rules (pure, image-free) can judge them.

A measure registered with ``takes_option=True`` also accepts a third argument: the
caller's per-call option for it, ``measure(frame, obs, options={name: value})``. This is
how one live session turns the grooming checks on for itself only (``{"grooming":
frozenset({"face"})}``) while another session on the same process runs without them; a
measure whose name is not in ``options`` falls back to its process default.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .types import Frame, Observation

Measure = Callable[[Frame, Observation], Mapping[str, Any] | None]
OptionMeasure = Callable[..., Mapping[str, Any] | None]  # (frame, obs, option)
M = TypeVar("M", bound=Measure)

#: name -> measure. Modules that provide measures register here (explicit list below).
MEASURES: dict[str, Measure] = {}
#: name -> the same measure, for those that take a per-call option (third argument).
OPTION_MEASURES: dict[str, OptionMeasure] = {}


def register(name: str, *, takes_option: bool = False) -> Callable[[M], M]:
    def deco(fn: M) -> M:
        MEASURES[name] = fn
        if takes_option:
            OPTION_MEASURES[name] = fn
        else:
            OPTION_MEASURES.pop(name, None)
        return fn

    return deco


def _load_builtin() -> None:
    """Import the modules that register measures (kept explicit, like ALL_RULES)."""
    import importlib

    for mod in ("posture_coach.teeth", "posture_coach.grooming", "posture_coach.card"):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:  # not built yet
            if exc.name != mod:
                raise


def measure(
    frame: Frame,
    obs: Observation,
    timings: dict[str, float] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Observation:
    """Run every registered measure; return the observation with ``measures`` filled in.

    ``options``: per-call options by measure name (only for measures registered with
    ``takes_option``), e.g. ``{"grooming": {"face"}}``; absent names use the defaults.
    """
    if not MEASURES:
        return obs
    out: dict[str, Any] = dict(obs.measures)
    for name, fn in MEASURES.items():
        t0 = time.perf_counter()
        opt_fn = OPTION_MEASURES.get(name)
        if opt_fn is not None and options is not None and name in options:
            value = opt_fn(frame, obs, options[name])
        else:
            value = fn(frame, obs)
        if value is not None:
            out[name] = dict(value)
        if timings is not None:
            timings[name] = (time.perf_counter() - t0) * 1000.0
    return dataclasses.replace(obs, measures=out)


_load_builtin()
