"""rule_results.judged_frames: frames with a verdict (for an event rule, the events judged)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for results stored before this revision: reports then show the assessable time.
    with op.batch_alter_table("rule_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("judged_frames", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rule_results", schema=None) as batch_op:
        batch_op.drop_column("judged_frames")
