"""The one adapter around MediaPipe Tasks: frames in, typed :class:`Observation` out.

This is the ONLY module that imports mediapipe (an import-linter contract checks it).

Design (see docs/MEDIAPIPE_NOTES.md of the shared folder for the measurements):
- VIDEO running mode for video and live input (tracking makes it 1.2–2.3× faster than
  IMAGE mode); IMAGE mode for unrelated still images.
- Pose, face and hands each run in their own worker thread; the native calls release
  the GIL, so the three run in parallel and a frame costs about the slowest of them.
- Each task instance gets strictly increasing timestamps (a timestamp error breaks the
  graph for good), so we keep one counter per instance and bump duplicates.
- Input is handed over as a contiguous RGB uint8 array; a negative-stride view kills
  the process inside mediapipe.
- Landmarkers are expensive to create and leak when recreated: create once, reuse
  through :class:`LandmarkerPool`, close at shutdown.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import ModelError
from .types import FaceObs, Frame, HandObs, Observation, PoseLm, PoseObs, Side

# Keep mediapipe's C++ logging quiet unless asked; must be set before the first import.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import mediapipe as mp
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

# --- Privacy: nothing leaves the machine (docs/PRIVACY.md, tests/test_privacy.py) ---------
# mediapipe 1.2.x's native library gives EVERY task a usage logger that POSTs stats (task
# name, running mode, invocation counts, OS/Python version) to
# https://play.googleapis.com/log through a statically linked libcurl: every 60 s while a
# landmarker lives and at close(). There is no option or env var to turn it off. libcurl
# honours the standard proxy variables, so we point them at a closed loopback port: the
# upload fails locally (ECONNREFUSED) without even a DNS lookup. os.putenv sets them for
# native code only; os.environ, and so Python's own HTTP clients (model fetch), stay as
# they were. Child processes inherit them: spawn with env=os.environ.copy() to avoid that.
# libcurl reads them per upload, so setting them here, before any task exists, suffices.
_TELEMETRY_SINK = "http://127.0.0.1:9"  # discard port: nothing listens there
# Lower-case names win over upper-case ones (and over a user's NO_PROXY) in libcurl.
os.putenv("https_proxy", _TELEMETRY_SINK)
os.putenv("no_proxy", "127.0.0.1")
# ------------------------------------------------------------------------------------------

log = logging.getLogger(__name__)

RunningMode = Literal["video", "image"]
TASKS = ("pose", "face", "hands")


@dataclass(frozen=True, slots=True)
class LandmarkerConfig:
    """What to run and how. Paths come from the model store (:mod:`posture_coach.models`)."""

    pose_model: Path
    face_model: Path | None = None
    hand_model: Path | None = None
    face: bool = True
    hands: bool = True
    num_hands: int = 2
    mode: RunningMode = "video"
    min_pose_confidence: float = 0.5
    min_face_confidence: float = 0.5
    min_hand_confidence: float = 0.5

    @property
    def tasks(self) -> tuple[str, ...]:
        out = ["pose"]
        if self.face and self.face_model is not None:
            out.append("face")
        if self.hands and self.hand_model is not None:
            out.append("hands")
        return tuple(out)


def _running_mode(mode: RunningMode) -> Any:
    return vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE


def _base(path: Path) -> BaseOptions:
    if not path.is_file():
        raise ModelError(
            f"model file not found: {path} — run `posture-coach models fetch` "
            "or point --model-dir / POSTURE_COACH_MODEL_DIR at a folder holding it"
        )
    # Absolute path: the Tasks API resolves relative paths against its own resource root.
    return BaseOptions(model_asset_path=str(path.resolve()), delegate=BaseOptions.Delegate.CPU)


def _create(task: str, cfg: LandmarkerConfig) -> Any:
    rm = _running_mode(cfg.mode)
    try:
        if task == "pose":
            return vision.PoseLandmarker.create_from_options(
                vision.PoseLandmarkerOptions(
                    base_options=_base(cfg.pose_model),
                    running_mode=rm,
                    num_poses=1,
                    min_pose_detection_confidence=cfg.min_pose_confidence,
                    min_pose_presence_confidence=cfg.min_pose_confidence,
                    min_tracking_confidence=0.5,
                )
            )
        if task == "face":
            assert cfg.face_model is not None
            return vision.FaceLandmarker.create_from_options(
                vision.FaceLandmarkerOptions(
                    base_options=_base(cfg.face_model),
                    running_mode=rm,
                    num_faces=1,
                    min_face_detection_confidence=cfg.min_face_confidence,
                    min_face_presence_confidence=cfg.min_face_confidence,
                    output_face_blendshapes=True,
                    output_facial_transformation_matrixes=True,
                )
            )
        if task == "hands":
            assert cfg.hand_model is not None
            return vision.HandLandmarker.create_from_options(
                vision.HandLandmarkerOptions(
                    base_options=_base(cfg.hand_model),
                    running_mode=rm,
                    num_hands=cfg.num_hands,
                    min_hand_detection_confidence=cfg.min_hand_confidence,
                    min_hand_presence_confidence=cfg.min_hand_confidence,
                )
            )
    except ModelError:
        raise
    except (RuntimeError, ValueError) as exc:  # a corrupt or wrong bundle
        raise ModelError(f"cannot load the {task} model: {exc}") from exc
    raise ValueError(f"unknown task {task!r}")


def _lm_array(landmarks: Any) -> np.ndarray:
    return np.array([(p.x, p.y, p.z) for p in landmarks], dtype=np.float64)


def _to_pose(result: Any) -> PoseObs | None:
    if not result.pose_landmarks:
        return None
    lms = result.pose_landmarks[0]
    world = None
    if result.pose_world_landmarks:
        world = _lm_array(result.pose_world_landmarks[0])
    return PoseObs(
        landmarks=_lm_array(lms),
        visibility=np.array([p.visibility or 0.0 for p in lms], dtype=np.float64),
        presence=np.array([p.presence or 0.0 for p in lms], dtype=np.float64),
        world=world,
    )


def _to_face(result: Any) -> FaceObs | None:
    if not result.face_landmarks:
        return None
    blend: Mapping[str, float] = {}
    if result.face_blendshapes:
        blend = {c.category_name: float(c.score) for c in result.face_blendshapes[0]}
    mat = None
    if result.facial_transformation_matrixes:
        mat = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64)
    return FaceObs(landmarks=_lm_array(result.face_landmarks[0]), blendshapes=blend, transform=mat)


def _to_hands(result: Any, pose: PoseObs | None, aspect: float) -> tuple[HandObs, ...]:
    """Convert hands and decide which of the subject's hands each one is.

    MediaPipe's handedness label assumes a mirrored (selfie) image, so on a camera frame
    it names the opposite hand. When the pose is known we trust geometry instead: each hand
    goes to the nearer pose wrist (the pose model is far steadier on sides than the hand
    classifier, which flips on palms seen edge-on).
    """
    hands: list[HandObs] = []
    for i, lms in enumerate(result.hand_landmarks or []):
        arr = _lm_array(lms)
        cat = result.handedness[i][0] if result.handedness and result.handedness[i] else None
        score = float(cat.score) if cat is not None else 0.0
        label = (cat.category_name or "").lower() if cat is not None else ""
        side: Side = "left" if label == "right" else "right"  # un-mirror the label
        if pose is not None:
            wl = pose.landmarks[PoseLm.LEFT_WRIST, :2]
            wr = pose.landmarks[PoseLm.RIGHT_WRIST, :2]
            scale = np.array([aspect, 1.0])
            dl = float(np.linalg.norm((arr[0, :2] - wl) * scale))
            dr = float(np.linalg.norm((arr[0, :2] - wr) * scale))
            side = "left" if dl < dr else "right"
        world = None
        if result.hand_world_landmarks and i < len(result.hand_world_landmarks):
            world = _lm_array(result.hand_world_landmarks[i])
        hands.append(HandObs(landmarks=arr, side=side, score=score, world=world))
    return tuple(hands)


def _mp_image(frame: Frame) -> Any:
    """Wrap a frame for MediaPipe: H×W×3 uint8 RGB, contiguous (a negative-stride view
    would kill the process inside mediapipe)."""
    img = frame.image
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected H×W×3 uint8 RGB, got {img.dtype} {img.shape}")
    if not img.flags["C_CONTIGUOUS"]:
        img = np.ascontiguousarray(img)
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=img)


class Landmarkers:
    """Pose, face and hand landmarkers for ONE stream of frames (not thread-safe per call).

    Use :meth:`observe` for each frame in order. For another, unrelated stream call
    :meth:`reset` (recreating is costly and leaks: the pool keeps instances alive).
    """

    def __init__(self, config: LandmarkerConfig, *, parallel: bool = True) -> None:
        self.config = config
        # parallel=False: :meth:`observe` runs the tasks one after another in the calling
        # thread (a job given one CPU, e.g. a Ray worker with num_cpus=1).
        self.parallel = parallel
        t0 = time.perf_counter()
        self._tasks: dict[str, Any] = {}
        try:
            # Create in parallel: loading three graphs sequentially costs ~3× as long.
            with ThreadPoolExecutor(max_workers=3) as ex:
                futs = {name: ex.submit(_create, name, config) for name in config.tasks}
                for name, fut in futs.items():
                    self._tasks[name] = fut.result()
        except BaseException:
            self.close()
            raise
        self.load_seconds = time.perf_counter() - t0
        self._last_ts: dict[str, int] = dict.fromkeys(self._tasks, -1)
        self._executor = ThreadPoolExecutor(max_workers=len(self._tasks), thread_name_prefix="mp")
        self.timings_ms: dict[str, float] = dict.fromkeys(self._tasks, 0.0)
        self._closed = False

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    def _next_ts(self, task: str, ts: int) -> int:
        last = self._last_ts[task]
        ts = ts if ts > last else last + 1
        self._last_ts[task] = ts
        return ts

    def _run(self, task: str, image: Any, ts: int) -> tuple[Any, float]:
        t0 = time.perf_counter()
        lm = self._tasks[task]
        res = lm.detect_for_video(image, self._next_ts(task, ts)) if self.config.mode == "video" else lm.detect(image)
        return res, (time.perf_counter() - t0) * 1000.0

    def observe(self, frame: Frame, *, tasks: tuple[str, ...] | None = None) -> Observation:
        """Run the landmarkers on one frame. ``tasks`` limits which run (default: all loaded)."""
        if self._closed:
            raise RuntimeError("Landmarkers used after close()")
        mp_image = _mp_image(frame)
        run = tuple(t for t in (tasks or self.tasks) if t in self._tasks)
        results: dict[str, Any] = {}
        if not self.parallel:
            for t in run:
                results[t], self.timings_ms[t] = self._run(t, mp_image, frame.timestamp_ms)
            return self._assemble(frame, results, run)
        futs: dict[str, Future[tuple[Any, float]]] = {
            t: self._executor.submit(self._run, t, mp_image, frame.timestamp_ms) for t in run
        }
        for t, fut in futs.items():
            results[t], self.timings_ms[t] = fut.result()
        return self._assemble(frame, results, run)

    def observe_stream(
        self,
        frames: Iterable[Frame],
        *,
        tasks_for: Callable[[Frame], tuple[str, ...] | None] | None = None,
        depth: int = 4,
    ) -> Iterator[tuple[Frame, Observation, dict[str, float]]]:
        """Pipelined :meth:`observe` for a stream: yields ``(frame, observation, task_ms)`` in order.

        Each task works through the frames on its own thread, so pose can start frame n+1
        while hands still finish frame n: throughput approaches the free-running ceiling
        (the slowest task, or the CPU) instead of the per-frame maximum of the three.
        At most ``depth`` frames are in flight. ``tasks_for(frame)`` chooses the tasks of
        each frame (``None`` = all loaded), e.g. to skip the hand model.
        """
        if self._closed:
            raise RuntimeError("Landmarkers used after close()")
        names = list(self._tasks)
        queues: dict[str, queue.Queue[Any]] = {t: queue.Queue() for t in names}
        lock = threading.Condition()
        results: dict[tuple[int, str], tuple[Any, float] | BaseException] = {}
        stop = threading.Event()

        def work(task: str) -> None:
            q = queues[task]
            while True:
                item = q.get()
                if item is None:
                    return
                seq, image, ts = item
                try:
                    out: tuple[Any, float] | BaseException = self._run(task, image, ts)
                except BaseException as exc:  # handed to the consumer
                    out = exc
                with lock:
                    results[(seq, task)] = out
                    lock.notify_all()
                if stop.is_set():
                    return

        threads = [threading.Thread(target=work, args=(t,), name=f"mp-{t}", daemon=True) for t in names]
        for th in threads:
            th.start()
        pending: collections.deque[tuple[int, Frame, tuple[str, ...]]] = collections.deque()

        def finish_oldest() -> tuple[Frame, Observation, dict[str, float]]:
            seq, frame, run = pending.popleft()
            got: dict[str, Any] = {}
            task_ms: dict[str, float] = {}
            with lock:
                for t in run:
                    while (seq, t) not in results:
                        lock.wait()
                    out = results.pop((seq, t))
                    if isinstance(out, BaseException):
                        raise out
                    got[t], task_ms[t] = out
            return frame, self._assemble(frame, got, run), task_ms

        try:
            for seq, frame in enumerate(frames):
                mp_image = _mp_image(frame)
                wanted = tasks_for(frame) if tasks_for is not None else None
                run = tuple(t for t in (wanted or names) if t in self._tasks)
                for t in run:
                    queues[t].put((seq, mp_image, frame.timestamp_ms))
                pending.append((seq, frame, run))
                if len(pending) >= depth:
                    yield finish_oldest()
            while pending:
                yield finish_oldest()
        finally:
            stop.set()
            for t in names:
                queues[t].put(None)
            for th in threads:
                th.join(timeout=10)

    def _assemble(self, frame: Frame, results: dict[str, Any], run: tuple[str, ...]) -> Observation:
        w, h = frame.size
        pose = _to_pose(results["pose"]) if "pose" in results else None
        face = _to_face(results["face"]) if "face" in results else None
        hands = _to_hands(results["hands"], pose, w / h) if "hands" in results else ()
        return Observation(
            frame_index=frame.index,
            timestamp_ms=frame.timestamp_ms,
            image_size=(w, h),
            pose=pose,
            face=face,
            hands=hands,
            source=frame.source,
            ran=frozenset(run),
        )

    def reset(self) -> None:
        """Start a new stream: timestamps may start again from 0.

        VIDEO-mode graphs only accept increasing timestamps, so a new stream continues
        from the last one (offset), which keeps the instances reusable without re-creation.
        """
        # Nothing to rebuild: _next_ts keeps timestamps increasing across streams. Tracking
        # state may carry one frame of the old stream; the first frame re-detects if lost.

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        ex = getattr(self, "_executor", None)
        if ex is not None:
            ex.shutdown(wait=True)
        for lm in self._tasks.values():
            try:
                lm.close()
            except Exception:  # closing must never mask the real error
                log.debug("closing a landmarker failed", exc_info=True)
        self._tasks.clear()

    def __enter__(self) -> Landmarkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LandmarkerPool:
    """A bounded pool of :class:`Landmarkers` reused across sessions (server, batch).

    ``acquire()`` blocks while all ``size`` instances are in use; memory stays flat because
    instances are never recreated while the pool lives.
    """

    def __init__(self, config: LandmarkerConfig, size: int = 2) -> None:
        if size < 1:
            raise ValueError("pool size must be ≥ 1")
        self.config = config
        self.size = size
        self._free: list[Landmarkers] = []
        self._created = 0
        self._cond = threading.Condition()
        self._closed = False

    @contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[Landmarkers]:
        lm = self._take(timeout)
        try:
            lm.reset()
            yield lm
        finally:
            with self._cond:
                if self._closed:
                    lm.close()
                else:
                    self._free.append(lm)
                    self._cond.notify()

    def _take(self, timeout: float | None) -> Landmarkers:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("pool is closed")
                if self._free:
                    return self._free.pop()
                if self._created < self.size:
                    self._created += 1
                    break
                if not self._cond.wait(timeout):
                    raise TimeoutError("no landmarker free")
        try:
            return Landmarkers(self.config)
        except BaseException:
            with self._cond:
                self._created -= 1
                self._cond.notify()
            raise

    def close(self) -> None:
        with self._cond:
            self._closed = True
            free, self._free = self._free, []
        for lm in free:
            lm.close()
