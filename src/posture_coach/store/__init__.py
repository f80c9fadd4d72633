"""Storage: people, users, cohorts, sessions, results, findings, evidence, reviews, jobs.

SQLAlchemy 2 with SQLite by default and PostgreSQL by URL; Alembic owns the schema.
Use :class:`Database` and the typed functions of :mod:`posture_coach.store.repo`.
"""

from __future__ import annotations

from .db import Database, default_data_dir, default_db_url

__all__ = ["Database", "default_data_dir", "default_db_url"]
