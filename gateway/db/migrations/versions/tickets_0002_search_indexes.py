"""tickets: indexes for the workspace's search and worklists

Revision ID: tickets_0002
Revises: tickets_0001
Create Date: 2026-12-04

Worklists filter by status with a deadline (status, due_at) or (status, sign_by), by lead unit and status,
by channel and by 督办 level; the caller's history reads one number's tickets newest first.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = 'tickets_0002'
down_revision: str | Sequence[str] | None = 'tickets_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_tickets_status_due_at": ["status", "due_at"],
    "ix_tickets_status_sign_by": ["status", "sign_by"],
    "ix_tickets_lead_unit_status": ["lead_unit_id", "status"],
    "ix_tickets_channel_created_at": ["channel", "created_at"],
    "ix_tickets_supervise_level": ["supervise_level"],
    "ix_tickets_caller_number_created_at": ["caller_number", "created_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
