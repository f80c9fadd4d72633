#!/usr/bin/env python3
"""Face rules on the real labelled photos: smile, yawn, head pose, teeth.

Runs :mod:`posture_coach.face_features`, :mod:`posture_coach.rules.face` and the
``teeth`` pixel measure directly on observations (no engine needed), and prints the
quality bars of issue 5.

Observations are computed once (FaceLandmarker only, IMAGE mode) and cached under
``~/.cache/posture-coach/face_eval/<set>.jsonl.gz``; re-runs replay them.

Usage::

    .venv/bin/python bench/face_eval.py extract          # fill the cache (slow once)
    .venv/bin/python bench/face_eval.py report           # print every bar
    .venv/bin/python bench/face_eval.py report --json

Held-out halves: the smile threshold in ``calibration/default.toml`` was chosen on the
odd-numbered GENKI files only; the report prints GENKI accuracy on the even-numbered
files (held out) and on all files, separately. Nothing was tuned on smile_smilesmiled,
yawn_yawdd_rf or teeth_faces.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from posture_coach.types import Frame, Observation  # noqa: E402

DATA = Path("/work/shared/data/real")
MODELS = Path("/work/shared/models")
CACHE = Path.home() / ".cache" / "posture-coach" / "face_eval"
SETS = ("genki4k_faces64", "smile_smilesmiled", "yawn_yawdd_rf", "teeth_faces")


def manifest(name: str) -> list[dict[str, str]]:
    with (DATA / name / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def upscale_pad(img: np.ndarray, scale: int = 4, pad_frac: float = 0.5) -> np.ndarray:
    """As bench/accuracy.py: 64-px crops are too small for the face detector."""
    import cv2

    h, w = img.shape[:2]
    big = cv2.resize(img, (w * scale, h * scale), interpolation=cv2.INTER_CUBIC)
    p = int(pad_frac * w * scale)
    return np.ascontiguousarray(cv2.copyMakeBorder(big, p, p, p, p, cv2.BORDER_REPLICATE))


def teeth_crop(img: np.ndarray, box: str, margin: float = 0.6) -> np.ndarray:
    """The labelled face (of possibly several) cut out with a margin, so a one-face
    landmarker finds that face; coordinates stay those of the crop."""
    x0, y0, x1, y1 = (float(v) for v in box.split(","))
    w, h = x1 - x0, y1 - y0
    H, W = img.shape[:2]
    a = int(max(0, x0 - margin * w))
    b = int(max(0, y0 - margin * h))
    c = int(min(W, x1 + margin * w))
    d = int(min(H, y1 + margin * h))
    return np.ascontiguousarray(img[b:d, a:c])


def load_image(name: str, row: dict[str, str]) -> np.ndarray:
    from posture_coach.sources import read_image

    img = read_image(DATA / name / row["relpath"])
    if name in ("genki4k_faces64", "smile_smilesmiled"):
        return upscale_pad(img)
    if name == "teeth_faces":
        return teeth_crop(img, row["face_box_xyxy"])
    return img


def row_key(name: str, row: dict[str, str]) -> str:
    return f"{row['relpath']}#{row.get('face_index', '0')}" if name == "teeth_faces" else row["relpath"]


def extract(names: list[str]) -> None:
    from posture_coach.landmarker import LandmarkerConfig, Landmarkers

    cfg = LandmarkerConfig(pose_model=MODELS / "pose_landmarker_full.task",
                           face_model=MODELS / "face_landmarker.task", face=True, hands=False,
                           mode="image")
    CACHE.mkdir(parents=True, exist_ok=True)
    with Landmarkers(cfg) as lms:
        for name in names:
            out = CACHE / f"{name}.jsonl.gz"
            done: dict[str, Any] = dict(read_cache(name)) if out.is_file() else {}
            rows = manifest(name)
            t0 = time.perf_counter()
            with gzip.open(out, "at") as fh:
                for i, row in enumerate(rows):
                    key = row_key(name, row)
                    if key in done:
                        continue
                    img = load_image(name, row)
                    obs = lms.observe(Frame(img, i, 0, key), tasks=("face",))
                    fh.write(json.dumps({"key": key, "obs": obs.to_dict()}) + "\n")
                    done[key] = obs
            print(f"{name}: {len(rows)} rows, {time.perf_counter() - t0:.1f} s", flush=True)


def read_cache(name: str) -> Iterator[tuple[str, Observation]]:
    with gzip.open(CACHE / f"{name}.jsonl.gz", "rt") as fh:
        for line in fh:
            d = json.loads(line)
            yield d["key"], Observation.from_dict(d["obs"])


def cached(name: str) -> dict[str, Observation]:
    return dict(read_cache(name))


# ----------------------------------------------------------------------------- report


def _genki_number(relpath: str) -> int:
    m = re.search(r"(\d+)", Path(relpath).stem)
    return int(m.group(1)) if m else 0


def load_face_calibration() -> dict[str, dict[str, Any]]:
    from posture_coach.calibration import load_calibration

    return {k: dict(v) for k, v in load_calibration().rules.items() if k.startswith("face.")}


def judge(obs: Observation, cal: dict[str, dict[str, Any]], image: np.ndarray | None = None) -> dict[str, Any]:
    """All face rules on one observation (image mode); states merged, verdicts by id."""
    import dataclasses

    from posture_coach.face_features import compute_face_features
    from posture_coach.features import Features, View
    from posture_coach.rules.face import FACE_RULES
    from posture_coach.teeth import teeth_measure

    if image is not None and obs.face is not None:
        m = teeth_measure(Frame(image, 0, 0), obs)
        obs = dataclasses.replace(obs, measures={**obs.measures, "teeth": m})
    vals = compute_face_features(obs)
    f = Features(t_ms=0, person=obs.person, view=View(face_visible=obs.face is not None), values=vals)
    states: dict[str, Any] = {}
    verdicts: dict[str, Any] = {}
    for rule in FACE_RULES:
        v = rule().check(f, cal[rule.id])
        verdicts[rule.id] = v
        for k, x in v.states.items():
            if x is not None:
                states[k] = x
    return {"states": states, "verdicts": verdicts, "values": vals, "obs": obs}


def _acc(pairs: list[tuple[bool, bool | None]]) -> dict[str, Any]:
    n = len(pairs)
    judged = [(t, p) for t, p in pairs if p is not None]
    ok = sum(t == p for t, p in judged)
    return {"n": n, "detected": len(judged), "detection_rate": round(len(judged) / n, 4) if n else None,
            "accuracy_detected": round(ok / len(judged), 4) if judged else None,
            "accuracy_incl_undetected": round(ok / n, 4) if n else None}


def report(names: list[str], as_json: bool) -> int:
    cal = load_face_calibration()
    out: dict[str, Any] = {}
    yawn_fa: list[bool] = []
    for name in ("genki4k_faces64", "smile_smilesmiled"):
        if name not in names:
            continue
        obs = cached(name)
        rows = manifest(name)
        pairs: dict[str, list[tuple[bool, bool | None]]] = {"all": [], "odd (tuning)": [], "even (held out)": []}
        pose_err: dict[str, list[float]] = {"yaw": [], "pitch": [], "roll": []}
        for row in rows:
            o = obs[row["relpath"]]
            res = judge(o, cal) if o.face is not None else None
            pred = None if res is None else bool(res["states"].get("smiling"))
            truth = row["label"] == "smile"
            pairs["all"].append((truth, pred))
            if name == "genki4k_faces64":
                half = "odd (tuning)" if _genki_number(row["relpath"]) % 2 else "even (held out)"
                pairs[half].append((truth, pred))
                if res is not None:
                    e = json.loads(row["extra"])
                    v = res["values"]
                    for k in ("yaw", "pitch", "roll"):
                        if v[f"head_{k}_deg"] is not None:
                            pose_err[k].append(v[f"head_{k}_deg"] - math.degrees(e[f"{k}_rad"]))
            if res is not None:
                yawn_fa.append(bool(res["states"].get("yawning")))
        out[name] = {k: _acc(v) for k, v in pairs.items() if v}
        if pose_err["yaw"]:
            out[name]["head_pose_vs_labels_deg"] = {
                k: {"mae": round(float(np.mean(np.abs(d))), 2), "median_ae": round(float(np.median(np.abs(d))), 2),
                    "bias": round(float(np.mean(d)), 2),
                    "mae_after_bias": round(float(np.mean(np.abs(np.array(d) - np.median(d)))), 2)}
                for k, d in pose_err.items()}
    if yawn_fa:
        out["yawn_false_alarms_on_smile_sets"] = {"faces": len(yawn_fa), "flagged": sum(yawn_fa),
                                                  "rate": round(sum(yawn_fa) / len(yawn_fa), 4)}
    if "yawn_yawdd_rf" in names:
        obs = cached("yawn_yawdd_rf")
        preds = []
        for row in manifest("yawn_yawdd_rf"):
            o = obs[row["relpath"]]
            preds.append(None if o.face is None else bool(judge(o, cal)["states"].get("yawning")))
        hit = sum(p is True for p in preds)
        out["yawn_yawdd_rf"] = {"n": len(preds), "detected": sum(p is not None for p in preds),
                                "recall_incl_undetected": round(hit / len(preds), 4),
                                "recall_detected": round(hit / max(1, sum(p is not None for p in preds)), 4)}
    if "teeth_faces" in names:
        out["teeth_faces"] = teeth_report(cal)
    if as_json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"== {k}")
            print(json.dumps(v, indent=2))
    return 0


def teeth_report(cal: dict[str, dict[str, Any]], verbose: bool = False) -> dict[str, Any]:
    obs = cached("teeth_faces")
    within = closed_ok = verdict_ok = n_teeth = n_closed = n_hi = unknown = 0
    errs: list[float] = []
    rows_out = []
    t_ms: list[float] = []
    for row in manifest("teeth_faces"):
        if row["yaw"] != "frontal":
            continue
        key = row_key("teeth_faces", row)
        o = obs[key]
        truth = int(row["upper_teeth"])
        pred = None
        if o.face is not None:
            img = load_image("teeth_faces", row)
            t0 = time.perf_counter()
            res = judge(o, cal, img)
            t_ms.append((time.perf_counter() - t0) * 1000)
            pred = res["states"].get("upper_teeth_visible")
        if pred is None:
            unknown += 1
        else:
            errs.append(abs(int(pred) - truth))
        rows_out.append((key, truth, pred, row["lips_closed"], row["confidence"]))
        if row["lips_closed"] == "1":
            n_closed += 1
            closed_ok += pred == 0
        elif truth > 0:
            n_teeth += 1
            within += pred is not None and abs(int(pred) - truth) <= 1
        if row["confidence"] == "high":
            n_hi += 1
            verdict_ok += pred is not None and (int(pred) <= 6) == (truth <= 6)
    if verbose:
        for r in rows_out:
            print(*r, sep="\t")
    return {
        "frontal_faces": len(rows_out), "unknown": unknown,
        "within_1_tooth (teeth visible)": f"{within}/{n_teeth} = {within / max(1, n_teeth):.3f}",
        "lips_closed_zero": f"{closed_ok}/{n_closed} = {closed_ok / max(1, n_closed):.3f}",
        "six_tooth_verdict_high_conf": f"{verdict_ok}/{n_hi} = {verdict_ok / max(1, n_hi):.3f}",
        "mean_abs_error": round(float(np.mean(errs)), 3) if errs else None,
        "face_rules_ms_per_face_incl_teeth (median, p90)":
            [round(float(np.median(t_ms)), 3), round(float(np.percentile(t_ms, 90)), 3)] if t_ms else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("extract", "report"))
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="per-face teeth rows")
    args = ap.parse_args(argv)
    if args.command == "extract":
        extract(args.sets)
        return 0
    if args.verbose:
        teeth_report(load_face_calibration(), verbose=True)
        return 0
    return int(report(args.sets, args.json))


if __name__ == "__main__":
    raise SystemExit(main())
