"""The repository: typed functions over the ORM. Routes, jobs and the CLI call these only.

Functions taking an ``OrmSession`` run inside the caller's unit of work
(``with db.session() as s: ...``); functions taking a :class:`Database` open their own
transaction because they must be atomic on their own (job claims, result sets, deletes
that also remove files).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import shutil
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import selectinload

from ..scoring import MOSTLY_UNASSESSABLE, points
from .db import Database
from .models import (
    DECISIONS,
    ROLES,
    AuthSession,
    Cohort,
    CohortMember,
    EpisodeRow,
    Evidence,
    Job,
    Person,
    Review,
    RuleResult,
    Session,
    Setting,
    User,
    utcnow,
)
from .passwords import hash_password, verify_password


class NotFound(LookupError):
    """No such row (routes answer 404)."""


class Forbidden(PermissionError):
    """The user's role does not allow this (routes answer 403 with ``reason``)."""

    def __init__(self, *args: object, reason: str = "forbidden") -> None:
        super().__init__(*args)
        self.reason = reason  # a key of errors.REASON_TEXTS


class Invalid(ValueError):
    """A value the user gave does not fit the data (routes answer 400 with ``reason``, a key
    of errors.REASON_TEXTS, so the page says what is wrong in its language)."""

    def __init__(self, *args: object, reason: str) -> None:
        super().__init__(*args)
        self.reason = reason


class Conflict(Invalid):
    """A value already taken by another row, such as another cohort's name (routes answer
    409 with ``reason``)."""


class LoginDisabled(PermissionError):
    """The right password for a login HR has disabled (the sign-in says so, in zh/en; a
    wrong password is refused as any other, so a guess learns nothing)."""


# -- analysis results as plain data (what a job hands to save_results) -------------------


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    rule_id: str
    score: float | None
    weight: float
    assessable_s: float | None
    penalty_s: float
    unknown_share: float
    top_reason: str | None
    reasons: dict[str, float] = field(default_factory=dict)  # reason -> share of unknown time
    judged_frames: int | None = None  # frames with a verdict: for an event rule, the events judged


@dataclass(frozen=True, slots=True)
class FindingOutcome:
    """A counted violation; ``evidence`` maps kind (snapshot/teeth) to an absolute file path."""

    rule_id: str
    status: str
    start_ms: int
    end_ms: int | None
    peak: float | None
    peak_ms: int | None
    peak_frame: int | None
    penalty_s: float
    evidence: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventOutcome:
    type: str
    t_ms: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    frames: int
    duration_s: float
    overall_score: float | None
    unknown_share: float
    summary: dict[str, Any]
    rules: Sequence[RuleOutcome]
    findings: Sequence[FindingOutcome]
    events: Sequence[EventOutcome]
    stride: int = 1  # the frame stride actually used (auto resolved from the video's rate)


# -- people, users, cohorts ---------------------------------------------------------------


#: Characters no name may hold: C0/C1 controls (a newline broke `cohorts list`; PostgreSQL
#: refuses NUL) and, counted as nothing when checking a name is not blank, the invisible
#: format characters (a zero-width space made a blank-looking choice on the page).
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")


def clean_name(name: str, what: Literal["person", "cohort"]) -> str:
    """``name`` without the spaces around it, refused (:class:`Invalid`) when it holds a
    control character or shows nothing (empty, spaces, zero-width characters only)."""
    clean = name.strip()
    if any(unicodedata.category(c) == "Cc" for c in clean):
        raise Invalid(f"a {what}'s name cannot hold control characters (a line break, a tab…)",
                      reason=f"{what}_name_control")
    if not "".join(c for c in clean if c not in _INVISIBLE).strip():
        raise Invalid(f"a {what}'s name cannot be empty", reason=f"{what}_name_empty")
    return clean


def create_person(s: OrmSession, name: str, *, email: str | None = None, consent_media: bool = False) -> Person:
    p = Person(name=clean_name(name, "person"), email=email, consent_media=consent_media,
               consent_at=utcnow() if consent_media else None)
    s.add(p)
    s.flush()
    return p


def set_consent(db: Database, person_id: int, consent_media: bool) -> tuple[Person, int]:
    """Record a person's consent to videos being stored. Withdrawing it deletes the videos
    and evidence snapshots already stored of them (scores, findings and reviews stay, as
    after the retention purge). Returns the person and the number of files removed."""
    with db.session() as s:
        p = get_person(s, person_id)
        p.consent_media = consent_media
        p.consent_at = utcnow()
        files: list[Path] = []
        if not consent_media:
            ids = list(s.scalars(select(Session.id).where(Session.person_id == person_id)))
            files = _drop_media(db, s, ids)
    return p, _remove(files)


def get_person(s: OrmSession, person_id: int) -> Person:
    p = s.get(Person, person_id)
    if p is None:
        raise NotFound(f"no person {person_id}")
    return p


def create_user(s: OrmSession, username: str, password: str, role: str, *, person_id: int | None = None) -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if role == "trainee" and person_id is None:
        raise ValueError("a trainee user needs a person")
    u = User(username=username, password_hash=hash_password(password), role=role, person_id=person_id)
    s.add(u)
    s.flush()
    return u


def user_named(s: OrmSession, username: str) -> User:
    u = s.scalars(select(User).where(User.username == username)).first()
    if u is None:
        raise NotFound(f"no user called {username!r} (see `posture-coach users list`)")
    return u


def sign_out_everywhere(s: OrmSession, user: User) -> None:
    """End every browser session of ``user``."""
    s.execute(delete(AuthSession).where(AuthSession.user_id == user.id))


def set_password(s: OrmSession, username: str, password: str) -> User:
    """A new password for a login (someone who forgot theirs); every browser signed in as
    them is signed out."""
    u = user_named(s, username)
    u.password_hash = hash_password(password)
    sign_out_everywhere(s, u)
    return u


def set_disabled(s: OrmSession, username: str, disabled: bool, *, by: User | None = None) -> User:
    """Stop a login (someone who left) or let it sign in again. Disabling signs it out
    everywhere; nothing of the person, their sessions or reviews is deleted. ``by``: the HR
    admin doing it through the API, who cannot disable their own login (nobody locks the
    last HR out of the page); the command line may (``users enable`` undoes it)."""
    u = user_named(s, username)
    if disabled and by is not None and by.id == u.id:
        raise Forbidden("you cannot disable your own login", reason="own_login")
    u.disabled = disabled
    if disabled:
        sign_out_everywhere(s, u)
    s.flush()
    return u


def list_users(s: OrmSession) -> list[User]:
    """Every login, by name (HR's list: role, whether disabled)."""
    return list(s.scalars(select(User).order_by(User.username, User.id)))


def authenticate(s: OrmSession, username: str, password: str) -> User | None:
    """The user with this name and password, None for a wrong name or password. The right
    password of a disabled login raises :class:`LoginDisabled` (a wrong one is just wrong)."""
    u = s.scalars(select(User).where(User.username == username)).first()
    if u is None:
        verify_password(_dummy_hash(), password)  # same time whether or not the user exists
        return None
    if not verify_password(u.password_hash, password):
        return None
    if u.disabled:
        raise LoginDisabled(f"the login {username!r} is disabled")
    return u


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def get_user(s: OrmSession, user_id: int) -> User:
    u = s.get(User, user_id)
    if u is None:
        raise NotFound(f"no user {user_id}")
    return u


def create_cohort(s: OrmSession, name: str, *, trainer_id: int | None = None, pass_score: float = 0.8) -> Cohort:
    """A new cohort; its name is checked as a rename checks it (:func:`cohort_name`)."""
    if not 0.0 <= pass_score <= 1.0:
        raise ValueError("pass_score must be within 0..1")
    if trainer_id is not None:
        # Only a trainer can see and review a cohort: a trainee's login (or none) would leave
        # the cohort with nobody to review it, and HR without a word about it.
        t = s.get(User, trainer_id)
        if t is None or t.role != "trainer":
            raise Invalid(f"user {trainer_id} is not a trainer's login" if t is not None
                          else f"no user {trainer_id}", reason="not_a_trainer")
    c = Cohort(name=cohort_name(s, name), trainer_id=trainer_id, pass_score=pass_score)
    s.add(c)
    s.flush()
    return c


def get_cohort(s: OrmSession, cohort_id: int) -> Cohort:
    c = s.get(Cohort, cohort_id)
    if c is None:
        raise NotFound(f"no cohort {cohort_id}")
    return c


#: The longest cohort name the table holds (``cohorts.name``).
COHORT_NAME_MAX = 200


def rename_cohort(s: OrmSession, cohort_id: int, name: str) -> Cohort:
    """A cohort's new name (a typo, a new intake name), without the spaces around it. Refused
    (:class:`Invalid`, :class:`Conflict`) when empty, longer than :data:`COHORT_NAME_MAX` or
    another cohort's name (names are unique). Reports and CSV exports read the name when
    they are made, so they say the new one."""
    c = get_cohort(s, cohort_id)
    c.name = cohort_name(s, name, cohort_id)
    s.flush()
    return c


def cohort_name(s: OrmSession, name: str, cohort_id: int | None = None) -> str:
    """``name`` without the spaces around it, as a cohort (``cohort_id``, or a new one) may
    be called: refused when empty, too long or another cohort's."""
    clean = clean_name(name, "cohort")
    if len(clean) > COHORT_NAME_MAX:
        raise Invalid(f"a cohort's name is at most {COHORT_NAME_MAX} characters", reason="cohort_name_too_long")
    taken = s.scalars(select(Cohort.id).where(Cohort.name == clean, Cohort.id != (cohort_id or -1))).first()
    if taken is not None:
        raise Conflict(f"cohort {taken} is already called {clean!r}", reason="cohort_name_taken")
    return clean


def add_member(s: OrmSession, cohort_id: int, person_id: int) -> None:
    get_cohort(s, cohort_id)
    get_person(s, person_id)
    if s.get(CohortMember, (cohort_id, person_id)) is None:
        s.add(CohortMember(cohort_id=cohort_id, person_id=person_id))
        s.flush()


def remove_member(s: OrmSession, cohort_id: int, person_id: int) -> bool:
    """Take a person out of a cohort (their sessions stay); False when they were not in it."""
    get_cohort(s, cohort_id)
    get_person(s, person_id)
    row = s.get(CohortMember, (cohort_id, person_id))
    if row is None:
        return False
    s.delete(row)
    s.flush()
    return True


def list_cohorts(s: OrmSession, user: User) -> list[Cohort]:
    q = select(Cohort).order_by(Cohort.name)
    if user.role == "trainer":
        q = q.where(Cohort.trainer_id == user.id)
    elif user.role != "hr_admin":
        raise Forbidden("only trainers and HR see cohorts")
    return list(s.scalars(q))


# -- sessions and access -----------------------------------------------------------------


def create_session(
    s: OrmSession, *, source: str, person_id: int | None = None, kind: str = "recorded",
    media_path: str | None = None, scenario: str | None = None, keep_evidence: bool = False,
    posture: str = "auto", stride: int = 1, role_play: str | None = None,
) -> Session:
    if person_id is not None:
        get_person(s, person_id)
    if role_play not in (None, "left", "right"):
        raise ValueError(f"role_play must be left, right or none, not {role_play!r}")
    row = Session(id=_fresh_session_id(s), person_id=person_id, kind=kind, source=source,
                  media_path=media_path, scenario=scenario, keep_evidence=keep_evidence, posture=posture,
                  stride=stride, role_play=role_play, status="queued")
    s.add(row)
    s.flush()
    return row


_SESSION_IDS_KEY = "session_ids"


def _fresh_session_id(s: OrmSession) -> int | None:
    """An id no session ever had. SQLite hands a deleted row's id to the next row when it
    was the largest: after a person was deleted, the next upload took their session's
    number, and an exported cohort row or a bookmarked report link then led to someone
    else. The largest id ever given is kept in the settings (PostgreSQL's sequences never
    reuse one: None lets it number as usual)."""
    if s.get_bind().dialect.name != "sqlite":
        return None
    mark = s.get(Setting, _SESSION_IDS_KEY)
    given = int((mark.value or {}).get("largest", 0)) if mark is not None else 0
    nxt = max(given, int(s.scalar(select(func.max(Session.id))) or 0)) + 1
    if mark is None:
        s.add(Setting(key=_SESSION_IDS_KEY, value={"largest": nxt}))
    else:
        mark.value = {"largest": nxt}
    return nxt


def get_session(s: OrmSession, session_id: int) -> Session:
    row = s.get(Session, session_id, options=[
        selectinload(Session.rule_results), selectinload(Session.episodes).selectinload(EpisodeRow.evidence),
        selectinload(Session.reviews), selectinload(Session.person),
    ])
    if row is None:
        raise NotFound(f"no session {session_id}")
    return row


def trainer_person_ids(user: User) -> Any:
    return (select(CohortMember.person_id).join(Cohort, Cohort.id == CohortMember.cohort_id)
            .where(Cohort.trainer_id == user.id))


def _narrowed_to_visible(q: Any, user: User, person_id: Any) -> Any | None:
    """``q`` narrowed to the people ``user`` may see, through its ``person_id`` column:
    HR everyone, a trainer their cohorts' members, a trainee themself; None for any other role."""
    if user.role == "trainee":
        return q.where(person_id == user.person_id)
    if user.role == "trainer":
        return q.where(person_id.in_(trainer_person_ids(user)))
    return q if user.role == "hr_admin" else None


def visible_people(s: OrmSession, user: User) -> list[Person]:
    """Whom this user may upload recordings for: HR everyone, a trainer their cohorts'
    members, a trainee themself."""
    q = _narrowed_to_visible(select(Person).order_by(Person.name, Person.id), user, Person.id)
    if q is None:
        raise Forbidden(f"unknown role {user.role!r}")
    return list(s.scalars(q))


def can_view_session(s: OrmSession, user: User, row: Session) -> bool:
    """Trainee: own sessions; trainer: sessions of their cohorts' members; HR admin: all."""
    if user.role == "hr_admin":
        return True
    if user.role == "trainee":
        return row.person_id is not None and row.person_id == user.person_id
    if user.role == "trainer":
        if row.person_id is None:
            return False
        return row.person_id in set(s.scalars(trainer_person_ids(user)))
    return False


def session_for(s: OrmSession, user: User, session_id: int) -> Session:
    row = get_session(s, session_id)
    if not can_view_session(s, user, row):
        raise Forbidden(f"session {session_id} is not yours to see")
    return row


def evidence_for(s: OrmSession, user: User, finding_id: int, kind: str) -> str:
    """The data-dir-relative file of one finding's evidence (``snapshot`` or ``teeth``),
    for a user allowed to see its session."""
    ep = s.get(EpisodeRow, finding_id)
    if ep is None or ep.kind != "finding":
        raise NotFound(f"finding {finding_id} not found")
    session_for(s, user, ep.session_id)
    for ev in ep.evidence:
        if ev.kind == kind:
            return ev.path
    raise NotFound(f"finding {finding_id} has no {kind} evidence (frames are kept only when asked)")


def visible_sessions(s: OrmSession, user: User, *, limit: int = 200) -> list[Session]:
    """The sessions ``user`` may see, newest first, with what the list shows of each loaded
    (its results and reviews for the reviewed score, its jobs for why it failed)."""
    q = _narrowed_to_visible(select(Session).options(
        selectinload(Session.person), selectinload(Session.rule_results), selectinload(Session.episodes),
        selectinload(Session.reviews), selectinload(Session.jobs),
    ).order_by(Session.id.desc()).limit(limit), user, Session.person_id)
    return [] if q is None else list(s.scalars(q))


# -- how much of a session could not be assessed -------------------------------------------

#: From this share of the time not assessable on, a session's score says more about what
#: could be seen than about the trainee: the pages say so plainly, with the main reasons.
UNASSESSABLE_HIGH = MOSTLY_UNASSESSABLE
#: From this share on, the pages name the main reasons beside the score (in a milder tone).
UNASSESSABLE_NOTABLE = 0.25


def unassessable(row: Session, top_n: int = 3) -> dict[str, Any]:
    """The share of the time that could not be assessed (``row.unknown_share``: over the
    rules, of the time each applied), whether it is high (:data:`UNASSESSABLE_HIGH`) or
    notable (:data:`UNASSESSABLE_NOTABLE`), and the
    main reasons, most first (``[{"reason", "share"}]``, share of the unassessable time): the
    analysis summary's ``top_reasons``, or, for a result stored without them, the rules'
    reasons weighted by how much of each rule's time they cost (did-not-apply reasons, such
    as a sitting rule while standing, left out, as the share leaves them out)."""
    from ..scoring import NOT_APPLICABLE_REASONS

    share = row.unknown_share
    top: list[dict[str, Any]] = []
    stored = (row.summary or {}).get("top_reasons")
    if isinstance(stored, list):
        top = [{"reason": str(r["reason"]), "share": float(r.get("share") or 0.0)}
               for r in stored if isinstance(r, dict) and r.get("reason")][:top_n]
    if not top:
        weights: dict[str, float] = {}
        for rr in row.rule_results:
            for code, part in (rr.reasons or {}).items():
                if code not in NOT_APPLICABLE_REASONS and rr.unknown_share:
                    weights[code] = weights.get(code, 0.0) + rr.unknown_share * float(part)
        total = sum(weights.values())
        top = [{"reason": code, "share": w / total}
               for code, w in sorted(weights.items(), key=lambda kv: -kv[1])[:top_n]] if total > 0 else []
    return {"share": None if share is None else round(share, 4),
            "high": share is not None and share >= UNASSESSABLE_HIGH,
            "notable": share is not None and share >= UNASSESSABLE_NOTABLE,
            "top_reasons": [{**r, "share": round(r["share"], 4)} for r in top]}


# -- scoring a stored video again: which session replaced which ----------------------------
#
# No column says it (and none is needed): the link is kept in the sessions' ``summary``
# JSON, which :func:`reanalyse_links` reads. The session scored again lists the sessions
# made from it under ``rescored_as``; the new session names it under ``rescored_from``
# (kept when its analysis writes the summary, :func:`_write_results`).


def link_rescored(s: OrmSession, old: Session, new: Session) -> None:
    """Record that ``new`` scores ``old``'s video again (both sessions' summaries)."""
    old.summary = {**(old.summary or {}), "rescored_as": [*rescored_as(old), new.id]}  # a new dict: seen as a change
    new.summary = {**(new.summary or {}), "rescored_from": old.id}
    s.flush()


def rescored_as(row: Session) -> list[int]:
    """The ids of the sessions made by scoring ``row``'s video again, oldest first (some may be gone)."""
    return [int(x) for x in (row.summary or {}).get("rescored_as") or [] if isinstance(x, int)]


def rescored_from(row: Session) -> int | None:
    v = (row.summary or {}).get("rescored_from")
    return v if isinstance(v, int) else None


def pending_rescore(s: OrmSession, old: Session, role_play: str | None) -> Session | None:
    """A session already made from ``old`` with the same people-in-view setting that has not
    failed: scoring it again the same way again would only make a copy of it."""
    ids = rescored_as(old)
    if not ids:
        return None
    rows = s.scalars(select(Session).where(Session.id.in_(ids)).order_by(Session.id.desc()))
    return next((r for r in rows if r.role_play == role_play and r.status != "failed"), None)


def reanalyse_links(s: OrmSession, rows: Sequence[Session]) -> dict[int, dict[str, Any]]:
    """For each of ``rows``: ``rescored_from`` (the session it scores again, when it still
    exists) and ``superseded_by`` (``{"id", "status"}`` of the latest session scoring it
    again that still exists and has not failed; None when there is none)."""
    wanted = {i for r in rows for i in rescored_as(r)} | {i for r in rows if (i := rescored_from(r)) is not None}
    status: dict[int, str] = {}
    if wanted:
        status = {sid: st for sid, st in s.execute(select(Session.id, Session.status).where(Session.id.in_(wanted)))}
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        src = rescored_from(r)
        newer = [i for i in rescored_as(r) if i in status and status[i] != "failed"]
        out[r.id] = {"rescored_from": src if src in status else None,
                     "superseded_by": {"id": newer[-1], "status": status[newer[-1]]} if newer else None}
    return out


# -- jobs ---------------------------------------------------------------------------------


def create_job(s: OrmSession, session_id: int, *, max_attempts: int = 3) -> Job:
    job = Job(session_id=session_id, status="queued", max_attempts=max_attempts)
    s.add(job)
    s.flush()
    return job


def get_job(s: OrmSession, job_id: int) -> Job:
    job = s.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def queued_job_ids(db: Database) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id)))


def claim_job(db: Database, job_id: int) -> str | None:
    """Atomically take a queued job: returns the claim token, or None if someone else has it."""
    claim = uuid.uuid4().hex
    now = utcnow()
    with db.session() as s:
        res = s.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(
            status="running", claim=claim, heartbeat_at=now, attempts=Job.attempts + 1, error=None,
            error_reason=None,
            progress=0.0).execution_options(synchronize_session=False))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return None
        job = get_job(s, job_id)
        s.execute(update(Session).where(Session.id == job.session_id).values(status="running"))
    return claim


def heartbeat(db: Database, job_id: int, claim: str, progress: float) -> bool:
    """Record progress; False when this worker's claim was revoked (stop working)."""
    with db.session() as s:
        res = s.execute(update(Job).where(Job.id == job_id, Job.claim == claim, Job.status == "running")
                        .values(heartbeat_at=utcnow(), progress=max(0.0, min(1.0, progress)))
                        .execution_options(synchronize_session=False))
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def requeue_stale(db: Database, stale_after_s: float, *, now: dt.datetime | None = None) -> list[int]:
    """Jobs left ``running`` by a crashed process (old heartbeat) go back to the queue,
    or fail when they have used up their attempts. Returns the ids requeued."""
    now = now or utcnow()
    limit = now - dt.timedelta(seconds=stale_after_s)
    requeued: list[int] = []
    with db.session() as s:
        stale = list(s.scalars(select(Job).where(
            Job.status == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < limit))))
        for job in stale:
            job.claim = None  # fences off the old worker if it is in fact alive
            if job.attempts >= job.max_attempts:
                job.status = "failed"
                job.error = f"gave up after {job.attempts} interrupted attempts"
                job.error_reason = "interrupted"
                job.finished_at = now
                s.execute(update(Session).where(Session.id == job.session_id).values(status="failed"))
            else:
                job.status = "queued"
                job.progress = 0.0
                requeued.append(job.id)
                s.execute(update(Session).where(Session.id == job.session_id).values(status="queued"))
    return requeued


def fail_job(db: Database, job_id: int, claim: str, error: str, *, retry: bool = False,
             reason: str | None = None) -> None:
    """Record a failed attempt: ``error`` the technical message, ``reason`` its code
    (:func:`posture_coach.errors.reason_of`); queued again when ``retry`` and attempts remain."""
    with db.session() as s:
        job = get_job(s, job_id)
        if job.claim != claim:
            return
        job.claim = None
        job.error = error[:2000]
        job.error_reason = reason
        if retry and job.attempts < job.max_attempts:
            job.status = "queued"
            status = "queued"
        else:
            job.status = "failed"
            job.finished_at = utcnow()
            status = "failed"
        s.execute(update(Session).where(Session.id == job.session_id).values(status=status))


def _write_results(db: Database, s: OrmSession, sess: Session, result: AnalysisResult) -> None:
    """Add a result set to ``sess`` (rules, findings with their evidence, events) and mark it done."""
    sid = sess.id
    for r in result.rules:
        s.add(RuleResult(session_id=sid, rule_id=r.rule_id, score=r.score, weight=r.weight,
                         assessable_s=r.assessable_s, penalty_s=r.penalty_s, unknown_share=r.unknown_share,
                         top_reason=r.top_reason, reasons=dict(r.reasons), judged_frames=r.judged_frames))
    for f in result.findings:
        ep = EpisodeRow(session_id=sid, kind="finding", rule_id=f.rule_id, status=f.status,
                        start_ms=f.start_ms, end_ms=f.end_ms, peak=f.peak, peak_ms=f.peak_ms,
                        peak_frame=f.peak_frame, penalty_s=f.penalty_s)
        for kind, path in f.evidence.items():
            ep.evidence.append(Evidence(kind=kind, path=db.rel(path)))
        s.add(ep)
    for e in result.events:
        s.add(EpisodeRow(session_id=sid, kind="event", event_type=e.type, start_ms=e.t_ms,
                         end_ms=e.data.get("end_ms"), data=e.data))
    sess.status = "done"
    sess.stride = result.stride
    sess.frames = result.frames
    sess.duration_s = result.duration_s
    sess.overall_score = result.overall_score
    sess.unknown_share = result.unknown_share
    # The analysis's summary, keeping which sessions this one scores again or was scored again as.
    links = {k: v for k, v in (sess.summary or {}).items() if k in ("rescored_from", "rescored_as")}
    sess.summary = {**result.summary, **links, **_scenario_seen(sess, result)}
    sess.analysed_at = utcnow()


def _scenario_seen(sess: Session, result: AnalysisResult) -> dict[str, Any]:
    """For a recording uploaded as a scenario (a live run times its own steps): which of
    its steps the recording does not show (``scenario_seen``). A 7 s clip of someone
    standing is no finished onboarding self-check."""
    if sess.kind == "live" or not sess.scenario or isinstance(result.summary.get("drill"), dict):
        return {}
    from ..drills import load_drills, steps_not_seen

    drill = load_drills().get(sess.scenario)
    if drill is None or drill.kind != "scenario":
        return {}
    missing = steps_not_seen(drill, {r.rule_id: r.assessable_s for r in result.rules},
                             {r.rule_id: r.judged_frames for r in result.rules})
    return {"scenario_seen": {"complete": not missing, "missing": [
        {"id": m.id, "title_zh": m.title_zh, "title_en": m.title_en} for m in missing]}}


def save_live_session(db: Database, user: User, result: AnalysisResult, *, scenario: str | None,
                      posture: str = "auto", source: str = "live") -> int:
    """Store a trainee's finished live practice under their own person, in one transaction:
    scores, findings and events only (a live session keeps no video and no frames).
    Only a trainee saves, and only to their own record (HR and trainers have no person)."""
    if user.role != "trainee" or user.person_id is None:
        raise Forbidden("only a trainee saves a live practice, to their own record")
    if any(f.evidence for f in result.findings):
        raise ValueError("a live session keeps no frames")
    with db.session() as s:
        sess = create_session(s, source=source, person_id=user.person_id, kind="live",
                              scenario=scenario, posture=posture)
        _write_results(db, s, sess, result)
        return sess.id


def save_results(db: Database, job_id: int, claim: str, result: AnalysisResult) -> bool:
    """Write a whole result set in ONE transaction, replacing any earlier one.

    Fenced: if the job's claim is no longer ``claim`` (a restart gave the job to another
    worker) nothing is written and False is returned, so a session never holds two result
    sets nor half of one.
    """
    with db.session() as s:
        job = s.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()
        if job is None or job.claim != claim or job.status != "running":
            return False
        sid = job.session_id
        s.execute(delete(RuleResult).where(RuleResult.session_id == sid))
        s.execute(delete(Evidence).where(Evidence.episode_id.in_(
            select(EpisodeRow.id).where(EpisodeRow.session_id == sid))))
        s.execute(delete(Review).where(Review.session_id == sid, Review.episode_id.is_not(None)))
        s.execute(delete(EpisodeRow).where(EpisodeRow.session_id == sid))
        sess = s.get(Session, sid)
        assert sess is not None
        _write_results(db, s, sess, result)
        job.status = "done"
        job.progress = 1.0
        job.finished_at = utcnow()
        job.claim = None
    return True


# -- deletion and retention --------------------------------------------------------------


def _session_files(db: Database, s: OrmSession, session_ids: Iterable[int]) -> list[Path]:
    ids = list(session_ids)
    if not ids:
        return []
    files: list[Path] = []
    for media in s.scalars(select(Session.media_path).where(Session.id.in_(ids), Session.media_path.is_not(None))):
        if media:
            files.append(db.path(media))
    ev = select(Evidence.path).join(EpisodeRow, EpisodeRow.id == Evidence.episode_id).where(
        EpisodeRow.session_id.in_(ids))
    files.extend(db.path(p) for p in s.scalars(ev))
    return files


def _remove(paths: Iterable[Path]) -> int:
    n = 0
    for p in paths:
        if p.is_file():
            p.unlink()
            n += 1
    return n


def session_video_path(db: Database, session_id: int, suffix: str) -> Path:
    """Where a session's stored video lives (its folder is the first of :func:`session_dirs`)."""
    return session_dirs(db, session_id)[0] / f"video{suffix}"


def session_dirs(db: Database, session_id: int) -> list[Path]:
    return [db.data_dir / "uploads" / f"session_{session_id}", db.data_dir / "evidence" / f"session_{session_id}"]


def delete_session(db: Database, session_id: int) -> int:
    """Delete a session, its results and its files. Returns the number of files removed."""
    with db.session() as s:
        files = _session_files(db, s, [session_id])
        row = s.get(Session, session_id)
        if row is None:
            raise NotFound(f"no session {session_id}")
        s.delete(row)
    n = _remove(files)
    for d in session_dirs(db, session_id):
        shutil.rmtree(d, ignore_errors=True)
    return n


def delete_person(db: Database, person_id: int) -> int:
    """Delete a person with all their sessions, results, reviews, media and evidence files."""
    with db.session() as s:
        person = get_person(s, person_id)
        ids = list(s.scalars(select(Session.id).where(Session.person_id == person_id)))
        files = _session_files(db, s, ids)
        s.execute(delete(User).where(User.person_id == person_id, User.role == "trainee"))
        s.delete(person)
    n = _remove(files)
    for sid in ids:
        for d in session_dirs(db, sid):
            shutil.rmtree(d, ignore_errors=True)
    return n


def get_settings(s: OrmSession) -> dict[str, Any]:
    """Installation settings with defaults: media retention in days (0 = keep none after
    analysis, None = keep until deleted)."""
    row = s.get(Setting, "privacy")
    out: dict[str, Any] = {"retention_days": 30, "keep_media_after_analysis": True}
    if row is not None:
        out.update(row.value)
    return out


def set_settings(s: OrmSession, **values: Any) -> dict[str, Any]:
    allowed = {"retention_days", "keep_media_after_analysis"}
    bad = set(values) - allowed
    if bad:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(bad))}")
    rd = values.get("retention_days")
    if rd is not None and (not isinstance(rd, int) or rd < 0):
        raise ValueError("retention_days must be a whole number ≥ 0 (or null to keep media)")
    cur = get_settings(s)
    cur.update(values)
    row = s.get(Setting, "privacy")
    if row is None:
        s.add(Setting(key="privacy", value=cur))
    else:
        row.value = cur
    return cur


def purge_media(db: Database, older_than_days: int | None = None, *, now: dt.datetime | None = None) -> int:
    """Delete uploaded videos and evidence snapshots of sessions older than N days (the
    retention setting when not given). Scores, findings and reviews stay. Returns files removed."""
    now = now or utcnow()
    with db.session() as s:
        days = get_settings(s)["retention_days"] if older_than_days is None else older_than_days
        if days is None:
            return 0
        limit = now - dt.timedelta(days=int(days))
        ids = list(s.scalars(select(Session.id).where(Session.created_at < limit)))
        files = _drop_media(db, s, ids)
    return _remove(files)


def _drop_media(db: Database, s: OrmSession, ids: list[int]) -> list[Path]:
    """Forget the stored video and evidence of these sessions (their results stay); the
    files to remove once the change is committed."""
    files = _session_files(db, s, ids)
    if ids:
        s.execute(delete(Evidence).where(Evidence.episode_id.in_(
            select(EpisodeRow.id).where(EpisodeRow.session_id.in_(ids)))))
        s.execute(update(Session).where(Session.id.in_(ids)).values(media_path=None, keep_evidence=False))
    return files


# -- reviews ------------------------------------------------------------------------------


def add_review(
    s: OrmSession, trainer: User, *, decision: str, episode_id: int | None = None,
    session_id: int | None = None, rule_id: str | None = None, at_ms: int | None = None, comment: str = "",
) -> Review:
    """A trainer's decision: agree/disagree on a finding, or ``missed`` (a violation the
    coach did not flag: needs session_id and rule_id; ``at_ms`` is when it happened, within
    the analysed recording, or None for one that is not at a moment, such as "never smiled",
    which is read as the whole recording). Re-reviewing replaces."""
    if trainer.role not in ("trainer", "hr_admin"):
        raise Forbidden("only trainers review findings")
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
    if decision == "missed":
        if session_id is None or not rule_id:
            raise ValueError("a missed finding needs session_id and rule_id")
        row = session_for(s, trainer, session_id)
        if row.status != "done" or row.duration_s is None:
            raise Invalid(f"session {session_id} has not been analysed ({row.status}): nothing to add a "
                          "missed violation to", reason="session_not_analysed")
        end_ms = math.ceil(row.duration_s * 1000.0)
        if at_ms is not None and not 0 <= at_ms <= end_ms:
            raise Invalid(f"at_ms {at_ms} is outside the recording (0 to {end_ms} ms)",
                          reason="missed_time_out_of_range")
        rv = Review(session_id=row.id, episode_id=None, trainer_id=trainer.id, rule_id=rule_id,
                    decision=decision, at_ms=at_ms, comment=comment)
        s.add(rv)
        s.flush()
        return rv
    if episode_id is None:
        raise ValueError("agree/disagree needs the finding (episode_id)")
    ep = s.get(EpisodeRow, episode_id)
    if ep is None or ep.kind != "finding" or ep.rule_id is None:
        raise NotFound(f"no finding {episode_id}")
    session_for(s, trainer, ep.session_id)
    old = s.scalars(select(Review).where(Review.trainer_id == trainer.id, Review.episode_id == episode_id)).first()
    if old is not None:
        old.decision, old.comment, old.created_at = decision, comment, utcnow()
        s.flush()
        return old
    rv = Review(session_id=ep.session_id, episode_id=ep.id, trainer_id=trainer.id, rule_id=ep.rule_id,
                decision=decision, at_ms=ep.peak_ms, comment=comment)
    s.add(rv)
    s.flush()
    return rv


def missed_entries(s: OrmSession, user: User, session_id: int) -> list[dict[str, Any]]:
    """The violations trainers added to a session (oldest first), each with its review id
    and whether ``user`` may delete it (the trainer who added it)."""
    session_for(s, user, session_id)
    rows = s.scalars(select(Review).where(Review.session_id == session_id, Review.decision == "missed")
                     .order_by(Review.created_at, Review.id)).all()
    names: dict[int, str] = {}
    if rows:
        names = {uid: name for uid, name in s.execute(select(User.id, User.username)
                                                      .where(User.id.in_({r.trainer_id for r in rows})))}
    return [{"id": r.id, "rule_id": r.rule_id, "at_ms": r.at_ms, "comment": r.comment,
             "trainer": names.get(r.trainer_id), "can_delete": r.trainer_id == user.id} for r in rows]


def delete_missed(s: OrmSession, user: User, session_id: int, review_id: int) -> None:
    """Delete a violation a trainer added to a session: only the trainer who added it, and
    only while they may still see the session. The row stays, marked ``withdrawn`` (no page,
    report or agreement counts it): SQLite would give a deleted row's id to the next entry,
    and a second DELETE from a stale page would then remove someone's newer one."""
    if user.role not in ("trainer", "hr_admin"):
        raise Forbidden("only trainers review findings")
    session_for(s, user, session_id)
    rv = s.get(Review, review_id)
    if rv is None or rv.session_id != session_id or rv.decision != "missed":
        raise NotFound(f"session {session_id} has no added violation {review_id}")
    if rv.trainer_id != user.id:
        raise Forbidden("only the trainer who added this entry can delete it", reason="not_your_entry")
    rv.decision = WITHDRAWN
    s.flush()


#: A deleted added violation (``delete_missed``): kept, so that its id is never reused.
WITHDRAWN = "withdrawn"


def finding_decisions(row: Session) -> dict[int, Review]:
    """The latest review of each finding in a session (any trainer)."""
    latest: dict[int, Review] = {}
    for rv in row.reviews:
        if rv.episode_id is None:
            continue
        cur = latest.get(rv.episode_id)
        if cur is None or (rv.created_at, rv.id) > (cur.created_at, cur.id):
            latest[rv.episode_id] = rv
    return latest


@dataclass(frozen=True, slots=True)
class ReviewedScores:
    overall: float | None
    rules: dict[str, float | None]
    disagreed: int


@functools.cache
def _missed_violation_s() -> float:
    from ..calibration import load_calibration

    return load_calibration().missed_violation_s


def reviewed_scores(row: Session) -> ReviewedScores:
    """Scores with the trainers' decisions applied: a disagreed finding no longer costs,
    and a violation a trainer added (one the coach missed) does: at a moment it costs its
    rule ``[scoring] missed_violation_s`` of judged time, for the whole recording all of
    it. A rule the coach could not judge at all is then judged by the trainer over the
    recording: a moment costs the same seconds of its length (a note at 6.5 s had set the
    rule to 0, 19 points off a 99 for two notes), the whole recording all of it."""
    decisions = finding_decisions(row)
    refund: dict[str, float] = {}
    n = 0
    for ep in row.episodes:
        rv = decisions.get(ep.id)
        if ep.kind == "finding" and ep.rule_id and rv is not None and rv.decision == "disagree":
            refund[ep.rule_id] = refund.get(ep.rule_id, 0.0) + ep.penalty_s
            n += 1
    added: dict[str, list[int | None]] = {}
    for rv in row.reviews:
        if rv.decision == "missed" and rv.rule_id:
            added.setdefault(rv.rule_id, []).append(rv.at_ms)
    rules: dict[str, float | None] = {}
    num = den = 0.0
    for rr in row.rule_results:
        missed = added.get(rr.rule_id, [])
        if rr.score is None or not rr.assessable_s:
            if not missed:
                rules[rr.rule_id] = rr.score
                continue
            watched = row.duration_s or 0.0
            if any(at is None for at in missed) or watched <= 0:
                sc = 0.0
            else:
                sc = max(0.0, 1.0 - len(missed) * _missed_violation_s() / watched)
            rules[rr.rule_id] = sc
            num += rr.weight * sc
            den += rr.weight
            continue
        pen = max(0.0, rr.penalty_s - refund.get(rr.rule_id, 0.0))
        if any(at is None for at in missed):
            pen = rr.assessable_s
        else:
            pen += len(missed) * _missed_violation_s()
        sc = max(0.0, min(1.0, 1.0 - pen / rr.assessable_s))
        rules[rr.rule_id] = sc
        num += rr.weight * sc
        den += rr.weight
    return ReviewedScores(None if den <= 0 else num / den, rules, n)


# -- agreement (trainer vs coach) -----------------------------------------------------------


def cohen_kappa(a: int, b: int, c: int, d: int) -> float | None:
    """Cohen's kappa of a 2×2 table: a = both yes, b = coach yes / trainer no,
    c = coach no / trainer yes, d = both no. None when chance agreement is 1 (undefined)."""
    n = a + b + c + d
    if n == 0:
        return None
    po = (a + d) / n
    pe = ((a + b) * (a + c) + (c + d) * (b + d)) / (n * n)
    if pe >= 1.0:
        return None
    return (po - pe) / (1.0 - pe)


@dataclass(slots=True)
class RuleAgreement:
    rule_id: str
    findings_reviewed: int = 0
    agreed: int = 0
    missed: int = 0
    table: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # a, b, c, d
    #: Violations a trainer added on a rule the coach could not judge in that session: the
    #: coach said nothing either way, so they are no disagreement (outside the table).
    coach_unjudged: int = 0

    @property
    def agree_pct(self) -> float | None:
        return None if not self.findings_reviewed else 100.0 * self.agreed / self.findings_reviewed

    @property
    def kappa(self) -> float | None:
        return cohen_kappa(*self.table)

    def to_dict(self) -> dict[str, Any]:
        k = self.kappa
        pct = self.agree_pct
        return {"rule_id": self.rule_id, "findings_reviewed": self.findings_reviewed, "agreed": self.agreed,
                "agree_pct": None if pct is None else round(pct, 1), "missed": self.missed,
                "units": sum(self.table), "both_yes": self.table[0], "coach_only": self.table[1],
                "trainer_only": self.table[2], "both_no": self.table[3],
                "coach_could_not_judge": self.coach_unjudged,
                "kappa": None if k is None else round(k, 4)}


def agreement(s: OrmSession, *, trainer_id: int | None = None) -> list[RuleAgreement]:
    """Per rule: findings reviewed and agreed (count, %), and Cohen's kappa over the units
    (trainer × session × rule) the trainer decided: coach yes = the coach flagged the rule
    in that session; trainer yes = they agreed with a flag or added a missed one; a unit
    with coach flags that the trainer left partly unreviewed (and agreed with none) is
    left out as undecided, and one the coach could not judge at all is no "coach no" (a
    trainer adding a violation there counted as a disagreement: ``coach_could_not_judge``)."""
    q = select(Review).where(Review.decision != WITHDRAWN)
    if trainer_id is not None:
        q = q.where(Review.trainer_id == trainer_id)
    reviews = list(s.scalars(q))
    stats: dict[str, RuleAgreement] = {}

    def st(rid: str) -> RuleAgreement:
        return stats.setdefault(rid, RuleAgreement(rid))

    by_trainer_session: dict[tuple[int, int], list[Review]] = {}
    for rv in reviews:
        by_trainer_session.setdefault((rv.trainer_id, rv.session_id), []).append(rv)
        if rv.decision == "missed":
            st(rv.rule_id).missed += 1
        else:
            st(rv.rule_id).findings_reviewed += 1
            st(rv.rule_id).agreed += rv.decision == "agree"
    for (_tid, sid), rvs in sorted(by_trainer_session.items()):
        sess = s.get(Session, sid)
        if sess is None:
            continue
        findings: dict[str, list[int]] = {}
        for ep in sess.episodes:
            if ep.kind == "finding" and ep.rule_id:
                findings.setdefault(ep.rule_id, []).append(ep.id)
        judged = {rr.rule_id for rr in sess.rule_results if rr.assessable_s} | set(findings)
        rule_ids = judged | {rv.rule_id for rv in rvs}
        mine = {rv.episode_id: rv.decision for rv in rvs if rv.episode_id is not None}
        missed = {rv.rule_id for rv in rvs if rv.decision == "missed"}
        for rid in sorted(rule_ids):
            if rid not in judged:  # the coach could not judge it here: no "coach said no"
                st(rid).coach_unjudged += rid in missed
                continue
            eps = findings.get(rid, [])
            coach = bool(eps)
            agreed = any(mine.get(e) == "agree" for e in eps)
            if agreed or rid in missed:
                trainer = True
            elif all(e in mine for e in eps):
                trainer = False
            else:
                continue  # undecided
            cell = 0 if coach and trainer else 1 if coach else 2 if trainer else 3
            st(rid).table[cell] += 1
    return [stats[k] for k in sorted(stats)]


#: A text cell starting with one of these is a formula to Excel, WPS and LibreOffice (a
#: person named "=HYPERLINK(…)" would run when HR opens the export).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs: a text starting like a
    formula gets a leading apostrophe (OWASP's advice); numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    cols = list(columns or (rows[0].keys() if rows else []))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else spreadsheet_safe(r.get(k))) for k in cols})
    return buf.getvalue()


# -- HR: the onboarding scenario per person and the cohort table ---------------------------


def attempt_complete(row: Session) -> bool:
    """A scenario attempt that ran to its end (see :func:`_ran_to_the_end`)."""
    return _ran_to_the_end(row.summary)


def _ran_to_the_end(summary: dict[str, Any] | None) -> bool:
    """A live run carries its drill's ``done``; an uploaded recording of the scenario is
    complete when it shows every step that can be told from a recording (its
    ``scenario_seen``; recordings stored before that was kept count as complete)."""
    drill = (summary or {}).get("drill")
    if isinstance(drill, dict):  # a scenario step that showed nothing (no handshake) leaves it unfinished
        return bool(drill.get("done", True)) and not (drill.get("kind") == "scenario" and drill.get("steps_not_seen"))
    seen = (summary or {}).get("scenario_seen")
    return not isinstance(seen, dict) or bool(seen.get("complete", True))


def steps_missing(row: Session) -> list[dict[str, str]]:
    """The scenario steps a recording uploaded as the scenario does not show, or a live run
    of it showed nothing in (titles in zh/en)."""
    summary = row.summary or {}
    drill = summary.get("drill")
    seen = summary.get("scenario_seen")
    missing = seen.get("missing") if isinstance(seen, dict) else None
    if isinstance(drill, dict) and drill.get("kind") == "scenario":
        missing = drill.get("steps_not_seen")
    return [m for m in missing if isinstance(m, dict)] if isinstance(missing, list) else []


def latest_scenario_session(s: OrmSession, person_id: int, scenario: str = "onboarding") -> Session | None:
    """The person's latest complete attempt at the scenario: a run stopped part-way never
    replaces one that was finished (8 s of a 64 s self-check read as a pass); the latest
    attempt of all when none was finished."""
    q = (select(Session.id, Session.summary).where(Session.person_id == person_id, Session.scenario == scenario,
                                                   Session.status == "done").order_by(Session.id.desc()))
    rows = s.execute(q).all()
    if not rows:
        return None
    for sid, summary in rows:
        if _ran_to_the_end(summary):
            return get_session(s, sid)
    return get_session(s, rows[0][0])


def cohort_table(s: OrmSession, user: User, cohort_id: int, scenario: str = "onboarding",
                 tz: dt.tzinfo | None = None) -> dict[str, Any]:
    """Per person: the latest scenario result (reviewed scores) and pass/fail per rule;
    per rule: the pass rate among the people it could be assessed for."""
    cohort = get_cohort(s, cohort_id)
    if user.role == "trainer" and cohort.trainer_id != user.id:
        raise Forbidden("not your cohort")
    if user.role not in ("trainer", "hr_admin"):
        raise Forbidden("only trainers and HR see cohort tables")
    people = sorted((m.person for m in cohort.members), key=lambda p: (p.name, p.id))
    people_rows: list[dict[str, Any]] = []
    passes: dict[str, list[int]] = {}
    for p in people:
        row = latest_scenario_session(s, p.id, scenario)
        # result: passed | failed | incomplete (stopped before the end) | not_assessable
        # (no required rule could be judged: nobody in view) | None (not done yet).
        entry: dict[str, Any] = {"person_id": p.id, "name": p.name, "session_id": None, "kind": None,
                                 "date": None, "overall": None, "passed": None, "result": None, "rules": {},
                                 "unknown_share": None, "unassessable_high": False, "missing_steps": []}
        if row is not None:
            rs = reviewed_scores(row)
            entry["session_id"] = row.id
            entry["kind"] = row.kind  # "live": saved from the live page; "recorded": an upload
            done_at = row.analysed_at or row.created_at
            # The day it was done where HR works (the server's local time), not UTC's day:
            # 07:00 in Beijing is the day before in UTC.
            entry["date"] = None if done_at is None else done_at.astimezone(tz).date().isoformat()
            entry["overall"] = None if rs.overall is None else round(rs.overall, 4)
            # A pass over what could be seen: HR sees how much could not be (the page marks it),
            # as the sessions list does.
            gap = unassessable(row, top_n=0)
            entry["unknown_share"], entry["unassessable_high"] = gap["share"], gap["high"]
            entry["result"], entry["rules"] = self_check_result(row, cohort.pass_score, rs)
            entry["missing_steps"] = steps_missing(row)
            entry["passed"] = entry["result"] == "passed"
            # Per-rule pass rates count finished attempts only: an incomplete one is not
            # the cohort's result (its person is "incomplete", not passed or failed).
            counted = entry["result"] in ("passed", "failed")
            for rid, outcome in entry["rules"].items():
                if outcome is not None and counted:
                    tally = passes.setdefault(rid, [0, 0])
                    tally[0] += outcome == "pass"
                    tally[1] += 1
        people_rows.append(entry)
    rates = {rid: {"passed": t[0], "assessed": t[1], "pass_rate": round(t[0] / t[1], 4)}
             for rid, t in sorted(passes.items())}
    return {"cohort": {"id": cohort.id, "name": cohort.name, "pass_score": cohort.pass_score},
            "scenario": scenario, "people": people_rows, "rules": rates}


def self_check_result(row: Session, pass_score: float, rs: Any = None) -> tuple[str, dict[str, str | None]]:
    """One attempt's self-check result against a pass mark, and each rule's outcome.

    Result: ``passed`` | ``failed`` | ``incomplete`` (stopped before the end) |
    ``not_assessable`` (no required rule could be judged: nobody in view). A rule is
    ``pass`` at or above the mark, ``warn`` below it when recommended (a smile, a nod, a
    bow missed only warns, as the rule itself does: it does not fail the check), ``fail``
    below it otherwise, None when it could not be judged. ``rs``: the reviewed scores."""
    rs = rs if rs is not None else reviewed_scores(row)
    outcomes: dict[str, str | None] = {}
    ok_all = True
    judged_required = 0
    for rid, sc in rs.rules.items():
        if sc is None:
            outcomes[rid] = None
            continue
        judged_required += not _recommended(rid)
        if sc >= pass_score:
            outcomes[rid] = "pass"
        elif _recommended(rid):
            outcomes[rid] = "warn"
        else:
            outcomes[rid] = "fail"
            ok_all = False
    # A recording where nobody could be judged shows no step either: "not assessable"
    # says more than "incomplete" there. A live run stopped early is incomplete first.
    live_run = isinstance((row.summary or {}).get("drill"), dict)
    if judged_required == 0 and not live_run:
        return "not_assessable", outcomes
    if not attempt_complete(row):
        return "incomplete", outcomes
    if judged_required == 0:
        return "not_assessable", outcomes
    return ("passed" if ok_all else "failed"), outcomes


def self_check_for_trainee(s: OrmSession, session_id: int) -> list[dict[str, Any]]:
    """What a trainee's saved self-check means in each of their cohorts: the result against
    that cohort's pass mark, the rules not passed, and whether it is the attempt the cohort
    counts (its latest finished one)."""
    row = get_session(s, session_id)
    if row.person_id is None or row.scenario is None:
        return []
    counted = latest_scenario_session(s, row.person_id, row.scenario)
    cohorts = s.scalars(select(Cohort).join(CohortMember, CohortMember.cohort_id == Cohort.id)
                        .where(CohortMember.person_id == row.person_id).order_by(Cohort.id)).all()
    out = []
    for c in cohorts:
        result, outcomes = self_check_result(row, c.pass_score)
        out.append({"cohort": c.name, "pass_score": c.pass_score, "result": result,
                    "not_passed": sorted(r for r, o in outcomes.items() if o == "fail"),
                    "missing_steps": steps_missing(row),
                    "counted": counted is not None and counted.id == row.id})
    return out


def _recommended(rule_id: str) -> bool:
    from ..rules import RULES_BY_ID

    cls = RULES_BY_ID.get(rule_id)
    return bool(cls is not None and cls.recommended)


#: The cohort CSV for people (``lang`` given): column names and values in that language.
_CSV_WORDS: dict[str, dict[str, str]] = {
    "zh": {"person_id": "学员编号", "name": "姓名", "session_id": "记录编号", "overall": "总分（含培训师复核）",
           "passed": "结果", "date": "日期",
           "unknown_share": "无法评估的时间（%）", "pass": "通过", "fail": "未通过", "warn": "注意",
           "not_assessable": "无法评估", "yes": "通过", "no": "未通过", "pass_rate": "各规则通过率（%）",
           "incomplete": "未完成（中途停止）", "result_not_assessable": "无法评估（需重做）",
           "incomplete_not_shown": "未完成（缺少以下步骤：{steps}）",
           "not_done": "尚未完成自检"},
    "en": {"person_id": "person id", "name": "name", "session_id": "session id",
           "overall": "overall score (after trainer review)",
           "passed": "result", "date": "date",
           "unknown_share": "not assessable (% of the time)", "pass": "passed", "fail": "not passed", "warn": "warning",
           "not_assessable": "not assessable", "yes": "passed", "no": "not passed",
           "pass_rate": "pass rate per rule (%)", "incomplete": "incomplete (stopped part-way)",
           "result_not_assessable": "not assessable (do it again)", "not_done": "self-check not done yet",
           "incomplete_not_shown": "incomplete (these steps were not seen: {steps})"},
}


def _result_cell(p: dict[str, Any], word: Any, lang: str | None) -> str:
    for_people = lang in _CSV_WORDS
    result = p.get("result")
    if result is None and p.get("session_id") is None:
        return word("not_done") if for_people else ""
    code = {"passed": "yes", "failed": "no", "not_assessable": "result_not_assessable"}.get(str(result), str(result))
    if not for_people and code == "result_not_assessable":
        code = "not_assessable"
    missing = p.get("missing_steps") or []
    if for_people and code == "incomplete" and missing:
        # A recording uploaded as the self-check that does not show every step: which.
        steps = ("、" if lang == "zh" else ", ").join(str(m.get(f"title_{lang}") or m.get("id"))
                                                    for m in missing if isinstance(m, dict))
        return str(word("incomplete_not_shown")).format(steps=steps)
    return str(word(code))


def cohort_csv(table: dict[str, Any], lang: str | None = None) -> str:
    """The cohort table as CSV: one row per person, one column per rule, and a last row
    with each rule's pass rate. Without ``lang``, for programs: rule ids as column names,
    codes (pass / fail / warn / not_assessable, yes / no) and fractions. With ``lang``
    ("zh" or "en"), for people opening it in a spreadsheet: the rule titles and the
    values in that language, scores and rates in percent."""
    from ..rules import RULES_BY_ID, catalogue_order

    rule_ids = sorted({rid for p in table["people"] for rid in p["rules"]} | set(table["rules"]),
                      key=catalogue_order)
    words = _CSV_WORDS.get(lang or "")

    def word(code: str) -> str:
        return words.get(code, code) if words else code

    def pct(x: float | None) -> Any:
        return "" if x is None else (points(x) if words else x)

    rows: list[dict[str, Any]] = []
    for p in table["people"]:
        r: dict[str, Any] = {"person_id": p["person_id"], "name": p["name"], "session_id": p["session_id"],
                             "overall": pct(p["overall"]),
                             "passed": _result_cell(p, word, lang),
                             "date": p.get("date") or "",
                             # A score over what could be seen: how much could not be, as the page says.
                             "unknown_share": pct(p.get("unknown_share"))}
        for rid in rule_ids:
            v = p["rules"].get(rid, "")
            r[rid] = word("not_assessable") if v is None else (word(v) if v else "")
        rows.append(r)
    rate_row: dict[str, Any] = {"person_id": "", "name": word("pass_rate"), "session_id": "", "overall": "",
                                "passed": "", "date": "", "unknown_share": ""}
    for rid in rule_ids:
        rr = table["rules"].get(rid)
        rate_row[rid] = "" if rr is None else pct(rr["pass_rate"])
    rows.append(rate_row)
    columns = ["person_id", "name", "session_id", "overall", "passed", "date", "unknown_share", *rule_ids]
    text = to_csv(rows, columns)
    if not words:
        return text
    # People's version: the header row in the language (each rule by its title).
    def title(rid: str) -> str:
        cls = RULES_BY_ID.get(rid)
        return rid if cls is None else (cls.title_zh if lang == "zh" else cls.title_en)

    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow([words.get(c, title(c)) for c in columns])
    return head.getvalue() + text.split("\n", 1)[1]
