"""federation, channels, reports: peers, ordered push outbox, receipts, links, mirror; channel messages; hotspot warnings, periodic reports

Revision ID: federation_0001
Revises: 0001_base
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'federation_0001'
down_revision: str | Sequence[str] | None = '0001_base'
branch_labels: str | Sequence[str] | None = ('federation',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channel_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('ticket_number', sa.String(length=20), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('reply_to', sa.String(length=300), nullable=True),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_messages')),
    sa.UniqueConstraint('channel', 'message_id', name='uq_channel_messages_message')
    )
    with op.batch_alter_table('channel_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_messages_ticket_number'), ['ticket_number'], unique=False)

    op.create_table('federation_children',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_children'))
    )
    op.create_table('federation_links',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('remote_number', sa.String(length=20), nullable=False),
    sa.Column('remote_seq', sa.Integer(), nullable=False),
    sa.Column('local_number', sa.String(length=20), nullable=False),
    sa.Column('sign_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('max_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_links')),
    sa.UniqueConstraint('peer', 'remote_number', 'remote_seq', name='uq_federation_links_dispatch')
    )
    with op.batch_alter_table('federation_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_links_local_number'), ['local_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_links_remote_number'), ['remote_number'], unique=False)

    op.create_table('federation_mirror',
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('satisfaction', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('peer', 'number', name=op.f('pk_federation_mirror'))
    )
    with op.batch_alter_table('federation_mirror', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_mirror_created_at'), ['created_at'], unique=False)

    op.create_table('federation_outbox',
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ticket_number', sa.String(length=20), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('prev_seq', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
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
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_outbox')),
    sa.UniqueConstraint('peer', 'ticket_number', 'seq', name='uq_federation_outbox_event')
    )
    with op.batch_alter_table('federation_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_federation_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_outbox_peer'), ['peer'], unique=False)

    op.create_table('federation_receipts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('ticket_number', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_receipts')),
    sa.UniqueConstraint('peer', 'ticket_number', 'seq', name='uq_federation_receipts_event')
    )
    with op.batch_alter_table('federation_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_receipts_peer'), ['peer'], unique=False)
        batch_op.create_index(batch_op.f('ix_federation_receipts_status'), ['status'], unique=False)

    op.create_table('federation_reports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('start', sa.String(length=10), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_reports')),
    sa.UniqueConstraint('peer', 'period', 'start', 'unit', name='uq_federation_reports_period')
    )
    with op.batch_alter_table('federation_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_reports_peer'), ['peer'], unique=False)

    op.create_table('federation_streams',
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('ticket_number', sa.String(length=20), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('peer', 'ticket_number', name=op.f('pk_federation_streams'))
    )
    op.create_table('hotspot_warnings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('tickets', sa.JSON(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unit_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotspot_warnings'))
    )
    with op.batch_alter_table('hotspot_warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotspot_warnings_status'), ['status'], unique=False)

    op.create_table('periodic_reports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('start', sa.String(length=10), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periodic_reports')),
    sa.UniqueConstraint('period', 'start', 'unit', name='uq_periodic_reports_period')
    )


def downgrade() -> None:
    op.drop_table('periodic_reports')
    with op.batch_alter_table('hotspot_warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hotspot_warnings_status'))

    op.drop_table('hotspot_warnings')
    op.drop_table('federation_streams')
    with op.batch_alter_table('federation_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_reports_peer'))

    op.drop_table('federation_reports')
    with op.batch_alter_table('federation_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_receipts_status'))
        batch_op.drop_index(batch_op.f('ix_federation_receipts_peer'))

    op.drop_table('federation_receipts')
    with op.batch_alter_table('federation_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_outbox_peer'))
        batch_op.drop_index('ix_federation_outbox_due')

    op.drop_table('federation_outbox')
    with op.batch_alter_table('federation_mirror', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_mirror_created_at'))

    op.drop_table('federation_mirror')
    with op.batch_alter_table('federation_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_links_remote_number'))
        batch_op.drop_index(batch_op.f('ix_federation_links_local_number'))

    op.drop_table('federation_links')
    op.drop_table('federation_children')
    with op.batch_alter_table('channel_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_messages_ticket_number'))

    op.drop_table('channel_messages')
