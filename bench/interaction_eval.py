"""Two-person handshake detection on real photos: handshake_rf and UT-Interaction frames.

    .venv/bin/python bench/interaction_eval.py                 # both sets, both strategies
    .venv/bin/python bench/interaction_eval.py --limit 40      # quicker
    .venv/bin/python bench/interaction_eval.py --no-cache      # recompute the landmarks

Landmarks (the expensive part: 2 pose passes per photo) are cached under
``~/.cache/posture-coach/interaction_eval`` keyed by file hash, strategy and model, so
re-running after a threshold change costs milliseconds. The decision itself is
:func:`posture_coach.two_person.two_person_measures` with the ``[interaction]`` table of
``calibration/interaction.toml``.

What is reported, per set and strategy:
- persons found (0/1/2), and "both visible" = two people each with both shoulders seen;
- handshake_rf (positives only, photos stretched to 416×416 by Roboflow, so body
  geometry is distorted): recall over all photos and over photos where both are visible;
- UT-Interaction (8 frames: 2 handshake, 3 hug, 1 kick, 1 punch, 1 push): a confusion
  table true label × predicted handshake;
- the cost of finding two people: median / p90 ms per photo (pose passes only).
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
SETS = ("handshake_rf", "ut_interaction_frames")
STRATEGIES = ("mask", "mask@4", "halves")  # mask@4: paint out up to 4 people (bystanders)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Finder:
    """Runs the two-person detector on photos, caching the poses it finds."""

    def __init__(self, use_cache: bool) -> None:
        self.use_cache = use_cache
        self._det: dict[str, Any] = {}
        self._lm: Any = None

    def _detector(self, strategy: str) -> Any:
        if strategy not in self._det:
            from posture_coach.landmarker import LandmarkerConfig, Landmarkers
            from posture_coach.two_person import TwoPersonDetector

            if self._lm is None:
                cfg = LandmarkerConfig(pose_model=MODELS / "pose_landmarker_full.task", face=False, hands=False,
                                       mode="image", min_pose_confidence=0.3)
                self._lm = Landmarkers(cfg)
            strat, _, n = strategy.partition("@")
            self._det[strategy] = TwoPersonDetector(self._lm, strategy=strat,  # type: ignore[arg-type]
                                                    max_persons=int(n or 2))
        return self._det[strategy]

    def find(self, path: Path, strategy: str) -> tuple[list[Any], tuple[int, int], float, bool]:
        """(poses, image size, ms, from_cache)."""
        from posture_coach.types import PoseObs

        key = f"{_sha(path)}-{strategy}-v1"
        cache = CACHE / f"{key}.json.gz"
        if self.use_cache and cache.is_file():
            with gzip.open(cache, "rt") as fh:
                d = json.load(fh)
            return [PoseObs.from_dict(p) for p in d["persons"]], tuple(d["size"]), d["ms"], True  # type: ignore[return-value]
        from posture_coach.sources import read_image
        from posture_coach.two_person import _slim
        from posture_coach.types import Frame

        img = read_image(path)
        res = self._detector(strategy).find(Frame(img, 0, 0, str(path)))
        CACHE.mkdir(parents=True, exist_ok=True)
        with gzip.open(cache, "wt") as fh:
            json.dump({"persons": [_slim(p) for p in res.persons], "size": list(res.image_size), "ms": res.ms}, fh)
        return list(res.persons), res.image_size, res.ms, False

    def close(self) -> None:
        if self._lm is not None:
            self._lm.close()


def _manifest(name: str) -> list[dict[str, str]]:
    with (DATA / name / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _both_visible(persons: list[Any], p: dict[str, float]) -> bool:
    from posture_coach.interaction_features import body2d

    if len(persons) < 2:
        return False
    return all(body2d(q, (1, 1), p["min_visibility"], p["min_visibility_hand"]) is not None for q in persons[:2])


def evaluate(name: str, strategy: str, finder: Finder, limit: int | None, trainee: str) -> dict[str, Any]:
    from posture_coach.events import load_interaction_calibration
    from posture_coach.two_person import TwoPersonResult, two_person_measures

    p = dict(load_interaction_calibration().params)
    rows = _manifest(name)[:limit] if limit else _manifest(name)
    n_persons: Counter[int] = Counter()
    conf: Counter[tuple[str, str]] = Counter()
    ms_fresh: list[float] = []
    ms_all: list[float] = []
    per: list[dict[str, Any]] = []
    both = hits_both = hits_all = 0
    for row in rows:
        path = DATA / name / row["relpath"]
        persons, size, ms, cached = finder.find(path, strategy)
        ms_all.append(ms)
        if not cached:
            ms_fresh.append(ms)
        res = TwoPersonResult(tuple(persons), size, ms, 0)
        m = two_person_measures(res, p, trainee)  # type: ignore[arg-type]
        n_persons[min(len(persons), 2)] += 1
        vis2 = _both_visible(persons, p)
        hs = bool(m["handshake"])
        both += vis2
        hits_both += vis2 and hs
        hits_all += hs
        pred = "handshake" if hs else "not_handshake"
        conf[(row["label"], pred)] += 1
        per.append({"file": row["relpath"], "label": row["label"], "persons": len(persons), "both_visible": vis2,
                    "handshake": hs, "gap_sw": m["hand_gap_sw"], "lean_deg": m["lean_deg"],
                    "distance_m": m["distance_m"]})
    out: dict[str, Any] = {
        "set": name, "strategy": strategy, "n": len(rows),
        "persons_found": {str(k): v for k, v in sorted(n_persons.items())},
        "both_visible": both,
        "ms_median": round(statistics.median(ms_all), 1) if ms_all else None,
        "ms_p90": round(sorted(ms_all)[int(0.9 * (len(ms_all) - 1))], 1) if ms_all else None,
        "ms_measured_now": len(ms_fresh),
    }
    if name == "handshake_rf":
        out["recall_all"] = round(hits_all / len(rows), 4) if rows else None
        out["recall_both_visible"] = round(hits_both / both, 4) if both else None
        out["note"] = "positives only; photos stretched to 416x416 (aspect not preserved)"
    else:
        out["confusion"] = {f"{t}->{pr}": c for (t, pr), c in sorted(conf.items())}
        out["per_frame"] = per
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    ap.add_argument("--strategies", nargs="*", default=list(STRATEGIES))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--trainee", default="left", choices=("left", "right"))
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"no data at {DATA}", file=sys.stderr)
        return 2
    finder = Finder(use_cache=not args.no_cache)
    results = []
    t0 = time.perf_counter()
    try:
        for strategy in args.strategies:
            for name in args.sets:
                r = evaluate(name, strategy, finder, args.limit, args.trainee)
                results.append(r)
                show = {k: v for k, v in r.items() if k != "per_frame"}
                print(json.dumps(show, ensure_ascii=False))
                for row in r.get("per_frame", []):
                    print("   ", json.dumps(row))
    finally:
        finder.close()
    print(f"total {time.perf_counter() - t0:.1f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
