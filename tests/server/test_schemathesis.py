"""Issue 8: a schemathesis run against the app's OpenAPI schema finds no server error.

The whole app (live coach REST + trainer/HR store API) is exercised in-process through
schemathesis' ASGI transport, on a throwaway SQLite store seeded with an HR admin, a
trainer, a trainee in the trainer's cohort and one analysed session. Every generated
request is sent once per role (HR admin, trainer, trainee), with that user's session cookie
and, on state-changing methods, the CSRF header, so the protected routes are exercised past
401/403. Each response is checked with ``not_a_server_error`` and, where the schema
documents the status, ``response_schema_conformance``.

Generated ids rarely name a row that exists, so half of the generated path parameters are
swapped for the seeded ids (the same body/query fuzzing then reaches the real report,
review, consent and cohort code); not for DELETE, so the seeded rows last the whole run
(deleting real rows is covered by ``tests/store/test_api.py``).

Deterministic and bounded: fixed seed, derandomized, no example database on disk, a few
examples per operation in the fuzzing phase plus schemathesis' boundary-value coverage phase.

Not exercised here:
* ``/ws/live`` is a WebSocket, not in the OpenAPI schema (see ``test_api.py``, ``test_live.py``);
* ``POST /api/uploads`` gets generated bodies, never a valid video, so it runs up to the
  content check (real uploads: ``tests/store/test_api.py``);
* Chromium: the PDF routes print with a stand-in script that writes a minimal PDF, since a
  browser launch per generated case would blow the time budget (real printing:
  ``tests/store/test_report_pdf_api.py``).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", minversion="4")

from hypothesis import note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.config import CacheConfig  # noqa: E402
from schemathesis.python import asgi  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402
from sqlalchemy import select  # noqa: E402

from posture_coach.server import ServerSettings, create_app  # noqa: E402
from posture_coach.store import Database, repo  # noqa: E402
from posture_coach.store.models import EpisodeRow  # noqa: E402
from tests.store.helpers import fake_result  # noqa: E402

# Hypothesis caches unicode tables and source constants under ./.hypothesis/ (from collection
# on): keep them out of the checkout, in a directory removed when the process ends.
_HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="posture-coach-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME.name)

SEED = 20260808
MAX_EXAMPLES = 8  # per operation in the fuzzing phase (the coverage phase adds its own cases)
PASSWORDS = {"hr": "hr-password-1", "trainer1": "trainer-pass-1", "lilei": "trainee-pass-1"}
ROLES = {"hr_admin": "hr", "trainer": "trainer1", "trainee": "lilei"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHECKS = [not_a_server_error, response_schema_conformance]
SEEDED: dict[str, Any] = {"drill_id": "onboarding"}  # path parameter -> a row that exists (filled below)
STATS: Counter[int] = Counter()


def _seed_store(url: str, data_dir: Path) -> None:
    db = Database(url, data_dir)
    db.upgrade()
    with db.session() as s:
        repo.create_user(s, "hr", PASSWORDS["hr"], "hr_admin")
        trainer = repo.create_user(s, "trainer1", PASSWORDS["trainer1"], "trainer")
        person = repo.create_person(s, "李雷", consent_media=True)
        repo.create_user(s, "lilei", PASSWORDS["lilei"], "trainee", person_id=person.id)
        cohort = repo.create_cohort(s, "2026-A", trainer_id=trainer.id)
        repo.add_member(s, cohort.id, person.id)
        sess = repo.create_session(s, source="seed.mp4", person_id=person.id, scenario="onboarding")
        job_id = repo.create_job(s, sess.id).id
        SEEDED.update(person_id=person.id, cohort_id=cohort.id, session_id=sess.id, job_id=job_id)
    claim = repo.claim_job(db, job_id)
    assert claim is not None and repo.save_results(db, job_id, claim, fake_result())
    with db.session() as s:
        SEEDED["finding_id"] = s.scalars(select(EpisodeRow.id)).first()
    db.dispose()


def _stand_in_chromium(tmp: Path) -> Path:
    """A 'browser' that prints any page to a minimal PDF (the route runs end to end, fast)."""
    exe = tmp / "chromium"
    exe.write_text('#!/bin/sh\nfor a in "$@"; do case "$a" in --print-to-pdf=*)\n'
                   '  printf \'%%PDF-1.4\\n%%%%EOF\\n\' > "${a#--print-to-pdf=}";; esac; done\n')
    exe.chmod(0o755)
    return exe


@pytest.fixture(scope="module")
def st_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real app on a seeded throwaway store; no models (the live routes report 'degraded')."""
    from argon2 import PasswordHasher, profiles

    from posture_coach.store import passwords

    tmp = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{tmp / 'pc.db'}"
    with pytest.MonkeyPatch.context() as mp:
        # Argon2's production cost per sign-in would dominate the run.
        mp.setattr(passwords, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
        mp.setenv("POSTURE_COACH_DB_URL", url)
        mp.setenv("POSTURE_COACH_DATA_DIR", str(tmp / "data"))
        mp.setenv("POSTURE_COACH_CACHE_DIR", str(tmp / "empty-cache"))
        mp.setenv("POSTURE_COACH_CHROMIUM", str(_stand_in_chromium(tmp)))  # see the module docstring
        _seed_store(url, tmp / "data")
        app = create_app(ServerSettings(model_dir=tmp, fetch_models=False, warm_up=False))
        started = time.perf_counter()
        try:
            yield app
        finally:
            # schemathesis keeps an ASGI app's lifespan running for the whole process; end ours
            # here so the store and the thread pools close before the temporary files go.
            asgi.shutdown_lifespans()
            print(f"\nschemathesis: {sum(STATS.values())} requests in {time.perf_counter() - started:.1f} s; "
                  f"status codes {dict(sorted(STATS.items()))}")


def _sign_in(app: Any, username: str) -> tuple[str, str]:
    """A fresh session: (cookie value, CSRF token)."""
    with asgi.get_client(app) as client:
        r = client.post("/api/auth/login", json={"username": username, "password": PASSWORDS[username]})
        assert r.status_code == 200, r.text
        return str(r.cookies["pc_session"]), str(r.json()["csrf_token"])


@pytest.fixture(scope="module")
def signed_in(st_app: Any) -> dict[str, tuple[str, str]]:
    return {role: _sign_in(st_app, user) for role, user in ROLES.items()}


def _schema() -> Any:
    """The OpenAPI document straight from FastAPI (no lifespan, nothing opened); the cases are
    sent to the seeded app of the ``st_app`` fixture."""
    config = schemathesis.Config(seed=SEED, cache=CacheConfig(enabled=False))
    app = create_app(ServerSettings(fetch_models=False, warm_up=False))
    loaded = schemathesis.openapi.from_dict(app.openapi(), config=config)
    loaded.app = app  # an ASGI app, so cases take the in-process ASGI transport (to st_app, below)
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")
    # No "unexpected method" cases (GET on a POST-only route...): the router answers 405 itself.
    loaded.config.phases.coverage.unexpected_methods = set()
    return loaded


schema = _schema()


@schema.hook
def flatmap_path_parameters(context: Any, params: dict[str, Any] | None) -> Any:
    """Half the time, the ids of seeded rows; never for DELETE (the rows must outlive the run)."""
    if not params or context.operation is None or context.operation.method.upper() == "DELETE":
        return st.just(params)
    return st.sampled_from([params, {k: SEEDED.get(k, v) for k, v in params.items()}])


@schema.parametrize()
def test_no_server_error(case: Any, st_app: Any, signed_in: dict[str, tuple[str, str]]) -> None:
    """Each generated request is sent once per role (same data, that role's cookie and CSRF token)."""
    for role, username in ROLES.items():
        note(f"signed in as {username} ({role})")
        if case.path == "/api/auth/logout":
            cookie, csrf = _sign_in(st_app, username)  # ends its own session, not the shared one
        else:
            cookie, csrf = signed_in[role]
        headers = {} if case.method.upper() in SAFE_METHODS else {"X-CSRF-Token": csrf}
        response = case.call_and_validate(app=st_app, headers=headers, cookies={"pc_session": cookie},
                                          checks=CHECKS)
        STATS[response.status_code] += 1
