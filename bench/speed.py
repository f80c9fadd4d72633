#!/usr/bin/env python3
"""Speed benchmark: the product's real path, frame by frame, against the landmarkers' ceiling.

What runs
---------
1. The product path: :class:`posture_coach.pipeline.ObservationStream` on a video file
   (OpenCV decode -> pose, face and hands in their worker threads -> Observation), then
   ``CoachEngine.update`` (the rules) when the engine is importable. Per frame we record
   decode, each landmarker, the landmark stage's wall time, rules and the total (from
   asking for the frame to having its verdict), plus RSS after the warm-up and at the end.
2. The ceiling, in the same run: the first K frames decoded into memory beforehand, then
   fresh pose, face and hands landmarkers (same options as the product) each running
   alone in its own thread over all K frames. ``ceiling_fps = K / wall time`` is the most
   this machine can get from the three models with one thread per task;
   ``ratio = fps / ceiling_fps`` says how close the whole pipeline gets to it.

The clip
--------
``--clip PATH`` uses a video as it is. Otherwise a 640x480, 30 fps clip of
``max(--frames, 900)`` frames (>= 30 s) is written to a temporary folder from a seed
video: the first ``sample_videos/*.mp4`` of the repository, else the real smoke clip
``smoke_people/openpose/video.avi`` under ``--data-dir`` (default ``$POSTURE_COACH_DATA_DIR``,
else ``../shared/data/real`` beside the repository). The seed is centre-cropped to 4:3,
resized and played forwards then backwards (ping-pong) so motion stays continuous and
tracking is never reset by a jump cut. Encoded with OpenCV's MPEG-4 (mp4v) writer.

Honesty notes: nothing is cached between runs; the model files may sit in the OS page
cache from earlier runs (``load_s`` is then a warm-disk figure); the machine (nproc, CPU
model, load average before and after) is printed with every result, because on a shared
2-core box other processes change the numbers a lot.

Usage::

    python bench/speed.py                       # 5,000 frames (RSS growth), ~4-6 min on 2 cores
    python bench/speed.py --frames 300          # quick check
    python bench/speed.py --frames 300 --json   # one JSON object on stdout
    python bench/speed.py --no-face --no-hands --clip my.mp4
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from posture_coach.errors import CoachError  # noqa: E402
from posture_coach.pipeline import ObservationStream, landmarker_config  # noqa: E402
from posture_coach.sources import open_source  # noqa: E402
from posture_coach.types import Observation  # noqa: E402

CLIP_SIZE = (640, 480)
CLIP_FPS = 30.0
MIN_CLIP_FRAMES = 900  # 30 s at 30 fps
SEED_MAX_FRAMES = 600
SMOKE_CLIP = Path("smoke_people/openpose/video.avi")
STAGES = ("decode", "pose", "face", "hands", "landmarks", "pixels", "rules", "total")


def log(msg: str) -> None:
    print(f"[speed] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        usable = os.cpu_count() or 0

    def version(pkg: str) -> str:
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    return {
        "nproc": os.cpu_count(),
        "usable_cpus": usable,
        "cpu_model": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "mediapipe": version("mediapipe"),
        "opencv": cv2.__version__,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB."""
    cur = peak = math.nan
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    if math.isnan(peak):
        ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = ru / (1024 * 1024) if sys.platform == "darwin" else ru / 1024
    return cur, peak


def stats(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=np.float64)
    return {
        "mean": round(float(arr.mean()), 2),
        "p50": round(float(np.percentile(arr, 50)), 2),
        "p95": round(float(np.percentile(arr, 95)), 2),
    }


# ----------------------------------------------------------------------------- the clip


def default_data_dir() -> Path:
    env = os.environ.get("POSTURE_COACH_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data" / "real"


def find_seed(data_dir: Path) -> Path:
    samples = sorted((REPO / "sample_videos").glob("*.mp4"))
    if samples:
        return samples[0]
    smoke = data_dir / SMOKE_CLIP
    if smoke.is_file():
        return smoke
    raise SystemExit(
        "no seed video: put a clip in sample_videos/, pass --clip, or point --data-dir / "
        f"POSTURE_COACH_DATA_DIR at a folder holding {SMOKE_CLIP}"
    )


def _fit(bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Centre-crop to the target aspect ratio, then resize (people keep their shape)."""
    w, h = size
    ih, iw = bgr.shape[:2]
    if iw * h > ih * w:  # too wide
        cw = ih * w // h
        x0 = (iw - cw) // 2
        bgr = bgr[:, x0 : x0 + cw]
    elif iw * h < ih * w:  # too tall
        ch = iw * h // w
        y0 = (ih - ch) // 2
        bgr = bgr[y0 : y0 + ch]
    return cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)


def build_clip(seed: Path, out: Path, n_frames: int) -> None:
    cap = cv2.VideoCapture(str(seed))
    frames: list[np.ndarray] = []
    while len(frames) < SEED_MAX_FRAMES:
        ok, bgr = cap.read()
        if not ok or bgr is None:
            break
        frames.append(_fit(bgr, CLIP_SIZE))
    cap.release()
    if not frames:
        raise SystemExit(f"{seed}: OpenCV could not decode a frame")
    cycle = frames + frames[-2:0:-1]  # ping-pong: no jump cut, tracking stays on
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), CLIP_FPS, CLIP_SIZE)
    if not writer.isOpened():
        raise SystemExit("OpenCV cannot write an mp4v video here")
    for i in range(n_frames):
        writer.write(cycle[i % len(cycle)])
    writer.release()


# ----------------------------------------------------------------------------- the rules


def make_engine() -> tuple[Callable[[Observation], object] | None, str]:
    """The rules engine's update function, or None and why it is not available."""
    try:
        from posture_coach.calibration import load_calibration
        from posture_coach.engine import CoachEngine

        engine = CoachEngine(load_calibration(), None, mode="video")
        return engine.update, "posture_coach.engine.CoachEngine (default calibration, no profile)"
    except Exception as exc:  # the engine is being written; any failure means "n/a"
        return None, f"engine not available: {type(exc).__name__}: {exc}"


# ----------------------------------------------------------------------------- passes


@dataclass
class ProductRun:
    stages: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    frames: int = 0
    wall_s: float = 0.0
    fps_first_k: float = math.nan
    fps_after_warmup: float = math.nan
    cpu_s: float = 0.0
    load_s: float = 0.0
    open_s: float = 0.0
    rss_warm_mb: float = math.nan
    rss_end_mb: float = math.nan
    peak_rss_mb: float = math.nan
    tasks: tuple[str, ...] = ()
    rules_note: str = ""
    rules_error: str | None = None


def product_pass(
    clip: Path, model_dir: Path | None, *, face: bool, hands: bool, frames: int, warmup: int,
    first_k: int,
) -> ProductRun:
    run = ProductRun()
    update, run.rules_note = make_engine()
    t_open = time.perf_counter()
    stream = ObservationStream(clip, model_dir=model_dir, face=face, hands=hands, fetch_models=False)
    run.open_s = time.perf_counter() - t_open
    run.load_s = stream.info.load_seconds
    lms = stream._landmarkers  # read-only: which tasks the product loaded
    run.tasks = lms.tasks if lms is not None else ()
    times = stream.times
    try:
        it = iter(stream)
        cpu0 = time.process_time()
        t_start = prev = time.perf_counter()
        t_warm = t_k = math.nan
        for k in range(frames):
            item = next(it, None)
            if item is None:
                break
            _, obs = item
            t_obs = time.perf_counter()
            if update is not None:
                try:
                    update(obs)
                except Exception as exc:  # report, keep measuring the rest
                    run.rules_error = f"{type(exc).__name__}: {exc}"
                    update = None
            t_end = time.perf_counter()
            for s in ("decode", "landmarks", "pixels", *run.tasks):
                run.stages[s].append(times.last.get(s, math.nan))
            if update is not None:
                run.stages["rules"].append((t_end - t_obs) * 1000)
            run.stages["total"].append((t_end - prev) * 1000)
            prev = t_end
            run.frames = k + 1
            if run.frames == warmup:
                t_warm = t_end
                run.rss_warm_mb = rss_mb()[0]
            if run.frames == first_k:
                t_k = t_end
            if run.frames % 500 == 0:
                log(f"product path: {run.frames}/{frames} frames, {run.frames / (t_end - t_start):.1f} fps")
        run.wall_s = prev - t_start
        run.cpu_s = time.process_time() - cpu0
        run.rss_end_mb, run.peak_rss_mb = rss_mb()
        if run.frames > warmup:
            run.fps_after_warmup = (run.frames - warmup) / (prev - t_warm)
        if run.frames >= first_k:
            run.fps_first_k = first_k / (t_k - t_start)
    finally:
        stream.close()
    return run


@dataclass
class CeilingRun:
    frames: int
    lockstep_s: float  # every frame: the three tasks in parallel, wait for all, next frame
    free_s: float  # each task runs through all frames on its own, no waiting for the others
    task_ms: dict[str, dict[str, float] | None]  # from the lockstep pass

    @property
    def lockstep_fps(self) -> float:
        return self.frames / self.lockstep_s

    @property
    def free_fps(self) -> float:
        return self.frames / self.free_s

    @property
    def fps(self) -> float:
        return max(self.lockstep_fps, self.free_fps)


def ceiling_pass(clip: Path, model_dir: Path | None, *, face: bool, hands: bool, k: int) -> CeilingRun:
    """The three landmarkers alone, on frames decoded and wrapped beforehand.

    Two schedulings, same instances: lockstep (the product's pattern without decode,
    conversion or rules) and free-running (a task never waits for the others, which can
    win when cores are spare). The ceiling is the faster of the two.
    """
    # The product's adapter and its exact task options; importing it first runs its
    # privacy block before mediapipe is touched here.
    from posture_coach import landmarker as lmod

    mp: Any = importlib.import_module("mediapipe")
    cfg = landmarker_config(model_dir, face=face, hands=hands, mode="video", fetch=False)
    assert isinstance(cfg, lmod.LandmarkerConfig)
    src = open_source(clip)
    try:
        decoded = [f for _, f in zip(range(k), src, strict=False)]
    finally:
        src.close()
    images = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f.image) for f in decoded]
    stamps = [f.timestamp_ms for f in decoded]
    del decoded
    tasks = {name: lmod._create(name, cfg) for name in cfg.tasks}
    per_task: dict[str, list[float]] = {name: [] for name in tasks}

    def one(name: str, img: Any, ts: int) -> float:
        t = time.perf_counter()
        tasks[name].detect_for_video(img, ts)
        return (time.perf_counter() - t) * 1000

    try:
        # 1. lockstep, one worker thread per task (as the product's adapter does)
        with ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="ceiling") as ex:
            t0 = time.perf_counter()
            for img, ts in zip(images, stamps, strict=True):
                futs = {n: ex.submit(one, n, img, ts) for n in tasks}
                for n, fut in futs.items():
                    per_task[n].append(fut.result())
            lockstep_s = time.perf_counter() - t0
        # 2. free-running: timestamps continue after the lockstep pass (VIDEO mode)
        offset = stamps[-1] + 1000
        start = threading.Barrier(len(tasks) + 1)

        def run_all(name: str) -> None:
            start.wait()
            for img, ts in zip(images, stamps, strict=True):
                one(name, img, ts + offset)

        threads = [threading.Thread(target=run_all, args=(n,), name=f"ceiling-{n}") for n in tasks]
        for th in threads:
            th.start()
        start.wait()
        t0 = time.perf_counter()
        for th in threads:
            th.join()
        free_s = time.perf_counter() - t0
    finally:
        for task in tasks.values():
            task.close()
    return CeilingRun(len(images), lockstep_s, free_s, {n: stats(v) for n, v in per_task.items()})


# ----------------------------------------------------------------------------- report


def fmt(x: float | None, nd: int = 1) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def _num(x: float, nd: int = 2) -> float | None:
    return None if math.isnan(x) else round(x, nd)


def build_result(
    mach: dict[str, Any], clip: dict[str, Any], run: ProductRun, ceil: CeilingRun, warmup: int
) -> dict[str, Any]:
    fps = run.frames / run.wall_s if run.wall_s > 0 else math.nan
    ceiling_fps = ceil.fps
    total = stats(run.stages["total"]) or {}
    stages = {s: stats(v) for s, v in run.stages.items()}
    for s in ("face", "hands"):
        if s not in run.tasks:
            stages[s] = None
    return {
        "fps": _num(fps),
        "ceiling_fps": _num(ceiling_fps),
        "ratio": _num(fps / ceiling_fps, 3),
        "p50_ms": total.get("p50"),
        "p95_ms": total.get("p95"),
        "rss_growth_mb": _num(run.rss_end_mb - run.rss_warm_mb, 1),
        "load_s": round(run.load_s, 3),
        "peak_rss_mb": _num(run.peak_rss_mb, 1),
        "rss_after_warmup_mb": _num(run.rss_warm_mb, 1),
        "rss_end_mb": _num(run.rss_end_mb, 1),
        "rss_growth_frames": max(0, run.frames - warmup),
        "frames": run.frames,
        "warmup_frames": warmup,
        "fps_after_warmup": _num(run.fps_after_warmup),
        "fps_first_k": _num(run.fps_first_k),
        "ratio_same_frames": _num(run.fps_first_k / ceiling_fps, 3),
        "ceiling_frames": ceil.frames,
        "ceiling_lockstep_fps": _num(ceil.lockstep_fps),
        "ceiling_free_fps": _num(ceil.free_fps),
        "ceiling_task_ms": ceil.task_ms,
        "cpu_cores_used": _num(run.cpu_s / run.wall_s) if run.wall_s > 0 else None,
        "stream_open_s": round(run.open_s, 3),
        "stages_ms": stages,
        "tasks": list(run.tasks),
        "rules": run.rules_note if run.rules_error is None else f"error: {run.rules_error}",
        "rules_available": bool(run.stages["rules"]),
        "clip": clip,
        "machine": mach,
    }


def print_table(res: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=None if sys.stdout.isatty() else 110)
    m = res["machine"]
    con.print(
        f"[bold]machine[/]: {m['nproc']} cpus ({m['usable_cpus']} usable), {m['cpu_model']}; "
        f"load avg before {m['loadavg_before']}, between passes {m['loadavg_between']}, "
        f"after {m['loadavg_after']}; "
        f"mediapipe {m['mediapipe']}, opencv {m['opencv']}, python {m['python']}"
    )
    c = res["clip"]
    con.print(
        f"[bold]clip[/]: {c['path']} ({c['width']}x{c['height']} @ {c['fps']:g} fps, "
        f"{c['frames']} frames{', seed ' + c['seed'] if c.get('seed') else ''})"
    )
    loads = (m["loadavg_before"][0], m["loadavg_between"][0], m["loadavg_after"][0])
    busy = max(loads) > 0.5 * (m["nproc"] or 1)
    if busy:
        con.print("[yellow]the machine was busy (load average > half the cpus): timings are noisy[/]")

    t = Table(title=f"per-frame stages, ms (product path, {res['frames']} frames)")
    for col in ("stage", "mean", "p50", "p95"):
        t.add_column(col, justify="left" if col == "stage" else "right")
    for s, v in res["stages_ms"].items():
        if v is None:
            note = "n/a (engine not available)" if s == "rules" else "n/a (off)"
            t.add_row(s, note, "", "")
        else:
            t.add_row(s, fmt(v["mean"]), fmt(v["p50"]), fmt(v["p95"]))
    con.print(t)
    if not res["rules_available"]:
        con.print(f"rules: n/a ({res['rules']})")

    s = Table(title="throughput and memory")
    s.add_column("metric")
    s.add_column("value", justify="right")
    s.add_column("note")
    growth_note = f"RSS at end - RSS after {res['warmup_frames']} warm-up frames"
    if res["rss_growth_frames"] < 2000:
        growth_note += f" (only {res['rss_growth_frames']} frames: use --frames 5000)"
    rows = [
        ("fps (sustained)", fmt(res["fps"]), "all frames, decode + landmarks + rules"),
        ("fps after warm-up", fmt(res["fps_after_warmup"]), ""),
        ("ceiling fps", fmt(res["ceiling_fps"]),
         f"{'+'.join(res['tasks'])} alone in threads, {res['ceiling_frames']} pre-decoded frames: "
         f"lockstep {fmt(res['ceiling_lockstep_fps'])}, free-running {fmt(res['ceiling_free_fps'])}"),
        ("ratio fps / ceiling", fmt(res["ratio"], 3),
         f"same first {res['ceiling_frames']} frames: {fmt(res['ratio_same_frames'], 3)}"),
        ("latency p50 / p95 ms", f"{fmt(res['p50_ms'])} / {fmt(res['p95_ms'])}", "per frame, total"),
        ("model load s", fmt(res["load_s"], 2), "three landmarkers created in parallel"),
        ("peak RSS MB", fmt(res["peak_rss_mb"], 0), "product path (before the ceiling pass)"),
        ("RSS growth MB", fmt(res["rss_growth_mb"], 1), growth_note),
        ("CPU cores used", fmt(res["cpu_cores_used"], 2), "process CPU time / wall time"),
    ]
    for r in rows:
        s.add_row(*r)
    con.print(s)
    ct = res["ceiling_task_ms"]
    con.print(
        "ceiling per task ms, lockstep (mean/p50/p95): "
        + "; ".join(f"{n} {v['mean']}/{v['p50']}/{v['p95']}" for n, v in ct.items() if v)
    )


# ----------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", type=Path, default=None,
                    help="folder with the three .task bundles (default: POSTURE_COACH_MODEL_DIR, "
                    "else the model store's cache)")
    ap.add_argument("--frames", type=int, default=5000,
                    help="frames through the product path (default 5000, for RSS growth)")
    ap.add_argument("--warmup", type=int, default=200,
                    help="frames before the first RSS reading (default 200, at most frames/2)")
    ap.add_argument("--ceiling-frames", type=int, default=900,
                    help="pre-decoded frames for the ceiling pass (default 900, at most --frames)")
    ap.add_argument("--clip", type=Path, default=None, help="video to use as it is")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="real-data folder holding smoke_people/ (default POSTURE_COACH_DATA_DIR, "
                    "else ../shared/data/real beside the repository)")
    ap.add_argument("--save-clip", type=Path, default=None, help="keep the generated clip here")
    ap.add_argument("--no-face", action="store_true")
    ap.add_argument("--no-hands", action="store_true")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--write-clip", nargs=3, metavar=("SEED", "OUT", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.write_clip:
        build_clip(Path(args.write_clip[0]), Path(args.write_clip[1]), int(args.write_clip[2]))
        return 0
    if args.frames < 10:
        ap.error("--frames must be at least 10")

    mach = machine_info()
    face, hands = not args.no_face, not args.no_hands
    warmup = max(1, min(args.warmup, args.frames // 2))
    first_k = max(1, min(args.ceiling_frames, args.frames))
    tmp = Path(tempfile.mkdtemp(prefix="posture-coach-speed-"))
    try:
        seed: Path | None = None
        if args.clip is not None:
            clip = args.clip
        else:
            seed = find_seed(args.data_dir or default_data_dir())
            clip = tmp / "bench_640x480_30fps.mp4"
            n = max(args.frames, MIN_CLIP_FRAMES)
            log(f"writing a {n}-frame 640x480 30 fps clip from {seed} ...")
            # In a child process: the seed frames held in memory must not count in peak RSS.
            subprocess.run(
                [sys.executable, __file__, "--write-clip", str(seed), str(clip), str(n)], check=True
            )
            if args.save_clip is not None:
                shutil.copyfile(clip, args.save_clip)
        probe = open_source(clip)
        info = probe.info
        probe.close()
        clip_info = {
            "path": str(args.clip or args.save_clip or "(temporary)"),
            "seed": str(seed) if seed else None,
            "width": info.width, "height": info.height, "fps": info.fps,
            "frames": info.frame_count,
        }  # fmt: skip
        log(f"product path: {args.frames} frames (tasks: pose{' face' * face}{' hands' * hands}) ...")
        run = product_pass(clip, args.model_dir, face=face, hands=hands, frames=args.frames,
                           warmup=warmup, first_k=first_k)
        mach["loadavg_between"] = [round(x, 2) for x in os.getloadavg()]
        log(f"ceiling: {first_k} pre-decoded frames ...")
        ceil = ceiling_pass(clip, args.model_dir, face=face, hands=hands, k=first_k)
    except CoachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mach["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    res = build_result(mach, clip_info, run, ceil, warmup)
    if args.json:
        print(json.dumps(res, indent=None, sort_keys=False))
    else:
        print_table(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
