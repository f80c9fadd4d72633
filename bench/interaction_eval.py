"""Two-person handshake detection on real photos: handshake_rf, UT-Interaction frames and false alarms on smoke_people.

    .venv/bin/python bench/interaction_eval.py                 # both sets, both strategies
    .venv/bin/python bench/interaction_eval.py --limit 40      # quicker
    .venv/bin/python bench/interaction_eval.py --no-cache      # recompute the landmarks
    .venv/bin/python bench/interaction_eval.py --strategies mask@4 mask@4+retry mask@4+retry4
    .venv/bin/python bench/interaction_eval.py --sets handshake_rf --unstretch 1.33   # widen the squeezed photos

Landmarks (the expensive part: 2 pose passes per photo) are cached under
``~/.cache/posture-coach/interaction_eval`` keyed by file hash, strategy and model, so
re-running after a threshold change costs milliseconds. The decision itself is
:func:`posture_coach.two_person.two_person_measures` with the ``[interaction]`` table of
``calibration/interaction.toml``.

What is reported, per set and strategy:
- persons found (0/1/2), and "both visible" = two people each with both shoulders seen;
- handshake_rf (positives only, photos stretched to 416×416 by Roboflow, so body
  geometry is distorted): recall over all photos, over the photos hand-labelled as showing
  both partners (``bench/handshake_rf_both_visible.tsv``: the bar's denominator) and over
  the photos where the detector found both;
- UT-Interaction (8 frames: 2 handshake, 3 hug, 1 kick, 1 punch, 1 push) and smoke_people (41
  photos of people, none shaking hands; the video is skipped): a confusion
  table true label × predicted handshake;
- the cost of finding two people: median / p90 ms per photo (pose passes only) and the mean
  number of passes (the robust cost figure on a shared CPU).

Strategy names: ``mask@N`` paints out up to N people; ``+retryK`` (K = 2 when left out): fewer
than K people found -> three more passes at :data:`posture_coach.two_person.RETRY_POSE_CONFIDENCE`
(whole painted photo, its left and right crops); ``+mirror``: no handshake among the people found ->
two passes on the mirror image's left and right 60 % crops (``TwoPersonDetector(mirror=True)``);
``+hands`` probes hidden hands. ``smoke_people`` (COCO and other photos of people, none shaking hands)
counts photos wrongly flagged as handshakes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO / ".." / "shared" / "data" / "real").resolve()
MODELS = (REPO / ".." / "shared" / "models").resolve()
CACHE = Path.home() / ".cache" / "posture-coach" / "interaction_eval"
SETS = ("handshake_rf", "ut_interaction_frames", "smoke_people")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
# mask@4: paint out up to 4 people (bystanders); body@4: paint head, torso and limbs (hands kept);
# "+hands": probe the hand landmarker where one hand reaches between the pair (hidden wrists);
# "+retryN": fewer than N (default 2) people found -> search the painted photo again at a low pose
# confidence (whole, left and right crops: 3 passes), keeping every new person for pick_pair.
# "+mirror": no handshake among the people found -> pose on the mirror image's left and right halves
# (2 passes), every estimate kept for pick_pair (the product's photo path: mask@4+retry4+mirror).
STRATEGIES = ("mask", "mask@4", "mask@4+retry", "mask@4+retry4", "mask@4+retry4+mirror", "halves", "body@4",
              "body@4+hands")
PROBE_KEYS = ("reach_min_share", "reach_max_share", "reach_min_clearance_sw", "hand_probe_half_sw", "hand_probe_px",
              "join_max_gap_sw", "join_between_margin_sw", "join_min_clearance_sw", "join_min_height_tl",
              "join_max_height_tl", "pair_max_scale_ratio", "join_max_scale_ratio", "hug_max_head_gap_sw",
              "hug_min_reach_share", "hand_probe_near_sw")
PAINT_KEYS = ("paint_forearm_share", "paint_limb_width_sw")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Finder:
    """Runs the two-person detector on photos, caching the poses (and probed hands) it finds."""

    def __init__(self, use_cache: bool, params: dict[str, float], unstretch: float = 1.0) -> None:
        self.use_cache = use_cache
        self.unstretch = unstretch
        self.params = params
        self._det: dict[str, Any] = {}
        self._lm: Any = None
        self._hands: Any = None
        self._retry: Any = None

    def _detector(self, strategy: str) -> Any:
        key = f"{strategy}~w{self.unstretch:g}"
        if key not in self._det:
            from posture_coach.landmarker import LandmarkerConfig, Landmarkers
            from posture_coach.two_person import TwoPersonDetector

            if self._lm is None:
                cfg = LandmarkerConfig(pose_model=MODELS / "pose_landmarker_full.task", face=False, hands=False,
                                       mode="image", min_pose_confidence=0.3)
                self._lm = Landmarkers(cfg)
            base, *extras = strategy.split("+")
            strat, _, n = base.partition("@")
            hands = None
            retry = None
            below = [int(x[5:] or 2) for x in extras if x.startswith("retry")]
            if below:
                if self._retry is None:
                    from posture_coach.two_person import RETRY_POSE_CONFIDENCE

                    cfg = LandmarkerConfig(pose_model=MODELS / "pose_landmarker_full.task", face=False, hands=False,
                                           mode="image", min_pose_confidence=RETRY_POSE_CONFIDENCE)
                    self._retry = Landmarkers(cfg)
                retry = self._retry
            if "hands" in extras:
                if self._hands is None:
                    cfg = LandmarkerConfig(pose_model=MODELS / "pose_landmarker_full.task",
                                           hand_model=MODELS / "hand_landmarker.task", face=False, hands=True,
                                           num_hands=2, mode="image", min_hand_confidence=0.3)
                    self._hands = Landmarkers(cfg)
                hands = self._hands
            self._det[key] = TwoPersonDetector(self._lm, strategy=strat,  # type: ignore[arg-type]
                                                    max_persons=int(n or 2), hands=hands, params=self.params,
                                                    unstretch=self.unstretch, retry=retry,
                                                    retry_below=below[0] if below else 2,
                                                    mirror="mirror" in extras)
        return self._det[key]

    def _key(self, path: Path, strategy: str) -> str:
        if self.unstretch != 1.0:
            strategy = f"{strategy}~w{self.unstretch:g}"
        keys = PAINT_KEYS if strategy.startswith("body") else ()
        if "+hands" in strategy:
            keys = keys + PROBE_KEYS
        if "+retry" in strategy:
            from posture_coach.two_person import RETRY_POSE_CONFIDENCE

            strategy = f"{strategy}-c{RETRY_POSE_CONFIDENCE:g}-keepall"
        if "+mirror" in strategy:
            # The mirror passes run only when the people found show no handshake: every
            # [interaction] number can change that.
            keys = tuple(sorted(self.params))
        if not keys:
            return f"{_sha(path)}-{strategy}-v1"  # mask / halves: nothing tunable changes the poses
        ph = hashlib.sha256(json.dumps([self.params[k] for k in keys]).encode()).hexdigest()[:8]
        return f"{_sha(path)}-{strategy}-{ph}-v2"

    def find(self, path: Path, strategy: str) -> tuple[Any, bool]:
        """(TwoPersonResult, from_cache)."""
        from posture_coach.two_person import TwoPersonResult
        from posture_coach.types import HandObs, PoseObs

        cache = CACHE / f"{self._key(path, strategy)}.json.gz"
        if self.use_cache and cache.is_file():
            with gzip.open(cache, "rt") as fh:
                d = json.load(fh)
            hands = tuple(HandObs.from_dict(h) for h in d.get("hands", []))
            return TwoPersonResult(tuple(PoseObs.from_dict(p) for p in d["persons"]), tuple(d["size"]),  # type: ignore[arg-type]
                                   d["ms"], d.get("passes", 0), hands), True
        from posture_coach.sources import read_image
        from posture_coach.two_person import _slim
        from posture_coach.types import Frame

        img = read_image(path)
        res = self._detector(strategy).find(Frame(img, 0, 0, str(path)))
        CACHE.mkdir(parents=True, exist_ok=True)
        with gzip.open(cache, "wt") as fh:
            json.dump({"persons": [_slim(p) for p in res.persons], "size": list(res.image_size), "ms": res.ms,
                       "passes": res.passes, "hands": [h.to_dict() for h in res.hands]}, fh)
        return res, False

    def close(self) -> None:
        for lm in (self._lm, self._hands, self._retry):
            if lm is not None:
                lm.close()


def split_of(relpath: str) -> str:
    """``tune`` when the SHA-256 of the file name is even, else ``test`` (a fixed, content-free split)."""
    return "tune" if int(hashlib.sha256(Path(relpath).name.encode()).hexdigest(), 16) % 2 == 0 else "test"


def _in_box(xy: list[float] | None, extra: str, grow: float = 0.5) -> bool:
    """Is the meeting point inside a labelled handshake box (grown by ``grow`` of its size each way)?"""
    if xy is None:
        return False
    try:
        boxes = json.loads(extra)["yolo_boxes_cls_cx_cy_w_h_norm"]
    except (ValueError, KeyError):
        return False
    for b in boxes:
        cx, cy, bw, bh = (float(v) for v in b[1:5])
        if abs(xy[0] - cx) <= bw * (0.5 + grow) and abs(xy[1] - cy) <= bh * (0.5 + grow):
            return True
    return False


def _slim_xy(pose: Any) -> list[list[float]]:
    """x, y, visibility of the 33 pose landmarks (for montages of misses)."""
    return [[round(float(x), 4), round(float(y), 4), round(float(v), 3)]
            for (x, y), v in zip(pose.landmarks[:, :2], pose.visibility, strict=True)]


BOTH_VISIBLE_LABELS = REPO / "bench" / "handshake_rf_both_visible.tsv"


def _labelled_both_visible() -> dict[str, bool]:
    """relpath -> both people who shake hands are in the photo (hand-labelled, see the file's header)."""
    if not BOTH_VISIBLE_LABELS.is_file():
        return {}
    lines = [ln for ln in BOTH_VISIBLE_LABELS.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return {r["relpath"]: r["both_visible"] == "1" for r in csv.DictReader(lines, delimiter="\t")}


def _manifest(name: str) -> list[dict[str, str]]:
    with (DATA / name / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _both_visible(persons: list[Any], p: dict[str, float]) -> bool:
    from posture_coach.interaction_features import body2d

    if len(persons) < 2:
        return False
    return all(body2d(q, (1, 1), p["min_visibility"], p["min_visibility_hand"]) is not None for q in persons[:2])


def evaluate(name: str, strategy: str, finder: Finder, limit: int | None, trainee: str) -> dict[str, Any]:
    from posture_coach.two_person import two_person_measures

    p = finder.params
    rows = [r for r in _manifest(name) if Path(r["relpath"]).suffix.lower() in IMAGE_SUFFIXES]
    rows = rows[:limit] if limit else rows
    n_persons: Counter[int] = Counter()
    conf: Counter[tuple[str, str]] = Counter()
    ms_fresh: list[float] = []
    ms_all: list[float] = []
    passes: list[int] = []
    per: list[dict[str, Any]] = []
    tally: dict[str, Counter[str]] = {k: Counter() for k in ("all", "tune", "test")}
    labelled = _labelled_both_visible() if name == "handshake_rf" else {}
    for row in rows:
        path = DATA / name / row["relpath"]
        res, cached = finder.find(path, strategy)
        persons = list(res.persons)
        ms_all.append(res.ms)
        passes.append(res.passes)
        if not cached:
            ms_fresh.append(res.ms)
        m = two_person_measures(res, p, trainee)  # type: ignore[arg-type]
        n_persons[min(len(persons), 2)] += 1
        vis2 = _both_visible(persons, p)
        hs = bool(m["handshake"])
        loc = hs and _in_box(m["meet_xy"], row.get("extra", ""))
        for part in ("all", split_of(row["relpath"])):
            t = tally[part]
            t["n"] += 1
            t["both"] += vis2
            t["hits_both"] += vis2 and hs
            t["hits"] += hs
            t["hits_loc"] += loc
            t["reach"] += hs and m["handshake_kind"] == "reach"
            t["lab"] += labelled.get(row["relpath"], False)
            t["hits_lab"] += labelled.get(row["relpath"], False) and hs
        pred = "handshake" if hs else "not_handshake"
        conf[(row["label"], pred)] += 1
        per.append({"file": row["relpath"], "label": row["label"], "split": split_of(row["relpath"]),
                    "persons": len(persons), "both_visible": vis2, "handshake": hs, "kind": m["handshake_kind"],
                    "hug": m["hug"], "gap_sw": m["hand_gap_sw"], "lean_deg": m["lean_deg"],
                    "distance_m": m["distance_m"], "meet_xy": m["meet_xy"], "ms": round(res.ms, 1),
                    "passes": res.passes, "persons_lm": [_slim_xy(q) for q in persons]})
    out: dict[str, Any] = {
        "set": name, "strategy": strategy, "n": len(rows),
        "persons_found": {str(k): v for k, v in sorted(n_persons.items())},
        "both_visible": tally["all"]["both"],
        "ms_median": round(statistics.median(ms_all), 1) if ms_all else None,
        "ms_p90": round(sorted(ms_all)[int(0.9 * (len(ms_all) - 1))], 1) if ms_all else None,
        "passes_mean": round(statistics.mean(passes), 2) if passes else None,
        "ms_measured_now": len(ms_fresh),
    }
    if name == "handshake_rf":
        for part in ("all", "tune", "test"):
            t = tally[part]
            out[part] = {"n": t["n"], "labelled_both_visible": t["lab"],
                         "recall_labelled_both_visible": round(t["hits_lab"] / t["lab"], 4) if t["lab"] else None,
                         "both_visible": t["both"],
                         "recall_both_visible": round(t["hits_both"] / t["both"], 4) if t["both"] else None,
                         "recall_all": round(t["hits"] / t["n"], 4) if t["n"] else None,
                         "recall_all_localised": round(t["hits_loc"] / t["n"], 4) if t["n"] else None,
                         "by_reach": t["reach"]}
        out["note"] = ("positives only; recall_labelled_both_visible: over the photos hand-labelled as showing "
                       "both partners (bench/handshake_rf_both_visible.tsv), the bar's denominator; both_visible: "
                       "the detector found two people with shoulders; photos stretched to 416x416 (aspect not "
                       "preserved); split by "
                       "sha256(file name) parity: tune = even; localised = meeting point within the labelled "
                       "box grown by 50 %")
        out["per_photo"] = per
    else:
        out["confusion"] = {f"{t}->{pr}": c for (t, pr), c in sorted(conf.items())}
        out["per_frame"] = per
    return out


def hand_gate_bench(clips: list[Path], params: dict[str, float]) -> list[dict[str, Any]]:
    """Hands on demand on real or rendered clips: every frame vs :class:`posture_coach.hand_gate.HandGate`.

    Two VIDEO-mode passes per clip with pose+face+hands loaded: (a) hands every frame,
    (b) hands only when the gate asked for them on the previous frame. Reports the frames
    that skipped the hand model and the hand-model milliseconds of both passes.
    """
    from posture_coach.hand_gate import HandGate
    from posture_coach.interaction_features import InteractionTracker
    from posture_coach.landmarker import LandmarkerConfig, Landmarkers
    from posture_coach.sources import open_source

    out = []
    cfg = LandmarkerConfig(pose_model=MODELS / "pose_landmarker_full.task", face_model=MODELS / "face_landmarker.task",
                           hand_model=MODELS / "hand_landmarker.task", mode="video")
    for clip in clips:
        row: dict[str, Any] = {"clip": clip.name}
        for gated in (False, True):
            gate = HandGate(needed=True)
            tracker = InteractionTracker(params)
            hands_ms: list[float] = []
            total_ms: list[float] = []
            with Landmarkers(cfg) as lm, open_source(str(clip)) as src:
                for frame in src:
                    tasks = gate.tasks(lm.tasks) if gated else lm.tasks
                    t0 = time.perf_counter()
                    obs = lm.observe(frame, tasks=tasks)
                    total_ms.append((time.perf_counter() - t0) * 1000.0)
                    hands_ms.append(lm.timings_ms.get("hands", 0.0) if "hands" in tasks else 0.0)
                    values, _ = tracker.update(obs, video=True)
                    gate.update(obs.timestamp_ms, values)
            key = "gated" if gated else "always"
            row[key] = {"frames": len(total_ms), "hand_frames": sum(1 for x in hands_ms if x > 0),
                        "hands_ms_mean": round(statistics.mean(hands_ms), 2) if hands_ms else None,
                        "observe_ms_median": round(statistics.median(total_ms), 2) if total_ms else None,
                        "observe_ms_mean": round(statistics.mean(total_ms), 2) if total_ms else None}
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    ap.add_argument("--strategies", nargs="*", default=list(STRATEGIES))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--trainee", default="left", choices=("left", "right"))
    ap.add_argument("--unstretch", type=float, default=1.0,
                    help="widen each photo by this factor before the search (handshake_rf was squeezed to 416x416)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--hand-gate", nargs="*", type=Path, default=None, metavar="CLIP",
                    help="measure hands on demand on these clips instead (VIDEO mode, two passes each)")
    args = ap.parse_args(argv)
    if args.hand_gate is not None:
        from posture_coach.events import load_interaction_calibration

        print(f"load {Path('/proc/loadavg').read_text().split()[:3]}")
        for r in hand_gate_bench(args.hand_gate, dict(load_interaction_calibration().params)):
            print(json.dumps(r))
        return 0
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    from posture_coach.events import load_interaction_calibration

    finder = Finder(use_cache=not args.no_cache, params=dict(load_interaction_calibration().params))
    results = []
    t0 = time.perf_counter()
    try:
        for strategy in args.strategies:
            for name in args.sets:
                # Only handshake_rf was squeezed to a square; UT-Interaction frames keep their aspect.
                finder.unstretch = args.unstretch if name == "handshake_rf" else 1.0
                r = evaluate(name, strategy, finder, args.limit, args.trainee)
                results.append(r)
                show = {k: v for k, v in r.items() if k not in ("per_frame", "per_photo")}
                print(json.dumps(show, ensure_ascii=False))
                for row in r.get("per_frame", []):
                    print("   ", json.dumps({k: v for k, v in row.items() if k != "persons_lm"}))
    finally:
        finder.close()
    print(f"total {time.perf_counter() - t0:.1f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
