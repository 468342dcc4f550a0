"""kb: entries, versions, changes, search terms, questions, reminders

Revision ID: kb_0001
Revises: 0001_base
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = 'kb_0001'
down_revision: str | Sequence[str] | None = '0001_base'
branch_labels: str | Sequence[str] | None = ('kb',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kb_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('content', sa.JSON(), nullable=True),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('submitted_by', sa.String(length=128), nullable=False),
    sa.Column('submitted_at', gateway.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.String(length=128), nullable=True),
    sa.Column('reviewed_at', gateway.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_changes'))
    )
    with op.batch_alter_table('kb_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_changes_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_changes_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_changes_unit_id'), ['unit_id'], unique=False)

    op.create_table('kb_entries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('alternatives', sa.JSON(), nullable=False),
    sa.Column('basis_document', sa.Text(), nullable=False),
    sa.Column('basis_article', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('effective_at', gateway.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', gateway.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', gateway.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', gateway.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_entries'))
    )
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_entries_region'), ['region'], unique=False)
        batch_op.create_index('ix_kb_entries_status_expires', ['status', 'expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_entries_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_entries_updated_at'), ['updated_at'], unique=False)

    op.create_table('kb_questions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('asked_by', sa.String(length=128), nullable=False),
    sa.Column('asked_at', gateway.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('due_at', gateway.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer_change_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', gateway.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_questions'))
    )
    with op.batch_alter_table('kb_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_questions_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_questions_unit_id'), ['unit_id'], unique=False)

    op.create_table('kb_reminders',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', gateway.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_reminders')),
    sa.UniqueConstraint('kind', 'subject_id', 'level', name='uq_kb_reminders_subject')
    )
    with op.batch_alter_table('kb_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_reminders_unit_id'), ['unit_id'], unique=False)

    op.create_table('kb_entry_versions',
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('changed_fields', sa.JSON(), nullable=False),
    sa.Column('changed_by', sa.String(length=128), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', gateway.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['kb_entries.id'],
                            name=op.f('fk_kb_entry_versions_entry_id_kb_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'version', name=op.f('pk_kb_entry_versions'))
    )
    op.create_table('kb_search_terms',
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['kb_entries.id'],
                            name=op.f('fk_kb_search_terms_entry_id_kb_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'entry_id', name=op.f('pk_kb_search_terms'))
    )
    with op.batch_alter_table('kb_search_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_search_terms_entry_id'), ['entry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('kb_search_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_search_terms_entry_id'))

    op.drop_table('kb_search_terms')
    op.drop_table('kb_entry_versions')
    with op.batch_alter_table('kb_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_reminders_unit_id'))

    op.drop_table('kb_reminders')
    with op.batch_alter_table('kb_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_questions_unit_id'))
        batch_op.drop_index(batch_op.f('ix_kb_questions_status'))

    op.drop_table('kb_questions')
    with op.batch_alter_table('kb_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_entries_updated_at'))
        batch_op.drop_index(batch_op.f('ix_kb_entries_unit_id'))
        batch_op.drop_index('ix_kb_entries_status_expires')
        batch_op.drop_index(batch_op.f('ix_kb_entries_region'))

    op.drop_table('kb_entries')
    with op.batch_alter_table('kb_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_changes_unit_id'))
        batch_op.drop_index(batch_op.f('ix_kb_changes_status'))
        batch_op.drop_index(batch_op.f('ix_kb_changes_entry_id'))

    op.drop_table('kb_changes')
