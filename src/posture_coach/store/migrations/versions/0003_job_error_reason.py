"""jobs.error_reason: why a job failed, as a code the pages show in Chinese or English

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for jobs that did not fail, and for failures stored before this revision (the
    # pages then show the technical message alone).
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("error_reason")
