"""kb: a revision counter, so each instance's in-memory search index can catch up with every write

Revision ID: kb_0003
Revises: kb_0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "kb_0003"
down_revision: str | Sequence[str] | None = "kb_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_revision")),
    )
    op.execute("INSERT INTO kb_revision (id, value) VALUES (1, 0)")
    with op.batch_alter_table("kb_entries") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False))
    op.create_index("ix_kb_entries_revision", "kb_entries", ["revision"])


def downgrade() -> None:
    op.drop_index("ix_kb_entries_revision", table_name="kb_entries")
    with op.batch_alter_table("kb_entries") as batch:
        batch.drop_column("revision")
    op.drop_table("kb_revision")
