"""Webhooks are stored with the change that caused them, signed, retried with backoff, dead-lettered, replayed,
and survive restarts; several workers on one database send each delivery once."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.db import create_engine, session_factory, utcnow
from gateway.webhooks.models import WebhookDelivery, WebhookEndpoint
from gateway.webhooks.outbox import OutboxWorker, replay
from gateway.webhooks.secrets import SecretStore
from gateway.webhooks.service import Webhooks, enqueue
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import FakeClock, add_endpoint, get_delivery, make_worker


async def queue(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, owner: str = "water",
                kind: str = "ticket.dispatched", **payload: object) -> list[str]:
    async with sessions() as session, session.begin():
        return await enqueue(session, owner, kind, payload or {"number": "20261122001"}, now=clock())


async def test_enqueue_fans_out_to_the_owners_subscribed_endpoints(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    await add_endpoint(sessions, "water-main", "water", "http://127.0.0.1:9/a")
    await add_endpoint(sessions, "water-warnings", "water", "http://127.0.0.1:9/b", events=["ticket.warning.*"])
    await add_endpoint(sessions, "roads-main", "roads", "http://127.0.0.1:9/c")

    dispatched = await queue(sessions, clock, kind="ticket.dispatched")
    red = await queue(sessions, clock, kind="ticket.warning.red")

    async with sessions() as session:
        rows = {d.id: d for d in await session.scalars(select(WebhookDelivery))}
    assert [rows[i].endpoint_id for i in dispatched] == ["water-main"]
    assert sorted(rows[i].endpoint_id for i in red) == ["water-main", "water-warnings"]
    assert all(d.status == "pending" and d.attempts == 0 for d in rows.values())


async def test_a_delivery_commits_or_rolls_back_with_the_callers_transaction(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_endpoint(sessions, "water-main", "water", "http://127.0.0.1:9/a")
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await enqueue(session, "water", "ticket.dispatched", {"number": "1"})
            raise RuntimeError("the ticket transition failed")
    async with sessions() as session:
        assert list(await session.scalars(select(WebhookDelivery))) == []


async def test_the_same_event_id_is_queued_once_per_endpoint(sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_endpoint(sessions, "water-main", "water", "http://127.0.0.1:9/a")
    async with sessions() as session, session.begin():
        first = await enqueue(session, "water", "ticket.reopened", {"n": 1}, event_id="ticket:7:event:12")
    async with sessions() as session, session.begin():
        again = await enqueue(session, "water", "ticket.reopened", {"n": 1}, event_id="ticket:7:event:12")
    assert len(first) == 1
    assert again == []


async def test_a_signed_delivery_reaches_the_receiver(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock, receiver: Receiver) -> None:
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    [delivery_id] = await queue(sessions, clock, kind="ticket.dispatched", number="20261122001", title="路灯不亮")
    registry = CollectorRegistry()

    assert await make_worker(sessions, http, secrets, clock, registry=registry).run_once() == 1

    [got] = receiver.received
    assert got.signature_ok
    assert got.delivery_id == delivery_id
    assert got.event == "ticket.dispatched"
    assert got.headers["X-Hotline-Signature"].startswith("sha256=")
    assert got.body["data"] == {"number": "20261122001", "title": "路灯不亮"}
    assert got.body["owner"] == "water"
    done = await get_delivery(sessions, delivery_id)
    assert (done.status, done.attempts, done.last_status) == ("delivered", 1, 200)
    assert done.completed_at == clock.now
    assert registry.get_sample_value("hotline_webhook_delivery_attempts_total", {"outcome": "done"}) == 1
    assert registry.get_sample_value("hotline_webhook_delivery_backlog") == 0


async def test_a_receiver_that_is_down_gets_retries_then_a_dead_letter_then_a_successful_replay(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock, receiver: Receiver) -> None:
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    [delivery_id] = await queue(sessions, clock)
    worker = make_worker(sessions, http, secrets, clock)
    receiver.status = 503

    assert await worker.run_once() == 1
    first = await get_delivery(sessions, delivery_id)
    assert (first.status, first.attempts, first.last_status) == ("retrying", 1, 503)
    assert first.last_error == "HTTP 503 from receiver"
    assert first.next_attempt_at == clock.now + timedelta(seconds=10)

    clock.advance(9)
    assert await worker.run_once() == 0, "not due before the backoff has passed"
    clock.advance(1)
    assert await worker.run_once() == 1
    second = await get_delivery(sessions, delivery_id)
    assert second.next_attempt_at == clock.now + timedelta(seconds=20), "the wait doubles"

    clock.advance(20)
    assert await worker.run_once() == 1
    dead = await get_delivery(sessions, delivery_id)
    assert (dead.status, dead.attempts) == ("dead", 3)
    clock.advance(3600)
    assert await worker.run_once() == 0, "a dead letter waits for a replay"
    assert len(receiver.received) == 3
    assert all(r.signature_ok and r.delivery_id == delivery_id for r in receiver.received)

    receiver.status = 200
    async with sessions() as session, session.begin():
        assert await replay(session, WebhookDelivery, [delivery_id], actor="admin-1", now=clock.now) == [delivery_id]
    assert await worker.run_once() == 1
    done = await get_delivery(sessions, delivery_id)
    assert (done.status, done.attempts, done.replay_count, done.last_replayed_by) == ("delivered", 1, 1, "admin-1")
    assert [r.answered for r in receiver.received] == [503, 503, 503, 200]


async def test_a_closed_port_is_a_failed_attempt_with_the_reason(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await add_endpoint(sessions, "water-main", "water", f"http://127.0.0.1:{port}/hooks")
    [delivery_id] = await queue(sessions, clock)
    await make_worker(sessions, http, secrets, clock).run_once()
    failed = await get_delivery(sessions, delivery_id)
    assert failed.status == "retrying"
    assert failed.last_status is None
    assert "ClientConnectorError" in (failed.last_error or "")


async def test_missing_secret_and_disabled_endpoint_are_visible_failures(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock, receiver: Receiver) -> None:
    await add_endpoint(sessions, "roads-main", "roads", receiver.url)  # no secret file for it
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    [no_secret] = await queue(sessions, clock, owner="roads")
    [disabled] = await queue(sessions, clock, owner="water")
    async with sessions() as session, session.begin():
        endpoint = await session.get(WebhookEndpoint, "water-main")
        assert endpoint is not None
        endpoint.active = False

    await make_worker(sessions, http, secrets, clock).run_once()

    assert receiver.received == [], "nothing unsigned or unwanted leaves the gateway"
    waiting = await get_delivery(sessions, no_secret)
    assert waiting.status == "retrying"
    assert "HOTLINE_WEBHOOK_SECRET__ROADS_MAIN" in (waiting.last_error or "")
    dead = await get_delivery(sessions, disabled)
    assert (dead.status, dead.last_error) == ("dead", "endpoint water-main is disabled")


async def test_pending_deliveries_survive_a_restart(
        engine: AsyncEngine, http: aiohttp.ClientSession, secrets: SecretStore, clock: FakeClock,
        receiver: Receiver) -> None:
    first_sessions = session_factory(engine)
    await add_endpoint(first_sessions, "water-main", "water", receiver.url)
    receiver.status = 503
    ids = [*await queue(first_sessions, clock), *await queue(first_sessions, clock, kind="ticket.reopened")]
    worker = make_worker(first_sessions, http, secrets, clock)
    worker.start()
    await asyncio.wait_for(receiver.arrived.wait(), 10)
    await worker.stop()

    # A new process: new engine and worker on the same database, the receiver back up.
    second = await second_engine(engine)
    try:
        receiver.status = 200
        clock.advance(10)
        await make_worker(session_factory(second), http, secrets, clock).run_once()
        assert sorted(r.delivery_id for r in receiver.accepted) == sorted(ids)
    finally:
        await second.dispose()


async def test_a_worker_that_died_mid_send_leaves_a_lease_another_worker_takes_over(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock, receiver: Receiver) -> None:
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    [delivery_id] = await queue(sessions, clock)
    receiver.delay = 30  # the first worker's request hangs
    crashed = asyncio.create_task(make_worker(sessions, http, secrets, clock, lease=60).run_once())
    await asyncio.wait_for(receiver.arrived.wait(), 10)
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed
    receiver.delay = 0

    other = make_worker(sessions, http, secrets, clock, lease=60)
    assert await other.run_once() == 0, "the lease still holds"
    clock.advance(61)
    assert await other.run_once() == 1
    assert (await get_delivery(sessions, delivery_id)).status == "delivered"
    assert [r.delivery_id for r in receiver.accepted] == [delivery_id]


async def test_two_workers_on_one_database_deliver_each_delivery_once(
        engine: AsyncEngine, http: aiohttp.ClientSession, secrets: SecretStore, clock: FakeClock,
        receiver: Receiver) -> None:
    sessions = session_factory(engine)
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    ids: list[str] = []
    for n in range(30):
        ids += await queue(sessions, clock, number=str(n))
    receiver.delay = 0.005  # keep requests in flight while the other worker claims
    # Two instances: each its own engine (connection pool) on the same database.
    other_engine = await second_engine(engine)
    try:
        workers = [make_worker(sessions, http, secrets, clock), make_worker(session_factory(other_engine), http,
                                                                             secrets, clock)]
        for w in workers:
            w.batch_size = 4

        async def drain(worker: OutboxWorker) -> int:
            total = 0
            while n := await worker.run_once():
                total += n
            return total

        counts = await asyncio.gather(*(drain(w) for w in workers))
    finally:
        await other_engine.dispose()
    delivered = [r.delivery_id for r in receiver.accepted]
    assert sorted(delivered) == sorted(ids), "every delivery exactly once"
    assert sum(counts) == 30
    assert all(counts), f"both workers took a share: {counts}"


async def second_engine(engine: AsyncEngine) -> AsyncEngine:
    """Another engine (another instance's connection pool) on the same database and test schema."""
    if engine.dialect.name != "postgresql":
        return create_engine(engine.url.render_as_string(hide_password=False))
    async with engine.connect() as conn:
        schema = await conn.scalar(text("SELECT current_schema()"))
    return create_engine(engine.url.render_as_string(hide_password=False),
                         connect_args={"server_settings": {"search_path": schema}})


async def test_a_commit_wakes_the_idle_worker_at_once(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        receiver: Receiver) -> None:
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    worker = make_worker(sessions, http, secrets, utcnow)
    worker.poll_interval = 600  # idle polling alone would not get there during this test
    webhooks = Webhooks(sessions, secrets, worker)
    worker.start()
    try:
        await asyncio.sleep(0.05)  # the worker has looked, found nothing, and sleeps
        async with sessions() as session, session.begin():
            [delivery_id] = await webhooks.enqueue(session, "water", "ticket.reminded", {"number": "1"})
        await asyncio.wait_for(receiver.arrived.wait(), 5)
    finally:
        await worker.stop()
    assert [r.delivery_id for r in receiver.accepted] == [delivery_id]
