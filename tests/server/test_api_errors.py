"""Client mistakes the database reports answer 4xx in the documented shape, never a 500.

Regression tests for what schemathesis found (``test_schemathesis.py`` runs the whole
schema; these pin the individual cases and run without schemathesis installed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from posture_coach.server import ServerSettings, create_app
from posture_coach.store import repo
from tests.store.helpers import empty_store

TOO_BIG = 2**64  # beyond SQLite's (and PostgreSQL's) 64-bit integers: OverflowError in the driver


@pytest.fixture
def hr_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    from argon2 import PasswordHasher, profiles

    from posture_coach.store import passwords

    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    db = empty_store(tmp_path, monkeypatch)
    with db.session() as s:
        repo.create_user(s, "hr", "hr-password-1", "hr_admin")
    db.dispose()
    settings = ServerSettings(model_dir=tmp_path, fetch_models=False, warm_up=False)
    with TestClient(create_app(settings)) as client:
        r = client.post("/api/auth/login", json={"username": "hr", "password": "hr-password-1"})
        assert r.status_code == 200, r.text
        yield client, str(r.json()["csrf_token"])


def _is_validation_error(body: dict[str, object]) -> bool:
    """FastAPI's HTTPValidationError, as the OpenAPI schema documents every 422."""
    detail = body.get("detail")
    return isinstance(detail, list) and bool(detail) and all(
        isinstance(d, dict) and isinstance(d.get("loc"), list) and isinstance(d.get("msg"), str)
        and isinstance(d.get("type"), str) for d in detail)


def test_ids_beyond_64_bits_answer_a_documented_422(hr_client: tuple[TestClient, str]) -> None:
    client, csrf = hr_client
    for r in (
        client.get(f"/api/sessions/{TOO_BIG}"),
        client.get(f"/api/sessions/{TOO_BIG}/report.pdf"),
        client.get(f"/api/jobs/{TOO_BIG}"),
        client.post(f"/api/findings/{TOO_BIG}/review", json={"decision": "agree"},
                    headers={"X-CSRF-Token": csrf}),
        client.post(f"/api/sessions/{-TOO_BIG}/missed", json={"rule_id": "standing.upright"},
                    headers={"X-CSRF-Token": csrf}),
    ):
        assert r.status_code == 422, (r.request.url, r.status_code, r.text)
        assert _is_validation_error(r.json()), r.text
        assert "out of range" in r.json()["detail"][0]["msg"]
        # Like every refusal, a reason a page can show in its own language.
        assert r.json()["reason"] == "bad_request" and r.json()["reason_text"]["zh"]


def test_a_name_already_in_use_is_a_conflict(hr_client: tuple[TestClient, str]) -> None:
    client, csrf = hr_client
    headers = {"X-CSRF-Token": csrf}
    assert client.post("/api/cohorts", json={"name": "2026-A"}, headers=headers).status_code == 201
    r = client.post("/api/cohorts", json={"name": " 2026-A "}, headers=headers)  # the same name, once trimmed
    assert r.status_code == 409 and "already called" in r.json()["detail"]
    assert r.json()["reason"] == "cohort_name_taken" and "已有培训班使用这个名称" in r.json()["reason_text"]["zh"]
    r = client.post("/api/cohorts", json={"name": "   "}, headers=headers)  # as a rename refuses it
    assert r.status_code == 400 and r.json()["reason"] == "cohort_name_empty"
    assert client.post("/api/people", json={"name": "A", "email": "a@example.com"}, headers=headers).status_code == 201
    r = client.post("/api/people", json={"name": "B", "email": "a@example.com"}, headers=headers)
    assert r.status_code == 409


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "1e309"])
def test_numbers_json_cannot_say_answer_a_422_not_a_500(hr_client: tuple[TestClient, str], bad: str) -> None:
    # The 422 once echoed the value back, and NaN could not be written as JSON: a 500,
    # even on the sign-in before anyone was signed in.
    client, csrf = hr_client
    for r in (
        client.post("/api/auth/login", content=f'{{"username": {bad}, "password": "x"}}',
                    headers={"Content-Type": "application/json"}),
        client.post("/api/sessions/1/missed", content=f'{{"rule_id": "standing.upright", "at_ms": {bad}}}',
                    headers={"Content-Type": "application/json", "X-CSRF-Token": csrf}),
    ):
        assert r.status_code == 422, (r.request.url, r.status_code, r.text)
        assert _is_validation_error(r.json()) and r.json()["reason"] == "bad_request"
        assert "input" not in r.json()["detail"][0]  # the value sent is not echoed back


def test_a_422_says_which_field_is_wrong_and_why_in_both_languages(hr_client: tuple[TestClient, str]) -> None:
    # It used to say only "Something in the request is wrong" beside an English field list.
    client, csrf = hr_client
    headers = {"X-CSRF-Token": csrf}
    cases = [
        (client.get("/api/sessions/1/report?lang=fr"), '"lang" must be', "“lang”只能是"),
        (client.post("/api/people", json={"name": ""}, headers=headers), '"name" is too short', "“name”太短"),
        (client.post("/api/people", json={}, headers=headers), '"name" is missing', "缺少“name”"),
        (client.post("/api/cohorts", json={"name": "2026-B", "pass_score": 80}, headers=headers),
         '"pass_score" must be at most 1', "“pass_score”应不大于 1"),
        (client.post("/api/auth/login", content="{not json", headers={"Content-Type": "application/json"}),
         "not valid JSON", "不是有效的 JSON"),
    ]
    for r, en, zh in cases:
        assert r.status_code == 422, (r.request.url, r.text)
        text = r.json()["reason_text"]
        assert en in text["en"] and zh in text["zh"], (r.request.url, text)
        assert r.json()["reason"] == "bad_request" and _is_validation_error(r.json())
    # Two problems at once: the first is named, the rest counted.
    r = client.post("/api/cohorts", json={"name": "", "pass_score": 80}, headers=headers)
    assert r.json()["reason_text"]["en"].endswith("(1 more)") and "另有 1 处" in r.json()["reason_text"]["zh"]


def test_a_problem_without_a_template_still_names_its_field_and_never_the_value() -> None:
    from posture_coach.server.refusals import validation_texts

    text = validation_texts([{"type": "uuid_parsing", "loc": ("body", "token"), "msg": "bad",
                              "input": "secret-value", "ctx": {"error": "secret-value"}}])
    assert '"token" is not valid' in text["en"] and "“token”有误" in text["zh"]
    assert "secret-value" not in str(text)
    assert validation_texts([])["en"]  # the generic text when there is nothing to name
