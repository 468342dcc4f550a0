"""attachments: ticket_attachments

Revision ID: attachments_0001
Revises: 0001_base
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UtcDateTime

revision = "attachments_0001"
down_revision = "0001_base"
branch_labels = ("attachments",)
depends_on = "tickets_0001"


def upgrade() -> None:
    op.create_table(
        "ticket_attachments",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploader_kind", sa.String(16), nullable=False),
        sa.Column("uploader_id", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_attachments"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name="fk_ticket_attachments_ticket_id_tickets"),
        sa.UniqueConstraint("stored_name", name="uq_ticket_attachments_stored_name"),
    )
    op.create_index("ix_ticket_attachments_ticket_id", "ticket_attachments", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("ticket_attachments")
