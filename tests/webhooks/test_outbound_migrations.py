"""The webhooks and sms migration branches create exactly the tables the models declare, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import Base
from gateway.db.models import import_all_models

OURS = ("webhook_endpoints", "webhook_deliveries", "sms_messages", "sms_outbox", "sms_inbound")


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    import_all_models()

    def differences(conn: Connection) -> list[object]:
        found = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        return [d for d in found if any(table in repr(d) for table in OURS)]

    def tables(conn: Connection) -> set[str]:
        return set(inspect(conn).get_table_names())

    async with engine.connect() as conn:
        assert set(OURS) <= await conn.run_sync(tables)
        assert await conn.run_sync(differences) == []
