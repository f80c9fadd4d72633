"""Windowed face signals for video: blinks, yawns, nods, gaze shifts, smile hysteresis.

Small pure state machines fed with video timestamps (ms) and the per-frame values of
:func:`posture_coach.face_features.compute_face_features`. The engine owns one
:class:`FaceTemporal` per stream and merges its output into the frame's features::

    ft = FaceTemporal(cal.rules)                    # once per stream
    f = f.with_values(ft.update(obs.timestamp_ms, face_values))

Every output is ``None`` until it can be judged honestly (e.g. a rate needs
``min_window_s`` of face-visible video first). Same recording, same numbers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

ParamValue = float | int | str | bool
RuleParams = Mapping[str, Mapping[str, ParamValue]]

#: Features this module adds (video only).
FACE_WINDOW_FEATURE_NAMES: tuple[str, ...] = (
    "smile_on", "eyes_closed", "blinks_per_min", "yawn_open_s", "nods_per_min",
    "gaze_off_s", "gaze_shifts_per_min", "negative_expression_s",
)


def _f(p: Mapping[str, ParamValue], key: str, default: float) -> float:
    v = p.get(key, default)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else default


def smile_evidence(values: Mapping[str, float | None], p: Mapping[str, ParamValue]) -> float | None:
    """Smile score 0..1: blendshape smile above neutral, plus weighted cues that stay
    informative where mouthSmile is weak (grey, small or tight crops): the upper lip
    raised (``upper_up``), the lips stretched (``stretch``) and the mouth widening (mouth
    width / inter-pupil distance above the neutral one); cues with negative weights in the
    calibration count against a smile: the lower lip rolled in (``roll_lower``) and pursed
    lips (``pucker``). (An open jaw is no cue either way: broad grins open it as much as
    talking does.) Missing cues add nothing."""
    score = values.get("smile_score")
    if score is None:
        return None
    widen = values.get("mouth_widen_ipd")
    if widen is None:
        mw = values.get("mouth_width_ipd")
        widen = None if mw is None else mw - _f(p, "neutral_mouth_width_ipd", 0.80)
    extra = 0.0 if widen is None else _f(p, "width_weight", 0.0) * widen
    for key, weight in (("upper_up", "upper_up_weight"), ("stretch", "stretch_weight"),
                        ("roll_lower", "roll_lower_weight"), ("pucker", "pucker_weight")):
        v = values.get(key)
        if v is not None:
            extra += _f(p, weight, 0.0) * v
    return min(1.0, max(0.0, score + extra))


def mouth_yawning(values: Mapping[str, float | None], p: Mapping[str, ParamValue]) -> bool | None:
    """One frame: the mouth open as in a yawn (tall inner-lip gap or wide jaw), not a laugh."""
    mar = values.get("mouth_ar")
    jaw = values.get("jaw_open")
    if mar is None and jaw is None:
        return None
    open_ = (mar is not None and mar >= _f(p, "open_mouth_ar", 0.45)) or (
        jaw is not None and jaw >= _f(p, "open_jaw", 0.75))
    smile = values.get("smile_raw")
    laughing = smile is not None and smile > _f(p, "max_smile", 0.5)
    return open_ and not laughing


def gaze_on(values: Mapping[str, float | None], p: Mapping[str, ParamValue]) -> bool | None:
    """One frame: eyes (head + iris) towards the target, within the tolerance cone."""
    yaw = values.get("gaze_yaw_deg")
    pitch = values.get("gaze_pitch_deg")
    if yaw is None:
        yaw = values.get("head_yaw_deg")
    if pitch is None:
        pitch = values.get("head_pitch_deg")
    if yaw is None or pitch is None:
        return None
    return (abs(yaw - _f(p, "target_yaw_deg", 0.0)) <= _f(p, "max_yaw_deg", 15.0)
            and abs(pitch - _f(p, "target_pitch_deg", 0.0)) <= _f(p, "max_pitch_deg", 15.0))


class RateWindow:
    """Events per minute over the last ``window_s`` of *observed* time."""

    def __init__(self, window_s: float, min_window_s: float) -> None:
        self.window_ms = window_s * 1000.0
        self.min_ms = min_window_s * 1000.0
        self.events: deque[int] = deque()
        self.start_ms: int | None = None

    def tick(self, t_ms: int) -> None:
        if self.start_ms is None:
            self.start_ms = t_ms
        while self.events and t_ms - self.events[0] > self.window_ms:
            self.events.popleft()

    def add(self, t_ms: int) -> None:
        self.events.append(t_ms)

    def rate(self, t_ms: int) -> float | None:
        if self.start_ms is None:
            return None
        span = min(float(t_ms - self.start_ms), self.window_ms)
        if span < self.min_ms or span <= 0:
            return None
        return len(self.events) * 60000.0 / span

    def reset(self) -> None:
        self.events.clear()
        self.start_ms = None


class Hysteresis:
    """On at ``on`` or above, off at ``off`` or below; holds in between."""

    def __init__(self, on: float, off: float) -> None:
        self.on, self.off = on, off
        self.state = False

    def update(self, x: float | None) -> bool | None:
        if x is None:
            return None
        if self.state and x <= self.off:
            self.state = False
        elif not self.state and x >= self.on:
            self.state = True
        return self.state


class BlinkCounter:
    """Blinks: the eyes close (blink >= close) and reopen (<= open) within ``max_blink_s``."""

    def __init__(self, close: float, open_: float, max_blink_s: float, window_s: float,
                 min_window_s: float) -> None:
        self.hyst = Hysteresis(close, open_)
        self.max_ms = max_blink_s * 1000.0
        self.closed_at: int | None = None
        self.window = RateWindow(window_s, min_window_s)

    def update(self, t_ms: int, blink: float | None) -> tuple[bool | None, float | None]:
        self.window.tick(t_ms)
        was = self.hyst.state
        closed = self.hyst.update(blink)
        if closed and not was:
            self.closed_at = t_ms
        elif was and closed is False:
            if self.closed_at is not None and t_ms - self.closed_at <= self.max_ms:
                self.window.add(t_ms)
            self.closed_at = None
        return closed, self.window.rate(t_ms)


class Duration:
    """How long a condition has held without a break (s); 0 when it does not hold."""

    def __init__(self, max_gap_ms: float) -> None:
        self.since: int | None = None
        self.last: int | None = None
        self.max_gap_ms = max_gap_ms

    def update(self, t_ms: int, cond: bool | None) -> float | None:
        if cond is None:
            return None
        if self.last is not None and t_ms - self.last > self.max_gap_ms:
            self.since = None
        self.last = t_ms
        if not cond:
            self.since = None
            return 0.0
        if self.since is None:
            self.since = t_ms
        return (t_ms - self.since) / 1000.0


class NodCounter:
    """Nods: the head pitches down by ``amp_deg`` below its slow baseline and comes back
    (to within half of that) within ``max_nod_s``."""

    def __init__(self, amp_deg: float, max_nod_s: float, baseline_s: float, window_s: float,
                 min_window_s: float) -> None:
        self.amp = amp_deg
        self.max_ms = max_nod_s * 1000.0
        self.tau_ms = baseline_s * 1000.0
        self.base: float | None = None
        self.last_t: int | None = None
        self.down_at: int | None = None
        self.window = RateWindow(window_s, min_window_s)

    def update(self, t_ms: int, pitch: float | None) -> float | None:
        self.window.tick(t_ms)
        if pitch is None:
            return self.window.rate(t_ms)
        if self.base is None or self.last_t is None:
            self.base = pitch
        else:
            dt = max(0.0, float(t_ms - self.last_t))
            a = min(1.0, dt / self.tau_ms) if self.tau_ms > 0 else 1.0
            if self.down_at is None:  # freeze the baseline during a nod
                self.base += a * (pitch - self.base)
        self.last_t = t_ms
        dev = pitch - self.base  # negative = chin down
        if self.down_at is None and dev <= -self.amp:
            self.down_at = t_ms
        elif self.down_at is not None:
            if t_ms - self.down_at > self.max_ms:
                self.down_at = None  # looked down and stayed: not a nod
                self.base = pitch
            elif dev >= -self.amp / 2.0:
                self.window.add(t_ms)
                self.down_at = None
        return self.window.rate(t_ms)


class ShiftCounter:
    """Gaze shifts: the gaze leaves the target for at least ``min_off_s``."""

    def __init__(self, min_off_s: float, window_s: float, min_window_s: float, max_gap_ms: float) -> None:
        self.min_off_s = min_off_s
        self.off = Duration(max_gap_ms)
        self.counted = False
        self.window = RateWindow(window_s, min_window_s)

    def update(self, t_ms: int, on: bool | None) -> tuple[float | None, float | None]:
        self.window.tick(t_ms)
        off_s = self.off.update(t_ms, None if on is None else not on)
        if off_s is not None:
            if off_s == 0.0:
                self.counted = False
            elif off_s >= self.min_off_s and not self.counted:
                self.window.add(t_ms)
                self.counted = True
        return off_s, self.window.rate(t_ms)


class FaceTemporal:
    """All face window signals for one stream. ``rules`` = calibration rule tables by id."""

    def __init__(self, rules: RuleParams, max_gap_ms: float = 500.0) -> None:
        self.p: dict[str, Mapping[str, ParamValue]] = {
            k: rules.get(f"face.{k}", {}) for k in ("smile", "gaze", "blink_rate", "yawn", "expression", "nod")
        }
        sp, bp, np_, gp = self.p["smile"], self.p["blink_rate"], self.p["nod"], self.p["gaze"]
        self.smile = Hysteresis(_f(sp, "on_score", 0.3), _f(sp, "off_score", 0.2))
        self.blinks = BlinkCounter(_f(bp, "close_blink", 0.5), _f(bp, "open_blink", 0.35),
                                   _f(bp, "max_blink_s", 0.5), _f(bp, "window_s", 60.0),
                                   _f(bp, "min_window_s", 20.0))
        self.yawn = Duration(max_gap_ms)
        self.neg = Duration(max_gap_ms)
        self.nods = NodCounter(_f(np_, "nod_amp_deg", 5.0), _f(np_, "max_nod_s", 1.2),
                               _f(np_, "baseline_s", 2.0), _f(np_, "window_s", 60.0),
                               _f(np_, "min_window_s", 20.0))
        self.gaze = ShiftCounter(_f(gp, "min_off_s", 0.3), _f(gp, "window_s", 60.0),
                                 _f(gp, "min_window_s", 20.0), max_gap_ms)
        # In a role-play the target is the other person (``looking_at_target``): its own
        # counter, so that frames judged against the camera never mix with them.
        self.partner_gaze = ShiftCounter(_f(gp, "min_off_s", 0.3), _f(gp, "window_s", 60.0),
                                         _f(gp, "min_window_s", 20.0), max_gap_ms)

    def update(self, t_ms: int, values: Mapping[str, float | None]) -> dict[str, float | None]:
        out: dict[str, float | None] = dict.fromkeys(FACE_WINDOW_FEATURE_NAMES)
        present = values.get("face_present") == 1.0
        smile_on = self.smile.update(smile_evidence(values, self.p["smile"]) if present else None)
        closed, bpm = self.blinks.update(t_ms, values.get("blink") if present else None)
        yawn_s = self.yawn.update(t_ms, mouth_yawning(values, self.p["yawn"]) if present else None)
        neg_score = values.get("negative_expression_score") if present else None
        neg_s = self.neg.update(t_ms, None if neg_score is None
                                else neg_score >= _f(self.p["expression"], "min_score", 0.4))
        npm = self.nods.update(t_ms, values.get("head_pitch_deg") if present else None)
        off_s, spm = self.gaze.update(t_ms, gaze_on(values, self.p["gaze"]) if present else None)
        out.update({
            "smile_on": None if smile_on is None else float(smile_on),
            "eyes_closed": None if closed is None else float(closed),
            "blinks_per_min": bpm, "yawn_open_s": yawn_s, "nods_per_min": npm,
            "gaze_off_s": off_s, "gaze_shifts_per_min": spm, "negative_expression_s": neg_s,
        })
        return out

    def update_partner(self, t_ms: int, facing_partner: bool | None) -> dict[str, float | None]:
        """Gaze shifts away from the other person in a role-play (东张西望 there).

        ``facing_partner``: the trainee's head turned towards the other person on this
        frame (``looking_at_target`` of the two-person measure), ``None`` when there is no
        partner in view or the head cannot be read. Returns ``gaze_off_s`` and
        ``gaze_shifts_per_min`` for the role-play, which replace the camera-based ones.
        """
        if facing_partner is None and self.partner_gaze.window.start_ms is None:
            return {"gaze_off_s": None, "gaze_shifts_per_min": None}  # the window starts with a partner
        off_s, spm = self.partner_gaze.update(t_ms, facing_partner)
        return {"gaze_off_s": off_s, "gaze_shifts_per_min": spm}
