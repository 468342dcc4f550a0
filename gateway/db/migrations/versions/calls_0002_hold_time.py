"""calls: time the agent put the citizen on hold (console hold) and how often

Revision ID: calls_0002
Revises: calls_0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "calls_0002"
down_revision = "calls_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch_op:
        batch_op.add_column(sa.Column("on_hold_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("holds", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch_op:
        batch_op.drop_column("holds")
        batch_op.drop_column("on_hold_seconds")
