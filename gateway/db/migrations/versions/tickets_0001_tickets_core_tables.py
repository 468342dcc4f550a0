"""tickets core tables

Revision ID: tickets_0001
Revises: 0001_base
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'tickets_0001'
down_revision: str | Sequence[str] | None = '0001_base'
branch_labels: str | Sequence[str] | None = ('tickets',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ticket_counters',
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_ticket_counters'))
    )
    op.create_table('units',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units'))
    )
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('policy_id', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('provincial', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('elements', sa.JSON(), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('caller_number', sa.String(length=32), nullable=True),
    sa.Column('caller_name', sa.String(length=100), nullable=True),
    sa.Column('caller_address', sa.String(length=300), nullable=True),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('disclose_caller', sa.Boolean(), nullable=False),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('rejection_reason', sa.String(length=64), nullable=True),
    sa.Column('guidance', sa.Text(), nullable=True),
    sa.Column('lead_unit_id', sa.String(length=64), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('reply_attachments', sa.JSON(), nullable=False),
    sa.Column('resolved_on_call', sa.Boolean(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('satisfaction', sa.String(length=32), nullable=True),
    sa.Column('satisfaction_excluded', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clock_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sign_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deemed_signed', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('max_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_feedback_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extension_count', sa.Integer(), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('supervise_level', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['units.id'], name=op.f('fk_tickets_lead_unit_id_units')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tickets.id'], name=op.f('fk_tickets_merged_into_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('number', name=op.f('uq_tickets_number'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_caller_number'), ['caller_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_dispatched_at'), ['dispatched_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_external_ref'), ['external_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_lead_unit_id'), ['lead_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_status'), ['status'], unique=False)

    op.create_table('ticket_assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sign_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deemed_signed', sa.Boolean(), nullable=False),
    sa.Column('ended_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_assignments_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ticket_assignments_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_assignments'))
    )
    with op.batch_alter_table('ticket_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_assignments_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_assignments_unit_id'), ['unit_id'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events')),
    sa.UniqueConstraint('ticket_id', 'seq', name='uq_ticket_events_seq')
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_events_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_links',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ref', sa.String(length=300), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_links_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_links')),
    sa.UniqueConstraint('ticket_id', 'kind', 'ref', name='uq_ticket_links_ref')
    )
    with op.batch_alter_table('ticket_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_links_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=True),
    sa.Column('suggestion', sa.Text(), nullable=True),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('resume_status', sa.String(length=32), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_requests_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ticket_requests_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_requests'))
    )
    with op.batch_alter_table('ticket_requests', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_requests_kind_status', ['kind', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_requests_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_requests_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_requests_status'))
        batch_op.drop_index('ix_ticket_requests_kind_status')

    op.drop_table('ticket_requests')
    with op.batch_alter_table('ticket_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_links_ticket_id'))

    op.drop_table('ticket_links')
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_events_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_events_at'))
        batch_op.drop_index(batch_op.f('ix_ticket_events_action'))

    op.drop_table('ticket_events')
    with op.batch_alter_table('ticket_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_assignments_unit_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_assignments_ticket_id'))

    op.drop_table('ticket_assignments')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_status'))
        batch_op.drop_index(batch_op.f('ix_tickets_lead_unit_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_external_ref'))
        batch_op.drop_index(batch_op.f('ix_tickets_due_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_dispatched_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_created_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_category'))
        batch_op.drop_index(batch_op.f('ix_tickets_caller_number'))

    op.drop_table('tickets')
    op.drop_table('units')
    op.drop_table('ticket_counters')
