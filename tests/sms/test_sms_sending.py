"""Outbound SMS are queued with the caller's change, sent by the shared outbox worker, retried on provider
failures with the reason visible, dead-lettered, and replayable."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.bus import EventBus
from gateway.config import HttpSmsSettings, RetrySettings
from gateway.db import session_factory
from gateway.errors import InvalidInput
from gateway.sms.models import SmsMessage, SmsOutboxEntry
from gateway.sms.providers import HttpSmsProvider, OutboxSmsProvider, SmsProvider
from gateway.sms.service import Sms, SmsSender, queue_sms
from gateway.webhooks.outbox import OutboxMetrics, OutboxWorker, RetryPolicy
from tests.sms.carrier import FakeCarrier
from tests.webhooks.support import FakeClock

RETRY = RetrySettings(max_attempts=2, initial_delay=30, max_delay=60, jitter=0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


def worker(sessions: async_sessionmaker[AsyncSession], provider: SmsProvider, clock: FakeClock,
           registry: CollectorRegistry | None = None) -> OutboxWorker:
    metrics = OutboxMetrics(registry, "hotline_sms_send", "SMS send") if registry else None
    return OutboxWorker("sms", SmsMessage, sessions, SmsSender(provider), RetryPolicy(RETRY), clock=clock,
                        metrics=metrics)


async def message(sessions: async_sessionmaker[AsyncSession], message_id: str) -> SmsMessage:
    async with sessions() as session:
        found = await session.get(SmsMessage, message_id)
    assert found is not None
    return found


async def test_a_queued_message_is_sent_through_the_outbox_provider(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    async with sessions() as session, session.begin():
        message_id = await queue_sms(session, "138 0013 8000", "请回复1-5评价", purpose="survey",
                                     ref="20261122001", now=clock())
    registry = CollectorRegistry()

    assert await worker(sessions, OutboxSmsProvider(sessions), clock, registry).run_once() == 1

    sent = await message(sessions, message_id)
    assert (sent.status, sent.to_number, sent.attempts) == ("sent", "+8613800138000", 1)
    assert sent.provider_message_id and sent.provider_message_id.startswith("outbox-")
    async with sessions() as session:
        [entry] = await session.scalars(select(SmsOutboxEntry))
    assert (entry.message_id, entry.to_number, entry.text) == (message_id, "+8613800138000", "请回复1-5评价")
    assert registry.get_sample_value("hotline_sms_send_attempts_total", {"outcome": "done"}) == 1


async def test_a_failing_provider_is_retried_then_dead_then_replayed(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock, carrier: FakeCarrier,
        http: aiohttp.ClientSession) -> None:
    provider = HttpSmsProvider(HttpSmsSettings(url=carrier.url(), success_field="code", success_value="OK",
                                              message_id_field="msgid"), http)
    sms = Sms(sessions, EventBus(), clock=clock)
    async with sessions() as session, session.begin():
        message_id = await sms.queue(session, "+8613800138000", "您好", purpose="survey", ref="s-1")
    carrier.status, carrier.answer = 503, {"code": "BUSY"}
    w = worker(sessions, provider, clock)

    await w.run_once()
    failing = await message(sessions, message_id)
    assert (failing.status, failing.attempts, failing.last_status) == ("retrying", 1, 503)
    assert "BUSY" in (failing.last_error or "")
    [listed] = await sms.messages(status="retrying", purpose="survey")
    assert listed.id == message_id, "a failing message is visible while it is retried"

    clock.advance(30)
    await w.run_once()
    assert (await message(sessions, message_id)).status == "dead"

    carrier.status, carrier.answer = 200, {"code": "OK", "msgid": "C-77"}
    replayed = await sms.replay(message_id, actor="root")
    assert (replayed.status, replayed.attempts, replayed.replay_count) == ("pending", 0, 1)
    await w.run_once()
    sent = await message(sessions, message_id)
    assert (sent.status, sent.provider_message_id) == ("sent", "C-77")
    assert len(carrier.requests) == 3


async def test_a_permanent_refusal_is_dead_at_once(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock, carrier: FakeCarrier,
        http: aiohttp.ClientSession) -> None:
    async with sessions() as session, session.begin():
        message_id = await queue_sms(session, "+8613800138000", "hi", purpose="notice", now=clock())
    carrier.status, carrier.answer = 400, {"code": "INVALID_TEMPLATE"}
    await worker(sessions, HttpSmsProvider(HttpSmsSettings(url=carrier.url()), http), clock).run_once()
    dead = await message(sessions, message_id)
    assert (dead.status, dead.attempts, dead.last_status) == ("dead", 1, 400)


@pytest.mark.parametrize("number", ["12345", "not a number", "+86 138"])
async def test_an_invalid_number_is_refused_before_anything_is_queued(
        sessions: async_sessionmaker[AsyncSession], number: str) -> None:
    async with sessions() as session, session.begin():
        with pytest.raises(InvalidInput) as caught:
            await queue_sms(session, number, "hi", purpose="survey")
    assert caught.value.error_id == "invalid-phone-number"
