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
- Small hands (a full-body framing at 2-3 m: a hand of 15-25 px) are often missed by the
  hand model, whose palm detector sees the whole frame shrunk to 192 px. A second pass
  (:class:`HandCrop`) looks again in an upscaled crop around the pose wrist, only for a
  raised wrist whose hand the full-frame pass did not find (video mode only).
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from .errors import ModelError
from .types import FaceObs, Frame, HandObs, Observation, PoseLm, PoseObs, Side, landmarks_from_crop

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
class HandCrop:
    """The cropped, upscaled second hand pass around a pose wrist (issue 6).

    It runs on a frame only when the hand model ran on it (the engine's hand gate wanted
    hands: a rule reads hand shapes and a wrist is somewhere that matters), for each pose
    wrist that is visible, raised ``min_raise_tl`` torso lengths above the hip line and has
    no full-frame hand within ``max_offset_body`` body scales, and only where the crop
    magnifies (its side at most ``max_frame_share`` of the frame's longer side, i.e. a
    small person). At most one crop per wrist per frame. The crop is a square of side
    max(``side_sw`` × shoulder width, ``side_tl`` × torso length) around the mean of the
    pose wrist, index and pinky points, resized to ``out_px``; a separate IMAGE-mode hand
    landmarker (one hand, detector confidence ``min_confidence``: the pose already says a
    hand is there) reads it, and the landmarks are mapped back to frame coordinates.
    A wrist whose crops found no hand ``search_after_misses`` times in a row (a hand hidden
    behind the body, a fist seen end-on) is cropped only every ``search_every``-th frame until
    a crop finds it again or the wrist leaves the conditions above.
    Tuned on the tune split only (``sample_videos/pointing_vs_open_palm.mp4``: a pointing
    hand of 16-20 px at 2.6 m): a crop of ~2 shoulder widths found the hand on 25 of 27
    frames, 1 shoulder width on none (the palm detector wants context around the hand).

    A full-frame hand that was found but is small (wrist to middle knuckle under
    ``refine_below_px``) is read again in a tighter crop (``refine_side_sw``): at that size
    the full-frame landmarks place the fingers poorly (a pointing hand reads as an open one),
    and a crop's hand, when found at the wrist, replaces it. Tune renders (8 clips of
    pointing_vs_open_palm, seeds 9720-9727, hands 14-20 px): shapes read right on 63 of 96
    sampled frames with the full-frame hands, 150 of 192 with 1.5 SW crops (every frame
    of the front and oblique-left views; from the oblique right the index points along
    the line of sight and the open hand is seen edge-on, which no crop fixes).

    Every crop costs one hand-model pass (~25 ms on 2 cores), so a wrist whose crop found
    its hand is cropped again only every ``reread_every``-th frame; the last hand found,
    moved with the pose wrist, stands in between; when both wrists are due on the same
    frame only the older read is renewed and the other hand is carried one frame more, so
    no frame pays for two passes. ``bench/speed.py`` (crossed arms, hands forced on, both
    hands found by crops on every frame): 25.5 fps cropping every frame.
    """

    # The values are calibration/default.toml's [hand_crop] (``from_calibration``); these
    # defaults mirror it for a bare config (a test keeps the two equal).
    enabled: bool = True
    side_sw: float = 2.0
    side_tl: float = 1.3
    out_px: int = 192
    max_frame_share: float = 0.5
    min_visibility: float = 0.5
    min_raise_tl: float = 0.3
    max_offset_body: float = 0.5
    min_confidence: float = 0.3
    search_after_misses: int = 3
    search_every: int = 3
    refine_below_px: float = 24.0
    refine_side_sw: float = 1.5
    reread_every: int = 3

    @classmethod
    def from_calibration(cls, path: Path | None = None) -> HandCrop:
        """The pass as the calibration's ``[hand_crop]`` table sets it (default file: None)."""
        from .calibration import load_calibration

        return cls(**dict(load_calibration(path).hand_crop))  # type: ignore[arg-type]


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
    hand_crop: HandCrop = HandCrop()

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


#: How the cropped hand pass runs beyond its settings (part of :func:`video_recipe`):
#: "carry" = a small hand's re-read is carried over the frames between re-reads;
#: "-stagger" = two wrists due on one frame take turns.
CROP_RECIPE = "carry-stagger"


def video_recipe(cfg: HandCrop | None = None) -> str:
    """A short tag of what VIDEO-mode observations depend on beyond the models (the hand
    crop settings): caches of recorded observations key on it."""
    import hashlib

    return "hc" + hashlib.sha256((repr(cfg or HandCrop.from_calibration()) + CROP_RECIPE).encode()).hexdigest()[:8]


_CROP_WRISTS: dict[Side, tuple[PoseLm, PoseLm, PoseLm]] = {
    "left": (PoseLm.LEFT_WRIST, PoseLm.LEFT_INDEX, PoseLm.LEFT_PINKY),
    "right": (PoseLm.RIGHT_WRIST, PoseLm.RIGHT_INDEX, PoseLm.RIGHT_PINKY),
}


@dataclass(frozen=True, slots=True)
class CropBox:
    """A square crop of the frame, pixels: top-left corner and side (may leave the frame)."""

    side: Side
    x0: float
    y0: float
    size: float
    wrist: tuple[float, float]  # the pose wrist, pixels
    body: float  # the body scale used, pixels
    replaces: int | None = None  # index of the small full-frame hand this crop re-reads

    def to_frame(self, lms: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
        """Crop-normalised (21, 3) landmarks -> frame-normalised ones (z on the scale of x)."""
        return landmarks_from_crop(lms, self.x0, self.y0, self.size, self.size, frame_size)


def hand_crop_boxes(pose: PoseObs | None, hands: Iterable[HandObs], frame_size: tuple[int, int],
                    cfg: HandCrop) -> list[CropBox]:
    """The wrists that deserve a cropped hand pass on this frame (see :class:`HandCrop`).

    Pure: pose and full-frame hands in, at most one box per wrist out.
    """
    if pose is None or not cfg.enabled:
        return []
    w, h = frame_size
    lm = pose.landmarks

    def px(i: int) -> np.ndarray:
        return np.array([float(lm[i, 0]) * w, float(lm[i, 1]) * h])

    sh = (px(PoseLm.LEFT_SHOULDER) + px(PoseLm.RIGHT_SHOULDER)) / 2.0
    hip = (px(PoseLm.LEFT_HIP) + px(PoseLm.RIGHT_HIP)) / 2.0
    sw = float(np.linalg.norm(px(PoseLm.LEFT_SHOULDER) - px(PoseLm.RIGHT_SHOULDER)))
    tl = float(hip[1] - sh[1])  # vertical torso length: the hip line lies below the shoulders
    if tl <= 0:
        return []
    body = max(sw, tl * cfg.side_tl / cfg.side_sw)
    size = cfg.side_sw * body
    if size <= 0 or size > cfg.max_frame_share * max(w, h):
        return []  # a large person: the full-frame pass sees the hands well enough
    found = [np.array([float(hd.landmarks[0, 0]) * w, float(hd.landmarks[0, 1]) * h]) for hd in hands]
    # Wrist to middle-finger knuckle, pixels: too small a hand has its fingers misplaced.
    hand_px = [hd.size_px(frame_size) for hd in hands]
    out: list[CropBox] = []
    for side, (wi, ii, pi) in _CROP_WRISTS.items():
        if float(pose.visibility[wi]) < cfg.min_visibility:
            continue
        wr = px(wi)
        if not (0.0 <= wr[0] < w and 0.0 <= wr[1] < h):
            continue
        if (hip[1] - wr[1]) / tl < cfg.min_raise_tl:
            continue  # hanging or resting: no gesture
        near = [i for i, f in enumerate(found) if float(np.linalg.norm(f - wr)) <= cfg.max_offset_body * body]
        side_px, replaces = size, None
        if near:
            i = min(near, key=lambda k: float(np.linalg.norm(found[k] - wr)))
            if hand_px[i] >= cfg.refine_below_px:
                continue  # the full-frame pass has this hand, large enough to read
            side_px, replaces = cfg.refine_side_sw * body, i  # re-read a small hand closer up
        c = (wr + px(ii) + px(pi)) / 3.0
        out.append(CropBox(side, float(c[0] - side_px / 2), float(c[1] - side_px / 2), side_px,
                           (float(wr[0]), float(wr[1])), body, replaces))
    return out


def crop_image(image: np.ndarray, box: CropBox, out_px: int) -> np.ndarray:
    """The box resized to ``out_px`` square (outside the frame: black), contiguous RGB."""
    k = out_px / box.size
    m = np.array([[k, 0.0, -box.x0 * k], [0.0, k, -box.y0 * k]], dtype=np.float64)
    return np.ascontiguousarray(cv2.warpAffine(image, m, (out_px, out_px), flags=cv2.INTER_LINEAR,
                                               borderMode=cv2.BORDER_CONSTANT))


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
        # The cropped hand pass (HandCrop): its own IMAGE-mode landmarker, created on first
        # use; ``crop_stats`` counts its runs (crops), hands found, and milliseconds.
        # (A VIDEO-mode one per wrist, tracking from crop to crop, costs a third but lags
        # behind a hand changing shape: held-out pointing renders 0.56 vs 0.75 told apart.)
        self._crop_lm: Any = None
        # The last hand each wrist's crop found: (frame index, hand, pose wrist px), carried
        # over the frames in between (HandCrop.reread_every).
        self._refined: dict[Side, tuple[int, HandObs, tuple[float, float]]] = {}
        self.crop_stats: dict[str, float] = {"frames": 0, "crops": 0, "found": 0, "ms": 0.0}
        self._crop_misses: dict[Side, int] = {"left": 0, "right": 0}
        # The frame count (every observed frame, whether the hand model ran on it or not) and
        # each wrist's last crop: a backed-off wrist is cropped every ``search_every`` frames,
        # not every ``search_every``-th hand-model run (the hand gate backs off too, and the
        # two would multiply: a hidden hand searched every 9th frame).
        self._frames_seen = 0
        self._crop_tried: dict[Side, int] = {"left": 0, "right": 0}
        self._closed = False
        # Stoppers of the running observe_stream worker threads: close() must stop them
        # before it frees the models they are using (a consumer that stops iterating early
        # and closes killed the process in the pose model's detect: bench/speed.py runs).
        self._streams: set[Callable[[], None]] = set()

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    def _next_ts(self, task: str, ts: int) -> int:
        last = self._last_ts.get(task, -1)
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
        late_tasks: Callable[[Frame], tuple[str, ...]] | None = None,
        speculative: Collection[str] = (),
        depth: int = 4,
    ) -> Iterator[tuple[Frame, Observation, dict[str, float]]]:
        """Pipelined :meth:`observe` for a stream: yields ``(frame, observation, task_ms)`` in order.

        Each task works through the frames on its own thread, so pose can start frame n+1
        while hands still finish frame n: throughput approaches the free-running ceiling
        (the slowest task, or the CPU) instead of the per-frame maximum of the three.
        At most ``depth`` frames are in flight. ``tasks_for(frame)`` chooses the tasks of
        each frame when it is read (``None`` = all loaded). ``late_tasks(frame)`` adds
        tasks at the last moment, once the consumer has handled every earlier frame: a
        choice that depends on what the consumer made of the previous frame (the hand
        gate) is then not ``depth`` frames stale. Such a task runs without overlapping the
        consumer, but still beside the other tasks of later frames.

        A task named in ``speculative`` may be started early (``tasks_for`` includes it,
        e.g. because the gate is on now) and then runs pipelined like the others; at the
        last moment ``late_tasks`` still decides: a speculative result it does not ask for
        is dropped, so the consumer sees what the late choice alone would have given it.
        Starting such a task for a frame also starts it for the earlier frames in flight
        that lack it, so that every task sees increasing timestamps (VIDEO mode).
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

        def shutdown() -> None:
            stop.set()
            for t in names:
                queues[t].put(None)
            for th in threads:
                if th.is_alive() and th is not threading.current_thread():
                    th.join(timeout=10)

        self._streams.add(shutdown)
        for th in threads:
            th.start()
        pending: collections.deque[list[Any]] = collections.deque()  # [seq, frame, run, mp_image]

        def finish_oldest() -> tuple[Frame, Observation, dict[str, float]]:
            seq, frame, run, mp_image = pending.popleft()
            dropped: tuple[str, ...] = ()
            if late_tasks is not None:
                late = late_tasks(frame)
                extra = tuple(t for t in late if t in self._tasks and t not in run)
                for t in extra:
                    queues[t].put((seq, mp_image, frame.timestamp_ms))
                run += extra
                dropped = tuple(t for t in run if t in speculative and t not in late)
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
            for t in dropped:
                del got[t], task_ms[t]
            run = tuple(t for t in run if t not in dropped)
            return frame, self._assemble(frame, got, run), task_ms

        try:
            for seq, frame in enumerate(frames):
                mp_image = _mp_image(frame)
                wanted = tasks_for(frame) if tasks_for is not None else None
                run = tuple(t for t in (wanted or names) if t in self._tasks)
                for t in run:
                    if t in speculative:  # catch up: the frames in flight before this one first
                        for item in pending:
                            if t not in item[2]:
                                item[2] += (t,)
                                queues[t].put((item[0], item[3], item[1].timestamp_ms))
                    queues[t].put((seq, mp_image, frame.timestamp_ms))
                pending.append([seq, frame, run, mp_image])
                if len(pending) >= depth:
                    yield finish_oldest()
            while pending:
                yield finish_oldest()
        finally:
            self._streams.discard(shutdown)
            shutdown()

    def _assemble(self, frame: Frame, results: dict[str, Any], run: tuple[str, ...]) -> Observation:
        w, h = frame.size
        pose = _to_pose(results["pose"]) if "pose" in results else None
        face = _to_face(results["face"]) if "face" in results else None
        hands = _to_hands(results["hands"], pose, w / h) if "hands" in results else ()
        self.timings_ms["hand_crop"] = 0.0
        self._frames_seen += 1
        if "hands" in results and self.config.mode == "video" and self.config.hand_crop.enabled:
            found, replaced = self._crop_hands(frame, pose, hands)
            hands = tuple(hd for i, hd in enumerate(hands) if i not in replaced) + found
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

    def _crop_hands(self, frame: Frame, pose: PoseObs | None,
                    hands: tuple[HandObs, ...]) -> tuple[tuple[HandObs, ...], set[int]]:
        """The cropped hand pass (:class:`HandCrop`) for the wrists the full frame missed or
        found too small: the hands found, and the indices of the full-frame hands they replace."""
        cfg = self.config.hand_crop
        boxes: list[CropBox] = []
        wanted = {b.side: b for b in hand_crop_boxes(pose, hands, frame.size, cfg)}
        sides: tuple[Side, Side] = ("left", "right")
        for side in sides:
            box = wanted.get(side)
            if box is None:  # found by the full frame, or lowered: start afresh next time
                self._crop_misses[side] = 0
            elif (self._crop_misses[side] < cfg.search_after_misses
                  or self._frames_seen - self._crop_tried[side] >= cfg.search_every):
                boxes.append(box)  # else backing off: this wrist's crops keep finding nothing
        found: list[HandObs] = []
        replaced: set[int] = set()
        for side in sides:
            if wanted.get(side) is None:
                self._refined.pop(side, None)

        def carry(box: CropBox) -> None:
            _, hand, (wx0, wy0) = self._refined[box.side]
            boxes.remove(box)
            lm_moved = np.array(hand.landmarks, dtype=np.float64, copy=True)
            lm_moved[:, 0] += (box.wrist[0] - wx0) / frame.size[0]
            lm_moved[:, 1] += (box.wrist[1] - wy0) / frame.size[1]
            found.append(HandObs(landmarks=lm_moved, side=hand.side, score=hand.score, world=hand.world))
            if box.replaces is not None:
                replaced.add(box.replaces)

        # A wrist whose crop found its hand less than reread_every frames ago: carry that
        # hand, moved with the pose wrist (a hand's shape changes more slowly than the frame
        # rate; a hand-model pass costs ~25 ms).
        for box in list(boxes):
            last = self._refined.get(box.side)
            if last is not None and frame.index - last[0] < cfg.reread_every:
                carry(box)
        # Two carried hands due on the same frame: re-read the older one only and carry the
        # other one frame more, so that no frame pays for two passes (the live loop's p95).
        due = [b for b in boxes if b.side in self._refined]
        if len(due) > 1:
            oldest = min(due, key=lambda b: self._refined[b.side][0])
            for box in due:
                if box is not oldest:
                    carry(box)
        if not boxes:
            return tuple(found), replaced
        t0 = time.perf_counter()
        if self._crop_lm is None:
            self._crop_lm = _create("hands", LandmarkerConfig(
                pose_model=self.config.pose_model, hand_model=self.config.hand_model, face=False,
                mode="image", num_hands=1, min_hand_confidence=cfg.min_confidence))
        for box in boxes:
            crop = crop_image(frame.image, box, cfg.out_px)
            res = self._crop_lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=crop))
            self._crop_misses[box.side] += 1
            self._crop_tried[box.side] = self._frames_seen
            if not res.hand_landmarks:
                continue
            arr = box.to_frame(_lm_array(res.hand_landmarks[0]), frame.size)
            wx, wy = arr[0, 0] * frame.size[0], arr[0, 1] * frame.size[1]
            if np.hypot(wx - box.wrist[0], wy - box.wrist[1]) > cfg.max_offset_body * box.body:
                continue  # another hand (the other person's, the other own hand) in the crop
            self._crop_misses[box.side] = 0
            cat = res.handedness[0][0] if res.handedness and res.handedness[0] else None
            world = _lm_array(res.hand_world_landmarks[0]) if res.hand_world_landmarks else None
            found.append(HandObs(landmarks=arr, side=box.side, score=float(cat.score) if cat else 0.0,
                                 world=world))
            if box.replaces is not None:
                replaced.add(box.replaces)
            self._refined[box.side] = (frame.index, found[-1], box.wrist)
        ms = (time.perf_counter() - t0) * 1000.0
        self.timings_ms["hand_crop"] = ms
        st = self.crop_stats
        st["frames"] += 1
        st["crops"] += len(boxes)
        st["found"] += len(found)
        st["ms"] += ms
        return tuple(found), replaced

    def reset(self) -> None:
        """Start a new stream: timestamps may start again from 0.

        VIDEO-mode graphs only accept increasing timestamps, so a new stream continues
        from the last one (offset), which keeps the instances reusable without re-creation.
        """
        self._crop_misses = {"left": 0, "right": 0}
        self._frames_seen = 0
        self._crop_tried = {"left": 0, "right": 0}
        self._refined = {}
        # Nothing to rebuild: _next_ts keeps timestamps increasing across streams. Tracking
        # state may carry one frame of the old stream; the first frame re-detects if lost.

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        for stop_stream in list(getattr(self, "_streams", ())):
            stop_stream()  # no worker may still be inside a model about to be freed
        ex = getattr(self, "_executor", None)
        if ex is not None:
            ex.shutdown(wait=True)
        crop_lm = getattr(self, "_crop_lm", None)
        self._crop_lm = None
        for lm in [*self._tasks.values(), *([crop_lm] if crop_lm is not None else [])]:
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
