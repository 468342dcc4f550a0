from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.sms.carrier import FakeCarrier


@pytest.fixture
async def carrier() -> AsyncIterator[FakeCarrier]:
    c = await FakeCarrier().start()
    yield c
    await c.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
