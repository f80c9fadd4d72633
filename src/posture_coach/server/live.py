"""One live practice session: newest-frame slot, landmarks, engine, cues, messages.

Wire format of ``/ws/live``
---------------------------
Browser → server, binary: a JPEG, optionally prefixed by a 16-byte header
``b"PCF1" + uint32 frame id + float64 capture time (ms, the client's clock)``, both
little-endian; the server echoes id and time so the client can measure latency on its
own clock. Browser → server, text: JSON control messages ``{"type": ...}``:
``start``, ``stop``, ``lang`` (``{"lang": "zh"|"en"}``), ``posture``
(``{"posture": "auto"|"standing"|"sitting"}``), ``calibrate_start``
(``{"phase": "neutral"|"face"|"smile"}``), ``calibrate_finish``, ``profile_restore``
(``{"profile": ...}``: the ``profile`` a ``calibration`` ``done`` message gave, kept by the
page across reloads; answered ``calibration`` ``restored`` or ``error`` ``bad_profile``),
``drill_start`` (``{"id": ...}``), ``drill_stop``, ``ping``.

Server → browser, text JSON, each with ``type``: ``hello``, ``feedback`` (one per
processed frame, see :meth:`LiveSession.process`), ``started``, ``summary``,
``calibration``, ``drill``, ``drill_result``, ``error`` (``code``, ``message``), ``busy``.
``recover`` (``{"session", "token"}`` of an ended connection) answers that run's
``drill_result`` and ``summary`` again, marked ``recovered`` with that session and token.
``hello`` carries ``save_token``; a ``summary`` with ``can_save`` is a finished run that
the signed-in trainee may keep in their record: ``POST /api/live/{session}/save``
``{"token": save_token}`` (results only, never frames).

Frames are never queued: a newer frame replaces one still waiting (see
:class:`LatestSlot`), so a slow server shows fewer but fresh results.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import logging
import math
import secrets
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..drills import Drill, DrillRunner
from ..errors import CoachError
from ..grooming_features import tasks_for_rules  # grooming (issue 9): per-session measure option
from ..landmarker import Landmarkers
from ..pixels import measure
from ..sources import MAX_DECODE_PIXELS, decode_jpeg, image_header_size
from ..types import Frame, Observation
from .coach import EngineFactory, RuleInfo
from .pool import AffinityPool
from .settings import ServerSettings

log = logging.getLogger(__name__)

HEADER = struct.Struct("<4sId")
MAGIC = b"PCF1"

# A few face-mesh points for the overlay: outer lips and both eye outlines.
FACE_LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37,
             39, 40, 185)
FACE_LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
FACE_RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
BAD_STATUSES = ("warn", "fail")
# Neutral stance, neutral face (closer), natural smile; the first two form the baseline.
CALIBRATION_PHASES = ("neutral", "face", "smile")


class FrameError(ValueError):
    """A binary message that is not a usable frame."""


@dataclass(slots=True)
class FinishedRun:
    """The last run of a live session, ready to be saved to the trainee's record on request
    (``POST /api/live/{id}/save``): results only, never frames."""

    result: Any  # posture_coach.store.repo.AnalysisResult
    scenario: str | None  # the drill or scenario id; None for free practice
    posture: str
    saved_as: int | None = None  # the stored session, once saved (saving twice gives it again)
    saved_by: int | None = None  # the user who saved it


#: How long a finished, unsaved run outlives its connection (a dropped WebSocket loses nothing:
#: the page that ran it can still save it with its token).
KEEP_FINISHED_S = 15 * 60


@dataclass(slots=True)
class KeptRun:
    """A finished run whose connection has ended, kept for ``KEEP_FINISHED_S``: savable with
    its token, and its end-of-run messages (``drill_result``, ``summary``) sent again to the
    page that reconnects and asks (``recover``)."""

    save_token: str
    finished: FinishedRun
    until: float  # time.monotonic() deadline
    messages: list[dict[str, Any]] = field(default_factory=list)

    def finished_run(self, token: str) -> FinishedRun | None:
        check_save_token(token, self.save_token)
        return self.finished


def check_save_token(given: str, expected: str) -> None:
    """PermissionError unless ``given`` is the connection's save token (constant time)."""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PermissionError("wrong save token")


@dataclass(frozen=True, slots=True)
class FrameIn:
    """A received frame, still encoded."""

    jpeg: bytes
    frame_id: int | None
    t_capture: float | None
    t_recv: float  # time.perf_counter() at receipt


def parse_frame(payload: bytes, t_recv: float) -> FrameIn:
    """Split the optional header off a binary message (no decoding yet)."""
    if payload[:4] == MAGIC:
        if len(payload) < HEADER.size:
            raise FrameError("frame header truncated")
        _, fid, t_cap = HEADER.unpack_from(payload)
        return FrameIn(payload[HEADER.size:], fid, t_cap if math.isfinite(t_cap) else None, t_recv)
    return FrameIn(payload, None, None, t_recv)


class LatestSlot:
    """Holds only the newest frame: ``put`` replaces a waiting one (counted as dropped)."""

    def __init__(self) -> None:
        self._item: FrameIn | None = None
        self._event = asyncio.Event()
        self.dropped = 0

    def put(self, item: FrameIn) -> None:
        if self._item is not None:
            self.dropped += 1
        self._item = item
        self._event.set()

    async def take(self) -> FrameIn:
        while self._item is None:
            self._event.clear()
            await self._event.wait()
        item, self._item = self._item, None
        self._event.clear()
        return item


def _r(x: float) -> float:
    return round(float(x), 3)


def _compact(obj: Any, digits: int | None = 3) -> Any:
    """Round floats to ``digits`` decimals (``None``: as they are) and turn NaN/inf into
    null, recursively (JSON-safe)."""
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return obj if digits is None else round(obj, digits)
    if isinstance(obj, Mapping):
        return {str(k): _compact(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_compact(v, digits) for v in obj]
    return obj


def overlay(obs: Observation) -> dict[str, Any]:
    """Landmarks for the browser overlay, in normalised image coordinates."""
    pose = None
    if obs.pose is not None:
        lm, vis = obs.pose.landmarks, obs.pose.visibility
        pose = [[_r(lm[i, 0]), _r(lm[i, 1]), _r(vis[i])] for i in range(lm.shape[0])]
    hands = [
        {"side": h.side, "lm": [[_r(p[0]), _r(p[1])] for p in h.landmarks]} for h in obs.hands
    ]
    face = None
    if obs.face is not None:
        flm = obs.face.landmarks

        def pts(idx: tuple[int, ...]) -> list[list[float]]:
            return [[_r(flm[i, 0]), _r(flm[i, 1])] for i in idx if i < flm.shape[0]]

        face = {"lips": pts(FACE_LIPS), "left_eye": pts(FACE_LEFT_EYE),
                "right_eye": pts(FACE_RIGHT_EYE)}
    return {"pose": pose, "hands": hands, "face": face}


def _overall(summary: Mapping[str, Any]) -> float | None:
    for key in ("overall_score", "overall", "score"):
        v = summary.get(key)
        if isinstance(v, Mapping):
            v = v.get("score")
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
    return None


@dataclass
class CueGate:
    """Turns per-frame findings into sparse cues.

    A rule earns a cue only after it has been ``warn``/``fail`` for ``after_ms`` without
    a break; then it rests ``cooldown_ms``. One cue at a time, the most urgent first: a
    ``fail`` before a ``warn``, a required rule before a ``recommended`` one, then the
    longest-standing. No two cues come closer than ``gap_ms``, except that a more urgent
    cue does not wait behind a lesser one: crossed arms are cued as soon as they are due,
    not 4 s after the hint to clasp the hands in front that came a moment before. Nor is
    a lesser cue given while a more urgent problem goes on (resting after its cue, or just
    begun): with the arms crossed, "clasp your hands in front" would point away from what
    is wrong.
    """

    after_ms: int
    cooldown_ms: int
    gap_ms: int
    recommended: frozenset[str] = frozenset()
    _since: dict[str, int] = field(default_factory=dict)
    _last: dict[str, int] = field(default_factory=dict)
    _last_any: int = -(10**9)
    _last_rank: tuple[bool, bool] = (False, False)

    def _rank(self, rule_id: str, status: str) -> tuple[bool, bool]:
        return status == "fail", rule_id not in self.recommended

    def update(self, t_ms: int, verdicts: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
        due: list[tuple[str, str, int]] = []
        ongoing = (False, False)  # the most urgent problem now, cued or not, held or not yet
        for rid, v in verdicts.items():
            status = v.get("status")
            if status in BAD_STATUSES:
                start = self._since.setdefault(rid, t_ms)
                ongoing = max(ongoing, self._rank(rid, str(status)))
                if (t_ms - start >= self.after_ms
                        and t_ms - self._last.get(rid, -(10**9)) >= self.cooldown_ms):
                    due.append((rid, str(status), t_ms - start))
            else:
                self._since.pop(rid, None)
        if not due:
            return []
        rid, status, _ = max(due, key=lambda d: (*self._rank(d[0], d[1]), d[2]))
        if self._rank(rid, status) < ongoing:
            return []
        if t_ms - self._last_any < self.gap_ms and self._rank(rid, status) <= self._last_rank:
            return []
        self._last[rid] = t_ms
        self._last_any = t_ms
        self._last_rank = self._rank(rid, status)
        return [(rid, status)]


class LiveSession:
    """State of one connection. ``process`` runs in a worker thread; ``control`` too.

    A lock serialises the two, so a control message never sees an engine half-way
    through a frame. Frames are processed one at a time per session, in order.
    """

    def __init__(
        self,
        session_id: int,
        settings: ServerSettings,
        pool: AffinityPool | None,
        engines: EngineFactory,
        rules: Mapping[str, RuleInfo],
        drills: Mapping[str, Drill],
    ) -> None:
        self.id = session_id
        self.settings = settings
        self.pool = pool
        self.engines = engines
        self.rules = rules
        self.drills = drills
        self.lang = "zh"
        self.posture = "auto"
        self.slot = LatestSlot()
        self._lock = threading.Lock()
        self._busy = threading.Lock()  # held for a whole frame: release() waits for it
        self._t0 = time.monotonic()
        self._frames = 0
        self._bad_frames = 0
        self._last_lm: Landmarkers | None = None
        self._held: Any = None  # context manager of a session-long pool lease
        self._held_lm: Landmarkers | None = None
        self.engine: Any = engines.create(self.posture)
        self.profile: Any = None
        self.running = False
        self._run_t0 = 0
        self.cues = self._new_gate()
        self._score: float | None = None
        self._score_at = -1.0
        self._calib_phase: str | None = None
        self._calib_until = 0.0
        self._calib: dict[str, list[Observation]] = {}
        self._calib_skipped: dict[str, dict[str, int]] = {}  # phase -> why frames were left out
        self.drill: DrillRunner | None = None
        self._drill_reported = False
        self.outbox: list[dict[str, Any]] = []  # extra messages to send after a frame
        # Saving a finished run to the trainee's record needs this token (sent in "hello"
        # to this connection only) as well as the trainee's sign-in.
        self.save_token = secrets.token_urlsafe(18)
        self.finished: FinishedRun | None = None
        self.finished_messages: list[dict[str, Any]] = []  # what ended that run, for ``recover``

    # --- helpers ---------------------------------------------------------------------
    def _new_gate(self) -> CueGate:
        s = self.settings
        return CueGate(round(s.cue_after_s * 1000), round(s.cue_cooldown_s * 1000),
                       round(s.cue_gap_s * 1000),
                       recommended=frozenset(rid for rid, info in self.rules.items() if info.recommended))

    def now_ms(self) -> int:
        return round((time.monotonic() - self._t0) * 1000)

    def _reset_engine(self, extra_rules: tuple[str, ...] = ()) -> None:
        self.engine = self.engines.create(self.posture, self.profile, extra_rules)
        self.cues = self._new_gate()
        self._score, self._score_at = None, -1.0

    # --- landmarks -------------------------------------------------------------------
    def _tasks(self, lm: Landmarkers) -> tuple[str, ...] | None:
        """Skip the hand model while no active rule can use it (the engine's hand gate)."""
        if self.engine is None or self.engine.wants_hands():
            return None
        return tuple(t for t in lm.tasks if t != "hands")

    # --- grooming (issue 9) ---------------------------------------------------------
    def _grooming_tasks(self) -> frozenset[str]:
        """Grooming measure tasks for this session only: on while the current drill step
        names grooming rules (never process-global, so other sessions pay nothing)."""
        drill = self.drill
        step = drill.current() if drill is not None else None
        return frozenset() if step is None else tasks_for_rules(step.rules)

    def _observe(self, frame: Frame) -> tuple[Observation, dict[str, float]]:
        obs, task_ms = self._observe_landmarks(frame)
        t0 = time.perf_counter()
        # pixel measures (teeth…), as in recorded analysis; grooming per session (issue 9)
        obs = measure(frame, obs, options={"grooming": self._grooming_tasks()})
        task_ms = {k: v for k, v in task_ms.items() if k in obs.ran}
        task_ms["pixels"] = (time.perf_counter() - t0) * 1000
        return obs, task_ms

    def _observe_landmarks(self, frame: Frame) -> tuple[Observation, dict[str, float]]:
        assert self.pool is not None
        timeout = self.settings.acquire_timeout_s
        if self.settings.acquire == "session":
            if self._held_lm is None:
                lease = self.pool.acquire_for(None, timeout)
                self._held_lm = lease.__enter__()  # TimeoutError: nothing held, retry later
                self._held = lease
            lm = self._held_lm
            obs = lm.observe(frame, tasks=self._tasks(lm))
            return obs, dict(lm.timings_ms)
        with self.pool.acquire_for(self._last_lm, timeout) as lm:
            self._last_lm = lm
            obs = lm.observe(frame, tasks=self._tasks(lm))
            return obs, dict(lm.timings_ms)

    def release(self) -> None:
        """Give back a session-long lease (called when the client goes away).

        Waits for a frame still being processed in a worker thread: the lease must not
        reach another session while this one's frame is inside the landmarkers.
        """
        with self._busy, self._lock:
            if self._held is not None:
                held, self._held, self._held_lm = self._held, None, None
                held.__exit__(None, None, None)

    # --- one frame -------------------------------------------------------------------
    def process(self, item: FrameIn) -> dict[str, Any]:
        """Decode, observe, judge and build the FeedbackMessage for one frame."""
        with self._busy:
            return self._process(item)

    def _process(self, item: FrameIn) -> dict[str, Any]:
        t_start = time.perf_counter()
        echo = {"id": item.frame_id, "t_capture": item.t_capture}
        rgb = decode_jpeg(item.jpeg)
        if rgb is None:
            self._bad_frames += 1
            size = image_header_size(item.jpeg)
            if size is not None and size[0] * size[1] > MAX_DECODE_PIXELS:
                # A valid picture, refused before decoding for its size: say that, not "not a JPEG".
                return {"type": "error", "code": "frame_too_many_pixels", **echo,
                        "message": f"frame of {size[0]}x{size[1]} pixels: at most {MAX_DECODE_PIXELS} pixels "
                                   "(send 640x480, as the page does)"}
            return {"type": "error", "code": "bad_frame", **echo,
                    "message": "not a JPEG image" if self.lang == "en" else "不是有效的 JPEG 图像"}
        t_dec = time.perf_counter()
        if self.pool is None:
            return {"type": "error", "code": "models_unavailable", **echo,
                    "message": "the landmark models could not be loaded"}
        # One global, strictly increasing clock for the shared VIDEO-mode landmarkers;
        # the engine gets the session's own clock.
        wall_ms = round(time.monotonic() * 1000)
        frame = Frame(rgb, self._frames, wall_ms, f"live:{self.id}")
        try:
            obs, task_ms = self._observe(frame)
        except TimeoutError:
            return {"type": "busy", **echo, "message": "all landmarkers busy; frame skipped"}
        t_lm = time.perf_counter()
        with self._lock:
            t_ms = self.now_ms()
            obs = dataclasses.replace(obs, timestamp_ms=t_ms)
            self._frames += 1
            msg = self._judge(obs, t_ms)
        t_end = time.perf_counter()
        msg.update(echo)
        msg["type"] = "feedback"
        msg["seq"] = self._frames
        msg["dropped"] = self.slot.dropped
        msg["size"] = list(obs.image_size)
        msg.update(overlay(obs))
        if "grooming" in obs.measures:  # grooming (issue 9): judged boxes for web/grooming.js
            msg["grooming"] = _compact(obs.measures["grooming"])
        msg["timing"] = {
            "queue_ms": _r((t_start - item.t_recv) * 1000),
            "decode_ms": _r((t_dec - t_start) * 1000),
            "landmarks_ms": _r((t_lm - t_dec) * 1000),
            **{f"{k}_ms": _r(v) for k, v in task_ms.items()},
            "engine_ms": _r((t_end - t_lm) * 1000),
            "server_ms": _r((t_end - item.t_recv) * 1000),
        }
        return msg

    def _judge(self, obs: Observation, t_ms: int) -> dict[str, Any]:
        msg: dict[str, Any] = {"t_ms": t_ms, "person": obs.person, "running": self.running}
        if self.engine is None:
            if self._calib_phase is not None:
                msg["calibration"] = self._collect(obs, {})
            msg.update(view=None, rules={}, events=[], cues=[], score=None,
                       engine=self.engines.error or "unavailable")
            return msg
        result = _compact(self.engine.update(obs).to_dict())
        if self._calib_phase is not None:  # after judging: the frame's states tell a neutral pose
            msg["calibration"] = self._collect(obs, result.get("states", {}))
        verdicts: dict[str, Any] = result.get("verdicts", {})
        events = result.get("events", [])
        msg["view"] = result.get("view")
        msg["states"] = result.get("states", {})
        msg["rules"] = verdicts
        msg["events"] = events
        cues: list[dict[str, Any]] = []
        if self.running:
            for rid, status in self.cues.update(t_ms, verdicts):
                info = self.rules.get(rid)
                text = info.cue(self.lang) if info else rid
                # Both languages too: the page keeps cues (snapshot captions) across a
                # language switch and shows them in the language of the moment.
                cues.append({"rule_id": rid, "status": status, "text": text,
                             "text_zh": info.cue("zh") if info else rid,
                             "text_en": info.cue("en") if info else rid})
            now = time.monotonic()
            if now - self._score_at >= self.settings.score_every_s:
                self._score = self.engines.live_score(self.engine)
                self._score_at = now
            msg["elapsed_s"] = round((t_ms - self._run_t0) / 1000, 1)
        msg["cues"] = cues
        msg["score"] = self._score
        if self.drill is not None:
            msg["drill"] = self.drill.update(t_ms, verdicts, events)
            if self.drill.done and not self._drill_reported:
                self._drill_reported = True
                self.outbox.append({"type": "drill_result", "result": self.drill.result()})
        return msg

    def _collect(self, obs: Observation, states: Mapping[str, Any]) -> dict[str, Any]:
        """Keep the frames a baseline may be made of: a person in view; in the neutral
        posture, not arms crossed or hands on hips (the step asks for hands hanging); for
        the face and smile steps, a face the face model read. A phase with too few of them
        fails with the reason, so that the person can fix it."""
        phase = self._calib_phase
        assert phase is not None
        skipped = self._calib_skipped.setdefault(phase, {})
        if obs.person:
            left_out = ("not_neutral" if phase == "neutral" and (
                states.get("arms_crossed") is True or states.get("hands_on_hips") is True)
                else "no_face" if phase in ("face", "smile") and obs.face is None else None)
            if left_out is None:
                self._calib.setdefault(phase, []).append(obs)
            else:
                skipped[left_out] = skipped.get(left_out, 0) + 1
        left = self._calib_until - time.monotonic()
        n = len(self._calib.get(phase, []))
        if left <= 0:
            self._calib_phase = None
            # Mostly crossed arms, or mostly no face: the few usable frames are not this
            # person's neutral pose either (the state may take a frame or two to show).
            worst = max(skipped, key=skipped.__getitem__, default=None)
            if worst is not None and skipped[worst] > n:
                return {"phase": phase, "status": "failed", "reason": worst, "frames": n, "progress": 1.0}
            if n >= CALIB_MIN_FRAMES:
                moved = self._neutral_refused(phase)
                if moved:  # said now, not after the face steps
                    return {"phase": phase, "status": "failed", "reason": moved, "frames": n, "progress": 1.0}
                return {"phase": phase, "status": "collected", "frames": n, "progress": 1.0}
            return {"phase": phase, "status": "failed", "reason": worst or "too_few_frames", "frames": n,
                    "progress": 1.0}
        total = self.settings.calibration_s
        return {"phase": phase, "status": "collecting", "frames": n,
                "progress": _r(1 - left / total)}

    def _neutral_refused(self, phase: str) -> str | None:
        """The reason code a baseline from the neutral frames would be refused with (the
        person moved throughout), checked when that phase ends; None when it would do."""
        if phase != "neutral":
            return None
        try:
            self.engines.profile(self._calib.get("neutral", []))
        except Exception as exc:  # a known cause has a code; anything else waits for the finish
            reason = getattr(exc, "reason", None)
            return reason if isinstance(reason, str) else None
        return None

    # --- control messages ------------------------------------------------------------
    def control(self, msg: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Apply one control message; returns the replies to send."""
        with self._lock:
            return self._control(msg)

    def _control(self, msg: Mapping[str, Any]) -> list[dict[str, Any]]:
        kind = msg.get("type")
        if kind == "ping":
            return [{"type": "pong", "t": msg.get("t")}]
        if kind == "lang":
            lang = msg.get("lang")
            if lang not in ("zh", "en"):
                return [_error("bad_message", "lang must be 'zh' or 'en'")]
            self.lang = str(lang)
            return [{"type": "lang", "lang": self.lang}]
        if kind == "posture":
            posture = msg.get("posture")
            if posture not in ("auto", "standing", "sitting"):
                return [_error("bad_message", "posture must be auto, standing or sitting")]
            self.posture = str(posture)
            self._reset_engine()
            return [{"type": "posture", "posture": self.posture}]
        if kind in ("start", "drill_start") and self.running:
            # A second start would throw the running practice away unscored (the page's Start
            # is disabled while one runs; another client is refused, as calibrating is).
            return [_error("busy_running", "a practice is running: stop it first")]
        if kind == "start":
            self._reset_engine()
            self.running = True
            self._run_t0 = self.now_ms()
            return [{"type": "started", "posture": self.posture,
                     "engine": self.engine is not None}]
        if kind == "stop":
            return self._stop()
        if kind == "calibrate_start":
            if self.running:  # a new baseline restarts the engine: the run so far would be lost
                return [_error("busy_running", "stop the practice before calibrating")]
            phase = msg.get("phase", "neutral")
            if phase not in CALIBRATION_PHASES:
                return [_error("bad_message", "phase must be one of "
                               + ", ".join(CALIBRATION_PHASES))]
            self._calib_phase = str(phase)
            self._calib[self._calib_phase] = []
            self._calib_skipped[self._calib_phase] = {}
            self._calib_until = time.monotonic() + self.settings.calibration_s
            return [{"type": "calibration", "phase": phase, "status": "collecting",
                     "frames": 0, "progress": 0.0}]
        if kind == "calibrate_finish":
            if self.running:
                return [_error("busy_running", "stop the practice before calibrating")]
            return [self._finish_calibration()]
        if kind == "profile_restore":
            return self._restore_profile(msg)
        if kind == "drill_start":
            drill = self.drills.get(str(msg.get("id")))
            if drill is None:
                return [_error("unknown_drill", f"no drill {msg.get('id')!r}")]
            if drill.posture != "auto":
                self.posture = drill.posture
            # Opt-in rules a drill names (grooming) run only if the chosen pack includes them:
            # e.g. grooming.facial_hair only with pack "grooming_clean_shaven", never guessed.
            named = {r for st in drill.steps for r in st.rules}
            pack = str(msg.get("pack") or "grooming")
            self._reset_engine(tuple(sorted(named & set(self.engines.pack_rules(pack)))))
            self.running = True
            self._run_t0 = self.now_ms()
            self.drill = DrillRunner(drill, self.rules.keys())
            self.drill.start(self._run_t0)
            self._drill_reported = False
            return [{"type": "drill", "id": drill.id, "posture": self.posture,
                     "drill": drill.to_dict(self.rules.keys())}]
        if kind == "drill_stop":
            if self.drill is None:
                return []
            res = self.drill.result()
            self.drill = None
            return [{"type": "drill_result", "result": res}]
        return [_error("bad_message", f"unknown control message type {kind!r}")]

    def _stop(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        drill_id: str | None = None
        drill_res: dict[str, Any] | None = None
        if self.drill is not None:
            drill_id, drill_res = self.drill.drill.id, self.drill.result()
            out.append({"type": "drill_result", "result": drill_res})
            self.drill = None
        summary: dict[str, Any] | None = None
        if self.running:
            self.finished = None
            if self.engine is not None:
                summ = self.engine.summary()
                # The scores' own 4 decimals, as the saved report keeps them: rounded again to
                # 3, 0.6245 showed 63 here and 62 in the report.
                summary = _compact(dict(summ.to_dict()), digits=4)
                self.finished = self._finished(summ, drill_id, drill_res)
        self.running = False
        out.append({"type": "summary", "summary": summary,
                    "score": None if summary is None else _overall(summary),
                    "elapsed_s": round((self.now_ms() - self._run_t0) / 1000, 1),
                    "engine": self.engine is not None,
                    "can_save": self.finished is not None and summary is not None})
        if summary is not None:
            self.finished_messages = out
        return out

    def end_of_connection(self) -> None:
        """The connection ended: a run still going is finished as if stopped, so that the
        page can get its summary back (``recover``) and save it; nothing is lost."""
        try:
            with self._lock:
                if self.running:
                    self._stop()
        except Exception:  # never in the way of the connection's clean-up
            log.warning("could not finish the run of an ended connection", exc_info=True)

    def _finished(self, summary: Any, drill_id: str | None,
                  drill_res: dict[str, Any] | None) -> FinishedRun | None:
        try:
            from ..jobs import live_result

            extra = {} if drill_res is None else {"drill": _compact(drill_res)}
            # Times from the run's first judged frame, as its length is counted (the report's
            # time axis): Start itself may come a few frames earlier on a busy machine.
            first = getattr(getattr(self.engine, "timeline", None), "first_ms", None)
            origin = first if isinstance(first, int) else self._run_t0
            return FinishedRun(live_result(self.engine, summary, extra, origin_ms=origin), drill_id, self.posture)
        except Exception:  # the store's modules missing: the run still ends, unsaved
            log.warning("cannot keep the finished run for saving", exc_info=True)
            return None

    def finished_run(self, token: str) -> FinishedRun | None:
        """The last finished run, for the holder of this connection's save token."""
        check_save_token(token, self.save_token)
        with self._lock:
            return self.finished

    def _finish_calibration(self) -> dict[str, Any]:
        neutral = self._calib.get("neutral", []) + self._calib.get("face", [])
        smile = self._calib.get("smile", [])
        self._calib_phase = None
        if len(neutral) < CALIB_MIN_FRAMES:
            return {"type": "calibration", "status": "failed", "reason": "too_few_frames",
                    "frames": len(neutral)}
        try:
            self.profile = self.engines.profile(neutral, smile)
        except Exception as exc:  # a baseline that cannot be built must not end the session
            # A known cause travels as a code the page words in both languages.
            return {"type": "calibration", "status": "failed",
                    "reason": getattr(exc, "reason", None) or str(exc)}
        self._calib.clear()
        self._reset_engine()
        # The baseline's numbers (no picture): the page keeps them in its own browser and
        # hands them back after a reload (``profile_restore``) instead of calibrating again.
        to_dict = getattr(self.profile, "to_dict", None)
        return {"type": "calibration", "status": "done", "frames": len(neutral) + len(smile),
                "smile": self._smile_calibrated(),
                "profile": _compact(to_dict(), digits=6) if callable(to_dict) else None}

    def _smile_calibrated(self) -> str:
        """What the smile step gave (:meth:`EngineFactory.smile_calibrated`)."""
        said = getattr(self.engines, "smile_calibrated", None)
        return str(said(self.profile)) if callable(said) else "not_seen"

    def _restore_profile(self, msg: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self.running or self._calib_phase is not None:
            return [_error("busy_running", "stop the practice or calibration before restoring a calibration")]
        data = msg.get("profile")
        if not isinstance(data, Mapping):
            return [_error("bad_profile", "profile must be an object")]
        try:
            self.profile = self.engines.profile_from_dict(data)
        except (CoachError, ValueError, TypeError, RuntimeError) as err:
            return [_error("bad_profile", str(err))]
        self._reset_engine()
        return [{"type": "calibration", "status": "restored"}]


#: A calibration phase needs at least this many usable frames (about 1/3 s at 15 fps).
CALIB_MIN_FRAMES = 5


def _error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}
