"""Drills and scenarios as data: steps with a timing window and the rules each judges.

Drill files live in ``posture_coach/data/drills/*.toml`` (one drill or scenario per
file). A step names the rule ids it judges; a rule id the installed rule catalogue does
not know yet makes that step "not yet assessable" instead of failing the drill, so the
data can run ahead of the code honestly.

:class:`DrillRunner` steps a drill along a clock (milliseconds, the session's own
time) and tallies the per-frame verdicts of the rules each step judges::

    runner = DrillRunner(load_drills()["standing_15s"], known_rules={"standing.upright"})
    runner.start(t_ms=0)
    state = runner.update(t_ms, verdicts, events)   # verdicts: {rule_id: {"status": ...}}
    result = runner.result()
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError

DrillKind = Literal["drill", "scenario"]
PostureName = Literal["auto", "standing", "sitting"]
StepOutcome = Literal["pass", "warn", "fail", "not_assessable", "not_yet_assessable", "pending"]

_RULE_ID = re.compile(r"^[a-z]+(\.[a-z_]+)+$")
_DRILL_ID = re.compile(r"^[a-z0-9_]+$")
_POSTURES = ("auto", "standing", "sitting")


@dataclass(frozen=True, slots=True)
class StepTiming:
    """When a rule must start passing in a step, and for how long it must keep passing.

    The onset is the first passing frame after the step starts; the hold is the longest
    run of passing frames that no ``warn``/``fail`` frame breaks (a frame the rule cannot
    judge, e.g. the face briefly lost, neither breaks nor extends it). A late onset or a
    short hold warns; never passing in a step that judged the rule fails.
    """

    rule: str
    within_s: float
    hold_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "within_s": self.within_s, "hold_s": self.hold_s}


@dataclass(frozen=True, slots=True)
class DrillStep:
    """One step: what to do, for how long, and which rules (and events) judge it."""

    id: str
    title_zh: str
    title_en: str
    instruction_zh: str
    instruction_en: str
    duration_s: float
    rules: tuple[str, ...] = ()
    expect_events: tuple[str, ...] = ()
    posture: PostureName | None = None
    #: A timed requirement ("smile within 2 s of the customer arriving, hold it"): this
    #: rule must pass within ``within_s`` of the step's start and keep passing ``hold_s``.
    timing: StepTiming | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "instruction_zh": self.instruction_zh,
            "instruction_en": self.instruction_en,
            "duration_s": self.duration_s,
            "rules": list(self.rules),
            "expect_events": list(self.expect_events),
            "posture": self.posture,
            "timing": None if self.timing is None else self.timing.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Drill:
    """A drill (one short exercise) or a scenario (a fixed sequence of steps)."""

    id: str
    kind: DrillKind
    title_zh: str
    title_en: str
    summary_zh: str
    summary_en: str
    posture: PostureName
    steps: tuple[DrillStep, ...]

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.steps)

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule id any step judges, in first-use order."""
        seen: dict[str, None] = {}
        for s in self.steps:
            for r in s.rules:
                seen.setdefault(r, None)
        return tuple(seen)

    def to_dict(self, known_rules: Iterable[str] | None = None) -> dict[str, Any]:
        """JSON form; with ``known_rules``, lists the rules that cannot be judged yet."""
        d: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "summary_zh": self.summary_zh,
            "summary_en": self.summary_en,
            "posture": self.posture,
            "duration_s": self.duration_s,
            "steps": [s.to_dict() for s in self.steps],
        }
        if known_rules is not None:
            known = set(known_rules)
            d["not_yet_assessable"] = [r for r in self.rule_ids if r not in known]
            for sd, step in zip(d["steps"], self.steps, strict=True):
                sd["assessable"] = any(r in known for r in step.rules)
        return d


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: `{key}` must be a non-empty string")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    return tuple(value)


def _posture(value: Any, where: str) -> PostureName:
    if value not in _POSTURES:
        raise ConfigError(f"{where}: posture must be one of {', '.join(_POSTURES)}, got {value!r}")
    return value  # type: ignore[no-any-return]


def _timing(value: Any, rules: tuple[str, ...], duration_s: float, where: str) -> StepTiming | None:
    """``timing = { rule = "face.smile", within_s = 2, hold_s = 3 }`` of a step, checked."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"rule", "within_s", "hold_s"}:
        raise ConfigError(f"{where}: `timing` must be a table with exactly rule, within_s and hold_s")
    rule = value["rule"]
    if rule not in rules:
        raise ConfigError(f"{where}: timing rule {rule!r} must be one of the step's rules")
    nums = [value["within_s"], value["hold_s"]]
    if any(not isinstance(v, int | float) or isinstance(v, bool) or v < 0 for v in nums):
        raise ConfigError(f"{where}: timing within_s and hold_s must be numbers >= 0")
    within_s, hold_s = float(nums[0]), float(nums[1])
    if within_s + hold_s > duration_s:
        raise ConfigError(f"{where}: timing needs within_s + hold_s ({within_s + hold_s:g} s) "
                          f"<= the step's duration_s ({duration_s:g} s)")
    return StepTiming(str(rule), within_s, hold_s)


def parse_drill(data: Mapping[str, Any], source: str = "<drill>") -> Drill:
    """Validate one drill table (as read from TOML) and build a :class:`Drill`."""
    drill_id = data.get("id")
    if not isinstance(drill_id, str) or not _DRILL_ID.match(drill_id):
        raise ConfigError(f"{source}: `id` must match [a-z0-9_]+, got {drill_id!r}")
    where = f"{source} ({drill_id})"
    kind = data.get("kind", "drill")
    if kind not in ("drill", "scenario"):
        raise ConfigError(f"{where}: kind must be 'drill' or 'scenario', got {kind!r}")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ConfigError(f"{where}: needs at least one [[steps]] table")
    steps: list[DrillStep] = []
    seen: set[str] = set()
    for i, st in enumerate(raw_steps):
        sw = f"{where} step {i + 1}"
        if not isinstance(st, dict):
            raise ConfigError(f"{sw}: must be a table")
        sid = st.get("id")
        if not isinstance(sid, str) or not _DRILL_ID.match(sid) or sid in seen:
            raise ConfigError(f"{sw}: `id` must be a unique [a-z0-9_]+ string, got {sid!r}")
        seen.add(sid)
        dur = st.get("duration_s")
        if not isinstance(dur, int | float) or isinstance(dur, bool) or not 0 < dur <= 600:
            raise ConfigError(f"{sw}: `duration_s` must be a number in (0, 600] s, got {dur!r}")
        rules = _strings(st, "rules", sw)
        bad = [r for r in rules if not _RULE_ID.match(r)]
        if bad:
            raise ConfigError(f"{sw}: malformed rule ids {bad}")
        timing = _timing(st.get("timing"), rules, float(dur), sw)
        steps.append(
            DrillStep(
                id=sid,
                title_zh=_text(st, "title_zh", sw),
                title_en=_text(st, "title_en", sw),
                instruction_zh=_text(st, "instruction_zh", sw),
                instruction_en=_text(st, "instruction_en", sw),
                duration_s=float(dur),
                rules=rules,
                expect_events=_strings(st, "expect_events", sw),
                posture=None if st.get("posture") is None else _posture(st["posture"], sw),
                timing=timing,
            )
        )
    return Drill(
        id=drill_id,
        kind=kind,
        title_zh=_text(data, "title_zh", where),
        title_en=_text(data, "title_en", where),
        summary_zh=_text(data, "summary_zh", where),
        summary_en=_text(data, "summary_en", where),
        posture=_posture(data.get("posture", "auto"), where),
        steps=tuple(steps),
    )


def load_drills(folder: Path | None = None) -> dict[str, Drill]:
    """Load every ``*.toml`` drill (default: the packaged ones), keyed by id, sorted."""
    out: dict[str, Drill] = {}
    if folder is None:
        root = resources.files("posture_coach") / "data" / "drills"
        files = [(f.name, f.read_text(encoding="utf-8")) for f in root.iterdir()
                 if f.name.endswith(".toml")]
    else:
        files = [(p.name, p.read_text(encoding="utf-8")) for p in folder.glob("*.toml")]
    for name, text in sorted(files):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{name}: not valid TOML: {exc}") from exc
        drill = parse_drill(data, name)
        if drill.id in out:
            raise ConfigError(f"{name}: duplicate drill id {drill.id!r}")
        out[drill.id] = drill
    return out


def steps_not_seen(drill: Drill, assessable_s: Mapping[str, float | None],
                   events_judged: Mapping[str, int | None]) -> list[DrillStep]:
    """The steps of a scenario that a recording of it does not show.

    A live run times its steps; a recording uploaded as the scenario has no steps, so what
    it shows is read from its results: a step that expects events (a bow, a handshake, a
    card handed over) is seen when one of its event rules judged an event, and the seated
    step when a sitting rule could judge some time. Other steps (standing and smiling)
    leave nothing to tell them apart and are not asked for. ``assessable_s``: seconds each
    rule could judge; ``events_judged``: events each event rule judged."""
    from .rules import RULES_BY_ID

    missing: list[DrillStep] = []
    for step in drill.steps:
        if step.expect_events:
            on_close = [r for r in step.rules if r in RULES_BY_ID and RULES_BY_ID[r].judged_on_close]
            seen = any((events_judged.get(r) or 0) > 0 for r in on_close)
        elif step.posture == "sitting":
            seen = any((assessable_s.get(r) or 0.0) > 0.0 for r in step.rules if r.startswith("sitting."))
        else:
            continue
        if not seen:
            missing.append(step)
    return missing


@dataclass
class _Timer:
    """Onset and longest unbroken hold of one rule's passing, in one step (ms from its start)."""

    onset_ms: int | None = None
    run_start_ms: int | None = None
    last_pass_ms: int | None = None
    best_hold_ms: int = 0
    judged: bool = False

    def add(self, at_ms: int, status: str) -> None:
        if status == "unknown":
            return
        self.judged = True
        if status != "pass":
            self.run_start_ms = None
            return
        if self.onset_ms is None:
            self.onset_ms = at_ms
        if self.run_start_ms is None:
            self.run_start_ms = at_ms
        self.last_pass_ms = at_ms
        self.best_hold_ms = max(self.best_hold_ms, at_ms - self.run_start_ms)

    @property
    def holding_ms(self) -> int:
        """The run of passing frames going on now (0: not passing)."""
        if self.run_start_ms is None or self.last_pass_ms is None:
            return 0
        return self.last_pass_ms - self.run_start_ms

    def outcome(self, timing: StepTiming) -> StepOutcome:
        if not self.judged:
            return "not_assessable"
        if self.onset_ms is None:
            return "fail"
        if self.onset_ms > timing.within_s * 1000 or self.best_hold_ms < timing.hold_s * 1000:
            return "warn"
        return "pass"

    def to_dict(self, timing: StepTiming) -> dict[str, Any]:
        return {**timing.to_dict(), "outcome": self.outcome(timing),
                "onset_s": None if self.onset_ms is None else round(self.onset_ms / 1000, 2),
                "held_s": round(self.best_hold_ms / 1000, 2)}


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("pass", "warn", "fail", "unknown"), 0))
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, reason: str | None) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        if status == "unknown" and reason:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def outcome(self, warn_ratio: float, fail_ratio: float) -> StepOutcome:
        judged = self.counts["pass"] + self.counts["warn"] + self.counts["fail"]
        if judged == 0:
            return "not_assessable"
        if self.counts["fail"] / judged >= fail_ratio:
            return "fail"
        if (self.counts["fail"] + self.counts["warn"]) / judged >= warn_ratio:
            return "warn"
        return "pass"

    def to_dict(self) -> dict[str, Any]:
        top = max(self.reasons, key=lambda k: self.reasons[k]) if self.reasons else None
        return {"counts": dict(self.counts), "reason": top}


_WORST: dict[str, int] = {
    "pending": -2, "not_yet_assessable": -1, "not_assessable": -1, "pass": 0, "warn": 1, "fail": 2,
}


class DrillRunner:
    """Step a drill along the session clock and tally the verdicts of each step's rules.

    A rule counts as failed for a step when at least ``fail_ratio`` of its judged frames
    failed, as a warning when ``warn_ratio`` of them were warn or fail (the ratios are
    for the drill summary, not per-frame thresholds). Expected events (``handshake``…)
    that never happen within the step's window fail the step.
    """

    def __init__(
        self,
        drill: Drill,
        known_rules: Iterable[str] | None = None,
        *,
        warn_ratio: float = 0.3,
        fail_ratio: float = 0.3,
        event_grace_ms: int = 1000,
    ) -> None:
        self.drill = drill
        self.event_grace_ms = event_grace_ms
        self.known_rules = None if known_rules is None else frozenset(known_rules)
        self.warn_ratio = warn_ratio
        self.fail_ratio = fail_ratio
        self._t0: int | None = None
        self._index = 0
        self._tallies: list[dict[str, _Tally]] = [{} for _ in drill.steps]
        self._timers: list[_Timer] = [_Timer() for _ in drill.steps]
        self._events: list[set[str]] = [set() for _ in drill.steps]
        #: When each kind of action was seen (drill seconds from its start): a handshake made
        #: outside the handshake step is said as such, not only "no handshake".
        self._event_times: dict[str, list[float]] = {}
        self._ends_ms: list[int] = []
        acc = 0.0
        for s in drill.steps:
            acc += s.duration_s
            self._ends_ms.append(round(acc * 1000))

    def assessable(self, rule_id: str) -> bool:
        return self.known_rules is None or rule_id in self.known_rules

    def start(self, t_ms: int) -> None:
        self._t0 = t_ms
        self._index = 0

    @property
    def done(self) -> bool:
        return self._index >= len(self.drill.steps)

    @property
    def step_index(self) -> int:
        return self._index

    def current(self) -> DrillStep | None:
        return None if self.done else self.drill.steps[self._index]

    def update(
        self,
        t_ms: int,
        verdicts: Mapping[str, Mapping[str, Any]],
        events: Sequence[Any] = (),
    ) -> dict[str, Any]:
        """Advance to the step ``t_ms`` falls in, tally this frame, return the live state."""
        if self._t0 is None:
            self.start(t_ms)
        assert self._t0 is not None
        elapsed = t_ms - self._t0
        while not self.done and elapsed >= self._ends_ms[self._index]:
            self._index += 1
        if not self.done:
            step = self.drill.steps[self._index]
            tallies = self._tallies[self._index]
            for rid in step.rules:
                v = verdicts.get(rid)
                if v is None:
                    continue
                status = str(v.get("status", "unknown"))
                tallies.setdefault(rid, _Tally()).add(status, v.get("reason"))
                if step.timing is not None and rid == step.timing.rule:
                    start = self._ends_ms[self._index - 1] if self._index else 0
                    self._timers[self._index].add(elapsed - start, status)
        for ev in events:
            name = (ev.get("type") or ev.get("event") or ev.get("name")) if isinstance(
                ev, Mapping) else ev
            if isinstance(name, str):
                for i in self._steps_during(ev, elapsed):
                    self._events[i].add(name)
                began = ev.get("start_ms") if isinstance(ev, Mapping) else None
                at = float(began - self._t0) if isinstance(began, int | float) and self._t0 is not None \
                    else float(elapsed)
                self._event_times.setdefault(name, []).append(round(max(0.0, at / 1000.0), 1))
        return self.state(elapsed)

    def _steps_during(self, ev: Any, elapsed: int) -> list[int]:
        """The steps an event belongs to: those its time overlaps, give or take
        ``event_grace_ms`` (a handshake that began a moment early, or closed after the
        step ended, is still the handshake step's). An event reported without its times
        belongs to the step it was reported in."""
        last = min(self._index, len(self.drill.steps) - 1)
        start, end = (ev.get("start_ms"), ev.get("end_ms")) if isinstance(ev, Mapping) else (None, None)
        if self._t0 is None or not isinstance(start, int | float) or not isinstance(end, int | float):
            return [] if self.done else [last]
        lo, hi = start - self._t0 - self.event_grace_ms, end - self._t0 + self.event_grace_ms
        steps = [i for i in range(last + 1)
                 if (self._ends_ms[i - 1] if i else 0) < hi and lo < self._ends_ms[i]]
        return steps or ([] if self.done else [last])

    def state(self, elapsed_ms: int) -> dict[str, Any]:
        """Where the drill is: step index, seconds left in the step and in the drill."""
        step = self.current()
        left_step = 0.0 if self.done else (self._ends_ms[self._index] - elapsed_ms) / 1000
        timing: dict[str, Any] | None = None
        if step is not None and step.timing is not None:
            timer = self._timers[self._index]
            timing = {**step.timing.to_dict(),
                      "onset_s": None if timer.onset_ms is None else round(timer.onset_ms / 1000, 1),
                      "holding_s": round(timer.holding_ms / 1000, 1),
                      "held_s": round(timer.best_hold_ms / 1000, 1)}
        return {
            "id": self.drill.id,
            "step": self._index,
            "steps": len(self.drill.steps),
            "step_id": None if step is None else step.id,
            "step_left_s": round(max(0.0, left_step), 1),
            "left_s": round(max(0.0, (self._ends_ms[-1] - elapsed_ms) / 1000), 1),
            "done": self.done,
            "timing": timing,  # a timed step's progress: onset, the hold going on, the best hold
        }

    def _rule_outcome(self, step_i: int, rid: str) -> tuple[StepOutcome, dict[str, Any]]:
        if not self.assessable(rid):
            return "not_yet_assessable", {"counts": {}, "reason": "rule_not_implemented"}
        tally = self._tallies[step_i].get(rid)
        if tally is None:
            return ("pending" if step_i >= self._index else "not_assessable"), {
                "counts": {}, "reason": None}
        return tally.outcome(self.warn_ratio, self.fail_ratio), tally.to_dict()

    def result(self) -> dict[str, Any]:
        """Per-step, per-rule outcomes; steps not reached yet are ``pending``."""
        steps: list[dict[str, Any]] = []
        for i, step in enumerate(self.drill.steps):
            rules: dict[str, Any] = {}
            outcomes: list[StepOutcome] = []
            for rid in step.rules:
                outcome, detail = self._rule_outcome(i, rid)
                rules[rid] = {"outcome": outcome, **detail}
                outcomes.append(outcome)
            judged = [o for o in outcomes if o in ("pass", "warn", "fail")]
            assessable_any = bool(judged)
            worst: StepOutcome
            if judged:
                worst = max(judged, key=lambda o: _WORST[o])
            elif "pending" in outcomes:
                worst = "pending"
            elif "not_assessable" in outcomes:
                worst = "not_assessable"
            else:
                worst = "not_yet_assessable" if step.rules else "pass"
            timing: dict[str, Any] | None = None
            if step.timing is not None and self.assessable(step.timing.rule):
                timing = self._timers[i].to_dict(step.timing)
                # A finished step, or the step a stopped run ended in: a smile held 0.6 of
                # the 3 s asked is no "pass" because the run stopped (the drill itself says
                # it is incomplete).
                if timing["outcome"] in ("pass", "warn", "fail") and (i < self._index
                                                                    or (i == self._index and assessable_any)):
                    worst = max((worst, timing["outcome"]), key=lambda o: _WORST[o])
            missing = [e for e in step.expect_events if e not in self._events[i]]
            if i < self._index and missing and assessable_any:
                worst = "fail"
            if i > self._index and worst != "not_yet_assessable":
                worst = "pending"
            steps.append({
                "id": step.id,
                "title_zh": step.title_zh,
                "title_en": step.title_en,
                "outcome": worst,
                "rules": rules,
                "missing_events": missing if i < self._index else [],
                # A missing action that was made at another time (drill seconds): "the
                # handshake came at 7.7 s, outside its step", not a contradiction of the
                # rule table that judged it.
                "missing_seen_at": {e: self._event_times[e] for e in (missing if i < self._index else [])
                                    if e in self._event_times},
                "timing": timing,
            })
        not_seen = [{"id": st["id"], "title_zh": st["title_zh"], "title_en": st["title_en"]}
                    for i, st in enumerate(steps) if (i < self._index or self.done) and _step_not_seen(st)]
        return {"id": self.drill.id, "kind": self.drill.kind, "done": self.done, "steps": steps,
                "steps_not_seen": not_seen, "outcome": drill_outcome(self.drill.kind, self.done, steps, not_seen)}


def _step_not_seen(step: Mapping[str, Any]) -> bool:
    """A finished step that showed nothing to judge: none of its rules could judge it, or an
    action it asks for (a bow, a handshake, a card) never happened in its time."""
    return step["outcome"] == "not_assessable" or bool(step["missing_events"])


def drill_outcome(kind: str, done: bool, steps: Sequence[Mapping[str, Any]],
                  not_seen: Sequence[Mapping[str, Any]]) -> str:
    """The run's one word: ``incomplete`` (stopped part-way, or a scenario with steps not
    seen: the HR self-check is the whole scenario, so a run without its handshake is no
    pass), ``not_assessable`` (no step could be judged), else the worst judged step
    (``fail``, ``warn``, ``pass``). A practice drill is judged on the steps it could see."""
    if not done:
        return "incomplete"
    judged = [str(st["outcome"]) for st in steps if st["outcome"] in ("pass", "warn", "fail")]
    if not judged:
        return "not_assessable"
    if kind == "scenario" and not_seen:
        return "incomplete"
    return max(judged, key=lambda o: _WORST[o])
