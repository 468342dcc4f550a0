"""leadership: leader_leases, one lease row (term = fencing token) per Asterisk

Revision ID: leadership_0001
Revises: 0001_base
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UtcDateTime

revision = "leadership_0001"
down_revision = "0001_base"
branch_labels = ("leadership",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leader_leases",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("term", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("acquired_at", UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("leader_leases")
