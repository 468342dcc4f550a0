"""surveys

Revision ID: surveys_0001
Revises: api_0001
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'surveys_0001'
down_revision: str | Sequence[str] | None = 'api_0001'
branch_labels: str | Sequence[str] | None = ('surveys',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('ticket_number', sa.String(length=20), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clarification_sent', sa.Boolean(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('level', sa.String(length=32), nullable=True),
    sa.Column('raw_reply', sa.Text(), nullable=True),
    sa.Column('unit_at_fault', sa.Boolean(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_surveys_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('ticket_id', 'round', name='uq_surveys_ticket_round')
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_deadline_at'), ['deadline_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_ticket_number'), ['ticket_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_ticket_number'))
        batch_op.drop_index(batch_op.f('ix_surveys_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_surveys_status'))
        batch_op.drop_index(batch_op.f('ix_surveys_phone'))
        batch_op.drop_index(batch_op.f('ix_surveys_deadline_at'))

    op.drop_table('surveys')
