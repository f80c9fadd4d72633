"""The session's record: per rule, how long it could be judged, why not otherwise, and
the episodes (counted violations); plus the session's events.

Time is counted in milliseconds for video and in images for image mode (``unit``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from posture_coach.rules.base import Status
from posture_coach.temporal import Episode

Unit = Literal["ms", "frame"]


@dataclass(slots=True)
class RuleTrack:
    """Accumulated facts about one rule over a session."""

    rule_id: str
    assessable: float = 0.0  # ms (video) or images (image mode) with a real verdict
    unknown: float = 0.0
    assessable_frames: int = 0
    #: Non-compliant amount: fail time + (1 - warn_credit) * warn time, counted episodes
    #: only (video), or per image (image mode).
    penalty: float = 0.0
    episodes: list[Episode] = field(default_factory=list)
    reasons: dict[str, float] = field(default_factory=dict)  # reason -> time unknown


class Timeline:
    """Collects per-frame statuses and episodes for scoring and reports."""

    def __init__(self, rule_ids: Iterable[str], warn_credit: float, unit: Unit) -> None:
        self.unit = unit
        self.warn_credit = warn_credit
        self.rules: dict[str, RuleTrack] = {rid: RuleTrack(rid) for rid in rule_ids}
        self.events: list[dict[str, Any]] = []
        self.frames = 0
        self.first_ms: int | None = None
        self.last_ms: int | None = None

    def tick(self, t_ms: int) -> None:
        """Start a new frame."""
        self.frames += 1
        if self.first_ms is None:
            self.first_ms = t_ms
        self.last_ms = t_ms

    def record(self, rule_id: str, status: Status, reason: str | None, amount: float) -> None:
        """One frame's (debounced) status; ``amount`` = the time or images it stands for."""
        tr = self.rules[rule_id]
        if status == "unknown":
            tr.unknown += amount
            if reason:
                tr.reasons[reason] = tr.reasons.get(reason, 0.0) + max(amount, 1.0)
            return
        tr.assessable += amount
        tr.assessable_frames += 1
        if self.unit == "frame":
            tr.penalty += self.frame_penalty(status) * amount

    def frame_penalty(self, status: Status) -> float:
        return 1.0 if status == "fail" else (1.0 - self.warn_credit) if status == "warn" else 0.0

    def add_episode(self, ep: Episode, counted: bool) -> None:
        """A closed episode; only counted ones (long enough) cost score."""
        if not counted:
            return
        tr = self.rules[ep.rule_id]
        tr.episodes.append(ep)
        tr.penalty += ep.fail_ms + (1.0 - self.warn_credit) * ep.warn_ms

    def add_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    @property
    def duration_ms(self) -> int:
        if self.first_ms is None or self.last_ms is None:
            return 0
        return self.last_ms - self.first_ms
