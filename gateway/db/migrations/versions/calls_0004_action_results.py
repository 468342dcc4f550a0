"""calls: outcomes of keyed call operations, durable across restarts

Revision ID: calls_0004
Revises: calls_0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UtcDateTime

revision = "calls_0004"
down_revision = "calls_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_action_results",
        sa.Column("key", sa.String(length=300), primary_key=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_call_action_results_created_at", "call_action_results", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_call_action_results_created_at", table_name="call_action_results")
    op.drop_table("call_action_results")
