"""tickets: indexes for the workspace's search and worklists

Revision ID: tickets_0002
Revises: tickets_0001
Create Date: 2026-12-04

Words in a ticket's text are found through ``search_text`` (overlapping character pairs, see
gateway/tickets/textindex.py): SQLite indexes it with an FTS5 table kept by triggers, PostgreSQL with a GIN
index over its words. Existing tickets are filled in here.

Worklists filter by status with a deadline (status, due_at) or (status, sign_by), by lead unit and status,
by channel and by 督办 level; the caller's history reads one number's tickets newest first.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.tickets.textindex import search_text

revision: str = 'tickets_0002'
down_revision: str | Sequence[str] | None = 'tickets_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_tickets_status_due_at": ["status", "due_at"],
    "ix_tickets_status_sign_by": ["status", "sign_by"],
    "ix_tickets_lead_unit_status": ["lead_unit_id", "status"],
    "ix_tickets_channel_created_at": ["channel", "created_at"],
    "ix_tickets_supervise_level": ["supervise_level"],
    "ix_tickets_caller_number_created_at": ["caller_number", "created_at"],
}


FTS_TRIGGERS = {
    "tickets_fts_insert": "AFTER INSERT ON tickets BEGIN "
                          "INSERT INTO tickets_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "tickets_fts_delete": "AFTER DELETE ON tickets BEGIN INSERT INTO tickets_fts(tickets_fts, rowid, search_text) "
                          "VALUES ('delete', old.id, old.search_text); END",
    "tickets_fts_update": "AFTER UPDATE OF search_text ON tickets BEGIN "
                          "INSERT INTO tickets_fts(tickets_fts, rowid, search_text) "
                          "VALUES ('delete', old.id, old.search_text); "
                          "INSERT INTO tickets_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns)
    op.add_column("tickets", sa.Column("search_text", sa.Text(), nullable=True))
    bind = op.get_bind()
    tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("title", sa.String),
                       sa.column("content", sa.Text), sa.column("location", sa.String),
                       sa.column("search_text", sa.Text))
    rows = bind.execute(sa.select(tickets.c.id, tickets.c.title, tickets.c.content, tickets.c.location)).all()
    for row in rows:
        bind.execute(tickets.update().where(tickets.c.id == row.id)
                     .values(search_text=search_text(row.title, row.content, row.location)))
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE tickets_fts USING fts5(search_text, content='tickets', "
                   "content_rowid='id', tokenize='unicode61')")
        op.execute("INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild')")
        for name, body in FTS_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_tickets_search_text ON tickets USING gin (string_to_array(search_text, ' '))")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS tickets_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tickets_search_text")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("search_text")
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
