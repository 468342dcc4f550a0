"""speech: transcripts and the post-call job queue.

Revision ID: 0100_speech
Revises: 0001_base
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0100_speech"
down_revision = "0001_base"
branch_labels = ("speech",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speech_transcripts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_key", sa.String(64), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speech_transcripts")),
    )
    op.create_index(op.f("ix_speech_transcripts_call_key"), "speech_transcripts", ["call_key"])
    op.create_index(op.f("ix_speech_transcripts_ticket_id"), "speech_transcripts", ["ticket_id"])
    op.create_table(
        "speech_jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("legs", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("transcript_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speech_jobs")),
    )
    op.create_index(op.f("ix_speech_jobs_call_key"), "speech_jobs", ["call_key"])
    op.create_index(op.f("ix_speech_jobs_status"), "speech_jobs", ["status"])


def downgrade() -> None:
    op.drop_table("speech_jobs")
    op.drop_table("speech_transcripts")
