"""calls: agent state history (staffed seats per half hour, for forecasting and staffing)

Revision ID: calls_0003
Revises: calls_0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UtcDateTime

revision = "calls_0003"
down_revision = "calls_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_state_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("pause_reason", sa.String(64)),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_agent_state_changes_agent_id", "agent_state_changes", ["agent_id"])
    op.create_index("ix_agent_state_changes_at", "agent_state_changes", ["at"])


def downgrade() -> None:
    op.drop_table("agent_state_changes")
