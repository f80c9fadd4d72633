"""Sign-in for the trainer/HR API: cookie sessions, CSRF tokens, role checks.

* The cookie ``pc_session`` holds a random token (HttpOnly, SameSite=Lax, Secure when
  the request came over https); the database keeps only its SHA-256.
* Every state-changing request (POST/PUT/PATCH/DELETE) must echo the session's CSRF
  token in the ``X-CSRF-Token`` header or a ``csrf_token`` form field; the login form is
  guarded by an Origin/Referer check instead (there is no session yet).
* Passwords are Argon2id hashes (:mod:`posture_coach.store.passwords`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy import delete, select

from ..store.db import Database
from ..store.models import AuthSession, User, utcnow
from .refusals import Refused

COOKIE = "pc_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_HOURS = 12


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip().lower() == "https"


def same_origin(request: Request) -> bool:
    """Browsers send Origin (or at least Referer) on form posts: it must be this host."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # not a browser (CLI, tests); such clients cannot ride a victim's cookie
    return urlsplit(origin).netloc == request.headers.get("host", "")


def login(db: Database, response: Response, request: Request, user: User) -> str:
    """Start a session: set the cookie, return the CSRF token."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.execute(delete(AuthSession).where(AuthSession.expires_at < now))
        s.add(AuthSession(token_hash=_hash(token), csrf_token=csrf, user_id=user.id,
                          expires_at=now + dt.timedelta(hours=SESSION_HOURS)))
    response.set_cookie(COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                        secure=is_https(request), path="/")
    return csrf


def logout(db: Database, request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        with db.session() as s:
            s.execute(delete(AuthSession).where(AuthSession.token_hash == _hash(token)))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))


def session_of(db: Database, request: Request) -> tuple[User, str] | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    with db.session() as s:
        row = s.scalars(select(AuthSession).where(AuthSession.token_hash == _hash(token))).first()
        if row is None or row.expires_at < utcnow():
            return None
        user = s.get(User, row.user_id)
        if user is None or user.disabled:  # disabling ends its sessions; none outlives it
            return None
        s.expunge(user)
        return user, row.csrf_token


async def _csrf_value(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached by Starlette: the endpoint can read it again
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def current_user_dependency(get_db: Callable[[], Database]) -> Callable[[Request], Awaitable[User]]:
    """A FastAPI dependency: the signed-in user; 401 without a session, 403 on a bad CSRF token."""

    async def current_user(request: Request) -> User:
        found = session_of(get_db(), request)
        if found is None:
            raise Refused(401, "signed_out", "sign in first (POST /api/auth/login)")
        user, csrf = found
        if request.method not in SAFE_METHODS:
            sent = await _csrf_value(request)
            if not sent or not hmac.compare_digest(sent, csrf):
                raise Refused(403, "stale_page", "missing or wrong CSRF token (send X-CSRF-Token)")
        request.state.csrf_token = csrf
        return user

    return current_user


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise Refused(403, "forbidden", f"this needs the role {' or '.join(roles)}")
