"""The coach's per-frame loop: Observation in, FrameResult out. No I/O.

>>> engine = CoachEngine(load_calibration())                       # doctest: +SKIP
>>> for obs in observations:                                       # doctest: +SKIP
...     result = engine.update(obs)
>>> engine.summary().to_dict()["overall_score"]                    # doctest: +SKIP

Per frame: features (pure) -> windowed signals (video only) -> posture -> every rule's
pure verdict -> onset/offset debouncing (video only) -> timeline. In ``image`` mode
every observation is judged alone: no windows, no persistence.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from posture_coach.calibration import CalibrationSet, PostureOpt, Profile, personal_smile_params
from posture_coach.errors import ConfigError
from posture_coach.face_features import compute_face_features
from posture_coach.face_temporal import FaceTemporal
from posture_coach.features import Features, Posture, View, compute_features
from posture_coach.geometry import body_scale, midpoint
from posture_coach.grooming_features import grooming_features
from posture_coach.hand_gate import HandGate, rules_need_hands
from posture_coach.interaction_features import InteractionTracker, partner_in_view
from posture_coach.rules import DEFAULT_RULE_IDS, RULES_BY_ID, Rule, Verdict
from posture_coach.rules.base import StateValue
from posture_coach.scoring import SessionSummary, summarise
from posture_coach.temporal import Debouncer, Ema, Episode, Latch, Window, band_amplitude_max
from posture_coach.timeline import Timeline
from posture_coach.types import Observation, PoseLm

Mode = Literal["video", "image"]

__all__ = ["CoachEngine", "FrameResult", "SessionSummary"]


@dataclass(frozen=True, slots=True)
class FrameResult:
    """The coach's reading of one frame."""

    frame: int
    t_ms: int
    person: bool
    view: View
    posture: Posture
    states: dict[str, StateValue]
    verdicts: dict[str, Verdict]
    events: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the CLI adds ``source``, ``frame`` and ``t_ms``."""
        return {
            "person": self.person,
            "view": self.view.to_dict(),
            "states": {k: (round(v, 4) if isinstance(v, float) else v)
                       for k, v in self.states.items()},
            "verdicts": {rid: v.to_dict() for rid, v in self.verdicts.items()},
            "events": list(self.events),
        }


class _Signals:
    """Windowed signals for video: hip sway, leg oscillation, hand fidgeting.

    Positions are pushed in pixels and scaled by an EMA of the shoulder width / torso
    length when read, so a per-frame wobble of the scale does not look like motion.
    """

    def __init__(self, sig: dict[str, float]) -> None:
        self.p = sig
        self.sw = Ema(0.1)
        self.tl = Ema(0.1)
        self.sway = Window(sig["sway_window_s"])
        self.walk = Window(1.0)  # the hips' last second: a walk, or standing
        self.legs = [Window(sig["osc_window_s"]) for _ in range(4)]
        self.legs_source = ""
        self.hands = [Window(sig["osc_window_s"]) for _ in range(4)]
        self.roll = Window(sig["roll_window_s"])  # the standing body's axis, for the camera's roll
        self.posture = "unknown"

    def update(self, obs: Observation, f: Features, want_legs: bool,
               want_hands: bool, posture: str = "unknown") -> dict[str, float | None]:
        out: dict[str, float | None] = {
            "sway_sw": None, "leg_osc_tl": None, "leg_osc_hz": None, "fidget_sw": None,
            "camera_roll_est_deg": None, "walking": None,
        }
        if posture != self.posture:
            # Sitting down or standing up moves the hips, the legs and the hands: none of
            # it is sway, shaking or fidgeting of the new posture (nor is a cut between
            # two shots, onboarding.mp4 at 15 s: the hands "fidgeted" 0.10 SW). Its
            # windows start when it does.
            self.posture = posture
            self.sway.clear()
            self.walk.clear()
            for win in (*self.legs, *self.hands):
                win.clear()
        out["camera_roll_est_deg"] = self._roll(obs.timestamp_ms, f, posture)
        if obs.pose is None or not f.view.shoulders_visible:
            return out
        w, h = obs.image_size
        lm = obs.pose.landmarks
        t = obs.timestamp_ms
        sw = self.sw.update(f.get("sw_px"))
        tl = self.tl.update(f.get("torso_px"))
        fill = self.p["min_fill_ratio"]
        # Sway and fidgeting in shoulder widths from the front: from the side the shoulders
        # overlap in 2-D, and 0.75 torso lengths stand in (geometry.body_scale).
        bs = body_scale(sw, tl) if sw else None

        def px(i: PoseLm) -> tuple[float, float]:
            return (float(lm[i][0]) * w, float(lm[i][1]) * h)

        if f.view.hips_visible and bs:
            hip = midpoint(px(PoseLm.LEFT_HIP), px(PoseLm.RIGHT_HIP))
            self.walk.push(t, hip[0])
            walking = abs(self.walk.x[-1] - self.walk.x[0]) >= self.p["walk_min_sw"] * bs
            out["walking"] = 1.0 if walking else 0.0
            if walking:
                # Walking up to the customer is not swaying: the hips crossed the picture in
                # the last second. The sway of standing starts once they have stopped.
                self.sway.clear()
            self.sway.push(t, hip[0])
            if self.sway.full(fill):
                # Back and forth, not a walk: a steady drift across the picture (walking up
                # to the customer) is taken out before the spread is measured.
                out["sway_sw"] = self.sway.detrended_std() / bs
        else:
            self.sway.clear()
            self.walk.clear()

        # Legs when in view, else the shoulders (RULES.md): never mix the two.
        pts: tuple[PoseLm, ...]
        if f.view.legs_visible:
            src, pts = "legs", (PoseLm.LEFT_KNEE, PoseLm.RIGHT_KNEE,
                                PoseLm.LEFT_ANKLE, PoseLm.RIGHT_ANKLE)
        else:
            src, pts = "shoulders", (PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER)
        if src != self.legs_source:
            for win in self.legs:
                win.clear()
            self.legs_source = src
        for win, i in zip(self.legs, pts, strict=False):
            win.push(t, px(i)[1])
        scale = tl if tl else (sw / 0.7 if sw else None)  # ~SW/TL of an adult, front view
        if want_legs and scale and self.legs[0].full(fill):
            amp, hz = band_amplitude_max(self.legs[0].t, [w.x for w in self.legs[: len(pts)]],
                                         self.p["band_low_hz"], self.p["band_high_hz"],
                                         self.p["osc_min_sustained"])
            out["leg_osc_tl"], out["leg_osc_hz"] = amp / scale, hz

        # Hands relative to the shoulders, so that body sway is not fidgeting.
        sh = midpoint(px(PoseLm.LEFT_SHOULDER), px(PoseLm.RIGHT_SHOULDER))
        wrists = (PoseLm.LEFT_WRIST, PoseLm.RIGHT_WRIST)
        vis = obs.pose.visibility
        for k, i in enumerate(wrists):
            if vis[i] < 0.2 or f.get("elbow_angle_l_deg" if k == 0 else "elbow_angle_r_deg") is None:
                self.hands[2 * k].clear()
                self.hands[2 * k + 1].clear()
                continue
            p = px(i)
            self.hands[2 * k].push(t, p[0] - sh[0])
            self.hands[2 * k + 1].push(t, p[1] - sh[1])
        # x and y of one wrist share their timestamps: one batched FFT per wrist.
        ready = [(self.hands[k], self.hands[k + 1]) for k in (0, 2) if self.hands[k].full(fill)]
        if want_hands and bs and ready:
            amp = max(band_amplitude_max(wx.t, [wx.x, wy.x], self.p["fidget_low_hz"],
                                         self.p["band_high_hz"])[0] for wx, wy in ready)
            out["fidget_sw"] = amp / bs
        return out

    def _roll(self, t: int, f: Features, posture: str) -> float | None:
        """The camera's roll, read from the standing body over the last ``roll_window_s``:
        the median lean of the shoulders over the feet (``body_axis_deg``), once
        ``roll_min_s`` of it is in. A standing person keeps their centre over their feet
        (a hip shifted onto one leg does not move it), so what stays is the camera
        (renders: 3.8-4.3° under a 4° roll, within ±0.9° without one). ``None`` with a
        baseline (it holds the roll already), while sitting (a trunk can lean on an
        armrest for long), before the feet were seen, or beyond ``roll_max_deg`` (a lean).
        Read from the front only: at an angle or from the side a forward lean (a hunch, a
        bow) tilts the same line; the roll read stays when the person turns."""
        if f.has_profile or posture != "standing":
            return None
        axis = f.get("body_axis_deg")
        if axis is not None and f.view.view == "front":
            self.roll.push(t, axis)
        if not self.roll.t or self.roll.covered_s() < self.p["roll_min_s"]:
            return None
        est = float(np.median(self.roll.x))
        return est if abs(est) <= self.p["roll_max_deg"] else None


class CoachEngine:
    """Judges a stream of observations against the rules.

    ``posture`` declares standing or sitting (a rule pack or drill knows it); ``auto``
    reads it from hip-knee geometry and says ``posture_unknown`` when the legs are not
    in view. ``rule_ids`` selects rules (default: all). Construction fails loudly on
    unknown rule ids; frames degrade to ``unknown`` verdicts, never an exception.
    """

    def __init__(
        self,
        calibration: CalibrationSet,
        profile: Profile | None = None,
        *,
        mode: Mode = "video",
        posture: PostureOpt = "auto",
        rule_ids: Sequence[str] | None = None,
    ) -> None:
        if mode not in ("video", "image"):
            raise ConfigError(f"mode must be 'video' or 'image', got {mode!r}")
        if posture not in ("auto", "standing", "sitting"):
            raise ConfigError(f"posture must be auto, standing or sitting, got {posture!r}")
        ids = list(DEFAULT_RULE_IDS) if rule_ids is None else list(rule_ids)
        unknown = [r for r in ids if r not in RULES_BY_ID]
        if unknown:
            raise ConfigError(f"unknown rule id(s): {', '.join(unknown)} "
                              f"(see `posture-coach rules`)")
        self.calibration = calibration
        self.profile = profile
        self.mode: Mode = mode
        self.posture_opt: PostureOpt = posture
        self.rules: list[Rule] = [RULES_BY_ID[r]() for r in ids]
        self._params = {r.id: calibration.params(r.id) for r in self.rules}
        self._debouncers = {
            r.id: Debouncer(r.id, **_temporal(calibration, r.id), lower_is_worse=r.lower_is_worse)
            for r in self.rules
        }
        # Event rules (a handover, a handshake, a pointing gesture…) judge an event when it
        # closes: their findings take the event's own span and peak (see _span_event).
        self._event_of: dict[str, str] = {r.id: kind for r in self.rules
                                           if isinstance(kind := getattr(r, "event", None), str)}
        self._event_end: dict[str, int] = {}
        eng = calibration.engine
        self._posture = Latch(eng["posture_switch_s"] * 1000.0, eng["posture_hold_s"] * 1000.0)
        self._signals = _Signals(dict(calibration.signals))
        self._interaction = InteractionTracker(calibration.interaction)
        # A calibrated natural smile sets the person's own smile thresholds (face.smile).
        smile = personal_smile_params(calibration.rules.get("face.smile", {}),
                                      profile.smile_level if profile is not None else None)
        if "face.smile" in self._params:
            self._params["face.smile"] = smile
        self._face_temporal = FaceTemporal({**calibration.rules, "face.smile": smile})
        self._face_neutral = profile.face_neutral if profile is not None else None
        self._want_legs = bool({"standing.steady", "sitting.leg_shaking"} & set(ids))
        self._want_hands = "sitting.hands_still" in ids
        # Run the hand model only while a rule can use it (issue 6): see wants_hands().
        self.hand_gate = HandGate.from_engine(eng, needed=rules_need_hands(ids) or self._want_hands)
        self._max_gap = eng["max_frame_gap_ms"]
        self._prev_t: int | None = None
        self._last_posture: Posture = "unknown"
        self.timeline = Timeline(ids, calibration.warn_credit,
                                 "ms" if mode == "video" else "frame")

    @classmethod
    def from_pack(cls, calibration: CalibrationSet, pack: str, profile: Profile | None = None,
                  *, mode: Mode = "video") -> CoachEngine:
        """An engine for a rule pack: its rules, its posture, its parameter overrides."""
        cal = calibration.with_pack(pack)
        rp = cal.rule_packs[pack]
        return cls(cal, profile, mode=mode, posture=rp.posture, rule_ids=rp.rules)

    def update(self, obs: Observation) -> FrameResult:
        """Judge one observation (timestamps must not go backwards in video mode)."""
        video = self.mode == "video"
        t = obs.timestamp_ms
        f = compute_features(obs, self.calibration.features, self.profile)
        events: list[dict[str, Any]] = []
        posture = self._decide_posture(f, t, events)
        extra: dict[str, float | None] = {}
        if video:
            extra = self._signals.update(
                obs, f, self._want_legs, self._want_hands and posture == "sitting", posture
            )
        f = f.with_values(extra, posture=posture, video=video)
        face_values = compute_face_features(obs, self._face_neutral)
        if video:
            face_values.update(self._face_temporal.update(t, face_values))
        f = f.with_values(face_values)
        f = f.with_values(grooming_features(obs))
        inter, inter_events = self._interaction.update(obs, f, self.profile, video=video)
        f = f.with_values(inter)
        events.extend(inter_events)
        if video:
            # A role-play's gaze target is the other person: its shifts replace the camera's.
            partner = partner_in_view(f.values)
            at = f.get("looking_at_target") if partner else None
            gaze = self._face_temporal.update_partner(t, None if at is None else at == 1.0)
            if partner:
                f = f.with_values(gaze)

        if video:
            dt = 0.0 if self._prev_t is None else float(min(max(t - self._prev_t, 0),
                                                              self._max_gap))
            self._prev_t = t
        else:
            dt = 1.0
        self.timeline.tick(t)

        verdicts: dict[str, Verdict] = {}
        states: dict[str, StateValue] = {}
        for rule in self.rules:
            v = rule.check(f, self._params[rule.id])
            if video:
                v = self._debounce(v, t, dt, events, f)
            self.timeline.record(rule.id, v.status, v.reason, dt)
            verdicts[rule.id] = v
            for k, val in v.states.items():
                # Two rules may share a state key (shoulder tilt, standing and sitting):
                # the one that could judge wins.
                if val is not None or k not in states:
                    states[k] = val
        for ev in events:
            self.timeline.add_event(ev)
        if video:  # the hand model for the next frame (folded arms need none)
            cues = {**inter, "arms_crossed": 1.0 if states.get("arms_crossed") is True else 0.0}
            self.hand_gate.update(t, cues, hands_ran="hands" in obs.ran, hands_found=len(obs.hands))
        return FrameResult(obs.frame_index, t, obs.person, f.view, posture, states, verdicts,
                           events)

    def wants_hands(self) -> bool:
        """Should the next frame run the hand landmarker? (False saves 8–15 ms a frame.)"""
        return self.hand_gate.wanted

    def summary(self) -> SessionSummary:
        """Scores so far; open episodes are closed at the last frame (idempotent)."""
        if self.mode == "video" and self.timeline.last_ms is not None:
            for deb in self._debouncers.values():
                step = deb.finish(self.timeline.last_ms)
                if step is not None and step.closed is not None:
                    self.timeline.add_episode(self._event_bounds(step.closed), step.counted)
            # A handshake, handover, bow… still open at the last frame is an event too.
            _, closing = self._interaction.finish(self.timeline.last_ms)
            for ev in closing:
                self.timeline.add_event(ev)
        return self._summarise(self.timeline)

    def summary_so_far(self) -> SessionSummary:
        """The scores :meth:`summary` would give now, leaving the session as it is: an
        episode still going on costs what it has cost so far (the live page's score every
        second). Without it a warning held from the start cost nothing until the run
        ended: the live page read 90, then the run's summary 88."""
        if self.mode != "video" or self.timeline.last_ms is None:
            return self._summarise(self.timeline)
        timeline = copy.deepcopy(self.timeline)
        for deb in self._debouncers.values():
            step = copy.deepcopy(deb).finish(self.timeline.last_ms)
            if step is not None and step.closed is not None:
                timeline.add_episode(self._event_bounds(step.closed), step.counted)
        return self._summarise(timeline)

    def _summarise(self, timeline: Timeline) -> SessionSummary:
        on_close = frozenset(r.id for r in self.rules if r.judged_on_close)
        thin = {r.id: self.calibration.thin_evidence_s for r in self.rules if r.evidence_in_time}
        return summarise(timeline, self.calibration.weights, self.mode, on_close=on_close,
                         thin_evidence_s=thin)

    # -- internals --------------------------------------------------------------------

    def _decide_posture(self, f: Features, t: int, events: list[dict[str, Any]]) -> Posture:
        if self.posture_opt != "auto":
            return self.posture_opt
        if self.mode == "image":
            return f.posture
        raw = None if f.posture == "unknown" else f.posture
        value = self._posture.update(t, raw)
        posture: Posture = "unknown" if value is None else value  # type: ignore[assignment]
        if posture != self._last_posture:
            events.append({"type": "posture", "t_ms": t, "posture": posture})
            self._last_posture = posture
        return posture

    def _debounce(self, v: Verdict, t: int, dt: float, events: list[dict[str, Any]], f: Features) -> Verdict:
        deb = self._debouncers[v.rule_id]
        step = deb.update(t, v.status, v.value, dt)
        self._span_event(v, f, deb.active)
        if step.opened is not None:
            start: dict[str, Any] = {"type": "violation_start", "rule_id": v.rule_id,
                                     "t_ms": t, "start_ms": step.opened.start_ms, "status": v.status}
            if v.rule_id in self._event_of:  # the event's evidence time, before this frame
                start["peak_ms"] = step.opened.peak_ms
            events.append(start)
        if step.closed is not None:
            ep = self._event_bounds(step.closed)
            self.timeline.add_episode(ep, step.counted)
            events.append({"type": "violation_end", "rule_id": v.rule_id, "t_ms": t,
                           "start_ms": ep.start_ms, "end_ms": ep.end_ms,
                           "status": ep.worst, "counted": step.counted,
                           "peak": None if ep.peak is None else round(ep.peak, 4),
                           "peak_ms": ep.peak_ms})
        if step.status == v.status:
            return v
        return replace(v, status=step.status)

    def _span_event(self, v: Verdict, f: Features, ep: Episode | None) -> None:
        """An event rule's finding is the event it judged: a one-handed handover or a
        pointing gesture is judged on the frame its event closes (up to ``<kind>_close_s``
        after the hands went down), so the episode takes the event's start and peak frame
        (the evidence), and on closing its end (:meth:`_event_bounds`)."""
        kind = self._event_of.get(v.rule_id)
        if kind is None or ep is None or v.status not in ("warn", "fail") or f.get(f"ev_{kind}_closed") != 1.0:
            return
        ev = self._interaction.events.last_closed.get(kind)
        if ev is None or ev.end_ms is None:
            return
        if ev.start_ms < ep.start_ms:
            ep.start_ms = ev.start_ms
        # A flag cue (a handover, a handshake, a pointing hand: level 1) peaks on its first
        # frame, the hand still on its way: the middle of the event stands for it. A graded
        # cue (a bow's lean, a fingertip's distance to the face) has a real peak.
        ep.peak_ms = ev.peak_ms if ev.peak_level > 1.0 else (ev.start_ms + ev.end_ms) // 2
        self._event_end[v.rule_id] = ev.end_ms

    def _event_bounds(self, ep: Episode) -> Episode:
        end = self._event_end.pop(ep.rule_id, None)
        if end is not None and ep.start_ms <= end:
            ep.end_ms = end
        return ep


def _temporal(cal: CalibrationSet, rule_id: str) -> dict[str, float]:
    tp = cal.temporal[rule_id]
    return {"onset_s": tp.onset_s, "offset_s": tp.offset_s,
            "min_duration_s": tp.min_duration_s}
