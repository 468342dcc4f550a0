"""reports: forget hot-issue summaries written before they were made of matter words

Until now a warning's summary was the first 200 characters of one of its tickets — a confidential one's
included, with whatever phone number or name the text held — and it reaches units (webhooks, their
reports). New warnings are summarised from non-confidential tickets' matter words only; the old
summaries cannot be told apart from safe ones, so they are emptied.

Revision ID: federation_0003
Revises: federation_0002
Create Date: 2026-12-04
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = 'federation_0003'
down_revision: str | Sequence[str] | None = 'federation_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE hotspot_warnings SET summary = ''")


def downgrade() -> None:
    pass  # the texts are gone on purpose
