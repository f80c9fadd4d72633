"""How far can MediaPipe's hips be trusted once they leave the frame?

The rules treat a landmark outside the image as not seen (``geometry.is_visible``): the
pose model extrapolates joints beyond the border and the torso angle needs the hips. This
bench measures what relaxing that would cost. For every sampled frame whose hips are in
view, the image is cut at the bottom so that the hip midpoint lies ``d`` of the cut image's
height below its lower edge (``d`` = 0 puts it on the edge), the pose model runs again on
the cut image, and the 2-D torso angle (hip midpoint to shoulder midpoint, from vertical)
is compared with the uncut frame's. It also prints how often the hips would still pass the
rules' visibility gate (``min_visibility`` 0.5) without the in-frame test.

Usage::

    python bench/hips_out_of_frame.py sample_videos/sitting_*.mp4 sample_videos/eval_sitting_back.mp4
    python bench/hips_out_of_frame.py ../shared/data/real/smoke_people/*/*.jpg

Video files are sampled every ``--every`` frames; images are used whole.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from posture_coach.landmarker import LandmarkerConfig, Landmarkers  # noqa: E402
from posture_coach.types import Frame, PoseObs  # noqa: E402

MODELS = Path(os.environ.get("POSTURE_COACH_MODEL_DIR", REPO / ".." / "shared" / "models")).resolve()
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
SHOULDERS, HIPS = (11, 12), (23, 24)


def frames(paths: list[Path], every: int) -> Iterator[np.ndarray]:
    for path in paths:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            bgr = cv2.imread(str(path))
            if bgr is not None:
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            continue
        cap = cv2.VideoCapture(str(path))
        i = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            i += 1
            if i % every == 0:
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        cap.release()


def torso_angle_deg(pose: PoseObs, w: int, h: int) -> float:
    lm = pose.landmarks[:, :2] * np.array([w, h], float)
    sh, hp = lm[list(SHOULDERS)].mean(axis=0), lm[list(HIPS)].mean(axis=0)
    v = sh - hp
    return math.degrees(math.atan2(float(v[0]), float(-v[1])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", type=Path)
    ap.add_argument("--every", type=int, default=6, help="video: use every Nth frame")
    ap.add_argument("--below", default="0,0.05,0.10,0.15,0.20",
                    help="hip midpoint this share of the cut image's height below its edge")
    args = ap.parse_args(argv)
    below = [float(x) for x in args.below.split(",")]
    cfg = LandmarkerConfig(pose_model=MODELS / "pose_landmarker_full.task", face=False, hands=False, mode="image")
    err: dict[float, list[float]] = defaultdict(list)
    vis_ok: dict[float, list[bool]] = defaultdict(list)
    lost: dict[float, int] = defaultdict(int)
    n_frames = 0
    with Landmarkers(cfg, parallel=False) as lm:
        def pose(img: np.ndarray) -> PoseObs | None:
            return lm.observe(Frame(np.ascontiguousarray(img), 0, 0)).pose

        for img in frames(args.inputs, args.every):
            h, w = img.shape[:2]
            full = pose(img)
            if full is None or float(full.visibility[[*SHOULDERS, *HIPS]].min()) < 0.5:
                continue
            hip_y = float(full.landmarks[list(HIPS), 1].mean()) * h
            sh_y = float(full.landmarks[list(SHOULDERS), 1].mean()) * h
            if hip_y >= h or hip_y - sh_y < 20:
                continue
            n_frames += 1
            ref = torso_angle_deg(full, w, h)
            for d in below:
                cut = round(hip_y / (1.0 + d))
                if cut <= sh_y + 10:
                    lost[d] += 1
                    continue
                p = pose(img[:cut])
                if p is None:
                    lost[d] += 1
                    continue
                err[d].append(abs(torso_angle_deg(p, w, cut) - ref))
                vis_ok[d].append(float(p.visibility[list(HIPS)].min()) >= 0.5)
    print(f"{n_frames} frames with shoulders and hips in view ({len(args.inputs)} inputs)")
    print("| hips below the edge (share of height) | n | no pose | torso angle error mean / p90 "
          "| hips pass visibility 0.5 |")
    print("|---|---|---|---|---|")
    for d in below:
        e = np.array(err[d])
        if not len(e):
            print(f"| {d:.2f} | 0 | {lost[d]} | — | — |")
            continue
        print(f"| {d:.2f} | {len(e)} | {lost[d]} | {e.mean():.2f} / {np.percentile(e, 90):.2f}° | "
              f"{np.mean(vis_ok[d]):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
