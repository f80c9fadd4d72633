"""Interaction events: small state machines that open, update and close events.

An event (a handover, a handshake, a bow, a face touch, a pointing gesture, looking at a
received card) is a stretch of time during which a per-frame cue holds. Each
:class:`EventMachine` applies hysteresis on the cue level (opens at ``on_level``, stays
open down to ``off_level``), a hold time to open (``open_ms``: a flicker never opens an
event) and to close (``close_ms``: a one-frame dropout never splits one), and drops events
shorter than ``min_ms``. It keeps the start/end times, the peak frame and the values at
the peak, and per-key aggregates (max, min, mean, share of frames true) as evidence for
reports.

:class:`InteractionEvents` runs one machine per event kind on the cues from
:func:`posture_coach.interaction_features.interaction_values` and returns, per frame,
flat ``ev_*`` features for the rules (:mod:`posture_coach.rules.interaction`), which
judge an event on the frame it closes.

Pure Python (no numpy, no cv2, no mediapipe), timestamps in milliseconds.
"""

from __future__ import annotations

import statistics
import tomllib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture_coach.interaction_features import partner_in_view, pointing_shown
from posture_coach.rules.base import Param

Values = Mapping[str, float | None]

#: The repository's interaction calibration (until merged into default.toml).

#: Event kinds, in a fixed order.
EVENT_KINDS: tuple[str, ...] = ("handover", "handshake", "bow", "face_touch", "pointing", "card_view")


@dataclass(slots=True)
class Event:
    """One event: when, how long, the peak frame and what was measured."""

    kind: str
    start_ms: int
    end_ms: int | None = None
    frames: int = 0
    peak_frame: int = -1
    peak_ms: int = 0
    peak_level: float = float("-inf")
    peak_values: dict[str, float | None] = field(default_factory=dict)
    maxima: dict[str, float] = field(default_factory=dict)
    minima: dict[str, float] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    last_ms: int = 0
    track: str | None = None  # a per-frame value kept as a series (the hold, see held_ms)
    series: list[tuple[int, float]] = field(default_factory=list)

    @property
    def duration_ms(self) -> int:
        return (self.end_ms if self.end_ms is not None else self.last_ms) - self.start_ms

    @property
    def duration_s(self) -> float:
        return self.duration_ms / 1000.0

    def add(self, t_ms: int, frame: int, level: float, values: Values, keys: tuple[str, ...]) -> None:
        self.frames += 1
        self.last_ms = t_ms
        if level > self.peak_level:
            self.peak_level, self.peak_frame, self.peak_ms = level, frame, t_ms
            self.peak_values = {k: values.get(k) for k in keys}
        if self.track is not None:
            y = values.get(self.track)
            if y is not None:
                self.series.append((t_ms, y))
        for k in keys:
            x = values.get(k)
            if x is None:
                continue
            if k not in self.maxima or x > self.maxima[k]:
                self.maxima[k] = x
            if k not in self.minima or x < self.minima[k]:
                self.minima[k] = x
            self.sums[k] = self.sums.get(k, 0.0) + x
            self.counts[k] = self.counts.get(k, 0) + 1

    def held_ms(self, tolerance: float) -> int | None:
        """The hold: from the first to the last frame whose tracked value lies on the plateau,
        the band ``tolerance`` wide holding the most frames (the way in and out, and a
        leftover from a previous gesture, fall outside it). ``None`` without a series."""
        if len(self.series) < 2:
            return None
        ys = sorted(y for _, y in self.series)
        best, lo, j = 0, ys[0], 0
        for i, y in enumerate(ys):  # two pointers: the densest window [ys[j], ys[i]]
            while y - ys[j] > tolerance:
                j += 1
            if i - j + 1 > best:
                best, lo = i - j + 1, ys[j]
        ts = [t for t, y in self.series if lo <= y <= lo + tolerance]
        return ts[-1] - ts[0]

    def mean(self, key: str) -> float | None:
        """Mean over the frames where ``key`` was measured (for 0/1 flags: the share true)."""
        n = self.counts.get(key, 0)
        return self.sums[key] / n if n else None

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "type": self.kind, "start_ms": self.start_ms, "end_ms": self.end_ms,
            "duration_s": round(self.duration_s, 3), "frames": self.frames,
            "peak_frame": self.peak_frame, "peak_ms": self.peak_ms, "peak_level": r(self.peak_level),
            "peak": {k: r(v) for k, v in self.peak_values.items()},
            "max": {k: r(v) for k, v in self.maxima.items()},
            "mean": {k: r(self.mean(k)) for k in self.counts},
        }


@dataclass(frozen=True, slots=True)
class EventStep:
    """What one frame did to a machine."""

    active: Event | None = None  # the open event (after this frame), if any
    opened: Event | None = None  # an event opened on this frame (back-dated to its first frame)
    closed: Event | None = None  # an event closed on this frame and was long enough
    dropped: Event | None = None  # an event closed on this frame but was too short (or too long)
    drop_reason: str | None = None  # "too_short" or "too_long"


class EventMachine:
    """Hysteresis + hold times + minimum duration for one kind of event.

    ``update(t_ms, frame, level, values)``: ``level`` is the cue (a flag 0/1 or a
    magnitude such as a lean in degrees); ``None`` = not measurable in this frame, which
    never opens anything and, while an event is open, counts as "cue gone" only once it
    has lasted ``close_ms`` since the cue was last seen.

    ``max_ms``: an event whose cue holds longer is no event of this kind (a forward lean
    held for many seconds is a posture, not a bow): it is dropped at once, and nothing
    opens again until the cue has fallen below ``off_level``.
    """

    def __init__(self, kind: str, *, on_level: float = 0.5, off_level: float | None = None,
                 open_ms: float = 200.0, close_ms: float = 400.0, min_ms: float = 500.0,
                 max_ms: float | None = None, keys: tuple[str, ...] = (), track: str | None = None) -> None:
        self.kind = kind
        self.on_level = on_level
        self.off_level = on_level if off_level is None else off_level
        if self.off_level > self.on_level:
            raise ValueError(f"{kind}: off_level must not exceed on_level")
        self.open_ms = open_ms
        self.close_ms = close_ms
        self.min_ms = min_ms
        self.max_ms = max_ms
        self.keys = keys
        self.track = track
        self._pending: Event | None = None
        self._open: Event | None = None
        self._last_on: int | None = None
        self._too_long = False  # the last event outlasted max_ms: wait for the cue to fall

    @property
    def active(self) -> Event | None:
        return self._open

    @property
    def busy(self) -> bool:
        """An event is open or about to open (the cue is on, not yet for ``open_ms``)."""
        return self._open is not None or self._pending is not None

    def update(self, t_ms: int, frame: int, level: float | None, values: Values) -> EventStep:
        if self._open is None:
            if level is not None and level < self.off_level:
                self._too_long = False
            if level is None and self._pending is not None and not self._too_long:
                # Not measurable (a hand lost for a frame or two) is no evidence against the
                # cue: the opening waits, as an open event does, up to close_ms.
                assert self._last_on is not None
                if t_ms - self._last_on >= self.close_ms:
                    self._pending = None
                return EventStep()
            if level is None or level < self.on_level or self._too_long:
                self._pending = None
                return EventStep()
            if self._pending is None:
                self._pending = Event(self.kind, t_ms, track=self.track)
            self._pending.add(t_ms, frame, level, values, self.keys)
            self._last_on = t_ms
            if t_ms - self._pending.start_ms >= self.open_ms:
                self._open, self._pending = self._pending, None
                return EventStep(active=self._open, opened=self._open)
            return EventStep()
        ev = self._open
        if level is not None and level >= self.off_level:
            ev.add(t_ms, frame, level, values, self.keys)
            self._last_on = t_ms
            if self.max_ms is not None and ev.duration_ms > self.max_ms:
                self._open, self._pending, self._too_long = None, None, True
                return EventStep(dropped=ev, drop_reason="too_long")
            return EventStep(active=ev)
        assert self._last_on is not None
        if t_ms - self._last_on >= self.close_ms:
            return self._close(self._last_on)
        return EventStep(active=ev)

    def _close(self, end_ms: int) -> EventStep:
        ev = self._open
        assert ev is not None
        ev.end_ms = end_ms
        self._open = None
        self._pending = None
        if ev.duration_ms >= self.min_ms:
            return EventStep(closed=ev)
        return EventStep(dropped=ev, drop_reason="too_short")

    def finish(self) -> EventStep:
        """Close an open event at the end of a session (at the last frame it was seen)."""
        if self._open is None or self._last_on is None:
            return EventStep()
        return self._close(self._last_on)

    def reset(self) -> None:
        self._pending = self._open = None
        self._last_on = None
        self._too_long = False


# -- the interaction event set ---------------------------------------------------------------


def _flag_any(*keys: str) -> Callable[[Values], float | None]:
    def level(v: Values) -> float | None:
        xs = [v.get(k) for k in keys]
        seen = [x for x in xs if x is not None]
        if not seen:
            return None
        return max(seen)

    return level


def _handover_level(v: Values) -> float | None:
    # Hands held out at chest height towards the receiver; the handshake cue (one hand
    # out, the other down, not together) is a handshake, not a handover.
    reach = _flag_any("reach_l", "reach_r")(v)
    if reach is None:
        return None
    if v.get("arms_folded") == 1.0:
        return 0.0  # wrists together or crossed over: folded arms, nothing held out
    if v.get("two_hands_out") == 1.0 or v.get("hands_together") == 1.0:
        # Both hands held out (or together on one thing): a handover; with a partner the
        # joined-hands cue fires for a card passed between hands too, and a handshake is one hand.
        if (partner_in_view(v) and v.get("tp_handshake") == 1.0
                and 1.0 in (v.get("wrist_chest_l"), v.get("wrist_chest_r"))):
            # In a role-play the receiver's hands are the target, not the camera: both hands
            # together at chest height, meeting the other person's between them, are a card
            # passed over even when the reach towards the camera's axis is not seen (at an
            # angle it flickers: roleplay render 11140).
            return 1.0
        return reach
    if partner_in_view(v):
        return 0.0 if v.get("tp_handshake") == 1.0 else reach
    # One hand reaching alone: a handover only if a card grip (two pinches) or that hand
    # closed round something was seen, else a handshake.
    if v.get("card_grip") == 1.0:
        return reach
    gripping = any(v.get(f"reach_{s}") == 1.0 and v.get(f"grip_{s}") == 1.0 for s in ("l", "r"))
    return reach if gripping else 0.0


def _handshake_level(v: Values) -> float | None:
    tp = v.get("tp_handshake")
    if tp is not None:
        both = v.get("two_hands_out") == 1.0 or v.get("hands_together") == 1.0
        if both:
            return 0.0  # both hands out: a handover
        chest = [v.get("wrist_chest_l"), v.get("wrist_chest_r")]
        if tp == 1.0 and any(c is not None for c in chest) and 1.0 not in chest:
            return 0.0  # hands hanging that meet in the image: a handshake is offered at waist-chest height
        return tp
    return v.get("handshake_alone")


def _bow_level(v: Values) -> float | None:
    # A bow greets (seed 002: 打招呼时身体微微前倾): a lean with a hand held out belongs to
    # that handshake or handover, not to a bow. Seated, a forward lean is the posture (a
    # slight lean towards the customer, or a slump over the desk), not a greeting: one
    # stands up to greet (起身相迎). A slump at a laptop was read as a bow.
    if v.get("seated") == 1.0:
        return 0.0
    if v.get("handshake_alone") == 1.0 or v.get("tp_handshake") == 1.0 or 1.0 in (v.get("reach_l"), v.get("reach_r")):
        return 0.0
    # Two readings of the lean: the interaction's (the judged bow lean) and the standing
    # rule's (hip offset, the turn undone by the body's yaw). At an angle they differ by a
    # few degrees (eval_onboarding's see-off bow: 7.7 and 10.5): a lean the upright rule
    # fails opens a bow too, so a brief greeting is not scored as a hunch.
    levels = [x for x in (v.get("lean_deg"), v.get("sagittal_lean_deg")) if x is not None]
    return max(levels) if levels else None


def _face_touch_level(v: Values) -> float | None:
    # Closer = higher, so the event's peak frame (whose region is reported) is the touch
    # itself, not the first frame of the finger's way in.
    code = v.get("face_touch_code")
    if code is None:
        return None
    if code <= 0:
        return 0.0
    fw = v.get("face_touch_fw")
    return 2.0 - min(fw, 1.0) if fw is not None else 1.0


def _pointing_level(p: Mapping[str, float]) -> Callable[[Values], float | None]:
    def level(v: Values) -> float | None:
        # The frame's own cue (interaction_values computes it once); values built without
        # it (tests, older recordings' replays) get it computed the same way.
        return v["pointing_shown"] if "pointing_shown" in v else pointing_shown(v, p)

    return level


def _card_view_level(p: Mapping[str, float]) -> Callable[[Values], float | None]:
    def level(v: Values) -> float | None:
        down, together = v.get("head_down_ratio"), v.get("hands_together")
        if down is None or together is None:
            return None
        chest = (v.get("wrist_chest_l") or 0.0) + (v.get("wrist_chest_r") or 0.0) >= 1.0
        reaching = (v.get("reach_l") or 0.0) + (v.get("reach_r") or 0.0) > 0.0
        return 1.0 if down >= p["look_down_min_ratio"] and together == 1.0 and chest and not reaching else 0.0

    return level


#: Evidence kept per event kind (per-frame cue names).
EVENT_KEYS: dict[str, tuple[str, ...]] = {
    "handover": ("hands_together", "two_hands_out", "card_grip", "grip_l", "grip_r", "reach_l", "reach_r",
                 "wrists_gap_sw", "lean_deg", "lean_source_side"),
    "handshake": ("lean_deg", "tp_lean_deg", "lean_source_side", "handshake_hand_right", "looking_at_target",
                  "tp_distance_m", "head_yaw_ratio"),
    "bow": ("lean_deg", "lean_source_side", "head_down_ratio"),
    "face_touch": ("face_touch_code", "face_touch_fw"),
    "pointing": ("pointing_l", "pointing_r", "open_palm_l", "open_palm_r"),
    "card_view": ("head_down_ratio", "wrists_gap_sw"),
}


class UprightLean:
    """The person's own upright reading of a lean cue: the median over the last
    ``window_ms`` of quiet frames (no greeting under way, no hand held out), each within
    ``max_deg`` of vertical.

    MediaPipe reads an upright trunk 1-5° behind vertical (partly its hip points on the
    front of the hip crease), differently per person and camera; a greeting's lean is the
    change from that, as a trainer sees it. ``None`` until ``min_ms`` of quiet frames.
    """

    def __init__(self, window_ms: float, min_ms: float, max_deg: float) -> None:
        self.window_ms, self.min_ms, self.max_deg = window_ms, min_ms, max_deg
        self._samples: deque[tuple[int, float]] = deque()

    def push(self, t_ms: int, lean: float) -> None:
        if abs(lean) > self.max_deg:
            return
        self._samples.append((t_ms, lean))
        while self._samples and t_ms - self._samples[0][0] > self.window_ms:
            self._samples.popleft()

    def value(self) -> float | None:
        if not self._samples or self._samples[-1][0] - self._samples[0][0] < self.min_ms:
            return None
        return float(statistics.median(v for _, v in self._samples))


#: The lean cues whose greeting maxima are read against the person's upright reading.
UPRIGHT_KEYS: tuple[str, ...] = ("lean_deg", "tp_lean_deg")


class InteractionEvents:
    """One machine per event kind, fed with one frame's interaction cues.

    ``update`` returns ``(features, events)``: flat ``ev_*`` values for the rules on this
    frame, and the opened/closed events as JSON-ready dicts for the timeline.
    """

    def __init__(self, p: Mapping[str, float]) -> None:
        self.p = p

        def ms(key: str) -> float:
            return float(p[key]) * 1000.0

        def machine(kind: str, track: str | None = None, **kw: float) -> EventMachine:
            return EventMachine(kind, open_ms=ms(f"{kind}_open_s"), close_ms=ms(f"{kind}_close_s"),
                                min_ms=ms(f"{kind}_min_s"), keys=EVENT_KEYS[kind], track=track, **kw)

        # Handover and handshake durations are the hold: the hand within hold_tolerance_tl
        # of the highest it was held, not the arm's way up and back down.
        self.machines: dict[str, EventMachine] = {
            "handover": machine("handover", track="reach_raise_tl"),
            "handshake": machine("handshake", track="reach_raise_tl"),
            "bow": machine("bow", on_level=float(p["bow_open_lean_deg"]), off_level=float(p["bow_close_lean_deg"]),
                           max_ms=ms("bow_max_s")),
            "face_touch": machine("face_touch"),
            "pointing": machine("pointing"),
            "card_view": machine("card_view"),
        }
        self._levels: dict[str, Callable[[Values], float | None]] = {
            "handover": _handover_level,
            "handshake": _handshake_level,
            "bow": _bow_level,
            "face_touch": _face_touch_level,
            "pointing": _pointing_level(p),
            "card_view": _card_view_level(p),
        }
        self.last_closed: dict[str, Event] = {}
        self.upright = {k: UprightLean(ms("upright_window_s"), ms("upright_min_s"), float(p["upright_max_lean_deg"]))
                        for k in UPRIGHT_KEYS}

    def update(self, t_ms: int, frame: int, v: Values) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
        out: dict[str, float | None] = {}
        events: list[dict[str, Any]] = []
        for kind, m in self.machines.items():
            step = m.update(t_ms, frame, self._levels[kind](v), v)
            self._emit(kind, step, out, events, t_ms)
        self._watch_upright(t_ms, v)
        return out, events

    def _watch_upright(self, t_ms: int, v: Values) -> None:
        """Feed the upright readings from quiet frames: no greeting open or opening, no hand out."""
        if any(self.machines[k].busy for k in ("handshake", "handover", "bow")):
            return
        if v.get("reach_l") == 1.0 or v.get("reach_r") == 1.0 or v.get("hands_together") == 1.0:
            return
        side = v.get("lean_source_side") == 1.0  # a front-view estimate is against a baseline already
        for key, tracker in self.upright.items():
            x = v.get(key)
            if x is not None and (side or key != "lean_deg"):
                tracker.push(t_ms, x)

    def finish(self, t_ms: int) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
        """Close every open event at the end of a session."""
        out: dict[str, float | None] = {}
        events: list[dict[str, Any]] = []
        for kind, m in self.machines.items():
            self._emit(kind, m.finish(), out, events, t_ms)
        return out, events

    def _emit(self, kind: str, step: EventStep, out: dict[str, float | None],
              events: list[dict[str, Any]], t_ms: int) -> None:
        out[f"ev_{kind}_active"] = 1.0 if step.active is not None else 0.0
        out[f"ev_{kind}_closed"] = 0.0
        if step.opened is not None:
            events.append({"type": f"{kind}_start", "t_ms": t_ms, "start_ms": step.opened.start_ms})
        if step.dropped is not None:
            # Every opening is answered: a consumer of the stream that saw ``<kind>_start``
            # learns the event will not come (a flicker shorter than min_ms, a held posture).
            events.append({"type": f"{kind}_dropped", "t_ms": t_ms, "start_ms": step.dropped.start_ms,
                           "end_ms": step.dropped.start_ms + step.dropped.duration_ms,
                           "reason": step.drop_reason})
        if step.closed is not None:
            ev = step.closed
            self.last_closed[kind] = ev
            out[f"ev_{kind}_closed"] = 1.0
            upright = {k: u.value() for k, u in self.upright.items()}
            feats = event_features(kind, ev, self.p, upright)
            out.update(feats)
            d = {**ev.to_dict(), "t_ms": t_ms}
            if kind in ("handshake", "bow", "handover"):  # evidence: the lean, and what it is read against
                lean_key = f"ev_{kind}_lean_deg"  # the rules' lean, where they judge one (not a handover's)
                lean = feats[lean_key] if lean_key in feats else judged_lean(ev, upright)
                d["lean_deg"] = None if lean is None else round(lean, 2)
                d["upright"] = {k: round(v, 2) for k, v in upright.items() if v is not None}
            if ev.track is not None:  # the duration the rules judge (the hold, when measured)
                d["held_s"] = round(feats[f"ev_{kind}_duration_s"] or 0.0, 3)
            events.append(d)


def judged_lean(ev: Event, upright: Mapping[str, float | None]) -> float | None:
    """An event's lean: the peak of its lean cue (towards the other person when one is in
    view, else the trunk's) less the person's upright reading of that cue, when known. A
    front-view estimate is left as it is (it is against the calibrated baseline already)."""
    key = "tp_lean_deg" if "tp_lean_deg" in ev.maxima else "lean_deg"
    peak = ev.maxima.get(key)
    if peak is None:
        return None
    base = upright.get(key)
    if key == "lean_deg" and (ev.mean("lean_source_side") or 0.0) < 0.5:
        base = None
    return peak if base is None else peak - base


def event_features(kind: str, ev: Event, p: Mapping[str, float],
                   upright: Mapping[str, float | None] | None = None) -> dict[str, float | None]:
    """The ``ev_<kind>_*`` values a closed event hands to its rules.

    ``upright``: the person's upright reading of each lean cue (:class:`UprightLean`); a
    greeting's lean is its peak less that reading (the peak as it is while none is known).
    """
    upright = upright or {}
    pre = f"ev_{kind}_"
    held = ev.held_ms(p["hold_tolerance_tl"]) if ev.track is not None else None
    out: dict[str, float | None] = {
        pre + "duration_s": ev.duration_s if held is None else held / 1000.0,
        pre + "peak_frame": float(ev.peak_frame),
    }
    if kind == "handover":
        together = ev.mean("two_hands_out")
        if together is None:
            together = ev.mean("hands_together")
        out[pre + "hands_used"] = (
            None if together is None else 2.0 if together >= p["handover_two_hands_share"] else 1.0
        )
    elif kind == "handshake":
        out[pre + "lean_deg"] = judged_lean(ev, upright)
        out[pre + "hand_right"] = ev.mean("handshake_hand_right")
        out[pre + "attention_share"] = ev.mean("looking_at_target")
    elif kind == "bow":
        out[pre + "lean_deg"] = judged_lean(ev, upright)
        out[pre + "side_view"] = ev.mean("lean_source_side")
    elif kind == "face_touch":
        code = ev.peak_values.get("face_touch_code")
        out[pre + "code"] = code
        out[pre + "min_fw"] = ev.minima.get("face_touch_fw")
    elif kind == "pointing":
        out[pre + "open_palm_share"] = max(ev.mean("open_palm_l") or 0.0, ev.mean("open_palm_r") or 0.0)
    return out


# -- calibration -------------------------------------------------------------------------------

#: Schema of the ``[interaction]`` table (cue and event parameters), units in the names.
INTERACTION_PARAMS: tuple[Param, ...] = tuple(
    Param(name, unit, desc) for name, unit, desc in (
        ("min_visibility", "ratio", "joints below this visibility count as not seen"),
        ("min_visibility_hand", "ratio", "the same for wrists and finger points"),
        ("front_min_sw_torso", "ratio", "SW / torso length at or above: front view"),
        ("sw_per_tl_front", "ratio", "SW / torso length of an adult seen from the front"),
        ("lean_min_sin_turn", "ratio", "side/oblique lean: sin of the body's turn from the front, at least"),
        ("chest_min_tl", "tl", "wrist below the shoulder line by at least this: chest height"),
        ("chest_max_tl", "tl", "and by at most this (1 = hip line)"),
        ("hang_min_tl", "tl", "wrist this far or more below the shoulder line: a hand hanging, "
         "neither together with the other nor folded over it"),
        ("reach_min_forward_sw", "sw", "side view: wrist ahead of the shoulder by this: reaching"),
        ("reach_max_forward_sw", "sw", "side view: wrist further ahead: an arm stretched out, not reaching"),
        ("reach_max_forearm_ratio", "ratio", "front: forearm / upper arm at or below: reaching to camera"),
        ("grip_max_hand_scale", "sw", "side/oblique: wrist to pose index point / body scale at or below: hand closed"),
        ("reach_min_hand_sw", "sw", "front: hand size / SW at or above: reaching to camera"),
        ("reach_front_max_out_sw", "sw", "front: a wrist this far outside its shoulder or more: an arm out "
         "to the side, no reach"),
        ("reach_front_inside_min_sw", "sw", "front: a wrist this far inside its shoulder or more: before the body"),
        ("reach_front_inside_max_forearm_ratio", "ratio", "then forearm / upper arm at or below: reaching to camera"),
        ("together_max_gap_sw", "sw", "wrists this close: both hands together"),
        ("together_min_apart_sw", "sw", "and each on its own side at least this far apart (folded arms cross them)"),
        ("folded_max_elbow_span_sw", "sw", "front/oblique: elbows this close together, with the forearms across "
         "or tucked away: folded arms, no handover"),
        ("folded_max_wrist_opp_elbow_sw", "sw", "a wrist this close to the OTHER elbow: the forearms cross"),
        ("folded_max_forearm_sw", "sw", "both forearms this short in 2-D: hands tucked under the other arm "
         "or forearms folded flat across the chest"),
        ("folded_short_max_elbow_span_sw", "sw", "with elbows at most this far apart"),
        ("folded_max_high_wrist_tl", "tl", "both wrists at most this far below the shoulder line: "
         "hands high on the chest"),
        ("folded_high_max_elbow_span_sw", "sw", "then folded arms may keep the elbows this far apart"),
        ("pinch_max_gap_hand", "ratio", "thumb-index tip gap / hand size: a pinch"),
        ("card_min_apart_sw", "sw", "two pinches at least this far apart: a card"),
        ("card_max_apart_sw", "sw", "and at most this far"),
        ("finger_straight_min_deg", "deg", "finger joint angle at or above: straight"),
        ("finger_curled_max_deg", "deg", "finger joint angle at or below: curled"),
        ("point_index_margin_deg", "deg", "or the index straighter than the other fingers' mean by this"),
        ("point_reach_margin_hand", "ratio", "and its tip beyond every other fingertip by this many hand sizes"),
        ("point_reach_3d_margin_hand", "ratio",
         "or its tip beyond every other one by this many hand sizes in 3-D, two others not straight"),
        ("palm_together_max_deg", "deg", "index vs pinky direction at or below: fingers together"),
        ("shape_min_hand_sw", "sw", "a hand's shape is read only with its wrist-to-knuckle span at least this"),
        ("touch_radius_fw", "fw", "fingertip within this many face widths of a region: touching"),
        ("touch_radius_outer_fw", "fw", "the same for the ear and the scalp (stand-in points)"),
        ("attention_max_yaw_ratio", "ratio", "nose offset / ear span at or below: facing the camera"),
        ("look_down_min_ratio", "ratio", "nose below the ear line / ear span at or above: looking down"),
        ("camera_hfov_deg", "deg", "camera horizontal field of view"),
        ("ipd_m", "m", "adult inter-pupil distance"),
        ("shoulder_width_m", "m", "adult shoulder width"),
        ("front_lean_max_camera_m", "m", "front-view lean from shoulder growth only this near the camera"),
        ("torso_length_m", "m", "adult shoulder-to-hip length"),
        ("join_max_gap_sw", "sw", "two people's closest wrists within this: hands joined"),
        ("join_between_margin_sw", "sw", "joined hands may lie this far outside the pair"),
        ("join_min_clearance_sw", "sw", "joined hands at least this far from either centre line"),
        ("join_min_height_tl", "tl", "joined hands below both shoulder lines by at least this"),
        ("join_max_height_tl", "tl", "and by at most this"),
        ("reach_min_share", "ratio", "a hand this far from its owner towards the other (share of the gap): reaching"),
        ("reach_max_share", "ratio", "and at most this far (beyond: around the other, a hug)"),
        ("reach_min_clearance_sw", "sw", "a reaching hand at least this far out from its owner's centre line"),
        ("hand_probe_half_sw", "sw", "half-size of the square searched for a hidden hand"),
        ("hand_probe_near_sw", "sw", "a detected hand this close to the reaching hand: the other's hand"),
        ("hand_probe_px", "px", "probe crops are resized to this square"),
        ("hug_max_head_gap_sw", "sw", "noses this close and both arms across: a hug, not a handshake"),
        ("hug_min_reach_share", "ratio", "both wrists this far towards the other (share of the gap): arms across"),
        ("pair_max_scale_ratio", "ratio", "people of more different body scale are not paired first"),
        ("join_max_scale_ratio", "ratio", "people of more different body scale are never read as shaking hands"),
        ("paint_forearm_share", "ratio", "body strategy: share of each forearm painted over (from the elbow)"),
        ("paint_limb_width_sw", "sw", "body strategy: painted limb width"),
        ("second_person_min_gap_tl", "tl", "one-person analysis: a second person's shoulders at least this far "
         "to the side of the first's (torso lengths of the larger)"),
        ("second_person_min_size_ratio", "ratio", "and its torso at least this share of the first's"),
        ("second_person_min_share", "ratio", "two people in view when found on this share of the checks"),
        *((f"{k}_{s}_s", "s", f"{k}: {d}") for k in ("handover", "handshake", "bow", "face_touch",
                                                  "pointing", "card_view")
          for s, d in (("open", "cue must hold this long to open"), ("close", "be gone this long to close"),
                       ("min", "shorter events are dropped"))),
        ("handover_two_hands_share", "ratio", "share of a handover with both hands together: two-handed"),
        ("hold_tolerance_tl", "tl", "handover/handshake duration: the hold, wrist height within a band this wide"),
        ("bow_open_lean_deg", "deg", "lean that opens a bow"),
        ("bow_close_lean_deg", "deg", "lean below which a bow closes"),
        ("bow_max_s", "s", "a forward lean held longer is a posture (a hunch), not a greeting bow"),
        ("upright_window_s", "s", "a greeting's lean is read against the person's upright lean over this many seconds"),
        ("upright_min_s", "s", "of quiet frames (no greeting, no hand held out), at least this many"),
        ("upright_max_lean_deg", "deg", "a quiet frame's lean beyond this is no upright reading"),
        ("point_min_face_fw", "fw", "a pointing index this near the face (face widths) or nearer is at the face"),
        ("speed_window_s", "s", "window for the wrist speed"),
    )
)


@dataclass(frozen=True, slots=True)
class InteractionCalibration:
    """The ``[interaction]`` table and the interaction rules' tables of one file."""

    params: Mapping[str, float]
    rules: Mapping[str, Mapping[str, float | int | str | bool]]


def load_interaction_calibration(path: Path | None = None) -> InteractionCalibration:
    """Read the ``[interaction]`` table of ``calibration/default.toml`` (or ``path``); every key is checked.

    Rule tables are returned as they are (temporal keys included); the main loader
    validates them once the file is merged into ``default.toml``.
    """
    if path is None:
        from posture_coach.calibration import default_calibration_path  # avoids an import cycle

        path = default_calibration_path()
    path = Path(path)
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    table = raw.get("interaction")
    if not isinstance(table, dict):
        raise ValueError(f"{path}: missing [interaction] table")
    names = {p.name for p in INTERACTION_PARAMS}
    unknown = set(table) - names
    missing = names - set(table)
    if unknown or missing:
        raise ValueError(f"{path}: [interaction] unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    params: dict[str, float] = {}
    for k, x in table.items():
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise ValueError(f"{path}: [interaction] {k} must be a number, got {x!r}")
        params[k] = float(x)
    rules: dict[str, dict[str, float | int | str | bool]] = {}
    for family, subs in raw.items():
        if family == "interaction" or not isinstance(subs, dict):
            continue
        for sub, t in subs.items():
            if isinstance(t, dict):
                rules[f"{family}.{sub}"] = dict(t)
    return InteractionCalibration(params, rules)
