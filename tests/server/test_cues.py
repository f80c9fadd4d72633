"""Live cues: sparse, and the most urgent one first (server/live.CueGate)."""

from __future__ import annotations

from posture_coach.server.live import CueGate


def _gate() -> CueGate:
    # The product's timing: a finding held 2 s earns a cue, 10 s rest per rule, 4 s between cues.
    return CueGate(2000, 10_000, 4000, recommended=frozenset({"standing.hands_front"}))


def _run(gate: CueGate, frames: dict[int, dict[str, str]]) -> list[tuple[int, str, str]]:
    said = []
    for t, statuses in sorted(frames.items()):
        for rid, status in gate.update(t, {r: {"status": s} for r, s in statuses.items()}):
            said.append((t, rid, status))
    return said


def test_crossed_arms_are_cued_when_due_not_held_back_by_a_hint_given_just_before() -> None:
    # Hands hanging at the sides since 0 s (a recommended rule warns); the arms cross at
    # 2.5 s. The hint comes at 2 s; "uncross your arms" must follow at 4.5 s, not after 6 s.
    frames = {t: {"standing.hands_front": "warn"} for t in range(0, 2500, 100)}
    frames.update({t: {"standing.hands_front": "warn", "standing.arms_crossed": "fail"}
                   for t in range(2500, 8000, 100)})
    said = _run(_gate(), frames)
    assert said[:2] == [(2000, "standing.hands_front", "warn"), (4500, "standing.arms_crossed", "fail")]


def test_cues_of_equal_urgency_keep_their_distance() -> None:
    frames = {t: {"standing.arms_crossed": "fail", "standing.hands_on_hips": "fail"} for t in range(0, 9000, 100)}
    said = _run(_gate(), frames)
    assert [t for t, _, _ in said] == [2000, 6000]
    assert {r for _, r, _ in said} == {"standing.arms_crossed", "standing.hands_on_hips"}


def test_a_fail_is_cued_before_a_warn_and_a_required_rule_before_a_recommended_one() -> None:
    both = {t: {"face.expression": "warn", "face.smile_teeth": "fail"} for t in range(0, 2100, 100)}
    assert _run(_gate(), both)[0][1] == "face.smile_teeth"
    warns = {t: {"standing.hands_front": "warn", "standing.shoulders_level": "warn"} for t in range(0, 2100, 100)}
    assert _run(_gate(), warns)[0][1] == "standing.shoulders_level"


def test_a_flicker_is_not_cued() -> None:
    frames = {t: {"standing.arms_crossed": "fail" if t % 1000 < 900 else "pass"} for t in range(0, 10_000, 100)}
    assert _run(_gate(), frames) == []


def test_no_lesser_hint_while_a_more_urgent_problem_goes_on_between_its_cues() -> None:
    # The live page showed "clasp your hands in front" 4 s after "uncross your arms" while the
    # arms were still crossed and their card red: the hint pointed away from what was wrong.
    frames = {t: {"standing.arms_crossed": "fail", "standing.hands_front": "warn"} for t in range(0, 15_000, 100)}
    frames.update({t: {"standing.hands_front": "warn"} for t in range(15_000, 20_000, 100)})
    said = _run(_gate(), frames)
    assert said == [(2000, "standing.arms_crossed", "fail"), (12_000, "standing.arms_crossed", "fail"),
                    (16_000, "standing.hands_front", "warn")]  # once the arms are uncrossed


def test_no_lesser_hint_when_a_more_urgent_problem_comes_back_while_its_cue_rests() -> None:
    # Arms crossed (cued at 2 s), uncrossed at 4 s, crossed again at 5.9 s while their cue
    # still rests: the hands-in-front hint, due at 6 s, was given over red arms (the arms
    # were not yet held the 2 s a cue of their own needs).
    frames = {t: {"standing.arms_crossed": "fail", "standing.hands_front": "warn"} for t in range(0, 4000, 100)}
    frames.update({t: {"standing.arms_crossed": "pass", "standing.hands_front": "warn"}
                   for t in range(4000, 5900, 100)})
    frames.update({t: {"standing.arms_crossed": "fail", "standing.hands_front": "warn"}
                   for t in range(5900, 12_500, 100)})
    said = _run(_gate(), frames)
    assert said == [(2000, "standing.arms_crossed", "fail"), (12_000, "standing.arms_crossed", "fail")], said
