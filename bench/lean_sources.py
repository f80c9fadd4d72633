"""Which forward-lean estimate holds at an angle: the 2-D torso line or the pose model's 3-D one?

The handshake and bow leans come from the 2-D hip→shoulder angle, deprojected for the
body's turn (``interaction_features.deprojected_lean_deg``: a lean θ shows as
atan(tan θ · sin φ) at a turn φ from facing the camera, φ estimated from SW / TL). From
an oblique camera that estimate under-reads. This bench compares it, on labelled
synthetic clips, with the lean read from MediaPipe's 3-D world landmarks (the hip→shoulder
vector's angle from the vertical in the body's forward plane, the face on the forward
side; the world frame taken as camera-aligned, like the 2-D angle assumes a level
camera).

Per clip it prints the labelled lean, both estimates averaged over the frames where the
labelled lean is at least ``--min-lean`` (the hold of a handshake or bow), and both
estimates over the first ``--upright-s`` seconds, where the renders stand upright (the
truth there is ~0): a good estimate reads ~0 there. Then the mean absolute error per
camera family (side, oblique, front).

Usage::

    python bench/lean_sources.py sample_videos sample_videos/eval DIR... [--glob '*handshake*']

Observations come from ``bench/accuracy.py``'s cache, role-plays with their header's
``trainee_side``. Measurement only: the product uses the 2-D estimate (docs/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(BENCH))

from accuracy import Observer  # noqa: E402
from posture_coach.calibration import load_calibration  # noqa: E402
from posture_coach.interaction_features import body2d, deprojected_lean_deg  # noqa: E402
from posture_coach.types import PoseLm, PoseObs  # noqa: E402


def world_lean_deg(pose: PoseObs) -> float | None:
    """Forward lean from the 3-D world landmarks, degrees (positive towards the face)."""
    w = pose.world
    if w is None:
        return None
    hip = (w[PoseLm.LEFT_HIP] + w[PoseLm.RIGHT_HIP]) / 2.0
    sh = (w[PoseLm.LEFT_SHOULDER] + w[PoseLm.RIGHT_SHOULDER]) / 2.0
    up = np.array([0.0, -1.0, 0.0])  # world y points down, as in the image
    fwd = np.cross(w[PoseLm.LEFT_SHOULDER] - w[PoseLm.RIGHT_SHOULDER], up)
    fwd[1] = 0.0
    n = float(np.linalg.norm(fwd))
    if n <= 1e-6:
        return None
    fwd /= n
    if float(np.dot(w[PoseLm.NOSE] - sh, fwd)) < 0.0:
        fwd = -fwd
    t = sh - hip
    return math.degrees(math.atan2(float(np.dot(t, fwd)), float(np.dot(t, up))))


def family(preset: str) -> str:
    return "side" if preset.startswith("side") else "oblique" if "oblique" in preset else "front"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--glob", default="*.mp4")
    ap.add_argument("--min-lean", type=float, default=8.0, help="labelled lean of the frames averaged, deg")
    ap.add_argument("--upright-s", type=float, default=1.2, help="opening seconds taken as upright")
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "posture-coach" / "bench")
    args = ap.parse_args(argv)
    p = load_calibration().interaction
    obsr = Observer(args.model_dir, args.cache_dir)
    errs: dict[str, list[tuple[float, float, float, float]]] = {}
    print(f"{'clip':52s} {'camera':16s} {'truth':>6s} {'2d':>6s} {'3d':>6s} | upright {'2d':>5s} {'3d':>5s}")
    for d in args.dirs:
        for mp4 in sorted(d.glob(args.glob)):
            side = mp4.with_suffix(".labels.jsonl")
            if not side.exists():
                continue
            rows = [json.loads(line) for line in side.read_text().splitlines() if line.strip()]
            hdr = rows[0]
            labels = {r["frame"]: r for r in rows if r.get("kind") == "frame"}
            hold: list[tuple[float, float, float]] = []
            upright: list[tuple[float, float]] = []
            for o in obsr.video(mp4, role_play=hdr.get("trainee_side")):
                lab = labels.get(o.frame_index)
                if lab is None or o.pose is None:
                    continue
                truth = (lab.get("angles") or {}).get("torso_incline_deg")
                b = body2d(o.pose, o.image_size, p["min_visibility"], p["min_visibility_hand"])
                w3 = world_lean_deg(o.pose)
                if truth is None or b is None or b.hip is None or not b.tl or w3 is None:
                    continue
                ang = abs(math.degrees(math.atan2(b.sh[0] - b.hip[0], b.hip[1] - b.sh[1])))
                d2 = deprojected_lean_deg(ang, b.sw / b.tl, p)
                if o.timestamp_ms < args.upright_s * 1000.0:
                    upright.append((d2, w3))
                elif truth >= args.min_lean:
                    hold.append((truth, d2, w3))
            if not hold:
                continue
            h = np.array(hold).mean(axis=0)
            u = np.median(np.array(upright), axis=0) if upright else (float("nan"), float("nan"))
            preset = hdr["camera"]["preset"]
            print(f"{mp4.name[-52:]:52s} {preset:16s} {h[0]:6.1f} {h[1]:6.1f} {h[2]:6.1f} "
                  f"| upright {u[0]:5.1f} {u[1]:5.1f}")
            errs.setdefault(family(preset), []).append((abs(h[1] - h[0]), abs(h[2] - h[0]), abs(u[0]), abs(u[1])))
    print()
    print(f"{'camera':8s} {'clips':>5s} {'2-D error':>10s} {'3-D error':>10s} "
          f"{'upright 2-D':>12s} {'upright 3-D':>12s}")
    for fam in ("side", "oblique", "front"):
        if fam in errs:
            e = np.nanmean(np.array(errs[fam]), axis=0)
            print(f"{fam:8s} {len(errs[fam]):5d} {e[0]:10.2f} {e[1]:10.2f} {e[2]:12.2f} {e[3]:12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
