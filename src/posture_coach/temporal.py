"""Time: smoothing, persistence (onset/offset hysteresis), windows and episodes.

Rules judge single frames; everything that needs memory lives here, fed by the engine
with timestamps in milliseconds (video timestamps, not wall-clock time), so the same
recording always gives the same result.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from posture_coach.rules.base import SEVERITY, Status


class Ema:
    """Exponential moving average; ``alpha`` = weight of the newest sample (0..1]."""

    def __init__(self, alpha: float) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self.value: float | None = None

    def update(self, x: float | None) -> float | None:
        """Feed a sample (``None`` = missing: keep the current value)."""
        if x is not None:
            self.value = x if self.value is None else self.value + self.alpha * (x - self.value)
        return self.value

    def reset(self) -> None:
        self.value = None


@dataclass(slots=True)
class Episode:
    """A stretch of time during which a rule was violated."""

    rule_id: str
    start_ms: int
    end_ms: int | None = None
    worst: Status = "warn"
    peak: float | None = None
    peak_ms: int | None = None  # when the peak was seen: the evidence frame of a finding
    lower_is_worse: bool = False  # e.g. elbow span for crossed arms: smaller = worse
    fail_ms: float = 0.0  # time inside the episode judged "fail"
    warn_ms: float = 0.0  # time inside the episode judged "warn"

    @property
    def duration_ms(self) -> int:
        return (self.end_ms if self.end_ms is not None else self.start_ms) - self.start_ms

    def add(self, status: Status, value: float | str | None, dt_ms: float, t_ms: int | None = None) -> None:
        if status == "fail":
            self.fail_ms += dt_ms
        elif status == "warn":
            self.warn_ms += dt_ms
        else:
            return  # only bad frames can be the worst moment
        if SEVERITY[status] > SEVERITY[self.worst]:
            self.worst = status
        t = self.start_ms if t_ms is None else t_ms
        if not isinstance(value, int | float) or isinstance(value, bool):
            if self.peak_ms is None:
                self.peak_ms = t
            return
        if self.peak is None:
            worse = True
        elif self.lower_is_worse:
            worse = value < self.peak
        else:
            worse = abs(value) > abs(self.peak)
        if worse:
            self.peak = float(value)
            self.peak_ms = t

    def to_dict(self) -> dict[str, object]:
        return {
            "rule_id": self.rule_id,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "status": self.worst,
            "peak": None if self.peak is None else round(self.peak, 4),
            "peak_ms": self.peak_ms,
        }


@dataclass(frozen=True, slots=True)
class Step:
    """What the debouncer says about one frame."""

    status: Status
    opened: Episode | None = None  # an episode was flagged on this frame
    closed: Episode | None = None  # an episode ended on this frame
    counted: bool = False  # the closed episode lasted long enough to be a finding


@dataclass(slots=True)
class Debouncer:
    """Onset/offset hysteresis for one rule: a flicker is not a finding.

    A violation (``warn``/``fail``) is flagged once it has lasted ``onset_s``; the
    episode is back-dated to its first bad frame. It is cleared once the rule has been
    ``pass`` for ``offset_s``; the episode ends at the first good frame. Episodes
    shorter than ``min_duration_s`` are closed but not counted. ``unknown`` frames
    neither start nor end anything, but an episode unseen for ``offset_s`` is closed
    at the last frame it was seen.
    """

    rule_id: str
    onset_s: float
    offset_s: float
    min_duration_s: float
    lower_is_worse: bool = False
    _pending: Episode | None = field(default=None, init=False)
    _open: Episode | None = field(default=None, init=False)
    _good_since: int | None = field(default=None, init=False)
    _last_seen: int | None = field(default=None, init=False)

    @property
    def active(self) -> Episode | None:
        return self._open

    def update(self, t_ms: int, status: Status, value: float | str | None,
               dt_ms: float) -> Step:
        """Feed one frame's raw verdict; ``dt_ms`` = the time this frame stands for."""
        if status == "unknown":
            return self._unknown(t_ms)
        self._last_seen = t_ms
        bad = status in ("warn", "fail")
        if self._open is None:
            if not bad:
                self._pending = None
                return Step("pass")
            if self._pending is None:
                self._pending = Episode(self.rule_id, t_ms, lower_is_worse=self.lower_is_worse)
            self._pending.add(status, value, dt_ms, t_ms)
            if t_ms - self._pending.start_ms >= self.onset_s * 1000.0:
                self._open, self._pending = self._pending, None
                self._good_since = None
                return Step(status, opened=self._open)
            return Step("pass")  # pending: not (yet) a finding
        ep = self._open
        if bad:
            self._good_since = None
            ep.add(status, value, dt_ms, t_ms)
            return Step(status)
        if self._good_since is None:
            self._good_since = t_ms
        if t_ms - self._good_since >= self.offset_s * 1000.0:
            return self._close(self._good_since, "pass")
        # Still inside the offset window: keep showing the episode's worst status.
        return Step(ep.worst)

    def _unknown(self, t_ms: int) -> Step:
        self._pending = None
        if self._open is not None and self._last_seen is not None and (
            t_ms - self._last_seen >= self.offset_s * 1000.0
        ):
            end = self._good_since if self._good_since is not None else self._last_seen
            return self._close(end, "unknown")
        return Step("unknown")

    def _close(self, end_ms: int, status: Status) -> Step:
        ep = self._open
        assert ep is not None
        ep.end_ms = end_ms
        self._open = None
        self._good_since = None
        counted = ep.duration_ms >= self.min_duration_s * 1000.0
        return Step(status, closed=ep, counted=counted)

    def finish(self, t_ms: int) -> Step | None:
        """Close an open episode at the end of the session (at ``t_ms``)."""
        if self._open is None:
            return None
        end = self._good_since if self._good_since is not None else t_ms
        return self._close(end, "pass")


class Latch:
    """A categorical state that must hold ``switch_ms`` to change and is remembered for
    ``hold_ms`` while the input is ``None`` (e.g. the posture while legs leave view)."""

    def __init__(self, switch_ms: float, hold_ms: float) -> None:
        self.switch_ms = switch_ms
        self.hold_ms = hold_ms
        self.value: str | None = None
        self._since: int | None = None  # when the current value was last confirmed
        self._cand: str | None = None
        self._cand_since = 0

    def update(self, t_ms: int, x: str | None) -> str | None:
        if x is None:
            if self._since is not None and t_ms - self._since > self.hold_ms:
                self.value = None
            self._cand = None
            return self.value
        if self.value is None or x == self.value:
            self.value = x
            self._since = t_ms
            self._cand = None
            return self.value
        if x != self._cand:
            self._cand, self._cand_since = x, t_ms
        if t_ms - self._cand_since >= self.switch_ms:
            self.value, self._since, self._cand = x, t_ms, None
        return self.value


class Window:
    """A ring buffer of timestamped samples covering the last ``span_s`` seconds."""

    def __init__(self, span_s: float, maxlen: int = 512) -> None:
        self.span_ms = span_s * 1000.0
        self.t: deque[int] = deque(maxlen=maxlen)
        self.x: deque[float] = deque(maxlen=maxlen)

    def push(self, t_ms: int, x: float) -> None:
        self.t.append(t_ms)
        self.x.append(x)
        while self.t and t_ms - self.t[0] > self.span_ms:
            self.t.popleft()
            self.x.popleft()

    def clear(self) -> None:
        self.t.clear()
        self.x.clear()

    def covered_s(self) -> float:
        return (self.t[-1] - self.t[0]) / 1000.0 if len(self.t) > 1 else 0.0

    def full(self, min_fill_ratio: float) -> bool:
        return len(self.t) >= 8 and self.covered_s() >= self.span_ms / 1000.0 * min_fill_ratio

    def std(self) -> float:
        return float(np.std(np.fromiter(self.x, dtype=np.float64)))

    def detrended_std(self) -> float:
        """The spread around the window's straight-line trend (least squares in time): a
        sway back and forth keeps it, a steady drift does not."""
        x = np.fromiter(self.x, dtype=np.float64)
        if len(x) < 3:
            return float(np.std(x)) if len(x) else 0.0
        return float(np.std(_detrended(np.fromiter(self.t, dtype=np.float64), x[None, :])))


def _detrended(t: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each row of ``y`` (sampled at times ``t``) less its straight-line trend (closed-form
    least squares): a slow drift taken out, what goes back and forth kept."""
    n = len(t)
    tc = t - t.sum() / n
    denom = float(tc @ tc)
    y = y - (y.sum(axis=1) / n)[:, None]
    if denom > 0:
        y -= np.outer(y @ tc / denom, tc)
    return y


def band_amplitude(
    t_ms: Sequence[int], x: Sequence[float], low_hz: float, high_hz: float
) -> tuple[float, float]:
    """Amplitude and frequency of the strongest oscillation within ``[low_hz, high_hz]``.

    A small FFT of the detrended window, assuming near-even sampling (video frames).
    The amplitude is that of a sine with the same spectral peak, in the input's units.
    Frequencies above the Nyquist limit (half the frame rate: 7.5 Hz at 15 fps) cannot
    be seen at all.
    """
    return band_amplitude_max(t_ms, [x], low_hz, high_hz)


def band_amplitude_max(
    t_ms: Sequence[int], rows: Sequence[Sequence[float]], low_hz: float, high_hz: float,
    min_sustained: float = 0.0,
) -> tuple[float, float]:
    """:func:`band_amplitude` of several signals sampled at the same times: the largest.

    ``min_sustained``: only a rhythm counts. One movement (a knee lifted to cross the
    legs, a step) also puts energy in the band, but its band-passed signal rings for a
    cycle or two around the movement; a jiggle keeps going. The strongest row's band-passed
    envelope (its largest swing within one period of ``low_hz``) must stay at half its
    peak or more for this share of the window, else the amplitude is 0.

    One batched FFT: the per-call overhead of numpy dominates on windows this small.
    """
    n = len(t_ms)
    if n < 8 or not rows or any(len(r) != n for r in rows):
        return 0.0, 0.0
    t = np.fromiter(t_ms, dtype=np.float64, count=n)
    duration = (t[-1] - t[0]) / 1000.0
    if duration <= 0:
        return 0.0, 0.0
    # Slow drift stays out of the band.
    y = _detrended(t, np.array([list(r) for r in rows], dtype=np.float64))
    spec = np.abs(np.fft.rfft(y * _hann(n), axis=1))
    freqs = np.arange(spec.shape[1]) * ((n - 1) / duration / n)
    band = (freqs >= low_hz) & (freqs <= high_hz)
    if not band.any():
        return 0.0, 0.0
    spec[:, ~band] = -1.0
    r, i = divmod(int(np.argmax(spec)), spec.shape[1])
    if min_sustained > 0 and _sustained_share(y[r], band, n, duration, low_hz) < min_sustained:
        return 0.0, float(freqs[i])
    # A Hann-windowed sine of amplitude A peaks at A * sum(window) / 2.
    return 2.0 * float(spec[r, i]) / _HANN_SUMS[n], float(freqs[i])


def _sustained_share(y: npt.NDArray[np.float64], band: npt.NDArray[np.bool_], n: int, duration_s: float,
                     low_hz: float) -> float:
    """The share of the window over which a detrended signal's band-passed swing stays at
    half its peak or more (a sine: 1.0; one step: 0.2–0.56)."""
    spec = np.fft.rfft(y)
    spec[~band] = 0.0
    swing = np.abs(np.fft.irfft(spec, n))
    k = max(1, round(n / duration_s / low_hz))  # one period of the band's slowest rhythm
    padded = np.pad(swing, (k // 2, k - 1 - k // 2), mode="edge")
    env = np.lib.stride_tricks.sliding_window_view(padded, k).max(axis=1)
    return float((env >= 0.5 * env.max()).mean()) if env.max() > 0 else 0.0


_HANN: dict[int, npt.NDArray[np.float64]] = {}
_HANN_SUMS: dict[int, float] = {}


def _hann(n: int) -> npt.NDArray[np.float64]:
    w = _HANN.get(n)
    if w is None:
        w = _HANN[n] = np.hanning(n)
        _HANN_SUMS[n] = float(w.sum())
    return w
