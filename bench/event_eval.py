#!/usr/bin/env python3
"""Event benchmark: the interaction events (issue 6) against labelled synthetic clips.

For every clip (``*.mp4`` + ``*.labels.jsonl`` sidecar, found recursively under each
folder given) the coach runs as ``posture-coach analyze CLIP`` does: each observation
goes through :class:`posture_coach.engine.CoachEngine` with the default calibration and
all rules (``posture="auto"``), and the events it emits (``FrameResult.events``, the
``events`` list of every JSONL record) are collected. Observations come from
``bench/accuracy.py``'s cache (MediaPipe runs once per clip; the rules and the event
machines always run fresh; the cache key includes the hand crop settings,
:func:`posture_coach.landmarker.video_recipe`, so a change of the cropped hand pass re-runs
MediaPipe). ``--via-cli`` instead runs the real command
(``posture-coach analyze CLIP --format jsonl``, hand gate included) and parses its output;
a role-play clip (header ``persons`` 2) runs with ``--role-play <trainee_side>`` either way;
it is slower, and the per-frame hand-shape vote and the timing are then not available.

Labelled events (the sidecar's ``{"kind": "event", ...}`` lines)
-----------------------------------------------------------------
- ``handover`` (``hands_used``), ``handshake`` (``lean_deg``, ``duration_s``), ``bow``
  (``lean_deg``), ``face_touch`` (``region``), ``pointing``, ``card_view``: used as they
  are; any other type named like an event kind of :data:`posture_coach.events.EVENT_KINDS`
  is picked up the same way.
- gestures: a ``posture`` event whose ``states`` (or ``params``) carry ``pointing_finger``
  is a labelled gesture, ``pointing`` (true) or ``open_palm`` (false). Labelled pointing
  gestures are the truth for the ``pointing`` event; open-palm gestures are negatives (a
  pointing event during one is a false positive).
- face touches: a ``posture`` event whose ``states`` carry a ``face_touch_region`` other
  than ``none`` (or whose ``params`` carry ``region`` with a ``face_touch``/``touch`` posture
  name), used only when the sidecar has no explicit ``face_touch`` events.
- ``blink``, ``smile``, ``cut`` and other types are not interaction events and are ignored.

Matching rule
-------------
Per clip and per kind, a predicted event ``[s, e]`` and a labelled one overlap
*enough* when their temporal IoU is at least ``--min-iou`` (default 0.3) **or** the centre
of either lies inside the other (a short cue inside a long labelled stretch, or the
reverse). Candidate pairs are taken greedily by decreasing IoU, one to one. Matched =
true positive; an unmatched prediction = false positive; an unmatched label = false
negative. P = TP / predicted, R = TP / labelled, F1 their harmonic mean.

Per kind the table prints: labelled, predicted, TP, P, R, F1, the mean absolute
duration error (s) and onset error (s) over matched pairs (the predicted duration is the
one the rules judge, ``ev_<kind>_duration_s``: for handovers and handshakes the hold,
see ``hold_tolerance_tl``; else the event's span), and

- handover: one- vs two-handed agreement (``hands_used`` of the matched pairs; an
  undecided prediction counts as wrong);
- handshake and bow: the mean absolute lean error (degrees) over matched pairs whose
  label has a lean and whose labelled view (majority of the stretch's frames) is side or
  oblique; front-view pairs are listed separately (a lean cannot be seen from the front);
- face_touch: region accuracy of the matched pairs;
- gestures: pointing vs open palm, per labelled gesture: ``event`` = the product's outcome
  (pointing stretch: a pointing event matched it; open-palm stretch: no pointing event
  overlaps it), ``frames`` = the majority per-frame hand shape (``pointing_l/r`` vs
  ``open_palm_l/r``) over the stretch, no shape seen = wrong.

Labelled bow stretches include about a second either side of the held lean (the way
down and up), so bow duration errors are large by construction.

Cost: the wall time of the event state machines alone
(``InteractionEvents.update``, one call per frame) and of the whole interaction step
(``InteractionTracker.update``: cues, wrist speed, events), mean / p95 / max ms per frame.

Usage::

    python bench/event_eval.py sample_videos                       # tune + eval subfolder
    python bench/event_eval.py sample_videos --split tune
    python bench/event_eval.py /tmp/pc4/synth-eval --json
    python bench/event_eval.py sample_videos --list                # every clip's events, matched or not
    python bench/event_eval.py sample_videos --dump /tmp/feat      # per-frame cues per clip (JSONL)
    python bench/event_eval.py DIR --baseline-from-first-s 1       # front-view leans against a baseline
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(BENCH))

from accuracy import Observer, emit_reports, read_labels  # noqa: E402

#: Kinds the coach emits (posture_coach.events.EVENT_KINDS), fixed here so matching needs no import.
PRED_KINDS: tuple[str, ...] = ("handover", "handshake", "bow", "face_touch", "pointing", "card_view")
FACE_REGIONS: tuple[str, ...] = ("scalp", "ear", "eye", "nose", "mouth")
LEAN_VIEWS = ("side", "oblique")
#: Per-frame cues kept for the gesture vote and for ``--dump``.
DUMP_KEYS = (
    "reach_l", "reach_r", "reach_raise_tl", "grip_l", "grip_r", "hands_together", "arms_folded", "two_hands_out",
    "card_grip", "wrists_gap_sw", "wrist_chest_l", "wrist_chest_r",
    "handshake_alone", "handshake_hand_right", "lean_deg", "lean_source_side", "pointing_l", "pointing_r",
    "open_palm_l", "open_palm_r", "face_touch_code", "face_touch_fw", "head_down_ratio", "tp_persons",
    "tp_handshake", "tp_lean_deg",
)


# ----------------------------------------------------------------------------- events and matching


@dataclass
class Ev:
    """One labelled or predicted event: kind, stretch [start_ms, end_ms], attributes."""

    kind: str
    start_ms: float
    end_ms: float
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return (self.end_ms - self.start_ms) / 1000.0

    @property
    def centre(self) -> float:
        return (self.start_ms + self.end_ms) / 2.0


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Temporal intersection over union of two closed intervals (0 when disjoint)."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 1.0


def overlaps_enough(a: tuple[float, float], b: tuple[float, float], min_iou: float = 0.3) -> bool:
    """The matching criterion: IoU >= ``min_iou`` (and > 0) or either centre inside the other interval."""
    v = iou(a, b)
    if v > 0.0 and v >= min_iou:
        return True
    ca, cb = (a[0] + a[1]) / 2.0, (b[0] + b[1]) / 2.0
    return b[0] <= ca <= b[1] or a[0] <= cb <= a[1]


def match_events(labels: Sequence[tuple[float, float]], preds: Sequence[tuple[float, float]],
                 min_iou: float = 0.3) -> list[tuple[int, int]]:
    """One-to-one (label index, prediction index) pairs, greedy by decreasing IoU."""
    cands = [(iou(lab, pr), i, j) for i, lab in enumerate(labels) for j, pr in enumerate(preds)
             if overlaps_enough(lab, pr, min_iou)]
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_l: set[int] = set()
    used_p: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, i, j in cands:
        if i in used_l or j in used_p:
            continue
        used_l.add(i)
        used_p.add(j)
        pairs.append((i, j))
    return sorted(pairs)


def _view_of(frames: dict[int, dict[str, Any]], fps: float, s_ms: float, e_ms: float) -> str | None:
    views = Counter(str(fr.get("view")) for fr in frames.values()
                    if fr.get("view") and s_ms <= float(fr.get("t_ms", fr["frame"] * 1000.0 / fps)) <= e_ms)
    return views.most_common(1)[0][0] if views else None


def label_events(header: dict[str, Any], frames: dict[int, dict[str, Any]],
                 events: list[dict[str, Any]]) -> tuple[list[Ev], list[Ev]]:
    """The sidecar's interaction events and its labelled gestures (see the module docstring)."""
    fps = float(header.get("fps") or 30.0)
    out: list[Ev] = []
    gestures: list[Ev] = []
    touches_from_postures: list[Ev] = []
    explicit_touch = any(e.get("type") == "face_touch" for e in events)
    for e in events:
        t = str(e.get("type"))
        if "start_ms" not in e or "end_ms" not in e:
            continue
        s, en = float(e["start_ms"]), float(e["end_ms"])
        view = _view_of(frames, fps, s, en)
        if t in PRED_KINDS:
            attrs = {k: v for k, v in e.items() if k not in ("kind", "type", "start_ms", "end_ms")}
            if t == "face_touch":
                attrs["region"] = e.get("region", e.get("face_touch_region"))
            out.append(Ev(t, s, en, {**attrs, "view": view}))
        elif t == "posture":
            states = e.get("states") or {}
            params = e.get("params") or {}
            pf = states.get("pointing_finger", params.get("pointing_finger"))
            if isinstance(pf, bool):
                gestures.append(Ev("gesture", s, en, {"shape": "pointing" if pf else "open_palm", "view": view}))
            region = states.get("face_touch_region")
            name = str(e.get("posture", ""))
            if region is None and ("face_touch" in name or "touch" in name):
                region = params.get("region")
            if isinstance(region, str) and region != "none":
                touches_from_postures.append(Ev("face_touch", s, en, {"region": region, "view": view}))
    if not explicit_touch:
        out.extend(touches_from_postures)
    # Labelled pointing gestures are the truth for the coach's `pointing` events.
    if not any(e.kind == "pointing" for e in out):
        out.extend(Ev("pointing", g.start_ms, g.end_ms, dict(g.attrs))
                   for g in gestures if g.attrs["shape"] == "pointing")
    return out, gestures


def predicted_event(d: dict[str, Any], ev_feats: dict[str, Any] | None) -> Ev | None:
    """A closed event of the engine's output (``{"type": kind, "start_ms", "end_ms", ...}``)."""
    kind = d.get("type")
    if kind not in PRED_KINDS or d.get("end_ms") is None or "start_ms" not in d:
        return None
    attrs: dict[str, Any] = {"peak": d.get("peak"), "max": d.get("max"), "mean": d.get("mean")}
    mx = d.get("max") or {}
    mean = d.get("mean") or {}
    feats = ev_feats or {}
    pre = f"ev_{kind}_"
    # The duration the rules judge (the hold for handovers and handshakes), else the span.
    dur = feats.get(pre + "duration_s", d.get("held_s"))
    if dur is not None:
        attrs["duration_s"] = float(dur)
    if kind == "handover":
        hu = feats.get(pre + "hands_used")
        attrs["hands_used"] = None if hu is None else int(hu)
        attrs["together_share"] = mean.get("hands_together")
    elif kind in ("handshake", "bow"):
        lean = feats.get(pre + "lean_deg") if pre + "lean_deg" in feats else mx.get("tp_lean_deg", mx.get("lean_deg"))
        attrs["lean_deg"] = lean
    elif kind == "face_touch":
        code = feats.get(pre + "code") if pre + "code" in feats else (d.get("peak") or {}).get("face_touch_code")
        attrs["region"] = (FACE_REGIONS[int(code) - 1] if code is not None and 1 <= int(code) <= len(FACE_REGIONS)
                           else None)
    return Ev(str(kind), float(d["start_ms"]), float(d["end_ms"]), attrs)


# ----------------------------------------------------------------------------- running the coach


@dataclass
class ClipRun:
    name: str
    preds: list[Ev]
    cues: list[dict[str, Any]]  # per frame: t_ms, frame, DUMP_KEYS (replay only)
    event_ns: list[int]  # InteractionEvents.update per frame
    inter_ns: list[int]  # InteractionTracker.update per frame


def observe(video: Path, observer: Observer, role_play: str | None, stride: int = 1) -> list[Any]:
    """The clip's observations from the bench cache (every ``stride``-th frame); a role-play
    (two people, the sidecar's ``trainee_side``) runs the two-person path as
    ``analyze --role-play SIDE`` does."""
    return observer.video(video, role_play=role_play, stride=stride)


def run_replay(video: Path, observer: Observer, role_play: str | None = None, stride: int = 1,
               baseline_s: float | None = None) -> ClipRun:
    """Cached observations through a fresh CoachEngine; the event machines timed and their cues kept.

    ``baseline_s``: a personal baseline (``Profile.from_observations``) from the clip's first
    seconds, as ``posture-coach calibrate`` makes one; a capture with no still frame (walking
    in) is refused as the product refuses it, and the clip is judged without one.
    """
    from posture_coach.calibration import CalibrationMotionError, Profile, load_calibration
    from posture_coach.engine import CoachEngine

    observations = observe(video, observer, role_play, stride)
    profile = None
    if baseline_s:
        observations = list(observations)
        try:
            profile = Profile.from_observations([o for o in observations if o.timestamp_ms < baseline_s * 1000.0])
        except CalibrationMotionError:
            profile = None
    engine = CoachEngine(load_calibration(), profile, mode="video", posture="auto")
    tracker = engine._interaction
    machines = tracker.events
    ev_ns: list[int] = []
    in_ns: list[int] = []
    cues: list[dict[str, Any]] = []
    closing_feats: list[dict[str, Any]] = []
    orig_events_update = machines.update
    orig_tracker_update = tracker.update

    def events_update(t: int, frame: int, v: Any) -> Any:
        t0 = time.perf_counter_ns()
        out = orig_events_update(t, frame, v)
        ev_ns.append(time.perf_counter_ns() - t0)
        cues.append({"t_ms": t, "frame": frame, **{k: v.get(k) for k in DUMP_KEYS}})
        feats, evs = out
        for d in evs:
            if d.get("type") in PRED_KINDS:
                closing_feats.append({k: x for k, x in feats.items() if k.startswith(f"ev_{d['type']}_")})
        return out

    def tracker_update(*a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter_ns()
        out = orig_tracker_update(*a, **kw)
        in_ns.append(time.perf_counter_ns() - t0)
        return out

    machines.update = events_update  # type: ignore[method-assign,assignment]
    tracker.update = tracker_update  # type: ignore[method-assign]
    raw: list[dict[str, Any]] = []
    for o in observations:
        res = engine.update(o)
        raw.extend(d for d in res.events if d.get("type") in PRED_KINDS)
    preds = [p for d, f in zip(raw, closing_feats, strict=True) if (p := predicted_event(d, f)) is not None]
    return ClipRun(video.name, preds, cues, ev_ns, in_ns)


def _cli() -> list[str]:
    exe = shutil.which("posture-coach") or str(Path(sys.executable).with_name("posture-coach"))
    return [exe] if Path(exe).exists() else [sys.executable, "-c", "from posture_coach.cli import main; main()"]


def run_cli(video: Path, model_dir: Path | None, role_play: str | None = None) -> ClipRun:
    """The real command: ``posture-coach analyze CLIP --format jsonl``; events parsed from its records."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        cmd = [*_cli(), "analyze", str(video), "--format", "jsonl", "--output", str(out), "--no-progress"]
        if model_dir is not None:
            cmd += ["--model-dir", str(model_dir)]
        if role_play is not None:
            cmd += ["--role-play", role_play]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        preds: list[Ev] = []
        with out.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                for d in rec.get("events", []):
                    p = predicted_event(d, _features_from_states(d, rec))
                    if p is not None:
                        preds.append(p)
    return ClipRun(video.name, preds, [], [], [])


def _features_from_states(d: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    """The closing frame's rule states stand in for the ev_* features in CLI output."""
    st = rec.get("states", {})
    kind = d.get("type")
    if kind == "handover" and st.get("hands_used") is not None:
        return {"ev_handover_hands_used": st["hands_used"]}
    if kind in ("handshake", "bow") and st.get("lean_deg") is not None:
        return {f"ev_{kind}_lean_deg": st["lean_deg"]}
    if kind == "face_touch" and st.get("face_touch_region") in FACE_REGIONS:
        return {"ev_face_touch_code": FACE_REGIONS.index(st["face_touch_region"]) + 1}
    return {}


# ----------------------------------------------------------------------------- scoring


@dataclass
class KindStats:
    n_label: int = 0
    n_pred: int = 0
    tp: int = 0
    dur_err: list[float] = field(default_factory=list)
    onset_err: list[float] = field(default_factory=list)
    hands_ok: int = 0
    hands_n: int = 0
    lean_err: list[float] = field(default_factory=list)  # side/oblique
    lean_unknown: int = 0
    lean_err_front: list[float] = field(default_factory=list)
    lean_by_view: dict[str, list[float]] = field(default_factory=dict)  # "side", "oblique", "front"
    region_ok: int = 0
    region_n: int = 0

    def row(self) -> dict[str, Any]:
        p = self.tp / self.n_pred if self.n_pred else math.nan
        r = self.tp / self.n_label if self.n_label else math.nan
        f1 = 2 * p * r / (p + r) if not (math.isnan(p) or math.isnan(r)) and p + r else (
            0.0 if self.n_label and self.n_pred else math.nan)
        out: dict[str, Any] = {
            "labelled": self.n_label, "predicted": self.n_pred, "tp": self.tp,
            "precision": p, "recall": r, "f1": f1,
            "duration_err_s": _mean(self.dur_err), "onset_err_s": _mean(self.onset_err),
        }
        if self.hands_n:
            out["hands_agreement"] = self.hands_ok / self.hands_n
            out["hands_n"] = self.hands_n
        if self.lean_err or self.lean_unknown:
            out["lean_err_deg"] = _mean(self.lean_err)
            out["lean_n"] = len(self.lean_err)
            out["lean_unknown"] = self.lean_unknown
        if self.lean_err_front:
            out["lean_err_front_deg"] = _mean(self.lean_err_front)
        if self.lean_by_view:
            out["lean_err_by_view"] = {view: {"n": len(errs), "mean_abs_deg": _mean(errs)}
                                       for view, errs in sorted(self.lean_by_view.items())}
        if self.region_n:
            out["region_accuracy"] = self.region_ok / self.region_n
            out["region_n"] = self.region_n
        return out


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def _pct(xs: Sequence[int], q: float) -> float:
    if not xs:
        return math.nan
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] / 1e6


@dataclass
class EventReport:
    name: str
    kinds: dict[str, KindStats] = field(default_factory=lambda: defaultdict(KindStats))
    gesture: dict[str, int] = field(default_factory=lambda: Counter())
    clips: int = 0
    role_plays: int = 0
    frames: int = 0
    event_ns: list[int] = field(default_factory=list)
    inter_ns: list[int] = field(default_factory=list)
    listing: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        g = self.gesture
        gest: dict[str, Any] = {}
        if g["n"]:
            gest = {"n": g["n"], "n_pointing": g["n_pointing"], "n_open_palm": g["n_open_palm"],
                    "accuracy_event": g["ok_event"] / g["n"],
                    "accuracy_frames": g["ok_frames"] / g["n"] if g["n_frames_scored"] else None}
        cost = {}
        if self.event_ns:
            cost = {"event_ms_mean": sum(self.event_ns) / len(self.event_ns) / 1e6,
                    "event_ms_p95": _pct(self.event_ns, 0.95), "event_ms_max": max(self.event_ns) / 1e6,
                    "interaction_ms_mean": sum(self.inter_ns) / len(self.inter_ns) / 1e6 if self.inter_ns else None,
                    "interaction_ms_p95": _pct(self.inter_ns, 0.95)}
        return _clean({
            "set": self.name, "clips": self.clips, "role_plays": self.role_plays, "frames": self.frames,
            "kinds": {k: _clean(v.row()) for k, v in sorted(self.kinds.items(), key=lambda kv: _kind_order(kv[0]))},
            "gestures": _clean(gest), "cost": _clean(cost), "notes": self.notes,
            **({"events": self.listing} if self.listing else {}),
        })


def _kind_order(k: str) -> int:
    return PRED_KINDS.index(k) if k in PRED_KINDS else len(PRED_KINDS)


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4) if isinstance(v, float) else v)
            for k, v in d.items()}


def _shape_vote(cues: list[dict[str, Any]], s_ms: float, e_ms: float) -> str | None:
    pt = op = 0
    for c in cues:
        if s_ms <= c["t_ms"] <= e_ms:
            pt += any(c.get(k) == 1.0 for k in ("pointing_l", "pointing_r"))
            op += any(c.get(k) == 1.0 for k in ("open_palm_l", "open_palm_r"))
    if pt == op == 0:
        return None
    return "pointing" if pt > op else "open_palm"


def score_clip(rep: EventReport, run: ClipRun, labels: list[Ev], gestures: list[Ev], min_iou: float,
               listing: bool) -> None:
    kinds = {e.kind for e in labels} | {e.kind for e in run.preds}
    for kind in sorted(kinds, key=_kind_order):
        ls = [e for e in labels if e.kind == kind]
        ps = [e for e in run.preds if e.kind == kind]
        st = rep.kinds[kind]
        st.n_label += len(ls)
        st.n_pred += len(ps)
        pairs = match_events([(e.start_ms, e.end_ms) for e in ls], [(e.start_ms, e.end_ms) for e in ps], min_iou)
        st.tp += len(pairs)
        for i, j in pairs:
            lab, pr = ls[i], ps[j]
            st.dur_err.append(abs(float(pr.attrs.get("duration_s", pr.duration_s)) - lab.duration_s))
            st.onset_err.append(abs(pr.start_ms - lab.start_ms) / 1000.0)
            if kind == "handover" and lab.attrs.get("hands_used") is not None:
                st.hands_n += 1
                st.hands_ok += pr.attrs.get("hands_used") == int(lab.attrs["hands_used"])
            if kind in ("handshake", "bow") and lab.attrs.get("lean_deg") is not None:
                view = str(lab.attrs.get("view") or "")
                lean = pr.attrs.get("lean_deg")
                if lean is not None:
                    camera = next((v for v in (*LEAN_VIEWS, "front") if view.startswith(v)), "other")
                    st.lean_by_view.setdefault(camera, []).append(abs(float(lean) - float(lab.attrs["lean_deg"])))
                if view.startswith(LEAN_VIEWS):
                    if lean is None:
                        st.lean_unknown += 1
                    else:
                        st.lean_err.append(abs(float(lean) - float(lab.attrs["lean_deg"])))
                elif lean is not None:
                    st.lean_err_front.append(abs(float(lean) - float(lab.attrs["lean_deg"])))
            if kind == "face_touch" and lab.attrs.get("region"):
                st.region_n += 1
                st.region_ok += pr.attrs.get("region") == lab.attrs["region"]
        if listing:
            matched_l = dict(pairs)
            matched_p = {j for _, j in pairs}
            for i, lab in enumerate(ls):
                mj = matched_l.get(i)
                rep.listing.append({"clip": run.name, "kind": kind, "label": _ev_dict(lab),
                                    "pred": None if mj is None else _ev_dict(ps[mj])})
            for j, pr in enumerate(ps):
                if j not in matched_p:
                    rep.listing.append({"clip": run.name, "kind": kind, "label": None, "pred": _ev_dict(pr)})
    points = [(e.start_ms, e.end_ms) for e in run.preds if e.kind == "pointing"]
    for g in gestures:
        shape = g.attrs["shape"]
        rep.gesture["n"] += 1
        rep.gesture[f"n_{shape}"] += 1
        hit = any(overlaps_enough((g.start_ms, g.end_ms), pr, min_iou) for pr in points)
        any_overlap = any(iou((g.start_ms, g.end_ms), pr) > 0 for pr in points)
        rep.gesture["ok_event"] += hit if shape == "pointing" else not any_overlap
        if run.cues:
            rep.gesture["n_frames_scored"] += 1
            rep.gesture["ok_frames"] += _shape_vote(run.cues, g.start_ms, g.end_ms) == shape
        if listing:
            rep.listing.append({"clip": run.name, "kind": "gesture", "label": _ev_dict(g),
                                "pred_pointing_event": hit or any_overlap,
                                "frame_vote": _shape_vote(run.cues, g.start_ms, g.end_ms) if run.cues else None})


def _ev_dict(e: Ev) -> dict[str, Any]:
    keep = {k: v for k, v in e.attrs.items() if k in ("hands_used", "lean_deg", "region", "view", "shape",
                                                        "together_share", "duration_s")}
    return {"start_ms": round(e.start_ms), "end_ms": round(e.end_ms), "span_s": round(e.duration_s, 3), **keep}


def clips_in(paths: Sequence[Path], split: str | None) -> list[tuple[Path, Path]]:
    out: list[tuple[Path, Path]] = []
    for root in paths:
        sidecars = [root] if root.is_file() else sorted(root.rglob("*.labels.jsonl"))
        for lab in sidecars:
            video = lab.with_name(lab.name.replace(".labels.jsonl", ".mp4"))
            if not video.is_file():
                continue
            if split:
                header, _, _ = read_labels(lab)
                if header.get("split") != split:
                    continue
            out.append((lab, video))
    return out


def evaluate(name: str, clips: Sequence[tuple[Path, Path]], observer: Observer | None, *,
             via_cli: bool = False, model_dir: Path | None = None, min_iou: float = 0.3,
             listing: bool = False, dump: Path | None = None, stride: int = 1,
             baseline_s: float | None = None) -> EventReport:
    rep = EventReport(name)
    for lab_path, video in clips:
        header, frames, events = read_labels(lab_path)
        labels, gestures = label_events(header, frames, events)
        rp = header.get("trainee_side") if (header.get("persons") or 1) >= 2 else None
        if via_cli:
            run = run_cli(video, model_dir, rp)
        else:
            assert observer is not None
            run = run_replay(video, observer, rp, stride, baseline_s)
        rep.role_plays += rp is not None
        rep.clips += 1
        rep.frames += len(run.cues)
        rep.event_ns.extend(run.event_ns)
        rep.inter_ns.extend(run.inter_ns)
        score_clip(rep, run, labels, gestures, min_iou, listing)
        if dump is not None and run.cues:
            dump.mkdir(parents=True, exist_ok=True)
            with (dump / f"{video.stem}.cues.jsonl").open("w", encoding="utf-8") as fh:
                for c in run.cues:
                    fh.write(json.dumps(c) + "\n")
                for p in run.preds:
                    fh.write(json.dumps({"pred": p.kind, **_ev_dict(p)}) + "\n")
                for lab in labels + gestures:
                    fh.write(json.dumps({"label": lab.kind, **_ev_dict(lab)}) + "\n")
    rep.notes.append(f"matching: same kind, temporal IoU >= {min_iou:g} or either centre inside the other, "
                     "greedy one-to-one")
    if via_cli:
        rep.notes.append("via the CLI (hand gate on): no per-frame gesture vote, no timing")
    if not rep.kinds.get("face_touch") or not rep.kinds["face_touch"].n_label:
        rep.notes.append("no labelled face touches in this set")
    return rep


# ----------------------------------------------------------------------------- printing


def print_report(rep: EventReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    d = rep.to_dict()
    t = Table(title=f"{rep.name} — events ({d['clips']} clips, {d['frames']} frames)", title_justify="left")
    cols = ("kind", "labelled", "predicted", "TP", "P", "R", "F1", "dur err s", "onset err s", "extra")
    for c in cols:
        t.add_column(c, justify="left" if c in ("kind", "extra") else "right")
    for kind, r in d["kinds"].items():
        extra = []
        if "hands_agreement" in r:
            extra.append(f"1h/2h {_fmt(r['hands_agreement'])} (n {r['hands_n']})")
        if "lean_err_deg" in r:
            extra.append(f"lean err {_fmt(r['lean_err_deg'])}° side/obl (n {r['lean_n']}, unknown {r['lean_unknown']})")
        if "lean_err_front_deg" in r:
            extra.append(f"front {_fmt(r['lean_err_front_deg'])}°")
        if "lean_err_by_view" in r:
            extra.append("by camera " + ", ".join(f"{view} {_fmt(x['mean_abs_deg'])}° (n {x['n']})"
                                                  for view, x in r["lean_err_by_view"].items()))
        if "region_accuracy" in r:
            extra.append(f"region {_fmt(r['region_accuracy'])} (n {r['region_n']})")
        t.add_row(kind, str(r["labelled"]), str(r["predicted"]), str(r["tp"]), _fmt(r["precision"]),
                  _fmt(r["recall"]), _fmt(r["f1"]), _fmt(r["duration_err_s"]), _fmt(r["onset_err_s"]),
                  "; ".join(extra))
    console.print(t)
    g = d["gestures"]
    if g:
        console.print(f"  gestures (pointing vs open palm): n {g['n']} ({g['n_pointing']} pointing, "
                      f"{g['n_open_palm']} open palm): event {_fmt(g['accuracy_event'])}, "
                      f"frame vote {_fmt(g.get('accuracy_frames'))}")
    c = d["cost"]
    if c:
        console.print(f"  cost per frame: event machines {_fmt(c['event_ms_mean'])} ms mean, "
                      f"{_fmt(c['event_ms_p95'])} p95, {_fmt(c['event_ms_max'])} max; whole interaction step "
                      f"{_fmt(c.get('interaction_ms_mean'))} mean, {_fmt(c.get('interaction_ms_p95'))} p95")
    for n in d["notes"]:
        console.print(f"  [dim]note: {n}[/]")
    for row in d.get("events", []):
        print(f"  {json.dumps(row, ensure_ascii=False)}")


def _fmt(v: Any) -> str:
    return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", type=Path, help="folders of synthetic clips (searched recursively) or sidecars")
    ap.add_argument("--split", choices=("tune", "eval"), help="only clips of this split (the sidecar header)")
    ap.add_argument("--min-iou", type=float, default=0.3,
                    help="matching: temporal IoU at least this (or centre inside)")
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "posture-coach" / "bench")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--via-cli", action="store_true", help="run `posture-coach analyze` per clip (slow)")
    ap.add_argument("--stride", type=int, default=1, help="analyse every N-th frame (e.g. 30 fps renders at 2)")
    ap.add_argument("--list", action="store_true", help="also list every labelled and predicted event")
    ap.add_argument("--dump", type=Path, help="write each clip's per-frame cues and events here (JSONL)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--pooled", action="store_true",
                    help="one report over the clips of all SETS together (else one report per set)")
    ap.add_argument("--baseline-from-first-s", type=float, default=None, metavar="S",
                    help="a personal baseline from each clip's first S seconds (front-view leans)")
    args = ap.parse_args(argv)

    os.environ.setdefault("GLOG_minloglevel", "2")
    observer = None if args.via_cli else Observer(args.model_dir, args.cache_dir, not args.no_cache)
    t0 = time.perf_counter()
    reports = []
    try:
        for root in args.sets:
            if not root.exists():
                ap.error(f"{root}: not found")
        groups = [list(args.sets)] if args.pooled else [[root] for root in args.sets]
        for roots in groups:
            clips = clips_in(roots, args.split)
            label = roots[0].name if len(roots) == 1 else f"{len(roots)} sets pooled"
            name = f"events:{label}" + (f" ({args.split})" if args.split else "") + (
                f" (stride {args.stride})" if args.stride > 1 else "")
            reports.append(evaluate(name, clips, observer, via_cli=args.via_cli, model_dir=args.model_dir,
                                    min_iou=args.min_iou, listing=args.list, dump=args.dump,
                                    stride=args.stride, baseline_s=args.baseline_from_first_s))
    finally:
        if observer is not None:
            observer.close()
    emit_reports(reports, time.perf_counter() - t0, args.json, print_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
