"""The database schema: SQLAlchemy 2 ORM classes (typed ``Mapped[...]``).

Times are timezone-aware UTC. Media paths are relative to the data directory, so a
database and its data directory move together. Deleting a person cascades to their
sessions, results, evidence, reviews and jobs; :mod:`posture_coach.store.repo` removes
the files on disk in the same call.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("trainee", "trainer", "hr_admin")
SESSION_KINDS = ("live", "recorded")
SESSION_STATUSES = ("queued", "running", "done", "failed")
JOB_STATUSES = ("queued", "running", "done", "failed")
DECISIONS = ("agree", "disagree", "missed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass UTC-aware times")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Person(Base):
    """Someone who is filmed (a trainee). Consent is recorded before any media is kept."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    consent_media: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sessions: Mapped[list[Session]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True)
    memberships: Mapped[list[CohortMember]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True)
    user: Mapped[User | None] = relationship(back_populates="person")


class User(Base):
    """A login. A trainee's user points at their person row. A ``disabled`` login (someone
    who left) cannot sign in; their person, sessions and reviews stay."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    person: Mapped[Person | None] = relationship(back_populates="user")


class Cohort(Base):
    """An onboarding group; trainers see the sessions of their cohorts' members."""

    __tablename__ = "cohorts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: A rule passes for a person when its score reaches this (0..1).
    pass_score: Mapped[float] = mapped_column(Float, default=0.8)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[CohortMember]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", passive_deletes=True)


class CohortMember(Base):
    __tablename__ = "cohort_members"
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)

    cohort: Mapped[Cohort] = relationship(back_populates="members")
    person: Mapped[Person] = relationship(back_populates="memberships")


class Session(Base):
    """One practice (live) or one analysed recording."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="recorded")
    scenario: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    media_path: Mapped[str | None] = mapped_column(String(500))
    keep_evidence: Mapped[bool] = mapped_column(Boolean, default=False)
    posture: Mapped[str] = mapped_column(String(16), default="auto")
    stride: Mapped[int] = mapped_column(Integer, default=1)
    #: A two-person role-play: the trainee is on this side of the image ("left"/"right").
    role_play: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    duration_s: Mapped[float | None] = mapped_column(Float)
    frames: Mapped[int | None] = mapped_column(Integer)
    overall_score: Mapped[float | None] = mapped_column(Float)
    unknown_share: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    analysed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    person: Mapped[Person | None] = relationship(back_populates="sessions")
    rule_results: Mapped[list[RuleResult]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True,
        order_by="RuleResult.id")
    episodes: Mapped[list[EpisodeRow]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True,
        order_by="EpisodeRow.start_ms")
    reviews: Mapped[list[Review]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True)
    jobs: Mapped[list[Job]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def failure_reason(self) -> str | None:
        """Why its analysis failed: the latest job's ``error_reason`` (a key of
        :data:`posture_coach.errors.REASON_TEXTS`); None for a session that did not fail."""
        if self.status != "failed" or not self.jobs:
            return None
        return max(self.jobs, key=lambda j: j.id).error_reason or None


class RuleResult(Base):
    """One rule's score in one session (penalty and assessable time kept for re-scoring)."""

    __tablename__ = "rule_results"
    __table_args__ = (UniqueConstraint("session_id", "rule_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    assessable_s: Mapped[float | None] = mapped_column(Float)
    penalty_s: Mapped[float] = mapped_column(Float, default=0.0)
    unknown_share: Mapped[float] = mapped_column(Float, default=0.0)
    top_reason: Mapped[str | None] = mapped_column(String(64))
    reasons: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Frames with a verdict; an event rule judges each event on one frame, so for it this
    # is the number of events judged. NULL for sessions stored before revision 0004.
    judged_frames: Mapped[int | None] = mapped_column(Integer)

    session: Mapped[Session] = relationship(back_populates="rule_results")


class EpisodeRow(Base):
    """A counted violation (a "finding") or an event such as a handshake."""

    __tablename__ = "episodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="finding")  # finding | event
    rule_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int | None] = mapped_column(Integer)
    peak: Mapped[float | None] = mapped_column(Float)
    peak_ms: Mapped[int | None] = mapped_column(Integer)
    peak_frame: Mapped[int | None] = mapped_column(Integer)
    penalty_s: Mapped[float] = mapped_column(Float, default=0.0)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    session: Mapped[Session] = relationship(back_populates="episodes")
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", passive_deletes=True)
    reviews: Mapped[list[Review]] = relationship(back_populates="episode", passive_deletes=True)


class Evidence(Base):
    """A snapshot file on disk (only when the user asked to keep evidence)."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # snapshot | teeth
    path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    episode: Mapped[EpisodeRow] = relationship(back_populates="evidence")


class Review(Base):
    """A trainer's decision on a finding (agree / disagree) or a finding the coach missed."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("trainer_id", "episode_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    at_ms: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[Session] = relationship(back_populates="reviews")
    episode: Mapped[EpisodeRow | None] = relationship(back_populates="reviews")


class Job(Base):
    """Analysis of one recorded session; ``claim`` fences off a worker presumed dead."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    claim: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    #: Why it failed, a key of :data:`posture_coach.errors.REASON_TEXTS` (shown in zh/en).
    error_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[Session] = relationship(back_populates="jobs")


class AuthSession(Base):
    """A signed-in browser: the cookie holds a random token; only its hash is stored."""

    __tablename__ = "auth_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Setting(Base):
    """Installation settings (retention days, …) as key/JSON value."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
