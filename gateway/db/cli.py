"""The database as the ``hotline`` subcommands open it: settings loaded, schema up to date, sessions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.config import Settings, load_settings
from gateway.db.engine import create_engine, session_factory
from gateway.db.migrate import upgrade


@contextlib.asynccontextmanager
async def cli_database(config: Path | None) -> AsyncIterator[tuple[Settings, async_sessionmaker[AsyncSession]]]:
    settings = load_settings(config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        yield settings, session_factory(engine)
    finally:
        await engine.dispose()
