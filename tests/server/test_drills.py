"""Drill data: the packaged files validate, and the runner steps and tallies."""

from __future__ import annotations

from pathlib import Path

import pytest

from posture_coach.drills import DrillRunner, load_drills, parse_drill
from posture_coach.errors import ConfigError

ONBOARDING = ["grooming", "approach", "stand_smile", "bow_greet", "handshake",
              "card_exchange", "sit_talk", "see_off"]


def test_packaged_drills_load() -> None:
    drills = load_drills()
    assert [s.id for s in drills["onboarding"].steps] == ONBOARDING
    assert drills["standing_15s"].duration_s == 15
    assert drills["sitting_20s"].duration_s == 20
    for d in drills.values():
        assert d.title_zh and d.title_en
        for s in d.steps:
            assert s.instruction_zh and s.instruction_en


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"id": "Bad Id"}, "`id`"),
        ({"steps": []}, "at least one"),
        ({"steps": [{"id": "a", "duration_s": 0}]}, "duration_s"),
        ({"posture": "lying"}, "posture"),
    ],
)
def test_invalid_drills_fail_loudly(patch: dict, message: str) -> None:  # type: ignore[type-arg]
    base = {"id": "x", "title_zh": "练", "title_en": "x", "summary_zh": "练", "summary_en": "x",
            "steps": [{"id": "a", "title_zh": "a", "title_en": "a", "instruction_zh": "a",
                       "instruction_en": "a", "duration_s": 1, "rules": ["face.smile"]}]}
    base.update(patch)
    with pytest.raises(ConfigError, match=message):
        parse_drill(base)


def test_bad_rule_id_rejected(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text(
        'id = "d"\ntitle_zh = "练"\ntitle_en = "d"\nsummary_zh = "练"\nsummary_en = "d"\n'
        '[[steps]]\nid = "a"\ntitle_zh = "a"\ntitle_en = "a"\ninstruction_zh = "a"\n'
        'instruction_en = "a"\nduration_s = 1\nrules = ["Not A Rule"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="malformed rule ids"):
        load_drills(tmp_path)


def test_runner_steps_and_scores() -> None:
    drill = load_drills()["smile"]
    runner = DrillRunner(drill, known_rules={"face.smile"})
    runner.start(0)
    for t in range(0, 16_000, 100):
        status = "fail" if 10_000 <= t < 12_000 else "pass"
        state = runner.update(t, {"face.smile": {"status": status}})
    assert state["done"]
    steps = {s["id"]: s for s in runner.result()["steps"]}
    assert steps["neutral"]["outcome"] == "not_yet_assessable"  # face.gaze is unknown here
    assert steps["smile_1"]["outcome"] == "pass"
    assert steps["smile_2"]["outcome"] == "fail"
    assert steps["smile_2"]["rules"]["face.smile_teeth"]["outcome"] == "not_yet_assessable"
    assert steps["smile_1"]["timing"] == {"rule": "face.smile", "within_s": 2.0, "hold_s": 3.0,
                                          "outcome": "pass", "onset_s": 0.0, "held_s": 4.9}


def _smile_step(statuses: list[tuple[int, str]]) -> dict:  # type: ignore[type-arg]
    """Run the smile drill with face.smile's status changing at these step times (ms)."""
    runner = DrillRunner(load_drills()["smile"], known_rules={"face.smile"})
    runner.start(0)
    first = 3_000  # smile_1 starts after the 3 s neutral step and lasts 5 s
    for t in range(0, 8_100, 100):
        status = "unknown"
        for at, st in statuses:
            if t - first >= at:
                status = st
        runner.update(t, {"face.smile": {"status": status}})
    return {s["id"]: s for s in runner.result()["steps"]}["smile_1"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("statuses", "outcome", "onset", "held"),
    [
        ([(0, "warn"), (1_500, "pass")], "pass", 1.5, 3.4),  # smiled within 2 s and held it
        ([(0, "warn"), (2_500, "pass")], "warn", 2.5, 2.4),  # too late (and so too short)
        ([(0, "pass"), (2_000, "warn"), (2_300, "pass")], "warn", 0.0, 2.6),  # a break: held 1.9 + 2.6
        ([(0, "pass"), (1_000, "unknown"), (1_500, "pass")], "pass", 0.0, 4.9),  # face lost briefly
        ([(0, "warn")], "fail", None, 0.0),  # never smiled
        ([], "not_assessable", None, 0.0),  # never seen
    ],
)
def test_a_timed_step_wants_the_smile_within_2_s_and_held_3_s(
        statuses: list[tuple[int, str]], outcome: str, onset: float | None, held: float) -> None:
    step = _smile_step(statuses)
    assert (step["timing"]["outcome"], step["timing"]["onset_s"], step["timing"]["held_s"]) == (outcome, onset, held)
    if outcome in ("warn", "fail"):  # the timing decides the step too
        assert step["outcome"] == outcome or step["outcome"] == "fail"


@pytest.mark.parametrize(
    ("timing", "message"),
    [
        ({"rule": "face.gaze", "within_s": 1, "hold_s": 1}, "one of the step's rules"),
        ({"rule": "face.smile", "within_s": 2, "hold_s": 4}, "<= the step's duration_s"),
        ({"rule": "face.smile", "within_s": -1, "hold_s": 1}, ">= 0"),
        ({"rule": "face.smile", "within_s": 1}, "exactly rule, within_s and hold_s"),
    ],
)
def test_a_bad_timing_fails_loudly(timing: dict, message: str) -> None:  # type: ignore[type-arg]
    base = {"id": "x", "title_zh": "练", "title_en": "x", "summary_zh": "练", "summary_en": "x",
            "steps": [{"id": "a", "title_zh": "a", "title_en": "a", "instruction_zh": "a",
                       "instruction_en": "a", "duration_s": 5, "rules": ["face.smile"], "timing": timing}]}
    with pytest.raises(ConfigError, match=message):
        parse_drill(base)


def test_runner_missing_event_fails_step() -> None:
    drill = load_drills()["bow"]
    runner = DrillRunner(drill, known_rules={"greeting.bow", "face.smile"})
    runner.start(0)
    for t in range(0, 6_000, 200):
        runner.update(t, {"greeting.bow": {"status": "pass"}, "face.smile": {"status": "pass"}})
    step = runner.result()["steps"][0]
    assert step["outcome"] == "fail" and step["missing_events"] == ["bow"]


def test_the_live_state_shows_a_timed_steps_progress() -> None:
    runner = DrillRunner(load_drills()["smile"], known_rules={"face.smile"})
    runner.start(0)
    state = runner.update(3_500, {"face.smile": {"status": "warn"}})  # smile_1, not smiling yet
    assert state["timing"]["onset_s"] is None and state["timing"]["within_s"] == 2.0
    for t in range(3_600, 5_100, 100):
        state = runner.update(t, {"face.smile": {"status": "pass"}})
    assert (state["timing"]["onset_s"], state["timing"]["holding_s"]) == (0.6, 1.4)
    state = runner.update(5_100, {"face.smile": {"status": "warn"}})  # the smile drops
    assert (state["timing"]["holding_s"], state["timing"]["held_s"]) == (0.0, 1.4)
    assert runner.update(8_500, {})["timing"] is None  # the rest step times nothing


def _onboarding_run(events_at: dict[str, int], judged: frozenset[str] | None = None) -> dict:  # type: ignore[type-arg]
    """The onboarding scenario run to its end: every rule passes except those not in
    ``judged`` (unknown), and the events happen at the given times (ms)."""
    drill = load_drills()["onboarding"]
    rules = {r for st in drill.steps for r in st.rules}
    runner = DrillRunner(drill, known_rules=rules)
    runner.start(0)
    for t in range(0, round(drill.duration_s * 1000) + 200, 200):
        verdicts = {r: {"status": "pass" if judged is None or r in judged else "unknown",
                        "reason": None if judged is None or r in judged else "face_too_small"} for r in rules}
        events = [{"type": kind} for kind, at in events_at.items() if at <= t < at + 200]
        runner.update(t, verdicts, events)
    return runner.result()  # type: ignore[no-any-return]


def _step_starts_ms() -> dict[str, int]:
    out, acc = {}, 0.0
    for st in load_drills()["onboarding"].steps:
        out[st.id] = round(acc * 1000)
        acc += st.duration_s
    return out


def test_the_onboarding_self_check_is_no_pass_when_a_step_showed_nothing() -> None:
    # The live page read "passed (with things to watch)" for a run whose grooming check could
    # not be judged and in which no handshake and no card were seen: the HR self-check is the
    # whole scenario, so such a run is incomplete and names the steps to do again.
    at = _step_starts_ms()
    everything = {"bow": at["bow_greet"] + 1000, "handshake": at["handshake"] + 1000,
                  "handover": at["card_exchange"] + 1000}
    full = _onboarding_run(everything)
    assert full["done"] and full["outcome"] == "pass" and full["steps_not_seen"] == []
    rules = {r for st in load_drills()["onboarding"].steps for r in st.rules}
    no_grooming = frozenset(r for r in rules if not r.startswith("grooming."))
    partial = _onboarding_run({"bow": everything["bow"]}, judged=no_grooming)
    assert partial["done"] and partial["outcome"] == "incomplete"
    assert [s["id"] for s in partial["steps_not_seen"]] == ["grooming", "handshake", "card_exchange"]
    assert partial["steps_not_seen"][1]["title_zh"] and partial["steps_not_seen"][1]["title_en"]


def test_a_practice_drill_is_judged_on_the_steps_it_could_see() -> None:
    runner = DrillRunner(load_drills()["standing_15s"])
    runner.start(0)
    for t in range(0, 15_200, 200):
        runner.update(t, {"standing.arms_crossed": {"status": "pass"}, "standing.upright": {"status": "unknown"}})
    res = runner.result()
    assert res["done"] and res["outcome"] == "pass"
    stopped = DrillRunner(load_drills()["standing_15s"])
    stopped.start(0)
    stopped.update(1000, {"standing.arms_crossed": {"status": "fail"}})
    assert stopped.result()["outcome"] == "incomplete"


def test_an_action_that_ran_over_a_steps_end_belongs_to_that_step() -> None:
    # A handshake closes when the hands part: one begun near the end of the handshake step
    # closed in the card step and was counted there, and the self-check read "handshake
    # not seen". Events count where their time lies, give or take a second.
    at = _step_starts_ms()
    drill = load_drills()["onboarding"]
    runner = DrillRunner(drill, known_rules={r for st in drill.steps for r in st.rules})
    runner.start(0)
    shake = {"type": "handshake", "start_ms": at["card_exchange"] - 1500, "end_ms": at["card_exchange"] + 400}
    early_card = {"type": "handover", "start_ms": at["card_exchange"] - 700, "end_ms": at["card_exchange"] + 2000}
    for t in range(0, at["sit_talk"] + 200, 200):
        events = [shake] if t == at["card_exchange"] + 600 else [early_card] if t == at["card_exchange"] + 2200 else []
        runner.update(t, {"handshake.lean": {"status": "pass"}, "handover.two_hands": {"status": "pass"}}, events)
    steps = {st["id"]: st for st in runner.result()["steps"]}
    assert steps["handshake"]["missing_events"] == []
    assert steps["card_exchange"]["missing_events"] == []  # began 0.7 s before its step: within the grace


def test_an_action_made_outside_its_step_is_said_with_its_time() -> None:
    # The self-check said "no handshake" in the handshake step while the rule table above
    # judged two handshakes: they came at other times. The step now says when.
    at = _step_starts_ms()
    drill = load_drills()["onboarding"]
    runner = DrillRunner(drill, known_rules={r for st in drill.steps for r in st.rules})
    runner.start(0)
    shake = {"type": "handshake", "start_ms": 7_700, "end_ms": 9_700}  # long before its step
    for t in range(0, at["sit_talk"] + 200, 200):
        runner.update(t, {"handshake.lean": {"status": "pass"}}, [shake] if t == 10_000 else [])
    assert at["handshake"] > 9_700 + 1_000  # the handshake step comes well after it
    steps = {st["id"]: st for st in runner.result()["steps"]}
    assert steps["handshake"]["missing_events"] == ["handshake"]
    assert steps["handshake"]["missing_seen_at"] == {"handshake": [7.7]}
    from posture_coach import report as rep

    html = rep._steps_html(runner.result()["steps"], "zh")
    assert "握手出现在第 7.7 秒，不在本步骤时间内" in html


def test_a_timed_step_cut_off_by_a_stop_is_no_pass() -> None:
    # Stopped 0.6 s into the smile step: "微笑 通过" beside "held 0.6 of the 3 s asked".
    runner = DrillRunner(load_drills()["smile"], known_rules={"face.smile"})
    runner.start(0)
    for t in range(0, 3_700, 100):  # smile_1 starts at 3 s
        runner.update(t, {"face.smile": {"status": "pass"}})
    step = {s["id"]: s for s in runner.result()["steps"]}["smile_1"]
    assert step["timing"]["outcome"] == "warn" and step["outcome"] == "warn"
