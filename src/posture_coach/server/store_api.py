"""REST for trainers and HR under ``/api/``: sign-in, uploads and jobs, sessions and
reports, trainer reviews and agreement, people, cohorts, privacy settings.

Mounted into :func:`posture_coach.server.create_app` with ``store_router()``; the router
brings its own lifespan (database, job runner), so the live coach is unaffected when the
database is unavailable: these routes then answer 503 with the reason.

No ``from __future__ import annotations`` here: FastAPI must see the dependency aliases
defined inside :func:`store_router` as real objects.
"""


import functools
import logging
import os
import shutil
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field, ValidationError, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from ..errors import ConfigError, notices_with_texts, reason_texts
from ..jobs import AnalysisOptions, JobRunner
from ..store import repo
from ..store.db import Database
from ..store.models import User
from . import auth
from .refusals import Refused, install_refusal_handler
from .throttle import LoginThrottle
from .uploads import UploadRejected, capped_receive, check_video, save_limited, too_large

__all__ = ["Refused", "StoreConfig", "install_refusal_handler", "store_router"]


log = logging.getLogger(__name__)


@dataclass
class StoreConfig:
    """Where the store lives and how many analyses run at once (env defaults)."""

    db_url: str | None = None
    data_dir: Path | None = None
    workers: int = field(default_factory=lambda: int(os.environ.get("POSTURE_COACH_JOB_WORKERS", "1")))
    max_upload_bytes: int = field(
        default_factory=lambda: int(os.environ.get("POSTURE_COACH_MAX_UPLOAD_MB", "500")) * 1_000_000)
    model_dir: Path | None = field(
        default_factory=lambda: Path(p) if (p := os.environ.get("POSTURE_COACH_MODEL_DIR")) else None)
    run_jobs: bool = True
    migrate: bool = True
    stale_after_s: float = 120.0
    heartbeat_s: float = 5.0


class StoreState:
    def __init__(self, cfg: StoreConfig) -> None:
        self.cfg = cfg
        self.db: Database | None = None
        self.runner: JobRunner | None = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self.throttle = LoginThrottle()

    def exists(self) -> bool:
        """Is there a store to open at start-up (so interrupted jobs resume)? A fresh
        install creates its SQLite file on the first store request instead."""
        if self.cfg.db_url or os.environ.get("POSTURE_COACH_DB_URL"):
            return True
        from ..store.db import default_data_dir

        return ((self.cfg.data_dir or default_data_dir()) / "posture-coach.db").is_file()

    def ensure_open(self) -> None:
        with self._lock:
            if self.db is None and self.error is None:
                self.open()

    def open(self) -> None:
        try:
            self.db = Database(self.cfg.db_url, self.cfg.data_dir)
            if self.cfg.migrate:
                self.db.upgrade()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("store unavailable: %s", self.error)
            return
        if self.cfg.run_jobs:
            self.runner = JobRunner(self.db, workers=self.cfg.workers, heartbeat_s=self.cfg.heartbeat_s,
                                    stale_after_s=self.cfg.stale_after_s,
                                    options=AnalysisOptions(model_dir=self.cfg.model_dir))
            self.runner.start()

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close(wait=True)
        if self.db is not None:
            self.db.dispose()


# -- request bodies ----------------------------------------------------------------------------


FORM_OVERHEAD = 64_000  # multipart boundaries and the small fields
UPLOAD_OPENAPI: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "person_id", "consent"],
    "properties": {"file": {"type": "string", "format": "binary"}, "person_id": {"type": "integer"},
                   "consent": {"type": "boolean"}, "scenario": {"type": "string"},
                   "keep_evidence": {"type": "boolean"}, "posture": {"enum": ["auto", "standing", "sitting"]},
                   "stride": {"type": "integer", "minimum": 0, "maximum": 10},
                   "role_play": {"enum": ["", "none", "left", "right"]}, "csrf_token": {"type": "string"}},
}}}}}


class UploadForm(BaseModel):
    person_id: int
    consent: bool = False
    scenario: str | None = Field(None, max_length=64)
    keep_evidence: bool = False
    posture: Literal["auto", "standing", "sitting"] = "auto"
    stride: int = Field(1, ge=0, le=10)  # 0 = auto (about 15 analysed frames a second)
    # A two-person role-play: the trainee is on this side of the image ("" or "none": one person).
    role_play: Literal["", "none", "left", "right"] = ""
    csrf_token: str | None = None


class LoginBody(BaseModel):
    username: str
    password: str


class ReviewBody(BaseModel):
    decision: Literal["agree", "disagree"]
    comment: str = Field("", max_length=4000)


class ReanalyseBody(BaseModel):
    # Who is the trainee in view: left/right of a two-person role-play, or "none" (one person).
    role_play: Literal["left", "right", "none"]


class MissedBody(BaseModel):
    rule_id: str = Field(max_length=64)
    # When it happened, in ms from the start: 0 to the analysed recording's length (checked
    # against the session, refused with ``missed_time_out_of_range``); null (no time) for a
    # violation that is not at one moment ("never smiled"), read as the whole recording.
    at_ms: int | None = Field(None, description="ms from the start, 0 to the recording's length; "
                                                "null: the whole recording")
    comment: str = Field("", max_length=4000)

    @field_validator("rule_id")
    @classmethod
    def _known_rule(cls, v: str) -> str:
        from ..rules import RULES_BY_ID

        if v not in RULES_BY_ID:
            raise ValueError(f"unknown rule id {v!r} (see `posture-coach rules`)")
        return v


class LiveSaveBody(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class PersonBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    consent_media: bool = False


class ConsentBody(BaseModel):
    consent_media: bool


class CohortBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    trainer_id: int | None = None
    pass_score: float = Field(0.8, ge=0.0, le=1.0, allow_inf_nan=False)


class CohortRenameBody(BaseModel):
    # Checked by the store, so an empty, blank or over-long name is refused with its own
    # reason (cohort_name_empty, cohort_name_too_long), as a name already taken is.
    name: str = Field(description="the new name: 1 to 200 characters, spaces around it dropped; "
                                  "unique among the cohorts")


class MemberBody(BaseModel):
    person_id: int


#: The reader's IANA time zone (``Asia/Shanghai``; the pages send the browser's) for the times
#: and days a report or the cohort table shows; unknown names fall back to the server's zone.
ReaderTz = Annotated[str | None, Query(max_length=64)]


class PrivacyBody(BaseModel):
    """The privacy settings to change; those left out stay as they are. ``retention_days``:
    null keeps media until deleted."""

    retention_days: int | None = Field(None, ge=0)
    keep_media_after_analysis: bool | None = None


def store_router(cfg: StoreConfig | None = None) -> APIRouter:
    """The trainer/HR API as a router with its own lifespan."""
    state = StoreState(cfg or StoreConfig())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        if state.exists():
            await asyncio.to_thread(state.ensure_open)
        try:
            yield
        finally:
            await asyncio.to_thread(state.close)

    router = APIRouter(prefix="/api", lifespan=lifespan)
    router.state = state  # type: ignore[attr-defined]  # tests reach the runner through this

    def signed_in(user: User) -> dict[str, Any]:
        """The signed-in user with their person's name (``user`` is detached: looked up)."""
        name = None
        if user.person_id is not None:
            with get_db().session() as s:
                try:
                    name = repo.get_person(s, user.person_id).name
                except repo.NotFound:
                    name = None
        return _user(user, name)

    def get_db() -> Database:
        if state.db is None:
            state.ensure_open()
        if state.db is None:
            raise HTTPException(503, f"the session store is unavailable: {state.error or 'not started'}")
        return state.db

    check_user = auth.current_user_dependency(get_db)
    current_user = check_user
    UserDep = Annotated[User, Depends(current_user)]

    def guard(fn: Any, *a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except repo.NotFound as exc:
            raise Refused(404, "not_found", str(exc)) from None
        except repo.Forbidden as exc:
            raise Refused(403, exc.reason, str(exc)) from None
        except repo.Conflict as exc:  # taken by another row (a cohort's name): why, in zh/en
            raise Refused(409, exc.reason, str(exc)) from None
        except repo.Invalid as exc:  # a value that does not fit the data: why, in zh/en
            raise Refused(400, exc.reason, str(exc)) from None
        except ValueError as exc:
            raise Refused(400, "bad_request", str(exc)) from None

    # -- auth ------------------------------------------------------------------------------

    @router.post("/auth/login")
    async def login(request: Request, response: Response) -> dict[str, Any]:
        """Sign in with JSON ``{username, password}`` or a form post; sets the session cookie."""
        if not auth.same_origin(request):
            raise Refused(403, "cross_site_login", "cross-site login refused")
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            try:
                body = LoginBody.model_validate(await request.json())
            except ValidationError as exc:  # a 422 with a reason, as every other body
                raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
            except ValueError:  # not JSON at all
                raise RequestValidationError([{"type": "json_invalid", "loc": ["body"],
                                               "msg": "the body is not valid JSON"}]) from None
        else:
            form = await request.form()
            body = LoginBody(username=str(form.get("username", "")), password=str(form.get("password", "")))
        wait = state.throttle.retry_after_s(body.username)
        if wait > 0:
            refusal = Refused(429, "too_many_logins", f"too many wrong sign-ins: try again in {wait} s")
            refusal.headers = {"Retry-After": str(wait)}
            raise refusal
        db = get_db()
        try:
            with db.session() as s:
                user = repo.authenticate(s, body.username, body.password)
                if user is not None:
                    s.expunge(user)
        except repo.LoginDisabled:
            # Said only after the right password: a wrong one is refused as any other below.
            raise Refused(403, "login_disabled", "this login is disabled: ask HR") from None
        if user is None:
            state.throttle.failed(body.username)
            raise Refused(401, "wrong_login", "wrong user name or password")
        state.throttle.succeeded(body.username)
        csrf = auth.login(db, response, request, user)
        return {"user": signed_in(user), "csrf_token": csrf}

    @router.post("/auth/logout")
    def logout(request: Request, response: Response, user: UserDep) -> dict[str, str]:
        auth.logout(get_db(), request, response)
        return {"status": "signed out"}

    @router.get("/auth/me")
    def me(request: Request, user: UserDep) -> dict[str, Any]:
        return {"user": signed_in(user), "csrf_token": request.state.csrf_token}

    @router.get("/auth/status")
    def auth_status(request: Request) -> dict[str, Any]:
        """Who is signed in, answered 200 either way: ``{"user": null}`` for nobody. For
        pages that only show it (the live page); ``/auth/me`` answers 401 to nobody, which
        a browser logs as an error on every load."""
        found = auth.session_of(get_db(), request)
        if found is None:
            return {"user": None}
        user, csrf = found
        return {"user": signed_in(user), "csrf_token": csrf}

    # -- uploads and jobs -------------------------------------------------------------------

    @router.post("/uploads", status_code=202, openapi_extra=UPLOAD_OPENAPI)
    async def upload(request: Request) -> dict[str, Any]:
        """Store a video and queue its analysis (multipart: file, person_id, consent, scenario,
        keep_evidence, posture, stride, role_play: left/right for a two-person role-play).
        Checked by content; a rejected file leaves nothing behind. No more than the limit and
        the form's overhead is read, whether the body declares its length or comes chunked."""
        import asyncio

        limit = state.cfg.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
            big = too_large(limit)
            raise Refused(big.status, big.code, big.message, big.texts)
        # All that reads the body reads it through this channel (the CSRF check too, when the
        # token comes as a form field): past the limit it refuses, so the form parser stops
        # spooling there (and closes its spool) however the body is sent.
        capped = Request(request.scope, capped_receive(request.receive, limit + FORM_OVERHEAD, limit))
        try:
            user = await check_user(capped)  # cookie + CSRF (header, or the form field)
            form = await capped.form(max_files=1, max_fields=20)
        except (MultiPartException, StarletteHTTPException) as exc:
            # The form parser's own refusals (two files in one upload, too many fields) come
            # as a bare 400: said with a reason, as every refusal. Sign-in refusals pass on.
            if isinstance(exc, Refused) or (isinstance(exc, StarletteHTTPException) and exc.status_code != 400):
                raise
            said = str(exc.detail if isinstance(exc, StarletteHTTPException) else exc)
            raise Refused(400, "one_file_per_upload" if "files" in said.lower() else "bad_request", said) from None
        except UploadRejected as exc:  # refused part-way through the body
            refusal = Refused(exc.status, exc.code, exc.message, exc.texts)
            # Hang up after the answer: else the server would go on reading the rest of the
            # body (to throw it away) for as long as the client sends it.
            refusal.headers = {"Connection": "close"}
            raise refusal from None
        try:
            file = form.get("file")
            if file is None or isinstance(file, str):
                raise Refused(400, "no_file", "no file: send the video as the multipart field 'file'")
            try:
                fields = UploadForm.model_validate({k: v for k, v in form.items() if isinstance(v, str)})
            except ValidationError as exc:
                raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
            return await asyncio.to_thread(_store_upload, user, file, fields)
        finally:
            await form.close()  # the spooled upload (copied by then, or refused)

    def _store_upload(user: User, file: Any, fields: UploadForm) -> dict[str, Any]:
        db = get_db()
        if not fields.consent:
            raise Refused(400, "consent_required",
                          "consent is required: the person filmed must agree to the video being stored")
        with db.session() as s:
            person = guard(repo.get_person, s, fields.person_id)
            if not person.consent_media:
                # The person's own record decides; the box confirms it for this video.
                raise Refused(403, "consent_not_recorded",
                              "this person's record says no consent to videos being stored: "
                              "the person or HR must record their consent first")
            if user.role == "trainee" and user.person_id != person.id:
                raise Refused(403, "not_own_recording", "trainees upload their own recordings only")
            if fields.scenario and fields.scenario not in _scenario_ids():
                raise Refused(400, "unknown_scenario", f"no scenario {fields.scenario!r}")
            if user.role == "trainee" and fields.scenario == "onboarding":
                # The self-check counts in the cohort only as the live scenario run by the
                # trainee (or a recording a trainer or HR uploads for them).
                raise Refused(403, "onboarding_live_only",
                              "trainees do the onboarding self-check on the live page; it cannot be uploaded")
            if user.role == "trainer" and person.id not in set(s.scalars(repo.trainer_person_ids(user))):
                raise Refused(403, "not_in_cohort", "this person is not in one of your cohorts")
        tmp_dir = db.data_dir / "uploads" / "tmp"
        try:
            tmp, size = save_limited(file.file, tmp_dir, state.cfg.max_upload_bytes)
        except UploadRejected as exc:
            raise Refused(exc.status, exc.code, exc.message, exc.texts) from None
        try:
            checked = check_video(tmp, size)
        except UploadRejected as exc:
            tmp.unlink(missing_ok=True)
            raise Refused(exc.status, exc.code, exc.message, exc.texts) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        final: Path | None = None
        try:
            with db.session() as s:
                sess = repo.create_session(s, source=Path(file.filename or "upload").name[:200],
                                           person_id=fields.person_id, scenario=fields.scenario or None,
                                           keep_evidence=fields.keep_evidence, posture=fields.posture,
                                           stride=fields.stride,
                                           role_play=fields.role_play if fields.role_play in ("left", "right")
                                           else None)
                final = repo.session_video_path(db, sess.id, checked.suffix)
                final.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(tmp), final)
                sess.media_path = db.rel(final)
                job = repo.create_job(s, sess.id)
                sid, jid = sess.id, job.id
        except BaseException:
            tmp.unlink(missing_ok=True)
            if final is not None:
                shutil.rmtree(final.parent, ignore_errors=True)
            raise
        if state.runner is not None:
            state.runner.submit(jid)
        return {"session_id": sid, "job_id": jid, "container": checked.container, "bytes": checked.size}

    @router.get("/jobs/{job_id}")
    def job(job_id: int, user: UserDep) -> dict[str, Any]:
        with get_db().session() as s:
            j = guard(repo.get_job, s, job_id)
            guard(repo.session_for, s, user, j.session_id)
            return {"id": j.id, "session_id": j.session_id, "status": j.status, "progress": round(j.progress, 3),
                    "attempts": j.attempts, "error": j.error, "error_reason": j.error_reason,
                    "error_text": reason_texts(j.error_reason)}

    # -- sessions and reports ---------------------------------------------------------------

    save_lock = threading.Lock()

    @router.post("/live/{live_id}/save", status_code=201)
    def save_live(live_id: int, body: LiveSaveBody, request: Request, user: UserDep) -> dict[str, Any]:
        """Save the last finished run of live practice ``live_id`` to the signed-in trainee's
        own record: scores, findings and events, never frames. ``token`` is the save token
        the live connection's ``hello`` gave that page. Saving again returns the same session."""
        live = getattr(request.app.state, "live", None)
        # The connection, or (dropped or closed) its finished run, kept for a while.
        session = None if live is None else live.savable(live_id)
        if session is None:
            raise Refused(404, "live_session_gone", f"no live session {live_id}: it has ended")
        try:
            run = session.finished_run(body.token)
        except PermissionError:
            raise Refused(403, "wrong_save_token", "wrong save token for this live session") from None
        if user.role != "trainee" or user.person_id is None:
            raise Refused(403, "not_a_trainee", "only a trainee saves a live practice, to their own record")
        if run is None:
            raise Refused(409, "nothing_to_save", "no finished run to save: stop the practice first")
        with save_lock:
            if run.saved_as is None:
                run.saved_as = guard(repo.save_live_session, get_db(), user, run.result,
                                     scenario=run.scenario, posture=run.posture)
                run.saved_by = user.id
            elif run.saved_by != user.id:
                raise Refused(409, "saved_by_other", "another trainee has saved this practice")
        # The onboarding self-check: what it means in the trainee's cohorts (the result HR sees).
        self_check: list[dict[str, Any]] = []
        if run.scenario is not None:
            with get_db().session() as s:
                self_check = repo.self_check_for_trainee(s, run.saved_as)
        return {"session_id": run.saved_as, "scenario": run.scenario, "self_check": self_check}

    @router.get("/sessions")
    def sessions(user: UserDep) -> dict[str, Any]:
        """The sessions this user may see, newest first: the score as analysed and after the
        trainers' review, the share of the time not assessable (``unassessable_high`` from
        50 %), and which session scores it again (``superseded_by``) or which it scores again
        (``rescored_from``)."""
        with get_db().session() as s:
            rows = repo.visible_sessions(s, user)
            links = repo.reanalyse_links(s, rows)
            out = []
            for r in rows:
                reviewed = repo.reviewed_scores(r).overall if r.status == "done" else None
                gap = repo.unassessable(r, top_n=0)
                out.append({"id": r.id, "person_id": r.person_id,
                            "person_name": None if r.person is None else r.person.name,
                            "source": r.source, "kind": r.kind, "role_play": r.role_play,
                            "scenario": r.scenario, "status": r.status, "duration_s": r.duration_s,
                            "overall_score": r.overall_score,
                            "overall_score_reviewed": None if reviewed is None else round(reviewed, 4),
                            "unknown_share": gap["share"], "unassessable_high": gap["high"],
                            **links[r.id],
                            "created_at": r.created_at.isoformat(timespec="seconds"),
                            # What the analysis noticed about the video (turned sideways, cut
                            # off, a role-play alone), with its texts: the list marks the score.
                            "notices": notices_with_texts((r.summary or {}).get("notices")),
                            # Why its analysis failed, in both languages (None otherwise).
                            "failure_text": reason_texts(r.failure_reason)})
            return {"sessions": out}

    @router.get("/sessions/{session_id}")
    def session(session_id: int, user: UserDep) -> dict[str, Any]:
        """The session's report (as ``report?format=json``) with what the review page shows
        beside it: each rule's reason in both languages and whether it applied at all, the
        share not assessable with its main reasons, the trainers' added violations with
        their ids (``can_delete`` for the one who added each), and the sessions it is linked
        to by scoring its video again."""
        data = _with_evidence_urls(_report(session_id, user))
        with get_db().session() as s:
            row = guard(repo.session_for, s, user, session_id)
            gap = repo.unassessable(row)
            links = repo.reanalyse_links(s, [row])[row.id]
            missed = repo.missed_entries(s, user, session_id)
        return {**data, **_review_extras(data, gap), **links, "missed": missed}

    @router.get("/sessions/{session_id}/report", response_model=None)
    def session_report(session_id: int, user: UserDep, lang: Literal["zh", "en"] = "zh",
                       format: Literal["html", "json", "pdf"] = "html",
                       tz: ReaderTz = None) -> Response:
        """The report; ``tz``: the reader's IANA time zone (the page sends the browser's),
        for the analysis time; unknown zones fall back to the server's local time."""
        from ..report import reader_time_zone, render_html

        if format == "pdf":
            return _pdf_report(session_id, user, lang, tz)
        data = _report(session_id, user)
        if format == "json":
            return JSONResponse(_with_evidence_urls(data))
        return HTMLResponse(render_html(data, lang, tz=reader_time_zone(tz)))

    @router.get("/sessions/{session_id}/report.pdf", response_class=Response,
                responses={200: {"content": {"application/pdf": {}}, "description": "The report, A4 PDF."},
                           503: {"description": "No Chromium on the server to print the PDF with."}})
    def session_report_pdf(session_id: int, user: UserDep, lang: Literal["zh", "en"] = "zh",
                           tz: ReaderTz = None) -> Response:
        """The report printed to PDF by headless Chromium (same access rules as the HTML report)."""
        return _pdf_report(session_id, user, lang, tz)

    def _pdf_report(session_id: int, user: User, lang: Literal["zh", "en"], tz: str | None = None) -> Response:
        from ..pdf import ChromiumNotFound, PdfError, render_pdf
        from ..report import reader_time_zone

        data = _report(session_id, user)  # the access checks first: no hint about the server to outsiders
        try:
            pdf = render_pdf(data, lang, tz=reader_time_zone(tz))
        except ChromiumNotFound as exc:  # with a reason and its texts, as every refusal
            return JSONResponse({"detail": str(exc), "error": "chromium_missing", "reason": "chromium_missing",
                                 "reason_text": reason_texts("chromium_missing")}, status_code=503)
        except PdfError as exc:
            log.warning("PDF of session %s failed: %s", session_id, exc)
            return JSONResponse({"detail": str(exc), "error": "pdf_failed", "reason": "pdf_failed",
                                 "reason_text": reason_texts("pdf_failed")}, status_code=500)
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": _pdf_disposition(data, session_id, lang)})

    @router.get("/sessions/{session_id}/timeline", response_class=HTMLResponse)
    def session_timeline(session_id: int, user: UserDep, lang: Literal["zh", "en"] = "zh") -> HTMLResponse:
        """The report's timeline (findings, trainer-added moments, events such as a
        handshake with its lean and hold) and its table of actions, as an HTML fragment in
        ``lang`` for the review page to show beside the findings."""
        from ..report import events_table, timeline_svg

        data = _report(session_id, user)
        return HTMLResponse(timeline_svg(data, lang) + events_table(data.get("events", []), lang))

    def _report(session_id: int, user: User) -> dict[str, Any]:
        from ..report import report_from_session

        db = get_db()
        with db.session() as s:
            guard(repo.session_for, s, user, session_id)
        data: dict[str, Any] = guard(report_from_session, db, session_id)
        return data

    @router.get("/findings/{finding_id}/evidence/{kind}", response_class=Response,
                responses={200: {"content": {"image/jpeg": {}}}})
    def evidence(finding_id: int, kind: Literal["snapshot", "teeth"], user: UserDep) -> Response:
        """A kept evidence frame of a finding (JPEG), for whoever may see its session."""
        db = get_db()
        with db.session() as s:
            rel: str = guard(repo.evidence_for, s, user, finding_id, kind)
        try:
            path = db.path(rel)
        except ConfigError:
            raise HTTPException(404, f"finding {finding_id}: evidence not found") from None
        if not path.is_file():
            raise HTTPException(404, f"finding {finding_id}: the evidence file is gone (media retention)")
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=600"})

    @router.delete("/sessions/{session_id}")
    def delete_session(session_id: int, user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "hr_admin")
        return {"files_removed": guard(repo.delete_session, get_db(), session_id)}

    rescore_lock = threading.Lock()  # two clicks at once make one new session, not two

    @router.post("/sessions/{session_id}/reanalyse", status_code=202)
    def reanalyse(session_id: int, body: ReanalyseBody, user: UserDep) -> dict[str, Any]:
        """Score a stored video again as a new session, e.g. as the role-play the first
        analysis took for practice alone (its "two people in view" notice). The first session,
        its findings and their reviews stay as they are, marked as scored again (the list's
        ``superseded_by``); the video is shared (a hard link). Asked again the same way while
        an earlier new session has not failed, it answers that session (``reused``) instead
        of making another copy."""
        # A trainer's or HR's call: the new session supersedes one a trainer may have reviewed.
        auth.require_role(user, "trainer", "hr_admin")
        db = get_db()
        with rescore_lock, db.session() as s:
            old = guard(repo.session_for, s, user, session_id)
            role_play = None if body.role_play == "none" else body.role_play
            same = repo.pending_rescore(s, old, role_play)
            if same is not None:
                jobs = sorted(same.jobs, key=lambda j: j.id)
                if jobs:
                    return {"session_id": same.id, "job_id": jobs[-1].id, "from_session": session_id,
                            "role_play": role_play, "reused": True}
            src = db.path(old.media_path) if old.media_path else None
            if old.kind != "recorded" or src is None or not src.is_file():
                raise Refused(409, "video_gone", f"session {session_id} keeps no video to analyse again")
            new = repo.create_session(s, source=old.source, person_id=old.person_id, scenario=old.scenario,
                                      keep_evidence=old.keep_evidence, posture=old.posture, stride=old.stride,
                                      role_play=role_play)
            dst = repo.session_video_path(db, new.id, src.suffix)
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)  # no second copy of a large video
            except OSError:
                shutil.copy2(src, dst)
            new.media_path = db.rel(dst)
            repo.link_rescored(s, old, new)
            job = repo.create_job(s, new.id)
            sid, jid = new.id, job.id
        if state.runner is not None:
            state.runner.submit(jid)
        return {"session_id": sid, "job_id": jid, "from_session": session_id, "role_play": role_play,
                "reused": False}

    # -- reviews and agreement ---------------------------------------------------------------

    @router.post("/findings/{finding_id}/review")
    def review(finding_id: int, body: ReviewBody, user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "trainer", "hr_admin")
        with get_db().session() as s:
            rv = guard(repo.add_review, s, user, decision=body.decision, episode_id=finding_id, comment=body.comment)
            sid = rv.session_id
            out = {"review_id": rv.id, "decision": rv.decision}
        with get_db().session() as s:
            rs = repo.reviewed_scores(repo.get_session(s, sid))
        return {**out, "session_id": sid, "overall_score_reviewed": rs.overall}

    @router.post("/sessions/{session_id}/missed")
    def missed(session_id: int, body: MissedBody, user: UserDep) -> dict[str, Any]:
        """Add a violation the coach did not flag, to an analysed session: a known rule id,
        ``at_ms`` within the recording (0 to its length; refused with
        ``missed_time_out_of_range`` outside it) or null for the whole recording."""
        auth.require_role(user, "trainer", "hr_admin")
        with get_db().session() as s:
            rv = guard(repo.add_review, s, user, decision="missed", session_id=session_id, rule_id=body.rule_id,
                       at_ms=body.at_ms, comment=body.comment)
            return {"review_id": rv.id}

    @router.delete("/sessions/{session_id}/missed/{review_id}")
    def delete_missed(session_id: int, review_id: int, user: UserDep) -> dict[str, Any]:
        """Delete a violation added to the session: only by the trainer who added it
        (``not_your_entry`` for anyone else), as long as they may see the session."""
        auth.require_role(user, "trainer", "hr_admin")
        with get_db().session() as s:
            guard(repo.delete_missed, s, user, session_id, review_id)
        return {"deleted": review_id, "session_id": session_id}

    @router.get("/agreement", response_model=None)
    def agreement(user: UserDep, format: Literal["json", "csv"] = "json",
                  trainer_id: int | None = None,
                  lang: Literal["zh", "en"] | None = None) -> dict[str, Any] | PlainTextResponse:
        """Trainer–coach agreement per rule. CSV without ``lang``: ids and codes, for
        programs; with ``lang``: for a spreadsheet (rule titles and column names in that
        language, a byte-order mark so that Excel and WPS read the Chinese)."""
        auth.require_role(user, "trainer", "hr_admin")
        if user.role == "trainer":
            trainer_id = user.id
        with get_db().session() as s:
            rows = [a.to_dict() for a in repo.agreement(s, trainer_id=trainer_id)]
        if format == "csv":
            if lang is None:
                return _csv(repo.to_csv(rows, AGREEMENT_COLUMNS), "agreement.csv")
            return _csv("\ufeff" + agreement_csv_for_people(rows, lang), "agreement.csv",
                        AGREEMENT_FILE_NAMES[lang])
        return {"rules": rows}

    # -- people, cohorts, HR ----------------------------------------------------------------

    @router.get("/people")
    def people(user: UserDep) -> dict[str, Any]:
        """The people this user may upload recordings for (HR: all; trainer: their cohorts'
        members; trainee: themself), with their media consent."""
        with get_db().session() as s:
            rows = guard(repo.visible_people, s, user)
            return {"people": [{"id": p.id, "name": p.name, "consent_media": p.consent_media} for p in rows]}

    @router.post("/people", status_code=201)
    def create_person(body: PersonBody, user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "hr_admin")
        with get_db().session() as s:
            p = guard(repo.create_person, s, body.name, email=body.email, consent_media=body.consent_media)
            return {"id": p.id, "name": p.name}

    @router.post("/people/{person_id}/consent")
    def consent(person_id: int, body: ConsentBody, user: UserDep) -> dict[str, Any]:
        if not (user.role == "hr_admin" or (user.role == "trainee" and user.person_id == person_id)):
            raise Refused(403, "consent_not_yours", "only the person or HR can change consent")
        p, removed = guard(repo.set_consent, get_db(), person_id, body.consent_media)
        return {"id": p.id, "consent_media": p.consent_media, "files_removed": removed}

    @router.delete("/people/{person_id}")
    def delete_person(person_id: int, user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "hr_admin")
        return {"files_removed": guard(repo.delete_person, get_db(), person_id)}

    @router.get("/cohorts")
    def cohorts(user: UserDep) -> dict[str, Any]:
        with get_db().session() as s:
            rows = guard(repo.list_cohorts, s, user)
            return {"cohorts": [{"id": c.id, "name": c.name, "trainer_id": c.trainer_id,
                                 "pass_score": c.pass_score, "members": len(c.members)} for c in rows]}

    @router.post("/cohorts", status_code=201)
    def create_cohort(body: CohortBody, user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "hr_admin")
        with get_db().session() as s:
            c = guard(repo.create_cohort, s, body.name, trainer_id=body.trainer_id, pass_score=body.pass_score)
            return {"id": c.id, "name": c.name}

    @router.patch("/cohorts/{cohort_id}")
    def rename_cohort(cohort_id: int, body: CohortRenameBody, user: UserDep) -> dict[str, Any]:
        """Rename a cohort (HR): a typo, a new intake name. Refused when the name is empty,
        longer than 200 characters or another cohort's (``cohort_name_taken``, 409). Tables,
        CSV exports and reports made afterwards say the new name."""
        auth.require_role(user, "hr_admin")
        with get_db().session() as s:
            c = guard(repo.rename_cohort, s, cohort_id, body.name)
            return {"id": c.id, "name": c.name, "trainer_id": c.trainer_id, "pass_score": c.pass_score,
                    "members": len(c.members)}

    @router.post("/cohorts/{cohort_id}/members")
    def add_member(cohort_id: int, body: MemberBody, user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "hr_admin")
        with get_db().session() as s:
            guard(repo.add_member, s, cohort_id, body.person_id)
        return {"cohort_id": cohort_id, "person_id": body.person_id}

    @router.get("/cohorts/{cohort_id}/table", response_model=None)
    def cohort_table(cohort_id: int, user: UserDep, format: Literal["json", "csv"] = "json",
                     scenario: str = "onboarding",
                     lang: Literal["zh", "en"] | None = None,
                     tz: ReaderTz = None) -> dict[str, Any] | PlainTextResponse:
        """Each member's latest self-check. ``format=csv``: without ``lang`` rule ids and codes
        (for programs); with ``lang`` titles, words and percentages in that language, with a
        byte-order mark so that spreadsheet programs read the UTF-8 (for people). ``tz``: the
        reader's IANA zone, for the day each self-check was done (default: the server's)."""
        from ..report import reader_time_zone

        with get_db().session() as s:
            table: dict[str, Any] = guard(repo.cohort_table, s, user, cohort_id, scenario, reader_time_zone(tz))
        if format == "csv":
            text = repo.cohort_csv(table, lang)
            return _csv("\ufeff" + text if lang else text, f"cohort_{cohort_id}.csv",
                        display_name=f"{table['cohort']['name']}.csv")
        from ..rules import RULES_BY_ID

        ids = {rid for p in table["people"] for rid in p["rules"]} | set(table["rules"])
        # "recommended": missed, it only warns (listed after the required rules on the page).
        table["rule_titles"] = {rid: {"zh": cls.title_zh, "en": cls.title_en, "recommended": cls.recommended}
                                for rid in sorted(ids) if (cls := RULES_BY_ID.get(rid)) is not None}
        return table

    # -- logins (HR): who may sign in -----------------------------------------------------------

    @router.get("/users")
    def users(user: UserDep) -> dict[str, Any]:
        """Every login with its role and whether it is disabled (HR only)."""
        auth.require_role(user, "hr_admin")
        with get_db().session() as s:
            return {"users": [_login(u) for u in repo.list_users(s)]}

    @router.post("/users/{username}/disable")
    def disable_user(username: str, user: UserDep) -> dict[str, Any]:
        """Stop a login (someone who left): it is signed out everywhere and its sign-in is
        refused (``login_disabled``); the person, their sessions and reviews stay. HR only,
        and not their own login (``own_login``)."""
        auth.require_role(user, "hr_admin")
        with get_db().session() as s:
            return {"user": _login(guard(repo.set_disabled, s, username, True, by=user))}

    @router.post("/users/{username}/enable")
    def enable_user(username: str, user: UserDep) -> dict[str, Any]:
        """Let a disabled login sign in again (HR only)."""
        auth.require_role(user, "hr_admin")
        with get_db().session() as s:
            return {"user": _login(guard(repo.set_disabled, s, username, False, by=user))}

    @router.get("/settings/privacy")
    def privacy(user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "hr_admin")
        with get_db().session() as s:
            return repo.get_settings(s)

    @router.put("/settings/privacy")
    def set_privacy(body: PrivacyBody, user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "hr_admin")
        # Only what the request names changes: leaving a setting out keeps it as it is
        # (a request about one must not reset the other to its default).
        changes = body.model_dump(exclude_unset=True)
        if changes.get("keep_media_after_analysis", True) is None:
            raise Refused(400, "bad_request", "keep_media_after_analysis must be true or false")
        with get_db().session() as s:
            out: dict[str, Any] = guard(repo.set_settings, s, **changes)
            return out

    @router.post("/admin/purge-media")
    def purge(user: UserDep) -> dict[str, Any]:
        auth.require_role(user, "hr_admin")
        return {"files_removed": repo.purge_media(get_db())}

    return router


AGREEMENT_COLUMNS = ("rule_id", "findings_reviewed", "agreed", "agree_pct", "missed", "units", "both_yes",
                     "coach_only", "trainer_only", "both_no", "kappa")
#: The agreement CSV's columns for people (``lang``), in the rules' catalogue order.
AGREEMENT_HEADERS: dict[str, dict[str, str]] = {
    "zh": {"rule_id": "规则", "findings_reviewed": "复核条数", "agreed": "同意条数", "agree_pct": "同意率（%）",
           "missed": "培训师补充条数", "units": "判定单位数", "both_yes": "双方都判有问题",
           "coach_only": "仅系统判有问题", "trainer_only": "仅培训师判有问题", "both_no": "双方都判没问题",
           "coach_could_not_judge": "系统无法评估、培训师补充", "kappa": "一致性系数（Kappa）"},
    "en": {"rule_id": "rule", "findings_reviewed": "findings reviewed", "agreed": "agreed", "agree_pct": "agreed (%)",
           "missed": "added by trainers", "units": "units judged", "both_yes": "both flagged",
           "coach_only": "coach only", "trainer_only": "trainer only", "both_no": "neither flagged",
           "coach_could_not_judge": "coach could not judge, trainer added", "kappa": "agreement (Cohen's kappa)"},
}
AGREEMENT_FILE_NAMES = {"zh": "培训师与系统判定一致性.csv", "en": "trainer_coach_agreement.csv"}


def agreement_csv_for_people(rows: list[dict[str, Any]], lang: Literal["zh", "en"]) -> str:
    """The agreement rows as a spreadsheet reads them: each rule by its title, columns named
    in ``lang``, rules in the catalogue's order (standing first)."""
    from ..rules import RULES_BY_ID, catalogue_order

    heads = AGREEMENT_HEADERS[lang]
    out = []
    for r in sorted(rows, key=lambda r: catalogue_order(str(r["rule_id"]))):
        cls = RULES_BY_ID.get(str(r["rule_id"]))
        title = (cls.title_zh if lang == "zh" else cls.title_en) if cls is not None else str(r["rule_id"])
        out.append({heads[k]: (title if k == "rule_id" else r.get(k)) for k in heads})
    return repo.to_csv(out, list(heads.values()))


def _review_extras(report: dict[str, Any], gap: dict[str, Any]) -> dict[str, Any]:
    """What the review page shows beside a report: each rule's ``top_reason_text`` ({zh,
    en}) and ``not_applied`` (never judged because it did not apply: a sitting rule while
    standing, a handshake rule with no handshake), and ``unassessable`` (the share not
    assessable, whether it is high, its main reasons with their texts)."""
    from ..rules.base import reason_text
    from ..scoring import NOT_APPLICABLE_REASONS

    def texts(code: Any) -> dict[str, str] | None:
        return None if not code else {"zh": reason_text(str(code), "zh"), "en": reason_text(str(code), "en")}

    rules = [{**r, "top_reason_text": texts(r.get("top_reason")),
              "not_applied": r.get("score") is None and r.get("top_reason") in NOT_APPLICABLE_REASONS}
             for r in report.get("rules", [])]
    top = [{**t, "text": texts(t["reason"])} for t in gap["top_reasons"]]
    return {"rules": rules, "unassessable": {**gap, "top_reasons": top}}


def _with_evidence_urls(report: dict[str, Any]) -> dict[str, Any]:
    """The report as the JSON API gives it: each finding's evidence as the URL that serves
    it (access-checked), not the file's place on the server."""
    findings = [{**f, "evidence": {kind: f"/api/findings/{f['id']}/evidence/{kind}"
                                   for kind in f.get("evidence") or {}}}
                for f in report.get("findings", [])]
    return {**report, "findings": findings}


def _user(u: User, person_name: str | None = None) -> dict[str, Any]:
    """A login as pages show it; ``person_name``: the trainee's own name (the pages greet
    张小红, not ``xiaohong``)."""
    return {"id": u.id, "username": u.username, "role": u.role, "person_id": u.person_id,
            "person_name": person_name}


def _login(u: User) -> dict[str, Any]:
    """A login as HR's list shows it (inside a database session: its person is loaded)."""
    return {**_user(u, u.person.name if u.person is not None else None), "disabled": u.disabled}


@functools.cache
def _scenario_ids() -> frozenset[str]:
    """The scenarios (drills) an upload may be scored as."""
    from ..drills import load_drills

    return frozenset(load_drills())


def _pdf_disposition(report: dict[str, Any], session_id: int, lang: str) -> str:
    """A report PDF's file name: what it is, whose and when (服务礼仪评估报告_张小红_2026-11-25.pdf,
    RFC 5987), with an ASCII fallback for old browsers (session-7-zh.pdf)."""
    from urllib.parse import quote

    from ..report import tr

    sess = report.get("session") or {}
    parts = [tr("title", "zh" if lang == "zh" else "en"), str(sess.get("person") or ""),
             str(sess.get("analysed_at") or "")[:10]]
    name = "_".join(p for p in parts if p).replace(" ", "_")
    name = "".join(c for c in name if c not in '\\/:*?"<>|\r\n;') or f"session-{session_id}"
    return f"inline; filename=\"session-{session_id}-{lang}.pdf\"; filename*=UTF-8''{quote(name + '.pdf')}"


def _csv(text: str, name: str, display_name: str | None = None) -> PlainTextResponse:
    """A CSV download named ``name`` (ASCII), or ``display_name`` where the browser reads
    RFC 5987 names (a cohort's own name, Chinese included)."""
    from urllib.parse import quote

    disposition = f'attachment; filename="{name}"'
    if display_name:
        safe = "".join(c for c in display_name if c not in '\\/:*?"<>|\r\n').strip() or name
        disposition += f"; filename*=UTF-8''{quote(safe)}"
    return PlainTextResponse(text, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": disposition})
