"""Analysis of recorded videos: one function for a video, and a bounded pool of workers
that runs queued jobs from the database.

* :func:`analyse_video` runs the pipeline and the engine over a file and returns an
  :class:`~posture_coach.store.repo.AnalysisResult` (scores, findings with the time and
  frame of their peak, events) and, when asked, evidence snapshots re-read from the video.
* :class:`JobRunner` takes queued jobs (``workers`` at a time), beats a heartbeat while a
  job runs and writes the whole result set in one transaction. On start it requeues jobs
  left ``running`` by a crashed process (stale heartbeat); the claim token fences off a
  worker that was presumed dead, so a session never gets two result sets.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import CoachError, SourceError, reason_of
from .store import repo
from .store.db import Database

log = logging.getLogger(__name__)

#: Findings of these rules also get the teeth crop as evidence.
TEETH_RULES = frozenset({"face.smile_teeth"})
NOT_FINDING_EVENTS = frozenset({"violation_start", "violation_end"})


#: Where the trainee stands in a role-play (None: one person in view).
ROLE_PLAY_SIDES: tuple[str | None, ...] = (None, "left", "right", "profile")


class JobCancelled(Exception):
    """The job's claim was revoked (another worker owns it now): stop without writing."""


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    posture: str = "auto"
    #: Analyse every N-th frame; 0 = auto (about 15 analysed frames a second, see
    #: :func:`posture_coach.sources.resolve_stride`).
    stride: int = 1
    face: bool = True
    hands: bool = True
    model_dir: Path | None = None
    calibration: Path | None = None
    profile: Path | None = None
    #: Where evidence snapshots go; None = keep no frames (the default: privacy).
    evidence_dir: Path | None = None
    fetch_models: bool = True
    #: One thread for the whole analysis (no decode-ahead, landmarkers in turn): a job
    #: that was given one CPU, as each Ray task is, so N workers use N cores, not 2N.
    single_cpu: bool = False
    #: A role-play with two people in view: the trainee is the person on this side of the
    #: image ("left" or "right"), or ("profile") the one wearing the clothes of ``profile``;
    #: None = one person (the pose model's single person).
    role_play: str | None = None

    def __post_init__(self) -> None:
        if self.role_play not in ROLE_PLAY_SIDES:
            raise ValueError(f"role_play must be left, right, profile or none, not {self.role_play!r}")
        if self.role_play == "profile" and self.profile is None:
            raise ValueError("role_play 'profile' needs the trainee's profile")


@dataclass(slots=True)
class _Peak:
    """The worst frame of a finding so far (by |value|, else its first frame)."""

    rule_id: str
    start_ms: int
    t_ms: int
    frame: int
    value: float | None
    obs: Any
    pinned: bool = False  # an event's peak frame: the evidence, whatever later frames say


#: How far back an event rule's finding may reach for its evidence frame (the event's peak,
#: judged when the event closes): longer than any event lasts.
EVIDENCE_LOOKBACK_MS = 20_000


def _magnitude(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return abs(float(v))


def analyse_video(
    path: Path, opts: AnalysisOptions = AnalysisOptions(),
    progress: Callable[[float], None] | None = None,
) -> repo.AnalysisResult:
    """Score one recorded video. ``progress`` gets 0..1 (it may raise to abort)."""
    from .calibration import Profile, load_calibration
    from .engine import CoachEngine
    from .pipeline import ObservationStream
    from .rules import RULES_BY_ID
    from .rules.base import severity

    cal = load_calibration(opts.calibration)
    prof = Profile.load(opts.profile) if opts.profile is not None else None
    engine = CoachEngine(cal, prof, mode="video", posture=opts.posture)  # type: ignore[arg-type]
    # The hand model runs only on frames where a rule can use it (the engine's hand gate).
    stream = ObservationStream(path, model_dir=opts.model_dir, face=opts.face, hands=opts.hands,
                               stride=opts.stride, fetch_models=opts.fetch_models,
                               wants_hands=engine.wants_hands, parallel=not opts.single_cpu,
                               role_play=opts.role_play,  # type: ignore[arg-type]
                               calibration=opts.calibration,
                               trainee_colours=None if prof is None else prof.clothing_colours)
    ok = False
    try:
        if stream.info.kind != "video":
            raise SourceError(f"{path}: not a video ({stream.info.kind})", reason="not_a_video")
        total = stream.info.frame_count or 0
        stride = max(1, int(getattr(stream.source, "stride", 1)))  # auto resolved by the source
        open_peaks: dict[str, _Peak] = {}
        closed: dict[tuple[str, int], _Peak] = {}
        keep_obs = opts.evidence_dir is not None
        n = 0
        last_report = 0.0
        recent: collections.deque[tuple[int, int, Any]] = collections.deque()  # (t_ms, frame, obs)
        for _frame, obs in stream:
            res = engine.update(obs)
            recent.append((res.t_ms, res.frame, obs if keep_obs else None))
            while recent and res.t_ms - recent[0][0] > EVIDENCE_LOOKBACK_MS:
                recent.popleft()
            for ev in res.events:
                if ev.get("type") == "violation_start":
                    rid = str(ev["rule_id"])
                    pk = _Peak(rid, int(ev["start_ms"]), res.t_ms, res.frame, None,
                               obs if keep_obs else None)
                    peak_ms = ev.get("peak_ms")
                    if isinstance(peak_ms, int) and peak_ms < res.t_ms:
                        # An event rule's finding: its evidence is the event's peak frame,
                        # seen before the event closed and the rule could judge it.
                        at = next((r for r in recent if r[0] >= peak_ms), None)
                        if at is not None:
                            pk.t_ms, pk.frame, pk.pinned = at[0], at[1], True
                            if keep_obs:
                                pk.obs = at[2]
                    open_peaks[rid] = pk
            for rid, pk in open_peaks.items():
                v = res.verdicts.get(rid)
                if v is None or v.status not in ("warn", "fail"):
                    continue
                mag = severity(RULES_BY_ID[rid], v.value) if rid in RULES_BY_ID else _magnitude(v.value)
                if pk.pinned:  # the frame stays the event's; the value is the judged one
                    if pk.value is None:
                        pk.value = mag
                    continue
                if mag is not None and (pk.value is None or mag > pk.value):
                    pk.value, pk.t_ms, pk.frame = mag, res.t_ms, res.frame
                    if keep_obs:
                        pk.obs = obs
            for ev in res.events:
                if ev.get("type") == "violation_end":
                    rid = str(ev["rule_id"])
                    pk_done = open_peaks.pop(rid, None)
                    if pk_done is not None:
                        closed[(rid, pk_done.start_ms)] = pk_done
            n += 1
            if progress is not None and total:
                now = time.monotonic()
                if now - last_report > 0.25:
                    last_report = now
                    progress(min(0.99, n * stride / total))
        stream.check_truncation()  # a long enough decodable start is scored, with a notice
        if stream.times.frames == 0:
            raise SourceError(f"{path}: no frame could be read", reason="video_no_frames")
        by = stream.trainee_by
        if opts.role_play == "profile" and by["default_side"] > by["colours"]:
            raise SourceError(f"{path}: {stream.undecided_by_clothes()} (dressed alike?): score it again "
                              "with --role-play left or right", reason="trainee_undecided")
        summary = engine.summary()
        notices = stream.notices()  # e.g. two people in view of a one-person analysis
        for pk in open_peaks.values():
            closed[(pk.rule_id, pk.start_ms)] = pk
        ok = True
    finally:
        stream.close(ok=ok)

    result, snapshots = engine_result(engine, summary, closed=closed, evidence_dir=opts.evidence_dir,
                                      stride=stride, extra={"notices": notices} if notices else None)
    if snapshots:
        write_evidence(path, snapshots)
    if progress is not None:
        progress(1.0)
    return result


Snapshot = tuple[int, Path, Any, Path | None]  # frame, file, obs, teeth


def engine_result(
    engine: Any, summary: Any, *, closed: dict[tuple[str, int], _Peak] | None = None,
    evidence_dir: Path | None = None, stride: int = 1, extra: dict[str, Any] | None = None,
) -> tuple[repo.AnalysisResult, list[Snapshot]]:
    """A finished engine's results as the store keeps them (per-rule outcomes, findings with
    their peak frames where ``closed`` knows them, events; ``extra`` joins the stored
    summary), and the evidence frames to write when ``evidence_dir`` is given.
    ``summary`` is ``engine.summary()``."""
    cal = engine.calibration
    warn_credit = cal.warn_credit
    closed = closed or {}
    findings: list[repo.FindingOutcome] = []
    rules: list[repo.RuleOutcome] = []
    snapshots: list[Snapshot] = []
    for rid, tr in engine.timeline.rules.items():
        rs = summary.rules[rid]
        unknown_total = sum(tr.reasons.values())
        rules.append(repo.RuleOutcome(
            rule_id=rid, score=rs.score, weight=float(cal.weights.get(rid, 1.0)),
            assessable_s=rs.assessable_s, penalty_s=tr.penalty / 1000.0, unknown_share=rs.unknown_share,
            top_reason=rs.top_reason,
            reasons={k: round(v / unknown_total, 4) for k, v in tr.reasons.items()} if unknown_total else {},
            judged_frames=rs.assessable_frames,
        ))
        for i, ep in enumerate(tr.episodes):
            found = closed.get((rid, ep.start_ms))
            evidence: dict[str, Path] = {}
            if evidence_dir is not None and found is not None and found.obs is not None:
                stem = f"{rid.replace('.', '_')}_{ep.start_ms}_{i}"
                snap = evidence_dir / f"{stem}.jpg"
                teeth = evidence_dir / f"{stem}_teeth.jpg" if rid in TEETH_RULES else None
                evidence["snapshot"] = snap
                if teeth is not None:
                    evidence["teeth"] = teeth
                snapshots.append((found.frame, snap, found.obs, teeth))
            findings.append(repo.FindingOutcome(
                rule_id=rid, status=ep.worst, start_ms=ep.start_ms, end_ms=ep.end_ms, peak=ep.peak,
                peak_ms=None if found is None else found.t_ms, peak_frame=None if found is None else found.frame,
                penalty_s=(ep.fail_ms + (1.0 - warn_credit) * ep.warn_ms) / 1000.0, evidence=evidence,
            ))
    # What happened, not the engine's bookkeeping: an event's opening and a dropped one
    # (too short, or a held posture) are in the live stream only.
    events = [repo.EventOutcome(str(e.get("type")), int(e.get("t_ms", 0)), dict(e))
              for e in summary.events if e.get("type") not in NOT_FINDING_EVENTS
              and not str(e.get("type")).endswith(("_start", "_dropped"))]
    findings.sort(key=lambda f: (f.start_ms, f.rule_id))
    result = repo.AnalysisResult(
        frames=summary.frames, duration_s=summary.duration_s, overall_score=summary.overall_score,
        unknown_share=summary.unknown_share, summary=_jsonable({**summary.to_dict(), **(extra or {})}),
        rules=rules, findings=findings, events=events, stride=stride,
    )
    return result, snapshots


#: Keys of a stored event's data that hold a time on the session's clock.
_EVENT_TIME_KEYS = ("t_ms", "start_ms", "end_ms", "peak_ms")


def live_result(engine: Any, summary: Any, extra: dict[str, Any] | None = None,
                origin_ms: int = 0) -> repo.AnalysisResult:
    """A finished live run as a stored session holds it: scores, findings and events, no
    frames and no evidence (the live page keeps its pictures in the browser). ``extra``
    joins the stored summary (e.g. the drill's step results). The live engine runs on the
    connection's clock: times are counted from ``origin_ms`` (when Start was pressed), so a
    2.4 s run's findings lie within 0–2.4 s, as the report's header and time axis say."""
    result = engine_result(engine, summary, extra=extra)[0]
    if not origin_ms:
        return result

    def at(t: int) -> int:
        return max(0, t - origin_ms)

    findings = [replace(f, start_ms=at(f.start_ms), end_ms=None if f.end_ms is None else at(f.end_ms),
                        peak_ms=None if f.peak_ms is None else at(f.peak_ms))
                for f in result.findings]
    events = [replace(e, t_ms=at(e.t_ms), data={k: at(v) if k in _EVENT_TIME_KEYS and isinstance(v, int) else v
                                                 for k, v in e.data.items()})
              for e in result.events]
    return replace(result, findings=findings, events=events)


def write_evidence(video: Path, wanted: list[Snapshot]) -> None:
    """Re-read the peak frames from the video and write the pose overlay (and teeth crop) JPEGs."""
    import cv2
    import numpy as np

    from .annotate import draw_observation
    from .teeth import render_mouth_evidence

    by_frame: dict[int, list[tuple[Path, Any, Path | None]]] = {}
    for frame, snap, obs, teeth in wanted:
        by_frame.setdefault(frame, []).append((snap, obs, teeth))
    cap = cv2.VideoCapture(str(video))
    try:
        index = 0
        last = max(by_frame)
        while index <= last:
            if index in by_frame:
                ok, bgr = cap.read()
                if not ok:
                    break
                for snap, obs, teeth in by_frame[index]:
                    snap.parent.mkdir(parents=True, exist_ok=True)
                    if teeth is not None:
                        rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
                        crop = render_mouth_evidence(rgb, obs)
                        cv2.imwrite(str(teeth), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
                    # The pose drawn, no words: the report and the page name the finding in
                    # the reader's language beside it (the image said "distance.customer warn"
                    # in small grey letters, in English, under a Chinese report).
                    img = draw_observation(bgr.copy(), obs)
                    cv2.imwrite(str(snap), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
            elif not cap.grab():
                break
            index += 1
    finally:
        cap.release()


def _jsonable(o: Any) -> Any:
    import json

    def default(x: Any) -> Any:
        if hasattr(x, "item"):
            return x.item()
        if hasattr(x, "tolist"):
            return x.tolist()
        return str(x)

    return json.loads(json.dumps(o, default=default))


# -- the worker pool -----------------------------------------------------------------------


Analyse = Callable[[Path, AnalysisOptions, Callable[[float], None]], repo.AnalysisResult]


class JobRunner:
    """A bounded in-process pool of analysis workers fed from the jobs table."""

    def __init__(
        self, db: Database, *, workers: int = 1, heartbeat_s: float = 5.0, stale_after_s: float = 60.0,
        options: AnalysisOptions = AnalysisOptions(), analyse: Analyse | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be ≥ 1")
        if stale_after_s <= heartbeat_s:
            raise ValueError("stale_after_s must exceed heartbeat_s")
        self.db = db
        self.workers = workers
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.options = options
        self._analyse: Analyse = analyse or analyse_video
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._lock = threading.Lock()
        self._active: dict[int, tuple[str, float]] = {}
        self._revoked: set[int] = set()
        self._futures: dict[int, Future[None]] = {}
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._beat_loop, name="job-heartbeat", daemon=True)
        self._beat.start()

    # public API
    def start(self) -> list[int]:
        """Requeue jobs a crash left running, then submit every queued job. Returns requeued ids."""
        requeued = repo.requeue_stale(self.db, self.stale_after_s)
        if requeued:
            log.warning("requeued %d interrupted job(s): %s", len(requeued), requeued)
        for job_id in repo.queued_job_ids(self.db):
            self.submit(job_id)
        return requeued

    def enqueue(self, session_id: int) -> int:
        with self.db.session() as s:
            job_id = repo.create_job(s, session_id).id
        self.submit(job_id)
        return job_id

    def submit(self, job_id: int) -> None:
        with self._lock:
            fut = self._futures.get(job_id)
            if fut is not None and not fut.done():
                return
            self._futures[job_id] = self._pool.submit(self._run, job_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted job has finished; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures.values() if not f.done()]
            if not pending:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            pending[0].exception(timeout=left)

    def close(self, wait: bool = True) -> None:
        self._stop.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self._beat.join(timeout=self.heartbeat_s + 1)

    def __enter__(self) -> JobRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # internals
    def _beat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                active = dict(self._active)
            for job_id, (claim, prog) in active.items():
                try:
                    alive = repo.heartbeat(self.db, job_id, claim, prog)
                except Exception:  # a DB hiccup must not kill the heartbeat thread
                    log.exception("heartbeat for job %s failed", job_id)
                    continue
                if not alive:
                    with self._lock:
                        self._revoked.add(job_id)

    def _run(self, job_id: int) -> None:
        claim = repo.claim_job(self.db, job_id)
        if claim is None:
            return
        evidence_dir: Path | None = None
        session_id: int | None = None
        # The stored file's path is the server's business: messages name the uploaded file.
        public: dict[str, str] = {}
        try:
            with self.db.session() as s:
                job = repo.get_job(s, job_id)
                sess = job.session
                if not sess.media_path:
                    raise SourceError(f"session {sess.id}: its video is no longer stored", reason="video_gone")
                video = self.db.path(sess.media_path)
                public[str(video)] = sess.source or video.name
                opts = _replace(self.options, posture=sess.posture, stride=sess.stride,
                                role_play=sess.role_play)
                if sess.keep_evidence:
                    evidence_dir = self.db.data_dir / "evidence" / f"session_{sess.id}" / claim[:12]
                    opts = _replace(opts, evidence_dir=evidence_dir)
                session_id = sess.id
            with self._lock:
                self._active[job_id] = (claim, 0.0)

            def progress(p: float) -> None:
                with self._lock:
                    if job_id in self._revoked:
                        raise JobCancelled(f"job {job_id} was taken over")
                    self._active[job_id] = (claim, p)

            result = self._analyse(video, opts, progress)
            if not repo.save_results(self.db, job_id, claim, result):
                raise JobCancelled(f"job {job_id} was taken over before its results were saved")
        except JobCancelled as exc:
            log.warning("%s", exc)
            _rmtree(evidence_dir)
        except CoachError as exc:  # bad input: retrying will not help
            repo.fail_job(self.db, job_id, claim, _public(str(exc), public), retry=False, reason=reason_of(exc))
            _rmtree(evidence_dir)
            # Finished for good: the media setting applies as after a success.
            self._tidy(job_id, session_id, None)
        except Exception as exc:
            log.exception("job %s failed", job_id)
            repo.fail_job(self.db, job_id, claim, _public(f"{type(exc).__name__}: {exc}", public), retry=True,
                          reason=reason_of(exc))
            _rmtree(evidence_dir)
            if not self._stop.is_set():
                with self._db_session() as s:
                    if repo.get_job(s, job_id).status == "queued":
                        self._pool.submit(self._run, job_id)
        else:
            self._tidy(job_id, session_id, evidence_dir)
        finally:
            with self._lock:
                self._active.pop(job_id, None)
                self._revoked.discard(job_id)

    def _tidy(self, job_id: int, session_id: int | None, evidence_dir: Path | None) -> None:
        """After a job has finished for good: the results are saved (or the failure is), so
        a problem here must not turn the job into a failure or delete what it saved."""
        if session_id is None:
            return
        try:
            self._drop_spent_files(session_id, evidence_dir)
        except Exception:
            log.exception("job %s: tidying its session's files failed", job_id)

    def _db_session(self) -> Any:
        return self.db.session()

    def _drop_spent_files(self, session_id: int, evidence_dir: Path | None) -> None:
        """Older attempts' evidence folders go, and the video too unless the privacy
        setting keeps media after analysis. (A run that found nothing never made its
        evidence folder: the video must go all the same.)"""
        if evidence_dir is not None and evidence_dir.parent.is_dir():
            for d in evidence_dir.parent.iterdir():
                if d.is_dir() and d != evidence_dir:
                    _rmtree(d)
        with self.db.session() as s:
            keep = repo.get_settings(s)["keep_media_after_analysis"]
            sess = repo.get_session(s, session_id)
            media = sess.media_path
            if not keep and media:
                sess.media_path = None
        if not keep and media:
            self.db.path(media).unlink(missing_ok=True)


def _replace(opts: AnalysisOptions, **kw: Any) -> AnalysisOptions:
    from dataclasses import replace

    return replace(opts, **kw)


def _rmtree(d: Path | None) -> None:
    import shutil

    if d is not None:
        shutil.rmtree(d, ignore_errors=True)


# -- batch: score many videos and write their reports ---------------------------------------


VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"})


def collect_videos(inputs: list[Path]) -> list[Path]:
    """Folders (recursively, video suffixes), ``.txt`` lists (one path a line, # comments), files."""
    out: list[Path] = []
    for item in inputs:
        if item.is_dir():
            out.extend(sorted(p for p in item.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES))
        elif item.suffix.lower() in (".txt", ".lst", ".list"):
            for line in item.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    p = Path(line).expanduser()
                    out.append(p if p.is_absolute() else (item.parent / p))
        else:
            out.append(item)
    return out


def _public(message: str, names: dict[str, str]) -> str:
    """``message`` with each server path replaced by the name the user knows it by."""
    for path, name in names.items():
        message = message.replace(path, name)
    return message


def report_names(videos: Sequence[Path]) -> list[str]:
    """The report name of each video of a batch: its file stem, made unique when two
    videos share it (``a/clip.mp4`` and ``b/clip.mp4``, ``clip.mp4`` and ``clip.mov``:
    ``clip``, ``clip-2``), so no report, evidence folder or summary entry overwrites
    another. Compared without case (case-insensitive file systems)."""
    taken: set[str] = set()
    names: list[str] = []
    for v in videos:
        stem = v.stem or "video"
        name, n = stem, 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name.casefold())
        names.append(name)
    return names


def score_one(video: Path, out_dir: Path, opts: AnalysisOptions,
              langs: tuple[str, ...] = ("zh", "en"), name: str | None = None) -> dict[str, Any]:
    """Score one video and write ``NAME.json`` and ``NAME.LANG.html`` (``name``: default
    the file stem; a batch gives :func:`report_names`); never raises."""
    from . import report as rep

    t0 = time.perf_counter()
    if opts.single_cpu:  # a worker process given one CPU (Ray): OpenCV must not fan out
        import cv2

        cv2.setNumThreads(1)
    name = name or video.stem
    item: dict[str, Any] = {"video": str(video), "name": name, "ok": False, "error": None}
    try:
        vopts = opts
        if opts.evidence_dir is not None:
            vopts = _replace(opts, evidence_dir=opts.evidence_dir / name)
        result = analyse_video(video, vopts)
        data = rep.report_from_result(result, source=str(video), stride=result.stride,
                                      role_play=opts.role_play)
        rep.write_json(data, out_dir / f"{name}.json")
        for lang in langs:
            rep.write_html(data, out_dir / f"{name}.{lang}.html", lang)  # type: ignore[arg-type]
        top = (result.summary or {}).get("top_reasons") or []
        item.update(ok=True, overall_score=data["overall_score"], unknown_share=data["unknown_share"],
                    not_assessable_reason=top[0]["reason"] if top and isinstance(top[0], dict) else None,
                    findings=len(data["findings"]), duration_s=result.duration_s, frames=result.frames,
                    role_play=opts.role_play, notices=data["notices"])
    except CoachError as exc:
        item["error"], item["reason"] = str(exc), reason_of(exc)
    except Exception as exc:  # one bad video must not stop a batch
        item["error"], item["reason"] = f"{type(exc).__name__}: {exc}", reason_of(exc)
    item["seconds"] = round(time.perf_counter() - t0, 3)
    return item


def run_batch(videos: list[Path], out_dir: Path, *, engine: str = "local", workers: int = 1,
              opts: AnalysisOptions = AnalysisOptions(), langs: tuple[str, ...] = ("zh", "en"),
              on_done: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Score every video; failures are listed with their reason. ``engine``: local | ray."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    items: list[dict[str, Any]] = []
    if engine == "local":
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="batch") as pool:
            futs = [pool.submit(score_one, v, out_dir, opts, langs, n)
                    for v, n in zip(videos, report_names(videos), strict=True)]
            for fut in futs:
                item = fut.result()
                items.append(item)
                if on_done is not None:
                    on_done(item)
    elif engine == "ray":
        items = _run_ray(videos, out_dir, workers, opts, langs, on_done)
    else:
        raise ValueError("engine must be 'local' or 'ray'")
    summary = {
        "engine": engine, "workers": workers, "videos": len(videos),
        "ok": sum(1 for i in items if i["ok"]), "failed": [i for i in items if not i["ok"]],
        "wall_s": round(time.perf_counter() - t0, 3), "items": items,
    }
    import json

    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "summary.csv").write_text(summary_csv(items), encoding="utf-8-sig")  # opens in Excel as UTF-8
    return summary


def reason_text_both(code: str) -> str:
    """A reason for time not assessable in both languages ("画面中没有检测到人 / no person in
    view"), its code where it has no text."""
    from .rules.base import reason_text

    zh, en = reason_text(code, "zh"), reason_text(code, "en")
    return f"{zh} / {en}" if zh and en and zh != code else code


def summary_csv(items: Sequence[Mapping[str, Any]]) -> str:
    """One line per video of a batch, for a spreadsheet: its report name, the score and the
    share of the time not assessable (both in percent) with its main reason, findings, the
    trainee side, what the analysis noticed (codes) and, for a video that failed, why."""
    import csv
    import io

    def pct(x: object) -> str:
        return "" if not isinstance(x, int | float) else f"{100.0 * x:.0f}"

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "video", "ok", "score_pct", "not_assessable_pct", "not_assessable_why", "findings",
                "duration_s", "role_play", "notices", "error_reason"])
    for i in items:
        notes = " ".join(str(n.get("code")) for n in i.get("notices") or () if isinstance(n, Mapping))
        why = i.get("not_assessable_reason")
        texts = reason_text_both(why) if why else ""
        w.writerow([repo.spreadsheet_safe(c) for c in (
            i.get("name"), i.get("video"), "yes" if i.get("ok") else "no", pct(i.get("overall_score")),
            pct(i.get("unknown_share")), texts, i.get("findings", ""),
            "" if i.get("duration_s") is None else f"{float(i['duration_s']):.1f}",
            i.get("role_play") or "", notes, "" if i.get("ok") else i.get("reason") or "")])
    return buf.getvalue()


def _run_ray(videos: list[Path], out_dir: Path, workers: int, opts: AnalysisOptions, langs: tuple[str, ...],
             on_done: Callable[[dict[str, Any]], None] | None) -> list[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise CoachError("the ray engine needs Ray: pip install 'posture-coach[ray]'") from None
    started = False
    if not ray.is_initialized():
        ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(score_one)
        # Each task holds one CPU, so each runs single-threaded (OpenCV too, see score_one).
        one_cpu = _replace(opts, single_cpu=True)
        refs = [remote.remote(v, out_dir, one_cpu, langs, n)
                for v, n in zip(videos, report_names(videos), strict=True)]
        by_ref = dict(zip(refs, range(len(refs)), strict=True))
        items: list[dict[str, Any] | None] = [None] * len(refs)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                i = by_ref[ref]
                try:
                    item: dict[str, Any] = ray.get(ref)
                except Exception as exc:  # the worker process died
                    item = {"video": str(videos[i]), "ok": False, "error": f"ray worker failed: {exc}",
                            "reason": "internal_error"}
                items[i] = item
                if on_done is not None:
                    on_done(item)
        return [i for i in items if i is not None]
    finally:
        if started:
            ray.shutdown()
