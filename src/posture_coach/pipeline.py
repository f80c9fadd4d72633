"""Glue from an input (video, image, folder, camera, landmark recording) to observations.

This is the edge where I/O happens; it holds no rule logic. The landmarker adapter is
imported lazily so that replaying a recording never loads MediaPipe.
"""

from __future__ import annotations

import dataclasses
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import ConfigError, SourceError
from .pixels import measure
from .recording import RecordingHeader, RecordingWriter, read_recording
from .sources import FrameSource, is_recording, open_source
from .types import Frame, Observation, PoseLm

if TYPE_CHECKING:
    from .appearance import TraineePicker
    from .landmarker import Landmarkers
    from .two_person import SecondPersonProbe


@dataclass
class StreamInfo:
    source: str
    kind: Literal["camera", "video", "image", "folder", "recording"]
    fps: float
    frame_count: int | None
    mode: Literal["video", "image"]
    width: int = 0
    height: int = 0
    load_seconds: float = 0.0


@dataclass
class StageTimes:
    """Per-frame stage timings in milliseconds (last frame) and running totals."""

    last: dict[str, float] = field(default_factory=dict)
    total: dict[str, float] = field(default_factory=dict)
    frames: int = 0

    def add(self, stage: str, ms: float) -> None:
        self.last[stage] = ms
        self.total[stage] = self.total.get(stage, 0.0) + ms


def landmarker_config(
    model_dir: Path | None = None,
    *,
    face: bool = True,
    hands: bool = True,
    mode: Literal["video", "image"] = "video",
    fetch: bool = True,
    calibration: Path | None = None,
) -> object:
    """Resolve model paths through the store and build a LandmarkerConfig (the cropped
    hand pass from ``calibration``'s ``[hand_crop]``; None: the default file)."""
    from .landmarker import HandCrop, LandmarkerConfig
    from .models import ModelStore

    store = ModelStore.from_env(model_dir)
    names = ["pose"] + (["face"] if face else []) + (["hands"] if hands else [])
    paths = store.ensure(names) if fetch else {n: store.path(n) for n in names}
    return LandmarkerConfig(
        pose_model=paths["pose"],
        face_model=paths.get("face"),
        hand_model=paths.get("hands"),
        face=face,
        hands=hands,
        mode=mode,
        # Stills get no second chance from tracking, and photos often show small or
        # partly hidden people: a lower detector threshold found 38/40 vs 31/40 people on
        # the smoke-test photos with no false person on the no-person photo.
        min_pose_confidence=0.3 if mode == "image" else 0.5,
        hand_crop=HandCrop.from_calibration(calibration),  # [hand_crop]
    )


def _timed(source: FrameSource, times: StageTimes) -> Iterator[Frame]:
    it = iter(source)
    while True:
        t0 = time.perf_counter()
        frame = next(it, None)
        if frame is None:
            return
        times.add("decode", (time.perf_counter() - t0) * 1000)
        yield frame


_END = object()


def _prefetch(source: FrameSource, times: StageTimes, depth: int = 2) -> Iterator[Frame]:
    """Decode the next frames in a thread while the landmarkers work on this one.

    Decoding (~2–4 ms at 640×480) then overlaps the landmarker threads instead of adding
    to every frame. The queue is bounded, so memory stays flat; errors are re-raised here.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in _timed(source, times):
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, name="decode", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Frame)
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


#: A role-play whose second person shows on under this share of its frames (with at least
#: ROLE_PLAY_MIN_FRAMES judged) gets the ``one_person_in_role_play`` notice.
ROLE_PLAY_MIN_SHARE = 0.3
ROLE_PLAY_MIN_FRAMES = 10


#: A video file that stops part-way is scored on the part that decodes when that part
#: lasts at least this long (a recording cut short by a full phone or a broken copy still
#: holds most of a role-play), with the ``video_truncated`` notice naming the part scored;
#: a shorter part is refused (too little to score, and a cut that early is likely damage).
TRUNCATED_MIN_READ_S = 3.0


#: A video whose trunk lies across the picture (more than SIDEWAYS_MIN_DEG from vertical: a
#: person leaning back in a chair stays under 45°, a bow passes in a second or two) on at
#: least SIDEWAYS_MIN_SHARE of SIDEWAYS_MIN_FRAMES or more frames gets the notice
#: ``video_sideways``: the clip was most likely filmed turned, with no rotation tag.
SIDEWAYS_MIN_DEG = 60.0
SIDEWAYS_MIN_SHARE = 0.6
SIDEWAYS_MIN_FRAMES = 10


class ObservationStream:
    """Iterate ``(frame | None, observation)`` pairs; frame is None when replaying."""

    def __init__(
        self,
        spec: str | Path,
        *,
        model_dir: Path | None = None,
        face: bool = True,
        hands: bool = True,
        stride: int = 1,
        save_landmarks: Path | None = None,
        landmarkers: Landmarkers | None = None,
        fetch_models: bool = True,
        prefetch: bool = True,
        wants_hands: Callable[[], bool] | None = None,
        role_play: Literal["left", "right", "profile"] | None = None,
        parallel: bool = True,
        calibration: Path | None = None,
        trainee_colours: Sequence[float] | None = None,
        check_people: bool = True,
    ) -> None:
        self.times = StageTimes()
        self.calibration = calibration  # a thresholds file layered on the default (None: default)
        # Cameras deliver at their own pace; decode-ahead is for files. parallel=False: one
        # thread does everything (decode, each landmarker in turn), for a job given one CPU.
        self.prefetch = prefetch and parallel
        self.parallel = parallel
        # Asked before each frame; None = always run every loaded task.
        self.wants_hands = wants_hands
        # Role-play: two people; the trainee stands on this side of the image, or
        # ("profile") wears the clothing colours of the calibrated profile.
        if role_play == "profile" and not trainee_colours:
            raise ConfigError("role play by profile: the profile holds no clothing colours; calibrate "
                              "the trainee again (posture-coach calibrate --from a video of them standing)",
                              reason="profile_no_clothes")
        self.role_play = role_play
        self._picker: TraineePicker | None = None
        #: Role-play by profile: frames whose trainee the clothes decided / that fell back
        #: to the person on the left (two people dressed alike, or not yet told apart).
        self.trainee_by: dict[str, int] = {"colours": 0, "default_side": 0}
        if role_play == "profile" and trainee_colours:
            from .appearance import TraineePicker

            self._picker = TraineePicker(list(trainee_colours))
        self._two_person: object | None = None
        self._role_play_people = (0, 0)  # role-play frames with someone in view, and with two
        #: Video frames whose trunk was seen, and those where it lay across the picture (a
        #: clip filmed turned 90° with no rotation tag: judged upright, it read as sitting
        #: with crossed legs). Its notice is ``video_sideways``.
        self._trunk_axis = (0, 0)
        #: A one-person analysis of a video file: is a second person in view (a role-play
        #: analysed as practice alone)? Its notice is :meth:`notices`.
        self._people_probe: SecondPersonProbe | None = None
        self._two_person_lms: list[Landmarkers] = []
        self._source: FrameSource | None = None
        self._replay: Iterator[Observation] | None = None
        self._own_landmarkers = False
        self._landmarkers = landmarkers
        self._writer: RecordingWriter | None = None
        path = Path(str(spec)).expanduser()
        if not str(spec).isdigit() and is_recording(path):
            header, obs = read_recording(path)
            self._replay = obs
            self.info = StreamInfo(header.source or str(path), "recording", header.fps, None, header.mode)
            return
        src = open_source(spec, stride=stride)
        self._source = src
        if src.info.kind == "camera":
            self.prefetch = False
        mode: Literal["video", "image"] = "image" if src.info.is_still else "video"
        self.info = StreamInfo(
            src.info.name, src.info.kind, src.info.fps, src.info.frame_count, mode,
            src.info.width, src.info.height,
        )
        try:
            if self._landmarkers is None:
                from .landmarker import LandmarkerConfig, Landmarkers

                cfg = landmarker_config(model_dir, face=face, hands=hands, mode=mode, fetch=fetch_models,
                                        calibration=calibration)
                assert isinstance(cfg, LandmarkerConfig)
                self._landmarkers = Landmarkers(cfg, parallel=parallel)
                self._own_landmarkers = True
                self.info.load_seconds = self._landmarkers.load_seconds
            if role_play is not None:
                self._setup_two_person(model_dir, mode, fetch_models)
            elif check_people and src.info.kind == "video" and mode == "video":
                self._setup_people_probe(model_dir, fetch_models)
            if save_landmarks is not None:
                self._writer = RecordingWriter(
                    save_landmarks,
                    RecordingHeader(self.info.source, self.info.fps, mode, self._landmarkers.tasks),
                )
        except BaseException:
            self.close(ok=False)
            raise

    def _setup_two_person(self, model_dir: Path | None, mode: Literal["video", "image"], fetch: bool) -> None:
        """MediaPipe pose is single-person: run it on each half of the frame (two extra
        pose passes, ~15–20 ms each on 2 cores) and pick the pair (two_person.py)."""
        from .calibration import load_calibration
        from .landmarker import LandmarkerConfig, Landmarkers
        from .two_person import RETRY_POSE_CONFIDENCE, TwoPersonDetector

        cfg = landmarker_config(model_dir, face=False, hands=False, mode=mode, fetch=fetch)
        assert isinstance(cfg, LandmarkerConfig)
        self._interaction_params = load_calibration(self.calibration).interaction
        if mode == "video":
            left, right = Landmarkers(cfg), Landmarkers(cfg)
            self._two_person_lms = [left, right]
            self._two_person = TwoPersonDetector(left, strategy="halves", secondary=right)
            return
        # Stills: paint out up to 4 people (bystanders), when fewer than 4 were found search
        # again at a low detection confidence, and when they show no handshake search the
        # mirror image's halves (measured best on handshake_rf, bench/interaction_eval.py:
        # mask@4+retry4+mirror).
        first = Landmarkers(cfg)
        retry = Landmarkers(dataclasses.replace(cfg, min_pose_confidence=RETRY_POSE_CONFIDENCE))
        self._two_person_lms = [first, retry]
        self._two_person = TwoPersonDetector(first, strategy="mask", max_persons=4,
                                             params=self._interaction_params, retry=retry, retry_below=4,
                                             mirror=True)

    def _setup_people_probe(self, model_dir: Path | None, fetch: bool) -> None:
        from .calibration import load_calibration
        from .landmarker import LandmarkerConfig, Landmarkers
        from .two_person import SecondPersonProbe

        def make() -> Landmarkers:
            cfg = landmarker_config(model_dir, face=False, hands=False, mode="image", fetch=fetch)
            assert isinstance(cfg, LandmarkerConfig)
            return Landmarkers(cfg)

        # Checks spread over the clip: every 2 s, at most 10 (a long clip: every tenth of it).
        fps, n = self.info.fps or 0.0, self.info.frame_count or 0
        every_ms = max(2000.0, 1000.0 * n / fps / 10.0) if fps > 0 and n > 0 else 2000.0
        self._people_probe = SecondPersonProbe(make, load_calibration(self.calibration).interaction,
                                               every_ms=every_ms)

    def check_truncation(self) -> None:
        """After the last frame: a video file that stopped part-way (truncated or damaged)
        is refused when the part that decoded is shorter than :data:`TRUNCATED_MIN_READ_S`;
        a longer part is scored, and :meth:`notices` says which part (``video_truncated``)."""
        cut = self._truncation()
        if cut is not None and cut[0] < TRUNCATED_MIN_READ_S:
            src = self._source
            raise SourceError(f"{self.info.source}: the video ends early (truncated or corrupt after frame "
                              f"{getattr(src, 'frames_read', '?')}, {cut[0]:.1f} s of {cut[1]:.1f} s); "
                              "too little to score — re-export or repair the file", reason="video_truncated")

    def _truncation(self) -> tuple[float, float] | None:
        """(seconds that decoded, seconds the header promised) of a truncated video file."""
        src = self._source
        if src is None or not getattr(src, "truncated", False):
            return None
        fps = self.info.fps or 30.0
        read = float(getattr(src, "frames_read", 0)) / fps
        total = float(self.info.frame_count or 0) / fps
        return read, max(read, total)

    def notices(self) -> list[dict[str, object]]:
        """What the analysis noticed about the input (``errors.NOTICE_TEXTS`` codes)."""
        note = None if self._people_probe is None else self._people_probe.notice()
        notes = [note] if note is not None else []
        cut = self._truncation()
        if cut is not None:  # scored on the part that decoded (check_truncation refused less)
            notes.append({"code": "video_truncated", "read_s": round(cut[0], 1), "total_s": round(cut[1], 1)})
        # A role-play with nobody else in it (a handshake clip of one person scored as a
        # role-play: its handshake went missing and its hand held out read as a card).
        seen, two = self._role_play_people
        if self.role_play is not None and seen >= ROLE_PLAY_MIN_FRAMES and two < ROLE_PLAY_MIN_SHARE * seen:
            notes.append({"code": "one_person_in_role_play", "checks": seen, "found": two})
        trunks, across = self._trunk_axis
        if trunks >= SIDEWAYS_MIN_FRAMES and across >= SIDEWAYS_MIN_SHARE * trunks:
            notes.append({"code": "video_sideways", "checks": trunks, "found": across})
        return notes

    @property
    def source(self) -> FrameSource | None:
        return self._source

    def __iter__(self) -> Iterator[tuple[Frame | None, Observation]]:
        if self._replay is not None:
            for obs in self._replay:
                self.times.frames += 1
                self._count_trunk_axis(obs)
                yield None, obs
            return
        assert self._source is not None and self._landmarkers is not None
        lms = self._landmarkers
        frames = _prefetch(self._source, self.times) if self.prefetch else _timed(self._source, self.times)

        without_hands = tuple(t for t in lms.tasks if t != "hands")

        def tasks_for(_frame: Frame) -> tuple[str, ...] | None:
            if self.wants_hands is not None and not self.wants_hands():
                return without_hands
            return None

        if self.prefetch:
            # Files: pipelined, each landmarker on its own thread a few frames ahead. The hand
            # gate's choice waits until the engine has judged the frame before: decided when the
            # frame is read, it was up to 4 frames stale, and a hand raised to the face or held
            # out was first searched for once it was there (a nose touch lost, a handshake's
            # first frames read as a card: renders 10700+, 10800+, 11014). While the gate is
            # on, the hand model also starts early, pipelined beside pose (speculative: what
            # the late choice turns down is dropped), instead of holding up each frame.
            wants = self.wants_hands
            if wants is None:
                observed = lms.observe_stream(frames)
            else:
                observed = lms.observe_stream(frames, tasks_for=lambda _f: None if wants() else without_hands,
                                              late_tasks=lambda _f: ("hands",) if wants() else (),
                                              speculative=("hands",))
        else:
            # Cameras: one frame at a time, the freshest (lowest latency).
            observed = ((f, lms.observe(f, tasks=tasks_for(f)), dict(lms.timings_ms)) for f in frames)
        t1 = time.perf_counter()
        for frame, obs, task_ms in observed:
            t2 = time.perf_counter()
            if self.info.mode == "image" and obs.pose is None and "pose" in obs.ran:
                from .small_people import person_in_tiles

                obs = person_in_tiles(lms.observe, frame, obs)
                self.times.add("tiles", (time.perf_counter() - t2) * 1000)
                t2 = time.perf_counter()
            obs = measure(frame, obs)
            self.times.add("pixels", (time.perf_counter() - t2) * 1000)
            if self._two_person is not None and self.role_play is not None:
                from .two_person import TwoPersonDetector, observe_two_person

                assert isinstance(self._two_person, TwoPersonDetector)
                t3 = time.perf_counter()
                side = "left" if self.role_play == "profile" else self.role_play
                obs = observe_two_person(self._two_person, frame, obs, self._interaction_params, side,
                                         picker=self._picker)
                tp = obs.measures.get("two_person", {})
                by = tp.get("trainee_by")
                if by in self.trainee_by:
                    self.trainee_by[by] += 1
                if obs.pose is not None:
                    seen, two = self._role_play_people
                    self._role_play_people = (seen + 1, two + int((tp.get("n_persons") or 0) >= 2))
                self.times.add("two_person", (time.perf_counter() - t3) * 1000)
            if self._people_probe is not None:
                t3 = time.perf_counter()
                self._people_probe.update(frame, obs)
                self.times.add("people_check", (time.perf_counter() - t3) * 1000)
            for task in lms.tasks:
                self.times.add(task, task_ms.get(task, 0.0) if task in obs.ran else 0.0)
            # Waiting for the landmarkers (in the pipelined case: what is left after overlap).
            self.times.add("landmarks", (t2 - t1) * 1000)
            self.times.frames += 1
            self._count_trunk_axis(obs)
            if self._writer is not None:
                self._writer.write(obs)
            yield frame, obs
            t1 = time.perf_counter()

    def _count_trunk_axis(self, obs: Observation) -> None:
        """Count a video frame whose shoulders and hips are seen, and whether the trunk lies
        more than :data:`SIDEWAYS_MIN_DEG` from the picture's vertical."""
        if self.info.mode != "video" or obs.pose is None:
            return
        lm, vis = obs.pose.landmarks, obs.pose.visibility
        ls, rs, lh, rh = PoseLm.LEFT_SHOULDER, PoseLm.RIGHT_SHOULDER, PoseLm.LEFT_HIP, PoseLm.RIGHT_HIP
        if min(float(vis[i]) for i in (ls, rs, lh, rh)) < 0.5:
            return
        w, h = obs.image_size
        dx = (float(lm[ls][0] + lm[rs][0]) - float(lm[lh][0] + lm[rh][0])) * w / 2.0
        dy = (float(lm[ls][1] + lm[rs][1]) - float(lm[lh][1] + lm[rh][1])) * h / 2.0
        if dx == 0.0 and dy == 0.0:
            return
        trunks, across = self._trunk_axis
        lying = math.degrees(math.atan2(abs(dx), abs(dy))) > SIDEWAYS_MIN_DEG
        self._trunk_axis = (trunks + 1, across + int(lying))

    def undecided_by_clothes(self) -> str:
        """Role-play by profile: on how many two-person frames the clothes worn at
        calibration left the trainee undecided, in words (for a warning or an error)."""
        by = self.trainee_by
        return (f"on {by['default_side']} of {by['default_side'] + by['colours']} two-person frames the "
                "clothes worn at calibration did not tell the trainee apart")

    def close(self, *, ok: bool = True) -> None:
        if self._writer is not None:
            if ok:
                self._writer.commit()
            else:
                self._writer.abort()
            self._writer = None
        if self._source is not None:
            self._source.close()
        for lm in self._two_person_lms:
            lm.close()
        self._two_person_lms = []
        if self._people_probe is not None:
            self._people_probe.close()
        if self._own_landmarkers and self._landmarkers is not None:
            self._landmarkers.close()
            self._landmarkers = None

    def __enter__(self) -> ObservationStream:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close(ok=exc_type is None)


def observations(
    spec: str | Path,
    *,
    model_dir: Path | None = None,
    face: bool = True,
    hands: bool = True,
) -> Iterator[Observation]:
    """Yield the observations of a video, image, folder or ``.jsonl`` recording."""
    with ObservationStream(spec, model_dir=model_dir, face=face, hands=hands) as stream:
        for _, obs in stream:
            yield obs
