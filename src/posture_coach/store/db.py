"""Where the data lives and how to reach it: the database URL, the data directory, migrations.

* SQLite by default: ``<user data dir>/posture-coach.db`` (``platformdirs``).
* ``POSTURE_COACH_DB_URL`` overrides it, e.g. ``postgresql+psycopg://user@host/db``
  (psycopg 3); a bare ``postgresql://`` URL is read as psycopg 3 too.
* ``POSTURE_COACH_DATA_DIR`` overrides the data directory (uploads, evidence).

The schema is owned by Alembic (``posture-coach db upgrade``); :meth:`Database.upgrade`
runs the same migrations in-process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from ..errors import ConfigError

APP_NAME = "posture-coach"


def default_data_dir() -> Path:
    env = os.environ.get("POSTURE_COACH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


def default_db_url(data_dir: Path | None = None) -> str:
    env = os.environ.get("POSTURE_COACH_DB_URL")
    if env:
        return env
    d = data_dir or default_data_dir()
    return f"sqlite:///{d / 'posture-coach.db'}"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here (not psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")  # ON DELETE CASCADE needs it
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the job writer
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Database:
    """An engine, a session factory and the data directory beside it."""

    def __init__(self, url: str | None = None, data_dir: Path | None = None) -> None:
        self.data_dir = (data_dir or default_data_dir()).resolve()
        self.url = normalise_url(url or default_db_url(self.data_dir))
        try:
            parsed = make_url(self.url)
        except Exception as exc:
            raise ConfigError(f"POSTURE_COACH_DB_URL: not a database URL: {exc}") from None
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"future": True}
        if self.dialect == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except Exception as exc:  # missing driver, bad options
            raise ConfigError(f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}") from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[OrmSession]:
        """One unit of work: commit on success, roll back on any exception."""
        with self.sessions() as s, s.begin():
            yield s

    def path(self, rel: str | Path) -> Path:
        """A data-dir-relative media path as an absolute one (refuses to leave the dir)."""
        p = (self.data_dir / rel).resolve()
        if self.data_dir not in p.parents and p != self.data_dir:
            raise ConfigError(f"{rel}: outside the data directory")
        return p

    def rel(self, path: Path) -> str:
        return str(path.resolve().relative_to(self.data_dir))

    def require_schema(self) -> None:
        """Raise a :class:`ConfigError` saying what to run when the schema is not there (a
        fresh install before ``posture-coach db upgrade``); an absent SQLite file is not
        created by asking."""
        from sqlalchemy import inspect

        shown = make_url(self.url).render_as_string(hide_password=True)
        hint = (f"the database {shown} is not set up: run `posture-coach db upgrade` first / "
                "数据库尚未初始化，请先运行 posture-coach db upgrade")
        if self.dialect == "sqlite":
            db = make_url(self.url).database
            if db and db != ":memory:" and not Path(db).expanduser().is_file():
                raise ConfigError(hint)
        try:
            tables = set(inspect(self.engine).get_table_names())
        except Exception as exc:
            raise ConfigError(f"cannot open the database {shown}: {exc}") from None
        if "sessions" not in tables:
            raise ConfigError(hint)

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic."""
        from alembic import command

        command.upgrade(alembic_config(self), revision)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(db: Database) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["engine"] = db.engine
    return cfg
