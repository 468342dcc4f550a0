"""calls: calls, agents, police_handoffs

Revision ID: calls_0001
Revises: 0001_base
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UtcDateTime

revision = "calls_0001"
down_revision = "0001_base"
branch_labels = ("calls",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(64)),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("caller_name", sa.String(128), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("agent_interface", sa.String(128)),
        sa.Column("incident_id", sa.String(64)),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("recording", sa.String(512)),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("queued_at", UtcDateTime()),
        sa.Column("answered_at", UtcDateTime()),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("hold_seconds", sa.Integer()),
        sa.Column("ring_seconds", sa.Integer()),
        sa.Column("talk_seconds", sa.Integer()),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("hangup_cause", sa.Integer()),
        sa.Column("hangup_text", sa.String(64)),
        sa.Column("end_reason", sa.String(128)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("transfers", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    for column in ("queue", "agent_id", "incident_id", "ticket_id", "started_at"):
        op.create_index(f"ix_calls_{column}", "calls", [column])
    op.create_table(
        "agents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("interface", sa.String(128), nullable=False, unique=True),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("pause_reason", sa.String(64)),
        sa.Column("state_since", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "police_handoffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("incident_id", sa.String(64)),
        sa.Column("idempotency_key", sa.String(128), unique=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime()),
    )
    op.create_index("ix_police_handoffs_call_id", "police_handoffs", ["call_id"])
    op.create_index("ix_police_handoffs_incident_id", "police_handoffs", ["incident_id"])


def downgrade() -> None:
    op.drop_table("police_handoffs")
    op.drop_table("agents")
    op.drop_table("calls")
