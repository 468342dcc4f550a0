"""federation: calls one-key-transferred from a peer platform with their tickets

Revision ID: federation_0002
Revises: federation_0001
Create Date: 2026-11-22
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'federation_0002'
down_revision: str | Sequence[str] | None = 'federation_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('federation_call_transfers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('remote_call_id', sa.String(length=64), nullable=False),
    sa.Column('remote_number', sa.String(length=20), nullable=False),
    sa.Column('caller_number', sa.String(length=40), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('local_number', sa.String(length=20), nullable=True),
    sa.Column('call_id', sa.String(length=64), nullable=True),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_call_transfers')),
    sa.UniqueConstraint('peer', 'remote_call_id', name='uq_federation_call_transfers_call')
    )
    with op.batch_alter_table('federation_call_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_call_transfers_remote_call_id'), ['remote_call_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_federation_call_transfers_caller_number'), ['caller_number'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_federation_call_transfers_status'), ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('federation_call_transfers')
