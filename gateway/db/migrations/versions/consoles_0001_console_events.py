"""consoles: console_events, the relay of console events between instances

Revision ID: consoles_0001
Revises: 0001_base
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UtcDateTime

revision = "consoles_0001"
down_revision = "0001_base"
branch_labels = ("consoles",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index(op.f("ix_console_events_at"), "console_events", ["at"])
    op.create_index(op.f("ix_console_events_txid"), "console_events", ["txid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_console_events_txid"), table_name="console_events")
    op.drop_index(op.f("ix_console_events_at"), table_name="console_events")
    op.drop_table("console_events")
