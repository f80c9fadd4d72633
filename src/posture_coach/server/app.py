"""FastAPI app factory: REST under ``/api/``, the live WebSocket, the static page."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import os
import resource
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources as ires
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..drills import Drill, load_drills
from ..errors import CoachError, reason_texts
from .coach import EngineFactory, RuleInfo, reason_catalogue, rule_catalogue
from .live import KEEP_FINISHED_S, FrameError, KeptRun, LiveSession, _compact, parse_frame
from .pool import AffinityPool
from .settings import ServerSettings, login_required

log = logging.getLogger(__name__)

# WebSocket close codes (RFC 6455 and the registry).
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_TRY_LATER = 1013


def find_web_dir(explicit: Path | None = None) -> Path | None:
    """Where the page lives: explicit, $POSTURE_COACH_WEB_DIR, the repo, an installed copy."""
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(explicit)
    env = os.environ.get("POSTURE_COACH_WEB_DIR")
    if env:
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parents[3] / "web")  # src layout checkout
    with contextlib.suppress(Exception):
        candidates.append(Path(str(ires.files("posture_coach") / "data" / "web")))
    candidates.append(Path(sys.prefix) / "share" / "posture-coach" / "web")
    for c in candidates:
        if (c / "index.html").is_file():
            return c
    return None


def rss_mb() -> float:
    """Resident memory of this process in MB (current, from /proc when available)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


class LiveState:
    """Everything the routes share; lives on ``app.state.live``."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.pool: AffinityPool | None = None
        self.model_error: str | None = None
        self.engines = EngineFactory()
        self.rules: dict[str, RuleInfo] = {r.id: r for r in rule_catalogue()}
        self.reasons = reason_catalogue()
        self.drills: dict[str, Drill] = load_drills()
        self.sessions: dict[int, LiveSession] = {}
        # Finished, unsaved runs of ended connections, still savable for a while.
        self.kept: dict[int, KeptRun] = {}
        self.cleanups: set[asyncio.Future[None]] = set()  # ended connections being cleaned up
        self.ids = itertools.count(1)
        self.executor = ThreadPoolExecutor(
            max_workers=settings.max_sessions + 1, thread_name_prefix="live"
        )
        self.frames = 0
        self.hand_frames = 0  # frames on which the hand model ran (the hand gate's saving)
        self.started = time.time()

    def keep_finished(self, sid: int, session: LiveSession) -> None:
        """An ended connection's finished, unsaved run stays savable for ``KEEP_FINISHED_S``."""
        now = time.monotonic()
        for k in [k for k, v in self.kept.items() if v.until <= now]:
            del self.kept[k]
        run = session.finished
        if run is not None and run.saved_as is None:
            self.kept[sid] = KeptRun(session.save_token, run, now + KEEP_FINISHED_S,
                                     list(session.finished_messages))

    async def recover(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        """The end-of-run messages of an ended connection's finished run, for its page.
        A page can be back before the server has noticed its old socket close: wait for
        that connection's clean-up (up to 3 s) before answering."""
        sid, token = msg.get("session"), msg.get("token")
        if not isinstance(sid, int) or not isinstance(token, str):
            return [{"type": "error", "code": "bad_message", "message": "recover needs session and token"}]
        deadline = time.monotonic() + 3.0
        while sid in self.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        kept = self.savable(sid)
        if not isinstance(kept, KeptRun) or kept.finished.saved_as is not None:
            return [{"type": "error", "code": "nothing_to_recover",
                     "message": "no finished run of that connection is kept (saved, or too old)"}]
        try:
            kept.finished_run(token)
        except PermissionError:
            return [{"type": "error", "code": "nothing_to_recover", "message": "wrong save token"}]
        out = [dict(m) for m in kept.messages]
        for m in out:
            if m.get("type") == "summary":
                m.update(recovered=True, live_id=sid, save_token=token)
        return out

    def savable(self, sid: int) -> LiveSession | KeptRun | None:
        """The live session, or the kept run of an ended one, that ``sid`` names."""
        kept = self.kept.get(sid)
        if kept is not None and kept.until <= time.monotonic():
            del self.kept[sid]
            kept = None
        return self.sessions.get(sid) or kept

    def start_pool(self) -> None:
        from ..landmarker import LandmarkerConfig
        from ..pipeline import landmarker_config

        s = self.settings
        try:
            cfg = landmarker_config(s.model_dir, face=s.face, hands=s.hands, mode="video",
                                    fetch=s.fetch_models)
            assert isinstance(cfg, LandmarkerConfig)
            self.pool = AffinityPool(cfg, s.pool_size)
        except CoachError as exc:
            self.model_error = str(exc)
            log.error("live landmarks unavailable: %s", exc)

    def warm(self) -> None:
        if self.pool is not None:
            try:
                self.pool.warm()
            except Exception as exc:  # reported through /api/health, sessions get errors
                self.model_error = f"{type(exc).__name__}: {exc}"
                log.error("cannot create landmarkers: %s", exc)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        if self.pool is not None:
            self.pool.close()


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the app. Landmarkers are created once (pooled) and closed at shutdown."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        live = LiveState(settings)
        app.state.live = live
        await asyncio.to_thread(live.start_pool)
        warm_task = asyncio.create_task(asyncio.to_thread(live.warm)) if settings.warm_up else None
        try:
            yield
        finally:
            if warm_task is not None:
                with contextlib.suppress(Exception):
                    await warm_task
            await asyncio.to_thread(live.close)

    app = FastAPI(
        title="posture-coach",
        version=__version__,
        description="Live etiquette coach: rules catalogue, drills and the /ws/live stream.",
        lifespan=lifespan,
    )

    def state() -> LiveState:
        live: LiveState = app.state.live
        return live

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        """Liveness plus what the live coach can do right now."""
        live = state()
        pool = live.pool
        return {
            "status": "ok" if pool is not None and live.model_error is None else "degraded",
            "version": __version__,
            "models": live.model_error or "ok",
            "engine": live.engines.error or "ok",
            "sessions": len(live.sessions),
            "max_sessions": settings.max_sessions,
            "pool": None if pool is None else {
                "size": pool.size, "created": pool.created, "in_use": pool.in_use,
                "switches": pool.switches,
            },
            "acquire": settings.acquire,
            "frames": live.frames,
            "hand_model_share": round(live.hand_frames / live.frames, 3) if live.frames else None,
            "rss_mb": round(rss_mb(), 1),
            "uptime_s": round(time.time() - live.started, 1),
        }

    @app.get("/api/rules")
    def rules() -> dict[str, Any]:
        """The rule catalogue with zh/en titles, cues and explanations."""
        live = state()
        return {
            "rules": [r.to_dict() for r in live.rules.values()],
            "reasons": live.reasons,
            "engine": live.engines.error or "ok",
        }

    @app.get("/api/drills")
    def drills() -> dict[str, Any]:
        """Drills and scenarios; rules the engine cannot judge yet are listed per drill."""
        live = state()
        return {"drills": [d.to_dict(live.rules.keys()) for d in live.drills.values()]}

    @app.get("/api/drills/{drill_id}")
    def drill(drill_id: str) -> dict[str, Any]:
        live = state()
        d = live.drills.get(drill_id)
        if d is None:
            raise HTTPException(404, f"no drill {drill_id!r}")
        return d.to_dict(live.rules.keys())

    from .store_api import store_router  # issue 8: trainer/HR API (server/store_api.py)
    router = store_router()
    app.include_router(router)  # issue 8: before the static mount, which takes "/"
    _store_error_handlers(app)

    @app.websocket("/ws/live")
    async def ws_live(ws: WebSocket) -> None:
        if login_required(settings) and not await _signed_in(ws, router):
            # Off the loopback address, camera streams need a signed-in user (issue 8 roles).
            await ws.close(code=1008, reason="sign in first (POST /api/auth/login)")
            return
        await _live(ws, state(), settings)

    web = find_web_dir(settings.web_dir)
    if web is not None:
        app.mount("/", StaticFiles(directory=web, html=True), name="web")
    else:
        @app.get("/", response_class=HTMLResponse)
        def no_page() -> str:
            return ("<!doctype html><title>posture-coach</title><p>The web page is not "
                    "installed (no web/index.html found). Set POSTURE_COACH_WEB_DIR.</p>")
    return app


def _store_error_handlers(app: FastAPI) -> None:
    """Client mistakes the database reports become 4xx answers, never a 500 (found by schemathesis)."""
    from fastapi.responses import JSONResponse
    from sqlalchemy.exc import IntegrityError

    from .store_api import install_refusal_handler

    install_refusal_handler(app)

    @app.exception_handler(IntegrityError)
    async def _conflict(_request: Any, _exc: IntegrityError) -> JSONResponse:
        return JSONResponse({"detail": "conflicts with existing data (a name or e-mail already in use, "
                                       "or a reference to something that does not exist)",
                             "reason": "conflict", "reason_text": reason_texts("conflict")}, status_code=409)

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Any, _exc: OverflowError) -> JSONResponse:
        # An id beyond the database's 64-bit integers. Shaped like FastAPI's own 422 answers
        # (HTTPValidationError in the OpenAPI schema), so clients read every 422 the same way.
        return JSONResponse({"detail": [{"type": "value_error", "loc": ["request"],
                                         "msg": "a number is out of range"}],
                             "reason": "bad_request", "reason_text": reason_texts("bad_request")}, status_code=422)


async def _signed_in(ws: WebSocket, router: Any) -> bool:
    """A valid session cookie of the trainer/HR store (any role may practise)."""
    import asyncio

    from . import auth

    st = router.state
    try:
        if st.db is None:
            await asyncio.to_thread(st.ensure_open)
        if st.db is None:
            return False
        return await asyncio.to_thread(auth.session_of, st.db, ws) is not None  # type: ignore[arg-type]
    except Exception:  # a broken store must not open the stream to everyone
        log.warning("session check failed", exc_info=True)
        return False


def _origin_ok(ws: WebSocket) -> bool:
    """Browsers send Origin: accept our own page only (no cross-site camera streams)."""
    origin = ws.headers.get("origin")
    if not origin:
        return True  # not a browser (bench, tests, CLI clients)
    return urlsplit(origin).netloc == ws.headers.get("host", "")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _control_message(text: str) -> dict[str, Any]:
    """A text message as a JSON object with finite numbers only (``ValueError`` otherwise)."""
    ctrl = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    if not isinstance(ctrl, dict):
        raise ValueError("not an object")
    return ctrl


async def _send(ws: WebSocket, msg: dict[str, Any]) -> None:
    # What an error means in both languages (errors.REASON_TEXTS), for clients other than
    # the page (which words the few it shows itself); ``message`` keeps the detail.
    if msg.get("type") in ("error", "busy") and "text" not in msg:
        text = reason_texts(str(msg.get("code") or msg.get("type")))
        if text is not None:
            msg = {**msg, "text": text}
    try:
        wire = json.dumps(msg, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        wire.encode("utf-8")
    except (ValueError, UnicodeEncodeError):  # an echoed lone surrogate, a NaN: plain ASCII, no NaN
        wire = json.dumps(_compact(msg, None), separators=(",", ":"), ensure_ascii=True)
    await ws.send_text(wire)


async def _live(ws: WebSocket, live: LiveState, settings: ServerSettings) -> None:
    if not _origin_ok(ws):
        await ws.close(code=CLOSE_POLICY, reason="cross-origin connection refused")
        return
    await ws.accept()
    if len(live.sessions) >= settings.max_sessions:
        await _send(ws, {"type": "busy", "max_sessions": settings.max_sessions,
                         "message": "the coach is busy with other sessions; try again later"})
        await ws.close(code=CLOSE_TRY_LATER, reason="too many sessions")
        return
    sid = next(live.ids)
    session = LiveSession(sid, settings, live.pool, live.engines, live.rules, live.drills)
    live.sessions[sid] = session
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        while True:
            item = await session.slot.take()
            msg = await loop.run_in_executor(live.executor, session.process, item)
            live.frames += 1
            live.hand_frames += "hands_ms" in (msg.get("timing") or {})
            await _send(ws, msg)
            while session.outbox:
                await _send(ws, session.outbox.pop(0))

    task = asyncio.create_task(worker())
    try:
        await _send(ws, {
            "type": "hello", "session": sid, "version": __version__,
            "max_frame_bytes": settings.max_frame_bytes,
            "engine": live.engines.error or "ok", "models": live.model_error or "ok",
            "save_token": session.save_token,
        })
        while True:
            receive = asyncio.ensure_future(ws.receive())
            done, _ = await asyncio.wait({receive, task}, return_when=asyncio.FIRST_COMPLETED)
            if receive not in done:  # the worker died (send failed): end the session
                receive.cancel()
                break
            msg = receive.result()
            if msg["type"] == "websocket.disconnect":
                break
            data = msg.get("bytes")
            text = msg.get("text")
            if data is not None:
                if len(data) > settings.max_frame_bytes:
                    await _send(ws, {"type": "error", "code": "frame_too_large",
                                     "message": f"frame of {len(data)} bytes exceeds "
                                                f"{settings.max_frame_bytes}"})
                    await ws.close(code=CLOSE_TOO_BIG, reason="frame too large")
                    break
                try:
                    session.slot.put(parse_frame(data, time.perf_counter()))
                except FrameError as exc:
                    await _send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
            elif text is not None:
                if len(text) > settings.max_text_bytes:
                    await ws.close(code=CLOSE_TOO_BIG, reason="control message too large")
                    break
                try:
                    ctrl = _control_message(text)
                except (ValueError, RecursionError):  # not JSON, NaN, 1e309, nested too deep
                    await _send(ws, {"type": "error", "code": "bad_message",
                                     "message": "control messages are JSON objects of finite numbers"})
                    continue
                try:
                    if ctrl.get("type") == "recover":  # another connection's finished run
                        replies = await live.recover(ctrl)
                    else:
                        replies = await loop.run_in_executor(live.executor, session.control, ctrl)
                except Exception:  # a message the session could not take: said, the connection kept
                    log.warning("control message %r failed", str(ctrl.get("type"))[:40], exc_info=True)
                    replies = [{"type": "error", "code": "bad_message", "message": "the message could not be used"}]
                for reply in replies:
                    await _send(ws, reply)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client vanished mid-send; clean up below
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        # The clean-up runs as its own task: when the server cancels this handler (a client
        # gone, a shutdown), every further await here would raise at once and skip it.
        end = asyncio.ensure_future(_end_connection(live, sid, session))
        live.cleanups.add(end)
        end.add_done_callback(live.cleanups.discard)
        with contextlib.suppress(BaseException):
            await asyncio.shield(end)


async def _end_connection(live: LiveState, sid: int, session: LiveSession) -> None:
    """Finish a run still going, hand it from the connection to the kept runs (no await in
    between: a save arriving meanwhile finds one or the other), then free the landmarkers."""
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(live.executor, session.end_of_connection)
    finally:
        live.sessions.pop(sid, None)
        live.keep_finished(sid, session)
        await loop.run_in_executor(live.executor, session.release)
