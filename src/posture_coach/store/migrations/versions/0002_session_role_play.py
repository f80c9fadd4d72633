"""sessions.role_play: where the trainee stands in a two-person role-play

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: one person in view (every session stored before this revision).
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role_play", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("role_play")
