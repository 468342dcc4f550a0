"""quality: qa_inspections, qa_findings

Revision ID: quality_0001
Revises: 0001_base
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.db.base import UtcDateTime

revision = "quality_0001"
down_revision = "0001_base"
branch_labels = ("quality",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_inspections",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("transcript_id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(64)),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("call_started_at", UtcDateTime(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("rules_source", sa.String(300), nullable=False),
        sa.Column("inspected_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_qa_inspections_agent_id", "qa_inspections", ["agent_id"])
    op.create_index("ix_qa_inspections_call_started_at", "qa_inspections", ["call_started_at"])
    op.create_index("ix_qa_inspections_flagged", "qa_inspections", ["flagged"])
    op.create_table(
        "qa_findings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("check", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("speaker", sa.String(16)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start_seconds", sa.Float()),
        sa.Column("end_seconds", sa.Float()),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.String(16)),
        sa.Column("reviewer", sa.String(64)),
        sa.Column("note", sa.Text()),
        sa.Column("reviewed_at", UtcDateTime()),
        sa.UniqueConstraint("call_id", "key", name="uq_qa_findings_call_key"),
    )
    op.create_index("ix_qa_findings_call_id", "qa_findings", ["call_id"])
    op.create_index("ix_qa_findings_check", "qa_findings", ["check"])
    op.create_index("ix_qa_findings_verdict", "qa_findings", ["verdict"])


def downgrade() -> None:
    op.drop_table("qa_findings")
    op.drop_table("qa_inspections")
