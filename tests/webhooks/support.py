"""Helpers shared by the webhook tests (and the SMS ones): a fake clock, endpoints, a worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.config import RetrySettings
from gateway.db import utcnow
from gateway.webhooks.models import WebhookDelivery, WebhookEndpoint
from gateway.webhooks.outbox import OutboxMetrics, OutboxWorker, RetryPolicy
from gateway.webhooks.secrets import SecretStore
from gateway.webhooks.service import WebhookSender

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


async def add_endpoint(sessions: async_sessionmaker[AsyncSession], endpoint_id: str, owner: str, url: str,
                       events: list[str] | None = None) -> None:
    async with sessions() as session, session.begin():
        session.add(WebhookEndpoint(id=endpoint_id, owner=owner, url=url, events=events or ["*"], active=True))


def make_worker(sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
                clock: Callable[[], datetime], *, lease: float = 60, registry: CollectorRegistry | None = None,
                timeout: float = 5) -> OutboxWorker:
    metrics = OutboxMetrics(registry, "hotline_webhook_delivery", "Webhook delivery") if registry else None
    return OutboxWorker("webhooks", WebhookDelivery, sessions, WebhookSender(sessions, http, secrets, timeout),
                        RetryPolicy(RETRY), clock=clock, lease=lease, batch_size=50, metrics=metrics)


async def get_delivery(sessions: async_sessionmaker[AsyncSession], delivery_id: str) -> WebhookDelivery:
    async with sessions() as session:
        found = await session.get(WebhookDelivery, delivery_id)
    assert found is not None
    return found

