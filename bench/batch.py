"""Recorded-analysis speed: real-time factor per frame stride (and whether findings survive
the stride), and batch throughput with the local pool vs Ray at 1 and 2 workers.

    .venv/bin/python bench/batch.py stride VIDEO [VIDEO ...] [--strides 1 2 3]
    .venv/bin/python bench/batch.py engines VIDEO [VIDEO ...] [--engines local ray] [--workers 1 2]

Prints tables; the load average is printed too, because the numbers mean little without it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from posture_coach.jobs import AnalysisOptions, analyse_video, run_batch


def _load() -> str:
    a, b, c = os.getloadavg()
    return f"load average {a:.2f} {b:.2f} {c:.2f} on {os.cpu_count()} cores"


def _fps(video: Path) -> tuple[float, int]:
    import cv2

    cap = cv2.VideoCapture(str(video))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 30.0)
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    cap.release()
    return fps, n


def _overlap(a: list[tuple[str, int, int]], b: list[tuple[str, int, int]], slack_ms: int) -> tuple[int, int]:
    """How many findings of ``a`` have a finding of the same rule in ``b`` overlapping it (± slack)."""
    hit = 0
    for rid, s0, e0 in a:
        if any(r == rid and s1 - slack_ms <= e0 and s0 <= e1 + slack_ms for r, s1, e1 in b):
            hit += 1
    return hit, len(a)


def bench_stride(videos: list[Path], strides: list[int], model_dir: Path | None) -> None:
    print(_load())
    print(f"{'video':32} {'stride':>6} {'frames':>6} {'wall s':>7} {'video s':>7} {'× real time':>11} "
          f"{'findings':>8} {'kept vs stride 1':>16} {'overall':>7}")
    for v in videos:
        fps, n = _fps(v)
        base: list[tuple[str, int, int]] | None = None
        for st in strides:
            opts = AnalysisOptions(stride=st, model_dir=model_dir)
            t0 = time.perf_counter()
            res = analyse_video(v, opts)
            wall = time.perf_counter() - t0
            dur = n / fps if fps else res.duration_s
            found = [(f.rule_id, f.start_ms, f.end_ms or f.start_ms) for f in res.findings]
            if base is None:
                base = found
            kept, total = _overlap(base, found, slack_ms=int(1000 * st / fps) + 200)
            ov = "—" if res.overall_score is None else f"{100 * res.overall_score:.0f}"
            print(f"{v.name[:32]:32} {st:6d} {res.frames:6d} {wall:7.2f} {dur:7.2f} {dur / wall:11.2f} "
                  f"{len(found):8d} {f'{kept}/{total}':>16} {ov:>7}", flush=True)
    print(_load())


def bench_engines(videos: list[Path], engines: list[str], workers: list[int], model_dir: Path | None) -> None:
    print(_load())
    print(f"{'engine':8} {'workers':>7} {'videos':>6} {'ok':>3} {'wall s':>7} {'video s':>7} {'× real time':>11}")
    total_video_s = 0.0
    for v in videos:
        fps, n = _fps(v)
        total_video_s += n / fps if fps else 0.0
    for eng in engines:
        for w in workers:
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                summary: dict[str, Any] = run_batch(videos, Path(out), engine=eng, workers=w,
                                                    opts=AnalysisOptions(model_dir=model_dir), langs=("en",))
                wall = time.perf_counter() - t0
            print(f"{eng:8} {w:7d} {len(videos):6d} {summary['ok']:3d} {wall:7.2f} {total_video_s:7.2f} "
                  f"{total_video_s / wall:11.2f}", flush=True)
            for item in summary["failed"]:
                print(f"    failed: {item['video']}: {item['error']}")
    print(_load())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s1 = sub.add_parser("stride")
    s1.add_argument("videos", nargs="+", type=Path)
    s1.add_argument("--strides", nargs="+", type=int, default=[1, 2, 3])
    s2 = sub.add_parser("engines")
    s2.add_argument("videos", nargs="+", type=Path)
    s2.add_argument("--engines", nargs="+", default=["local", "ray"])
    s2.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    args = ap.parse_args(argv)
    md = os.environ.get("POSTURE_COACH_MODEL_DIR")
    model_dir = Path(md) if md else None
    if args.cmd == "stride":
        bench_stride(args.videos, args.strides, model_dir)
    else:
        bench_engines(args.videos, args.engines, args.workers, model_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
