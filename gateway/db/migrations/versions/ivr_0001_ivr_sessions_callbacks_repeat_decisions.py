"""ivr sessions, callbacks, repeat decisions

Revision ID: ivr_0001
Revises: 0001_base
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ivr_0001'
down_revision: str | Sequence[str] | None = '0001_base'
branch_labels: str | Sequence[str] | None = ('ivr',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ivr_callbacks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('caller', sa.String(length=32), nullable=True),
    sa.Column('linkedid', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_callbacks'))
    )
    with op.batch_alter_table('ivr_callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_callbacks_requested_at'), ['requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ivr_callbacks_status'), ['status'], unique=False)

    op.create_table('ivr_repeat_decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('caller', sa.String(length=32), nullable=False),
    sa.Column('linkedid', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('calls_in_window', sa.Integer(), nullable=False),
    sa.Column('tickets_in_window', sa.Integer(), nullable=False),
    sa.Column('window_minutes', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_repeat_decisions'))
    )
    with op.batch_alter_table('ivr_repeat_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_repeat_decisions_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ivr_repeat_decisions_caller'), ['caller'], unique=False)

    op.create_table('ivr_sessions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('script', sa.String(length=32), nullable=False),
    sa.Column('caller', sa.String(length=32), nullable=True),
    sa.Column('linkedid', sa.String(length=64), nullable=True),
    sa.Column('uniqueid', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('path', sa.JSON(), nullable=False),
    sa.Column('description_file', sa.String(length=300), nullable=True),
    sa.Column('description_text', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('emergency', sa.String(length=8), nullable=True),
    sa.Column('ticket_number', sa.String(length=20), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_sessions'))
    )
    with op.batch_alter_table('ivr_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_ivr_sessions_caller_started', ['caller', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ivr_sessions_linkedid'), ['linkedid'], unique=False)
        batch_op.create_index(batch_op.f('ix_ivr_sessions_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_ivr_sessions_started_at'), ['started_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ivr_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_sessions_started_at'))
        batch_op.drop_index(batch_op.f('ix_ivr_sessions_outcome'))
        batch_op.drop_index(batch_op.f('ix_ivr_sessions_linkedid'))
        batch_op.drop_index('ix_ivr_sessions_caller_started')

    op.drop_table('ivr_sessions')
    with op.batch_alter_table('ivr_repeat_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_repeat_decisions_caller'))
        batch_op.drop_index(batch_op.f('ix_ivr_repeat_decisions_at'))

    op.drop_table('ivr_repeat_decisions')
    with op.batch_alter_table('ivr_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_callbacks_status'))
        batch_op.drop_index(batch_op.f('ix_ivr_callbacks_requested_at'))

    op.drop_table('ivr_callbacks')
