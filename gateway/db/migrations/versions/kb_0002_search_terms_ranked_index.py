"""kb: covering index (term, weight desc, entry_id) for search

Revision ID: kb_0002
Revises: kb_0001
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'kb_0002'
down_revision: str | Sequence[str] | None = 'kb_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_kb_search_terms_ranked', 'kb_search_terms',
                    ['term', sa.text('weight DESC'), 'entry_id'])


def downgrade() -> None:
    op.drop_index('ix_kb_search_terms_ranked', table_name='kb_search_terms')
