"""Scoring arithmetic: compliant share of assessable time, weights, unknown shares."""

from __future__ import annotations

import pytest

from posture_coach.scoring import overall_score, points, rule_score, summarise
from posture_coach.temporal import Episode
from posture_coach.timeline import RuleTrack, Timeline


def test_rule_score_is_compliant_share() -> None:
    assert rule_score(RuleTrack("r", assessable=10_000, penalty=2_500)) == 0.75
    assert rule_score(RuleTrack("r", assessable=0, unknown=5_000)) is None
    assert rule_score(RuleTrack("r", assessable=1_000, penalty=5_000)) == 0.0


def test_overall_is_weighted_mean_of_available_scores() -> None:
    scores = {"a": 1.0, "b": 0.5, "c": None}
    assert overall_score(scores, {"a": 1.0, "b": 3.0}) == pytest.approx((1.0 + 1.5) / 4)
    assert overall_score({"c": None}, {}) is None


def test_video_timeline_counts_only_counted_episodes() -> None:
    tl = Timeline(["r"], warn_credit=0.5, unit="ms")
    for _ in range(100):
        tl.tick(0)
        tl.record("r", "pass", None, 100.0)  # 10 s assessable
    ep = Episode("r", 1000, 3000, "fail", 12.0, fail_ms=1500, warn_ms=500)
    tl.add_episode(ep, counted=True)
    tl.add_episode(Episode("r", 5000, 5100, "fail", fail_ms=100), counted=False)
    s = summarise(tl, {}, "video")
    r = s.rules["r"]
    assert r.score == pytest.approx(1 - (1500 + 0.5 * 500) / 10_000)
    assert r.assessable_s == pytest.approx(10.0)
    assert len(r.episodes) == 1 and r.episodes[0]["peak"] == 12.0


def test_image_mode_scores_per_image() -> None:
    tl = Timeline(["r"], warn_credit=0.5, unit="frame")
    for status in ("pass", "warn", "fail", "unknown"):
        tl.tick(0)
        tl.record("r", status, "hips_not_visible" if status == "unknown" else None, 1.0)  # type: ignore[arg-type]
    s = summarise(tl, {}, "image")
    r = s.rules["r"]
    assert r.score == pytest.approx((1 + 0.5 + 0) / 3)
    assert r.assessable_s is None and r.assessable_frames == 3
    assert r.unknown_share == pytest.approx(0.25)
    assert s.unknown_share == pytest.approx(0.25)
    assert s.top_reasons[0][0] == "hips_not_visible"


def test_summary_to_dict_is_json_ready() -> None:
    import json

    tl = Timeline(["a", "b"], warn_credit=1.0, unit="ms")
    tl.tick(0)
    tl.record("a", "pass", None, 40.0)
    tl.record("b", "unknown", "legs_not_visible", 40.0)
    d = summarise(tl, {"a": 2.0}, "video").to_dict()
    json.dumps(d)
    assert d["overall_score"] == 1.0
    assert d["rules"]["b"]["score"] is None
    assert d["rules"]["b"]["top_reason"] == "legs_not_visible"


def test_an_event_rule_is_summarised_by_why_it_could_not_judge_not_by_waiting() -> None:
    tl = Timeline(["handshake.lean"], warn_credit=0.5, unit="ms")
    for t, reason in ((0, "no_event_yet"), (2000, "event_in_progress"), (4000, "side_view_needed")):
        tl.tick(t)
        tl.record("handshake.lean", "unknown", reason, 2000.0 if reason != "side_view_needed" else 67.0)
    assert summarise(tl, {}, "video").rules["handshake.lean"].top_reason == "side_view_needed"
    only_waiting = Timeline(["gesture.open_palm"], warn_credit=0.5, unit="ms")
    only_waiting.tick(0)
    only_waiting.record("gesture.open_palm", "unknown", "no_event_yet", 6000.0)
    assert summarise(only_waiting, {}, "video").rules["gesture.open_palm"].top_reason == "no_event_yet"


def test_time_a_rule_did_not_apply_is_not_called_unassessable() -> None:
    # A standing session: the sitting rule says "not sitting" all along and the handshake
    # rule waits for a handshake. Neither is time the coach could not see; a standing rule
    # that lost the hips for 2 of 10 s is.
    tl = Timeline(["stand", "sit", "shake"], warn_credit=0.5, unit="ms")
    for i in range(100):
        tl.tick(0)
        tl.record("stand", "unknown" if i < 20 else "pass", "hips_not_visible" if i < 20 else None, 100.0)  # type: ignore[arg-type]
        tl.record("sit", "unknown", "not_sitting", 100.0)
        tl.record("shake", "unknown", "no_event_yet", 100.0)
    s = summarise(tl, {}, "video")
    assert s.unknown_share == pytest.approx(0.2)
    assert s.rules["stand"].unknown_share == pytest.approx(0.2)
    assert s.rules["sit"].unknown_share == 0.0 and s.rules["sit"].score is None
    assert s.rules["sit"].top_reason == "not_sitting"  # the rule's own line still says why
    assert [r for r, _ in s.top_reasons] == ["hips_not_visible"]
    # The live summary folds the rules that never applied: the summary says which.
    assert s.rules["sit"].to_dict()["not_applied"] is True
    assert s.rules["stand"].to_dict()["not_applied"] is False


def test_practice_alone_has_no_customer_so_the_customer_rules_did_not_apply() -> None:
    # A self-check done alone: the distance and three-metre smile rules had no customer to
    # be judged against. That is not time the coach failed to see (HR read "58 % not
    # assessable" beside a pass); a face the coach could not read is.
    tl = Timeline(["smile", "distance"], warn_credit=0.5, unit="ms")
    for i in range(100):
        tl.tick(0)
        tl.record("smile", "unknown" if i < 10 else "pass", "face_not_read" if i < 10 else None, 100.0)  # type: ignore[arg-type]
        tl.record("distance", "unknown", "no_customer_in_view", 100.0)
    s = summarise(tl, {}, "video")
    assert s.unknown_share == pytest.approx(0.1)
    assert [r for r, _ in s.top_reasons] == ["face_not_read"]
    assert s.rules["distance"].to_dict()["not_applied"] is True


def test_a_check_that_ran_only_in_its_step_is_summarised_by_what_it_saw_there() -> None:
    # A scenario: the nails are checked in its 8 s grooming step (hands not shown for 2 s of
    # it) and not at all in the other 56 s. The summary says why they were not judged in
    # the step, and the time the check did not run is not "could not see".
    tl = Timeline(["grooming.nails"], warn_credit=0.5, unit="ms")
    tl.tick(0)
    tl.record("grooming.nails", "unknown", "grooming_not_measured", 56_000.0)
    tl.record("grooming.nails", "unknown", "hands_not_visible", 2000.0)
    tl.record("grooming.nails", "pass", None, 6000.0)
    s = summarise(tl, {}, "video")
    assert s.rules["grooming.nails"].top_reason == "hands_not_visible"
    assert s.rules["grooming.nails"].unknown_share == pytest.approx(0.25)
    never = Timeline(["grooming.badge"], warn_credit=0.5, unit="ms")
    never.tick(0)
    never.record("grooming.badge", "unknown", "grooming_not_measured", 64_000.0)
    summary = summarise(never, {}, "video").rules["grooming.badge"].to_dict()
    assert summary["top_reason"] == "grooming_not_measured" and summary["not_applied"] is True


def test_a_video_of_one_frame_is_all_unknown_not_zero_unknown() -> None:
    # One frame stands for no time: nothing was judged, so nothing is "0 % not assessable".
    tl = Timeline(["r", "s"], warn_credit=0.5, unit="ms")
    tl.tick(0)
    tl.record("r", "unknown", "no_person", 0.0)
    tl.record("s", "unknown", "not_sitting", 0.0)  # a rule that did not apply says nothing
    s = summarise(tl, {}, "video")
    assert s.overall_score is None
    assert s.unknown_share == 1.0 and s.rules["r"].unknown_share == 1.0
    assert s.rules["s"].unknown_share == 0.0


def test_a_moment_without_the_person_does_not_explain_a_rule_waiting_for_its_action() -> None:
    from posture_coach.scoring import top_reason

    # Waiting for the card to be looked at the whole run; the person was missed on one frame.
    assert top_reason({"no_event_yet": 60_000.0, "no_person": 66.0}) == "no_event_yet"
    # Missing for a real share of the time, it is the reason.
    assert top_reason({"no_event_yet": 60_000.0, "no_person": 20_000.0}) == "no_person"
    # A telling reason that is not a blip still wins over waiting, however short.
    assert top_reason({"event_in_progress": 3_000.0, "side_view_needed": 66.0}) == "side_view_needed"


def _judged(rule_id: str, seconds: float, unit: str = "ms") -> Timeline:
    tl = Timeline([rule_id], warn_credit=0.5, unit=unit)  # type: ignore[arg-type]
    tl.tick(0)
    tl.record(rule_id, "pass", None, seconds * 1000.0 if unit == "ms" else 1.0)
    return tl


def test_a_frame_rule_scored_on_a_moment_says_its_evidence_is_thin() -> None:
    thin = {"standing.upright": 3.0}
    moment = summarise(_judged("standing.upright", 0.4), {}, "video", thin_evidence_s=thin)
    assert moment.rules["standing.upright"].score == 1.0  # still scored, from what was seen
    assert moment.rules["standing.upright"].to_dict()["thin_evidence"] is True
    minute = summarise(_judged("standing.upright", 60.0), {}, "video", thin_evidence_s=thin)
    assert minute.rules["standing.upright"].to_dict()["thin_evidence"] is False


def test_an_event_rule_counts_the_events_it_judged_never_thin_seconds() -> None:
    # A handshake's lean is judged once, on the handshake's close: one frame of "time".
    d = summarise(_judged("handshake.lean", 0.067), {}, "video",
                  on_close=frozenset({"handshake.lean"})).rules["handshake.lean"].to_dict()
    assert d["events_judged"] == 1 and d["thin_evidence"] is False
    frame_rule = summarise(_judged("standing.upright", 5.0), {}, "video")
    assert frame_rule.rules["standing.upright"].to_dict()["events_judged"] is None


def test_gesture_rules_judged_frame_by_frame_mark_a_score_from_a_moment_as_thin() -> None:
    # Open palm and hands off the face pass on every frame between their events: their
    # score is a share of time, so 1.1 s of it is too little to rely on, as on the page.
    from posture_coach.calibration import load_calibration
    from posture_coach.engine import CoachEngine

    cal = load_calibration()
    engine = CoachEngine(cal, mode="video")
    thin = {r.id: cal.thin_evidence_s for r in engine.rules if r.evidence_in_time}
    assert {"gesture.open_palm", "gesture.face_touching"} <= thin.keys()
    assert "handshake.lean" not in thin  # judged once per event
    d = summarise(_judged("gesture.open_palm", 1.1), {}, "video", thin_evidence_s=thin).rules
    assert d["gesture.open_palm"].to_dict()["thin_evidence"] is True


def test_photos_have_no_time_so_no_thin_evidence() -> None:
    d = summarise(_judged("standing.upright", 1.0, unit="frame"), {}, "image",
                  thin_evidence_s={"standing.upright": 3.0})
    assert d.rules["standing.upright"].to_dict()["thin_evidence"] is False


@pytest.mark.parametrize(("share", "shown"), [(0.625, 63), (0.6245, 62), (0.865, 87), (1.0, 100), (0.0, 0), (0.004, 0)])
def test_a_score_reads_the_same_whole_points_everywhere(share: float, shown: int) -> None:
    # Halves up, as the live page's Math.round: Python's round(86.5) is 86.
    assert points(share) == shown
