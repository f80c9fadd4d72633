"""Scores: per rule, the share of assessable time that was compliant; overall, the
weighted mean over the rules that could be assessed at all.

A rule that was never assessable has no score (``None``) and does not drag the overall
score up or down: "could not see" is reported as the unknown share and its reasons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from posture_coach.timeline import RuleTrack, Timeline


def rule_score(track: RuleTrack) -> float | None:
    """Compliant share of the assessable time (0..1), or ``None`` if never assessable."""
    if track.assessable <= 0:
        return None
    return max(0.0, min(1.0, 1.0 - track.penalty / track.assessable))


def overall_score(
    scores: Mapping[str, float | None], weights: Mapping[str, float]
) -> float | None:
    """Weighted mean of the available rule scores (weight 1.0 unless given)."""
    num = den = 0.0
    for rid, s in scores.items():
        if s is None:
            continue
        w = weights.get(rid, 1.0)
        num += w * s
        den += w
    return None if den <= 0 else num / den


def points(share: float) -> int:
    """A score (0..1) as the whole points people read, halves up as the browser's
    ``Math.round`` does: every page, report, CSV and command shows the same number
    (Python's ``round`` and ``:.0f`` take 62.5 to 62, the page to 63)."""
    return math.floor(100.0 * share + 0.5)


@dataclass(frozen=True, slots=True)
class RuleSummary:
    rule_id: str
    score: float | None
    assessable_s: float | None  # None in image mode
    assessable_frames: int
    unknown_share: float  # of the time the rule applied, the share it could not judge
    episodes: tuple[dict[str, Any], ...]
    top_reason: str | None
    #: An event rule (a handshake's lean) is judged once per event, on its close: its
    #: assessable frames count events, and its assessable time is a frame per event.
    judged_on_close: bool = False
    #: A score that rests on less judged time than the calibration's ``thin_evidence_s``
    #: (frame rules only): 100 from half a second seen is not 100 from a minute.
    thin_evidence: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": None if self.score is None else round(self.score, 4),
            "assessable_s": None if self.assessable_s is None else round(self.assessable_s, 3),
            "assessable_frames": self.assessable_frames,
            "events_judged": self.assessable_frames if self.judged_on_close and self.assessable_s is not None
            else None,
            "thin_evidence": self.thin_evidence,
            "unknown_share": round(self.unknown_share, 4),
            "episodes": list(self.episodes),
            "top_reason": self.top_reason,
            # Never judged, and what kept it unjudged was that it did not apply (no
            # handshake happened, the person never sat): the live summary folds these away.
            "not_applied": self.score is None and self.top_reason in NOT_APPLICABLE_REASONS,
        }


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """The end-of-session scores (what ``--format json`` prints)."""

    mode: str
    frames: int
    duration_s: float
    overall_score: float | None
    unknown_share: float  # over all rules, of the time each applied: not judged (NOT_APPLICABLE_REASONS left out)
    top_reasons: tuple[tuple[str, float], ...]
    rules: Mapping[str, RuleSummary]
    events: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "frames": self.frames,
            "duration_s": round(self.duration_s, 3),
            "overall_score": None if self.overall_score is None else round(self.overall_score, 4),
            "unknown_share": round(self.unknown_share, 4),
            "top_reasons": [{"reason": r, "share": round(s, 4)} for r, s in self.top_reasons],
            "rules": {rid: r.to_dict() for rid, r in self.rules.items()},
            "events": list(self.events),
        }


#: Unknown reasons that only say an event rule is waiting for (or inside) its event.
WAITING_REASONS = frozenset({"no_event_yet", "event_in_progress"})
#: Unknown reasons that say a rule did not apply (a sitting rule while the person stands,
#: an event rule with no event, the resting stance while the hands hand something over),
#: not that the coach could not see: such time is left out of "not assessable".
#: A check that only runs when asked for (the grooming measure runs in a grooming drill step)
#: did not run: it did not apply then, and says less than why it could not judge when it ran.
NOT_RUN_REASONS = frozenset({"grooming_not_measured"})
#: No customer in view (practice alone, where the camera is no customer; a role-play's
#: customer out of the picture): a rule about the customer had nobody to be judged against.
NOT_APPLICABLE_REASONS = WAITING_REASONS | NOT_RUN_REASONS | {"not_standing", "not_sitting", "hands_in_use",
                                                              "courtesy_lean", "no_customer_in_view", "walking"}


#: From this share of the time not assessable, a score says more about what could be seen
#: than about the person: the report, the review page and the cohort view say so.
MOSTLY_UNASSESSABLE = 0.5


#: Reasons that say the whole picture was missing, not why this rule could not judge: they
#: summarise a rule only when they are at least ``BLIP_SHARE`` of its unknown time.
BLIP_REASONS = frozenset({"no_person"})
BLIP_SHARE = 0.05


def top_reason(reasons: Mapping[str, float]) -> str | None:
    """A rule's most frequent unknown reason, preferring one that says why it could not be
    judged: a handshake's lean that was "in progress" for 3 s and then needed a side view
    for one frame is summarised as ``side_view_needed``; nails not seen in the grooming
    step of a scenario as ``hands_not_visible``, not as the rest of the scenario's "not run"."""
    quiet = WAITING_REASONS | NOT_RUN_REASONS
    total = sum(reasons.values())
    # A person lost for a moment (the first frame, a turn) does not explain a rule that was
    # waiting for its action the whole time: "no person in view" must be a real share.
    blips = {r for r, n in reasons.items() if r in BLIP_REASONS and total > 0 and n < BLIP_SHARE * total}
    telling = {r: n for r, n in reasons.items() if r not in quiet and r not in blips} or dict(reasons)
    return max(telling, key=telling.__getitem__) if telling else None


def _said_why(reasons: Mapping[str, float]) -> bool:
    return any(n > 0 for r, n in reasons.items() if r not in NOT_APPLICABLE_REASONS)


def thin_evidence(score: float | None, assessable_s: float | None, threshold_s: float) -> bool:
    """Does a score rest on less judged time than ``threshold_s``? Never for a photo (no
    time) or a rule without a score; a threshold of 0 (an event rule's) never."""
    return score is not None and assessable_s is not None and assessable_s < threshold_s


def summarise(timeline: Timeline, weights: Mapping[str, float], mode: str,
              top_n: int = 3, *, on_close: frozenset[str] = frozenset(),
              thin_evidence_s: Mapping[str, float] | None = None) -> SessionSummary:
    """Turn a session's timeline into scores. ``on_close`` names the rules judged once per
    event; a rule's score on less judged time than its ``thin_evidence_s`` is marked."""
    thin_s = thin_evidence_s or {}
    video = timeline.unit == "ms"
    rules: dict[str, RuleSummary] = {}
    reasons: dict[str, float] = {}
    seen = unknown = 0.0
    for rid, tr in timeline.rules.items():
        na = sum(n for r, n in tr.reasons.items() if r in NOT_APPLICABLE_REASONS)
        blind = max(0.0, tr.unknown - na)  # the rule applied but could not be judged
        total = tr.assessable + blind
        seen += total
        unknown += blind
        for r, n in tr.reasons.items():
            if r not in NOT_APPLICABLE_REASONS:
                reasons[r] = reasons.get(r, 0.0) + n
        score = rule_score(tr)
        assessable_s = tr.assessable / 1000.0 if video else None
        rules[rid] = RuleSummary(
            rule_id=rid,
            score=score,
            assessable_s=assessable_s,
            assessable_frames=tr.assessable_frames,
            # No time at all (a one-frame video): judged on nothing, so all of it unknown
            # when the rule left a reason, not "0 % unknown" beside no score.
            unknown_share=blind / total if total > 0 else (1.0 if _said_why(tr.reasons) else 0.0),
            episodes=tuple(ep.to_dict() for ep in tr.episodes),
            top_reason=top_reason(tr.reasons),
            judged_on_close=rid in on_close,
            thin_evidence=thin_evidence(score, assessable_s, thin_s.get(rid, 0.0)),
        )
    reason_total = sum(reasons.values())
    ranked = sorted(reasons.items(), key=lambda kv: -kv[1])[:top_n]
    top = tuple((r, n / reason_total) for r, n in ranked) if reason_total else ()
    return SessionSummary(
        mode=mode,
        frames=timeline.frames,
        duration_s=timeline.duration_ms / 1000.0,
        overall_score=overall_score({r: s.score for r, s in rules.items()}, weights),
        unknown_share=unknown / seen if seen > 0 else (1.0 if reason_total > 0 else 0.0),
        top_reasons=top,
        rules=rules,
        events=tuple(timeline.events),
    )
