"""SMS messages (durable), development outbox, inbound replies

Revision ID: sms_0001
Revises: 0001_base
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'sms_0001'
down_revision: str | Sequence[str] | None = '0001_base'
branch_labels: str | Sequence[str] | None = ('sms',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sms_inbound',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('from_number', sa.String(length=32), nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_inbound')),
    sa.UniqueConstraint('provider_id', name=op.f('uq_sms_inbound_provider_id'))
    )
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_inbound_from_number'), ['from_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_inbound_processed_at'), ['processed_at'], unique=False)
    op.create_table('sms_messages',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=True),
    sa.Column('provider_message_id', sa.String(length=100), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replay_count', sa.Integer(), nullable=False),
    sa.Column('last_replayed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_replayed_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_messages'))
    )
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.create_index('ix_sms_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_purpose'), ['purpose'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_ref'), ['ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_to_number'), ['to_number'], unique=False)
    op.create_table('sms_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_sms_outbox_message_id'))
    )
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_outbox_to_number'), ['to_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sms_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_outbox_to_number'))
    op.drop_table('sms_outbox')
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_messages_to_number'))
        batch_op.drop_index(batch_op.f('ix_sms_messages_ref'))
        batch_op.drop_index(batch_op.f('ix_sms_messages_purpose'))
        batch_op.drop_index('ix_sms_messages_due')
    op.drop_table('sms_messages')
    with op.batch_alter_table('sms_inbound', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_inbound_processed_at'))
        batch_op.drop_index(batch_op.f('ix_sms_inbound_from_number'))
    op.drop_table('sms_inbound')
