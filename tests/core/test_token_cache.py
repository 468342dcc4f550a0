"""Tokens are verified from memory: no database work per request, a revocation stops a token at once on the
instance that revoked it, on other instances through PostgreSQL's NOTIFY, and within the cache's TTL even
when the notification is missed (another process on SQLite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.auth.models import ApiToken
from gateway.auth.tokens import TokenStore
from gateway.db import session_factory


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticking:
    return Ticking()


def statements(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


async def test_a_verified_token_is_answered_from_memory_and_its_last_use_written_in_a_batch(
        engine: AsyncEngine, ticks: Ticking) -> None:
    store = TokenStore(session_factory(engine), clock=ticks)
    row, token = await store.create("unit", "water")
    assert (await store.verify(token)) is not None
    seen = statements(engine)
    for _ in range(5):
        actor = await store.verify(token)
        assert actor is not None and actor.id == "water"
    assert seen == []  # no round trip, no commit per request
    assert await store.flush_last_used() == 1
    async with session_factory(engine)() as session:
        assert (await session.get(ApiToken, row.id)).last_used_at is not None  # type: ignore[union-attr]


async def test_a_revocation_stops_the_token_at_once_here(engine: AsyncEngine, ticks: Ticking) -> None:
    store = TokenStore(session_factory(engine), clock=ticks)
    row, token = await store.create("agent", "a1001")
    assert await store.verify(token) is not None
    await store.revoke(row.id)
    assert await store.verify(token) is None


async def test_a_revocation_made_elsewhere_and_not_announced_stops_the_token_within_the_ttl(
        engine: AsyncEngine, ticks: Ticking) -> None:
    store = TokenStore(session_factory(engine), ttl=5.0, clock=ticks)
    row, token = await store.create("agent", "a1001")
    assert await store.verify(token) is not None
    async with session_factory(engine)() as session, session.begin():  # e.g. `hotline tokens revoke` on SQLite
        await session.execute(update(ApiToken).where(ApiToken.id == row.id).values(revoked_at=row.created_at))
    ticks.now += 4.9
    assert await store.verify(token) is not None  # the cached answer, for at most the TTL
    ticks.now += 0.2
    assert await store.verify(token) is None


async def test_a_wrong_secret_for_a_cached_token_id_is_refused(engine: AsyncEngine, ticks: Ticking) -> None:
    store = TokenStore(session_factory(engine), clock=ticks)
    row, token = await store.create("agent", "a1001")
    assert await store.verify(token) is not None
    assert await store.verify(f"hl_{row.id}_not-the-secret") is None


@pytest.fixture
async def listening(engine: AsyncEngine) -> AsyncIterator[TokenStore]:
    if engine.dialect.name != "postgresql":
        pytest.skip("revocations are announced between instances by PostgreSQL's NOTIFY")
    other = TokenStore(session_factory(engine), ttl=3600)  # only the notification can make it forget
    task = asyncio.create_task(other.listen_for_revocations(engine))
    await asyncio.sleep(0.3)  # listening
    yield other
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_revocation_on_one_instance_reaches_the_others_by_notify(
        engine: AsyncEngine, listening: TokenStore) -> None:
    here = TokenStore(session_factory(engine))
    row, token = await here.create("agent", "a1001")
    assert await listening.verify(token) is not None
    await here.revoke(row.id)
    for _ in range(100):  # the notification arrives within moments of the commit
        if await listening.verify(token) is None:
            break
        await asyncio.sleep(0.05)
    assert await listening.verify(token) is None
