"""webhooks: ordered delivery per (endpoint, ticket) — the stream and the ticket's event sequence number

Revision ID: webhooks_0002
Revises: webhooks_0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "webhooks_0002"
down_revision = "webhooks_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch_op:
        batch_op.add_column(sa.Column("stream", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("stream_seq", sa.Integer(), nullable=True))
        batch_op.create_index("ix_webhook_deliveries_stream", ["endpoint_id", "stream", "stream_seq"])


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_stream")
        batch_op.drop_column("stream_seq")
        batch_op.drop_column("stream")
