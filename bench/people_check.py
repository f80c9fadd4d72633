"""The "two people in view" notice of a one-person analysis, clip by clip.

    python bench/people_check.py [CLIP_OR_DIR ...] [--stride 2]

Runs each clip through :class:`posture_coach.pipeline.ObservationStream` as ``analyze`` and
``score`` do without ``--role-play`` (face and hands off: the check reads pose only), and
prints per clip the checks made, those that found a second person standing apart, whether
the notice was given and what the checks cost. A clip counts as a role-play when its name
says so (``roleplay``/``rp_``), or its labels sidecar says ``persons: 2``. Default: every
clip under ``sample_videos/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _is_role_play(clip: Path) -> bool:
    if "roleplay" in clip.name or clip.name.startswith("rp_"):
        return True
    labels = clip.with_suffix(".labels.jsonl")
    if labels.is_file():
        with labels.open(encoding="utf-8") as fh:
            header = json.loads(fh.readline() or "{}")
        return int(header.get("persons", 1) or 1) >= 2
    return False


def _clips(args: list[str]) -> list[Path]:
    roots = [Path(a) for a in args] or [ROOT / "sample_videos"]
    out: list[Path] = []
    for r in roots:
        out += sorted(r.rglob("*.mp4")) if r.is_dir() else [r]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clips", nargs="*", help="clips or folders (default: sample_videos/)")
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--model-dir", type=Path, default=None)
    a = ap.parse_args(argv)

    from posture_coach.pipeline import ObservationStream
    from posture_coach.two_person import SecondPersonProbe

    tally = {True: [0, 0, 0, 0], False: [0, 0, 0, 0]}  # clips, notices, checks, found
    print(f"{'clip':48s} {'role-play':>9s} {'checks':>6s} {'found':>5s} {'notice':>6s} {'check ms':>8s} {'wall s':>6s}")
    for clip in _clips(a.clips):
        t0 = time.perf_counter()
        with ObservationStream(clip, model_dir=a.model_dir, face=False, hands=False, stride=a.stride) as st:
            for _ in st:
                pass
            probe = st._people_probe
            assert isinstance(probe, SecondPersonProbe)
            notice = bool(st.notices())
        rp = _is_role_play(clip)
        t = tally[rp]
        t[0] += 1
        t[1] += notice
        t[2] += probe.checks
        t[3] += probe.found
        print(f"{clip.name[:48]:48s} {'yes' if rp else 'no':>9s} {probe.checks:6d} {probe.found:5d} "
              f"{'yes' if notice else 'no':>6s} {probe.ms:8.0f} {time.perf_counter() - t0:6.1f}", flush=True)
    print()
    print("| clips | n | notice | checks with a second person |")
    print("|---|---|---|---|")
    for rp in (False, True):
        n, notices, checks, found = tally[rp]
        if n:
            print(f"| {'role-plays' if rp else 'one person'} | {n} | {notices} | {found} / {checks} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
