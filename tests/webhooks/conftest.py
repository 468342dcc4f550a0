from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.db import session_factory
from gateway.webhooks.secrets import SecretStore
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import SECRET, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def secrets(tmp_path: Path) -> SecretStore:
    store = SecretStore(tmp_path / "secrets", environ={})
    store.directory.mkdir()
    (store.directory / "water-main").write_text(SECRET + "\n", encoding="utf-8")
    return store


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver(SECRET).start()
    yield r
    await r.close()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
