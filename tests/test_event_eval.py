"""The event benchmark's matching and label reading (bench/event_eval.py); no models needed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import event_eval as ee  # noqa: E402


def test_iou() -> None:
    assert ee.iou((0, 10), (0, 10)) == 1.0
    assert ee.iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert ee.iou((0, 10), (10, 20)) == 0.0
    assert ee.iou((0, 10), (20, 30)) == 0.0


def test_overlap_rule_iou_or_centre_inside() -> None:
    assert ee.overlaps_enough((0, 10), (4, 16), 0.3)  # IoU 0.375
    assert not ee.overlaps_enough((0, 10), (6, 16), 0.3)  # IoU 0.25, centres 5 and 11 outside the other
    assert ee.overlaps_enough((0, 10), (3, 30), 0.3)  # IoU 0.23, but the label's centre 5 lies inside
    assert ee.overlaps_enough((0, 100), (40, 50), 0.3)  # a short cue inside a long stretch (centre inside)
    assert ee.overlaps_enough((40, 50), (0, 100), 0.3)  # and the reverse
    assert not ee.overlaps_enough((0, 10), (11, 20), 0.0)


def test_match_is_one_to_one_by_best_iou() -> None:
    labels = [(0, 1000), (2000, 3000)]
    preds = [(100, 900), (50, 1100), (2100, 2900), (5000, 6000)]
    pairs = ee.match_events(labels, preds, 0.3)
    # (0,1000) goes to (50,1100) (IoU 0.91 > 0.8), (2000,3000) to (2100,2900); two predictions stay FPs
    assert pairs == [(0, 1), (1, 2)]
    assert ee.match_events([], preds) == [] and ee.match_events(labels, []) == []


def test_label_events_reads_kinds_gestures_and_touches() -> None:
    header = {"fps": 10.0}
    frames = {i: {"frame": i, "t_ms": i * 100, "view": "side" if i < 50 else "front"} for i in range(100)}
    events = [
        {"kind": "event", "type": "handshake", "lean_deg": 11.0, "start_ms": 1000, "end_ms": 3000},
        {"kind": "event", "type": "handover", "hands_used": 2, "start_ms": 6000, "end_ms": 8000},
        {"kind": "event", "type": "smile", "start_ms": 0, "end_ms": 9000},
        {"kind": "event", "type": "posture", "posture": "pointing", "start_ms": 100, "end_ms": 900,
         "states": {"pointing_finger": True}},
        {"kind": "event", "type": "posture", "posture": "open_palm", "start_ms": 9000, "end_ms": 9500,
         "states": {"pointing_finger": False}},
        {"kind": "event", "type": "posture", "posture": "face_touch", "params": {"region": "nose"},
         "start_ms": 4000, "end_ms": 5000, "states": {"face_touch_region": "nose"}},
    ]
    labels, gestures = ee.label_events(header, frames, events)
    kinds = sorted(e.kind for e in labels)
    assert kinds == ["face_touch", "handover", "handshake", "pointing"]
    hs = next(e for e in labels if e.kind == "handshake")
    assert hs.attrs["view"] == "side" and hs.attrs["lean_deg"] == 11.0
    assert next(e for e in labels if e.kind == "handover").attrs["view"] == "front"
    assert next(e for e in labels if e.kind == "face_touch").attrs["region"] == "nose"
    assert [g.attrs["shape"] for g in gestures] == ["pointing", "open_palm"]
    # explicit face_touch events win over posture-derived ones
    labels, _ = ee.label_events(header, frames, [*events, {"type": "face_touch", "region": "ear",
                                                            "start_ms": 4100, "end_ms": 4900}])
    assert [e.attrs["region"] for e in labels if e.kind == "face_touch"] == ["ear"]


def test_score_clip_counts_and_attributes() -> None:
    rep = ee.EventReport("t")
    labels = [ee.Ev("handover", 0, 3000, {"hands_used": 1, "view": "oblique"}),
              ee.Ev("handshake", 5000, 7000, {"lean_deg": 10.0, "view": "side"}),
              ee.Ev("face_touch", 8000, 9000, {"region": "nose"})]
    preds = [ee.Ev("handover", 100, 3100, {"hands_used": 2, "duration_s": 2.5}),
             ee.Ev("handshake", 5100, 7200, {"lean_deg": 8.0, "duration_s": 2.1}),
             ee.Ev("handshake", 10000, 11000, {"lean_deg": 1.0}),
             ee.Ev("face_touch", 8100, 9100, {"region": "nose"})]
    ee.score_clip(rep, ee.ClipRun("c", preds, [], [], []), labels, [], 0.3, listing=True)
    d = rep.to_dict()["kinds"]
    assert d["handover"]["tp"] == 1 and d["handover"]["hands_agreement"] == 0.0
    assert d["handover"]["duration_err_s"] == pytest.approx(0.5)
    assert d["handshake"]["predicted"] == 2 and d["handshake"]["precision"] == 0.5 and d["handshake"]["recall"] == 1.0
    assert d["handshake"]["lean_err_deg"] == pytest.approx(2.0)
    assert d["handshake"]["lean_err_by_view"] == {"side": {"n": 1, "mean_abs_deg": pytest.approx(2.0)}}
    assert d["handshake"]["duration_err_s"] == pytest.approx(0.1)
    assert d["face_touch"]["region_accuracy"] == 1.0
    assert len(rep.listing) == 4


def test_gesture_accuracy_event_and_frame_vote() -> None:
    rep = ee.EventReport("t")
    gestures = [ee.Ev("gesture", 0, 1000, {"shape": "pointing"}), ee.Ev("gesture", 2000, 3000, {"shape": "open_palm"})]
    cues = [{"t_ms": t, "pointing_r": 1.0 if t < 1000 else 0.0, "open_palm_r": 1.0 if t >= 2000 else 0.0}
            for t in range(0, 3001, 100)]
    preds = [ee.Ev("pointing", 100, 900)]
    labels = [ee.Ev("pointing", 0, 1000, {"shape": "pointing"})]
    ee.score_clip(rep, ee.ClipRun("c", preds, cues, [], []), labels, gestures, 0.3, listing=False)
    g = rep.to_dict()["gestures"]
    assert g["n"] == 2 and g["accuracy_event"] == 1.0 and g["accuracy_frames"] == 1.0
