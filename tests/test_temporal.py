"""Smoothing, hysteresis (a flicker is not a finding), latches and oscillation windows."""

from __future__ import annotations

import math

import pytest

from posture_coach.temporal import Debouncer, Ema, Latch, Window, band_amplitude, band_amplitude_max


def run(deb: Debouncer, statuses: str, dt: int = 100) -> list[tuple[str, str]]:
    """Feed one status per letter (p/w/f/u) every ``dt`` ms; return (status, event) pairs."""
    code = {"p": "pass", "w": "warn", "f": "fail", "u": "unknown"}
    out = []
    for i, ch in enumerate(statuses):
        step = deb.update(i * dt, code[ch], 1.0, dt if i else 0)  # type: ignore[arg-type]
        ev = "open" if step.opened else ("close" if step.closed else "")
        if step.closed is not None and not step.counted:
            ev = "close-uncounted"
        out.append((step.status, ev))
    return out


def test_flicker_is_not_flagged() -> None:
    deb = Debouncer("r", onset_s=0.3, offset_s=0.3, min_duration_s=0.0)
    steps = run(deb, "pfpfpfpfpp")
    assert all(s == "pass" for s, _ in steps)
    assert deb.active is None


def test_sustained_violation_is_flagged_and_backdated() -> None:
    deb = Debouncer("r", onset_s=0.3, offset_s=0.3, min_duration_s=0.0)
    steps = run(deb, "ppffffffpppp")
    statuses = [s for s, _ in steps]
    # bad from t=200; flagged at t=500 (after 300 ms), held through the offset window
    assert statuses[:5] == ["pass"] * 5
    assert steps[5] == ("fail", "open")
    assert statuses[8:10] == ["fail", "fail"]  # good for < 300 ms: still flagged
    assert steps[11] == ("pass", "close")


def test_closed_episode_times_and_peak() -> None:
    deb = Debouncer("r", onset_s=0.2, offset_s=0.2, min_duration_s=0.0)
    closed = None
    code = ["pass", "fail", "fail", "warn", "fail", "pass", "pass", "pass"]
    values = [0.0, 11.0, 14.0, 8.0, 12.0, 1.0, 1.0, 1.0]
    for i, (s, v) in enumerate(zip(code, values, strict=True)):
        step = deb.update(i * 100, s, v, 100)  # type: ignore[arg-type]
        closed = step.closed or closed
    assert closed is not None
    assert (closed.start_ms, closed.end_ms) == (100, 500)
    assert closed.peak == 14.0
    assert closed.worst == "fail"
    assert closed.fail_ms == 300 and closed.warn_ms == 100


def test_short_episode_is_not_counted() -> None:
    deb = Debouncer("r", onset_s=0.1, offset_s=0.1, min_duration_s=1.0)
    events = [e for _, e in run(deb, "pffffppp")]
    assert "open" in events
    assert "close-uncounted" in events


def test_unknown_neither_starts_nor_ends_but_times_out() -> None:
    deb = Debouncer("r", onset_s=0.2, offset_s=0.3, min_duration_s=0.0)
    steps = run(deb, "pfufufuf")  # bad frames separated by unknown: pending resets
    assert all(s in ("pass", "unknown") for s, _ in steps)
    deb2 = Debouncer("r", onset_s=0.1, offset_s=0.3, min_duration_s=0.0)
    steps2 = run(deb2, "fffuuuuu")
    assert ("unknown", "close") in steps2  # unseen for 300 ms: closed at the last sighting


def test_finish_closes_open_episode() -> None:
    deb = Debouncer("r", onset_s=0.0, offset_s=0.3, min_duration_s=0.0)
    run(deb, "pfff")
    step = deb.finish(1000)
    assert step is not None and step.closed is not None
    assert step.closed.end_ms == 1000
    assert deb.finish(1100) is None


def test_ema() -> None:
    e = Ema(0.5)
    assert e.update(None) is None
    assert e.update(10.0) == 10.0
    assert e.update(20.0) == 15.0
    assert e.update(None) == 15.0
    with pytest.raises(ValueError):
        Ema(0.0)


def test_latch_switches_only_after_holding() -> None:
    latch = Latch(switch_ms=500, hold_ms=1000)
    assert latch.update(0, "standing") == "standing"
    assert latch.update(100, "sitting") == "standing"  # not yet
    assert latch.update(400, "standing") == "standing"  # a flicker
    assert latch.update(500, "sitting") == "standing"
    assert latch.update(1000, "sitting") == "sitting"
    assert latch.update(1500, None) == "sitting"  # held while legs are out of view
    assert latch.update(2100, None) is None  # ... for at most hold_ms


@pytest.mark.parametrize("hz", [2.5, 4.0, 6.0])
def test_band_amplitude_finds_a_sine(hz: float) -> None:
    fps, amp = 30.0, 3.0
    t = [round(i * 1000 / fps) for i in range(90)]
    x = [100 + 0.5 * i + amp * math.sin(2 * math.pi * hz * ti / 1000) for i, ti in enumerate(t)]
    got_amp, got_hz = band_amplitude(t, x, 2.0, 8.0)
    assert got_hz == pytest.approx(hz, abs=0.4)
    assert got_amp == pytest.approx(amp, rel=0.25)


@pytest.mark.parametrize("hz", [2.0, 4.0, 6.0])
def test_only_a_rhythm_counts_as_shaking_not_one_movement(hz: float) -> None:
    # A knee lifted to cross the legs: one quick move (0.3 s) from one height to another.
    # It puts energy in the 2–8 Hz band too, spread out; a jiggle peaks (a bounce of 2 cm).
    t = [round(i * 1000 / 15) for i in range(45)]  # 3 s at 15 fps, as the engine's window
    step = [0.0 if ti < 1300 else 40.0 if ti > 1600 else 40.0 * (ti - 1300) / 300 for ti in t]
    jiggle = [20.0 * math.sin(2 * math.pi * hz * ti / 1000) for ti in t]
    assert band_amplitude_max(t, [step], 2.0, 8.0)[0] > 1.5  # without the test: 0.015 TL of a 100 px torso
    assert band_amplitude_max(t, [step], 2.0, 8.0, min_sustained=0.67)[0] == 0.0
    assert band_amplitude_max(t, [jiggle], 2.0, 8.0, min_sustained=0.67)[0] == pytest.approx(20.0, rel=0.25)
    # A 4 Hz jiggle over the last half of the window only is not yet 2 s of shaking (at
    # 2 Hz the band-passed swing rings on: 0.73 of the window).
    half = [20.0 * math.sin(2 * math.pi * 4.0 * ti / 1000) if ti > 1500 else 0.0 for ti in t]
    assert band_amplitude_max(t, [half], 2.0, 8.0, min_sustained=0.67)[0] == 0.0


def test_band_ignores_slow_drift_and_still_signal() -> None:
    t = [round(i * 1000 / 30) for i in range(90)]
    slow = [10 * math.sin(2 * math.pi * 0.3 * ti / 1000) for ti in t]
    assert band_amplitude(t, slow, 2.0, 8.0)[0] < 0.5
    assert band_amplitude(t, [5.0] * 90, 2.0, 8.0)[0] == pytest.approx(0.0, abs=1e-9)
    assert band_amplitude(t[:5], [1.0] * 5, 2.0, 8.0) == (0.0, 0.0)


def test_window_keeps_only_its_span() -> None:
    w = Window(1.0)
    for i in range(50):
        w.push(i * 100, float(i))
    assert w.covered_s() == pytest.approx(1.0)
    assert w.full(0.8)
    assert w.x[0] == 39.0
