"""Fixtures for the store tests: SQLite and a throwaway PostgreSQL cluster, a short real
video made from a real photo, and hand-made analysis results (no models needed)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from posture_coach.store import Database
from tests.store.helpers import make_pan_video

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2's production cost (~0.1–0.7 s a hash on a loaded CI box) would dominate these tests."""
    from argon2 import PasswordHasher, profiles

    from posture_coach.store import passwords

    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in PG_BIN_DIRS:
        if (d / name).is_file():
            return str(d / name)
    return None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster in a temp dir (Debian's postgresql package): its
    base URL. Set POSTURE_COACH_TEST_PG_URL to use a running server instead."""
    env_url = os.environ.get("POSTURE_COACH_TEST_PG_URL")
    if env_url:
        yield env_url
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql), and POSTURE_COACH_TEST_PG_URL "
                    "is not set")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg 3 is not installed (pip install 'psycopg[binary]')")
    root = Path(tempfile.mkdtemp(prefix="pc-pg-"))
    port = _free_port()
    as_root = os.geteuid() == 0
    if as_root:
        try:
            shutil.chown(root, "postgres")
        except (LookupError, PermissionError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip(f"running as root and no usable postgres user: {exc}")

    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        full = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)] if as_root else list(cmd)
        return subprocess.run(full, capture_output=True, text=True, timeout=120)

    data = root / "data"
    r = run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    if r.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"initdb failed: {r.stderr.strip()[-300:]}")
    r = run(pg_ctl, "-D", str(data), "-o", f"-k {root} -p {port} -c listen_addresses=", "-l",
            str(root / "log"), "-w", "-t", "60", "start")
    if r.returncode != 0:
        log = (root / "log").read_text(errors="replace")[-500:] if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"pg_ctl start failed: {r.stderr.strip()[-300:]} {log}")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _pg_database(base_url: str) -> str:
    """A fresh database on the server for one test."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    q = dict(url.query)
    with psycopg.connect(host=q.get("host") or url.host, port=q.get("port") or url.port, user=url.username,
                         password=url.password, dbname=url.database, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database with its data directory, on each backend."""
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pc.db'}"
    else:
        url = _pg_database(request.getfixturevalue("pg_server"))
    d = Database(url, data_dir)
    d.upgrade()
    yield d
    d.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    d = Database(f"sqlite:///{tmp_path / 'pc.db'}", tmp_path / "data")
    d.upgrade()
    yield d
    d.dispose()


@pytest.fixture(scope="session")
def real_video(person_photo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pan_video(person_photo, tmp_path_factory.mktemp("video") / "pan.avi")
