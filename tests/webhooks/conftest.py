from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.config import RetrySettings
from gateway.db import session_factory, utcnow
from gateway.webhooks.models import WebhookDelivery, WebhookEndpoint
from gateway.webhooks.outbox import OutboxMetrics, OutboxWorker, RetryPolicy
from gateway.webhooks.secrets import SecretStore
from gateway.webhooks.service import WebhookSender
from tests.webhooks.receiver import Receiver

SECRET = "s3cret-shared-with-the-water-bureau"
# Three attempts, 10 s then 20 s apart: the tests move a fake clock instead of sleeping.
RETRY = RetrySettings(max_attempts=3, initial_delay=10, max_delay=60, jitter=0)


class FakeClock:
    """The worker's notion of now (scheduling, leases), moved by the test. Starts at the real time, since
    signatures are stamped with the wall clock anyway."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


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


async def add_endpoint(sessions: async_sessionmaker[AsyncSession], endpoint_id: str, owner: str, url: str,
                       events: list[str] | None = None) -> None:
    async with sessions() as session, session.begin():
        session.add(WebhookEndpoint(id=endpoint_id, owner=owner, url=url, events=events or ["*"], active=True))


def make_worker(sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
                clock: FakeClock, *, lease: float = 60, registry: CollectorRegistry | None = None,
                timeout: float = 5) -> OutboxWorker:
    metrics = OutboxMetrics(registry, "hotline_webhook_delivery", "Webhook delivery") if registry else None
    return OutboxWorker("webhooks", WebhookDelivery, sessions, WebhookSender(sessions, http, secrets, timeout),
                        RetryPolicy(RETRY), clock=clock, lease=lease, batch_size=50, metrics=metrics)


async def get_delivery(sessions: async_sessionmaker[AsyncSession], delivery_id: str) -> WebhookDelivery:
    async with sessions() as session:
        found = await session.get(WebhookDelivery, delivery_id)
    assert found is not None
    return found
