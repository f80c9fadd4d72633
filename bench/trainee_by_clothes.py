"""Role-play by profile: is the trainee found by the clothes worn at calibration?

For every calibration clip of ``sample_videos/roleplay_id/`` a profile is built the way
``posture-coach calibrate`` builds it (``appearance.torso_signature`` averaged over the
clip). Every role-play (the two renders there, ``roleplay_side`` and ``roleplay_oblique``,
each also mirrored) is run once through the two-person detector of the video pipeline;
each two-person frame's pair is compared with every profile, and a
:class:`~posture_coach.appearance.TraineePicker` per profile decides frame by frame as the
pipeline does. Printed: for each role-play and profile, the truth (the side of the person
in those clothes, or nobody) and the share of frames decided right, wrong or not at all.

Usage::

    python bench/trainee_by_clothes.py [--every 1]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from posture_coach.appearance import (  # noqa: E402
    TraineePicker,
    mean_signature,
    signature_distance,
    torso_signature,
    white_balance_gain,
)
from posture_coach.calibration import load_calibration  # noqa: E402
from posture_coach.landmarker import LandmarkerConfig, Landmarkers  # noqa: E402
from posture_coach.two_person import TwoPersonDetector, pick_pair  # noqa: E402
from posture_coach.types import Frame  # noqa: E402

MODELS = Path(os.environ.get("POSTURE_COACH_MODEL_DIR", REPO / ".." / "shared" / "models")).resolve()
CLIPS = REPO / "sample_videos" / "roleplay_id"
#: role-play -> {body: image side} of the people in it (sample_videos/roleplay_id/README.md).
TRUTH: dict[str, dict[str, str]] = {
    "rp_heavy_side": {"m_heavy_dark": "left", "m_slim_asian": "right"},
    "rp_brown_side": {"f_avg_brown": "right", "m_slim_asian": "left"},
    "roleplay_side": {"m_avg_light": "left", "m_slim_asian": "right"},
    "roleplay_oblique": {"f_avg_brown": "left", "m_slim_asian": "right"},
}
BODIES = ("m_heavy_dark", "f_avg_brown", "m_slim_asian", "m_avg_light")


def _frames(path: Path, mirror: bool, every: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    i = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if i % every == 0:
            out.append(cv2.cvtColor(cv2.flip(bgr, 1) if mirror else bgr, cv2.COLOR_BGR2RGB))
        i += 1
    cap.release()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, default=1, help="use every Nth frame of the role-plays")
    args = ap.parse_args(argv)
    cfg = LandmarkerConfig(pose_model=MODELS / "pose_landmarker_full.task", face=False, hands=False, mode="video")
    params = load_calibration().interaction

    profiles: dict[str, list[float]] = {}
    for body in BODIES:
        sigs = []
        with Landmarkers(cfg, parallel=False) as lm:
            for i, img in enumerate(_frames(CLIPS / f"calib_{body}.mp4", False, 1)):
                obs = lm.observe(Frame(img, i, round(i * 1000 / 15)))
                if obs.pose is not None and (s := torso_signature(img, obs.pose)) is not None:
                    sigs.append(s)
        ref = mean_signature(sigs)
        if ref is None:
            raise SystemExit(f"calib_{body}.mp4: no clothing colours seen")
        profiles[body] = ref

    print("| role-play | profile | truth | right | wrong | undecided | distance left / right (median) |")
    print("|---|---|---|---|---|---|---|")
    totals: Counter[str] = Counter()
    for name, people in TRUTH.items():
        path = CLIPS / f"{name}.mp4" if (CLIPS / f"{name}.mp4").is_file() else REPO / "sample_videos" / f"{name}.mp4"
        for mirror in (False, True):
            left, right = Landmarkers(cfg), Landmarkers(cfg)
            det = TwoPersonDetector(left, strategy="halves", secondary=right)
            pairs: list[tuple[list[float], list[float]]] = []
            for i, img in enumerate(_frames(path, mirror, args.every)):
                res = det.find(Frame(img, i, round(i * args.every * 1000 / 15)))
                if len(res.persons) < 2:
                    continue
                a, b = pick_pair(res, params, "left")
                gain = white_balance_gain(img)
                sa, sb = torso_signature(img, a, gain=gain), torso_signature(img, b, gain=gain)
                if sa is not None and sb is not None:
                    pairs.append((sa, sb))
            left.close()
            right.close()
            for body, ref in profiles.items():
                side = people.get(body)
                if side is not None and mirror:
                    side = "right" if side == "left" else "left"
                picker = TraineePicker(ref)
                tally: Counter[str] = Counter()
                dists = []
                for sa, sb in pairs:
                    dl, dr = signature_distance(sa, ref), signature_distance(sb, ref)
                    dists.append((dl, dr))
                    got = picker.update_distances(dl, dr)
                    tally["undecided" if got is None else "right" if got == side else "wrong"] += 1
                n = max(1, len(pairs))
                med = np.median(np.array(dists), axis=0) if dists else (float("nan"), float("nan"))
                label = f"{name}{' (mirrored)' if mirror else ''}"
                print(f"| {label} | {body} | {side or 'not in it'} | {tally['right'] / n:.2f} | "
                      f"{tally['wrong'] / n:.2f} | {tally['undecided'] / n:.2f} | {med[0]:.2f} / {med[1]:.2f} |")
                totals["in" if side else "out"] += 1
                totals["wrong_frames"] += tally["wrong"]
                totals["frames"] += len(pairs)
    print(f"\n{totals['frames']} role-play × profile frames; decided wrong: {totals['wrong_frames']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
