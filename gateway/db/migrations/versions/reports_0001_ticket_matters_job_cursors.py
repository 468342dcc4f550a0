"""reports: ticket_matters (matter and place per ticket, warning membership), job_cursors, and the
matter and name of a hot-issue warning

Hot issues are clusters of one matter in one place. The worker that reads tickets writes one
ticket_matters row per ticket and advances its job_cursors row in the same transaction; a warning's
members are the rows pointing at it (no JSON list of ticket numbers rewritten per ticket any more —
older warnings keep theirs).

Revision ID: reports_0001
Revises: federation_0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UtcDateTime

revision = "reports_0001"
down_revision = "federation_0003"
branch_labels = None
depends_on = "tickets_0001"


def upgrade() -> None:
    op.create_table(
        "job_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_cursors")),
    )
    with op.batch_alter_table("hotspot_warnings") as batch:
        batch.add_column(sa.Column("matter_code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("name", sa.String(300), nullable=True))
    op.create_table(
        "ticket_matters",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE",
                                                            name=op.f("fk_ticket_matters_ticket_id_tickets")),
                  nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("matter_code", sa.String(32), nullable=False),
        sa.Column("matter_name", sa.String(64), nullable=False),
        sa.Column("place_level", sa.String(16), nullable=True),
        sa.Column("place_name", sa.String(100), nullable=True),
        sa.Column("place_label", sa.String(200), nullable=True),
        sa.Column("place_full", sa.String(300), nullable=True),
        sa.Column("clustered", sa.Boolean(), nullable=False),
        sa.Column("warning_id", sa.Integer(), sa.ForeignKey("hotspot_warnings.id",
                                                             name=op.f("fk_ticket_matters_warning_id_hotspot_warnings")),
                  nullable=True),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_matters")),
    )
    op.create_index("ix_ticket_matters_cluster", "ticket_matters", ["matter_code", "place_name", "created_at"])
    op.create_index("ix_ticket_matters_created_at", "ticket_matters", ["created_at"])
    op.create_index(op.f("ix_ticket_matters_warning_id"), "ticket_matters", ["warning_id"])


def downgrade() -> None:
    op.drop_table("ticket_matters")
    with op.batch_alter_table("hotspot_warnings") as batch:
        batch.drop_column("name")
        batch.drop_column("matter_code")
    op.drop_table("job_cursors")
