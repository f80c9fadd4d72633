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
    for t in range(0, 14_000, 100):
        status = "fail" if 9_000 <= t < 11_000 else "pass"
        state = runner.update(t, {"face.smile": {"status": status}})
    assert state["done"]
    steps = {s["id"]: s for s in runner.result()["steps"]}
    assert steps["neutral"]["outcome"] == "not_yet_assessable"  # face.gaze is unknown here
    assert steps["smile_1"]["outcome"] == "pass"
    assert steps["smile_2"]["outcome"] == "fail"
    assert steps["smile_2"]["rules"]["face.smile_teeth"]["outcome"] == "not_yet_assessable"


def test_runner_missing_event_fails_step() -> None:
    drill = load_drills()["bow"]
    runner = DrillRunner(drill, known_rules={"greeting.bow", "face.smile"})
    runner.start(0)
    for t in range(0, 6_000, 200):
        runner.update(t, {"greeting.bow": {"status": "pass"}, "face.smile": {"status": "pass"}})
    step = runner.result()["steps"][0]
    assert step["outcome"] == "fail" and step["missing_events"] == ["bow"]
