"""Throwaway PostgreSQL schemas for benchmarks and tests: nothing outside the schema is touched."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gateway.db.engine import create_engine


@asynccontextmanager
async def scratch_schema(url: str, prefix: str = "scratch") -> AsyncIterator[str]:
    """Create a uniquely named schema on the PostgreSQL server at ``url``, drop it (cascade) afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    try:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield schema
    finally:
        await admin.dispose()  # a fresh connection: the server may have been restarted meanwhile (no pre-ping)
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.dispose()


def search_path_args(schema: str | None) -> dict[str, Any] | None:
    """asyncpg connect arguments that make ``schema`` the default for every statement."""
    return {"server_settings": {"search_path": schema}} if schema else None
