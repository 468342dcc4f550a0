"""Webhooks of one ticket reach each endpoint in the ticket's event order: a later event waits for the
earlier one (retried, dead, or in flight at another instance), and every envelope carries the ticket and
its event sequence number. Other tickets' events are not held up."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.config import RetrySettings
from gateway.db import session_factory, utcnow
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.outbox import OutboxWorker, RetryPolicy, replay
from gateway.webhooks.secrets import SecretStore
from gateway.webhooks.service import enqueue
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import FakeClock, add_endpoint, get_delivery, make_worker
from tests.webhooks.test_webhook_delivery import second_engine


async def ticket_event(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, ticket: str, seq: int,
                       kind: str = "ticket.supervised") -> list[str]:
    async with sessions() as session, session.begin():
        return await enqueue(session, "water", kind, {"ticket": ticket, "seq": seq},
                             event_id=f"{ticket}:{seq}", stream=ticket, seq=seq, now=clock())


def seqs_by_ticket(receiver: Receiver) -> dict[str, list[int]]:
    order: dict[str, list[int]] = defaultdict(list)
    for r in receiver.accepted:
        order[r.body["ticket"]].append(r.body["seq"])
    return dict(order)


async def test_the_envelope_names_the_ticket_and_its_event_sequence_number(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock, receiver: Receiver) -> None:
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    await ticket_event(sessions, clock, "20261204001", 3)
    assert await make_worker(sessions, http, secrets, clock).run_once() == 1
    [got] = receiver.accepted
    assert (got.body["ticket"], got.body["seq"], got.body["event_id"]) == ("20261204001", 3, "20261204001:3")


async def test_a_later_event_waits_while_the_earlier_one_is_retried_and_other_tickets_go_on(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock, receiver: Receiver) -> None:
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    [first] = await ticket_event(sessions, clock, "A", 4)
    await ticket_event(sessions, clock, "A", 5)
    await ticket_event(sessions, clock, "B", 1)
    worker = make_worker(sessions, http, secrets, clock)

    receiver.status = 500
    assert await worker.run_once() == 2, "A:4 and B:1 are heads of their streams; A:5 is not"
    assert (await get_delivery(sessions, first)).status == "retrying"
    receiver.status = 200
    clock.advance(5)
    assert await worker.run_once() == 0, "A:4 waits out its backoff, and A:5 waits for A:4"
    clock.advance(5)
    assert await worker.run_once() == 2, "A:4 (retried) and B:1"
    assert await worker.run_once() == 1, "then A:5"
    assert seqs_by_ticket(receiver) == {"A": [4, 5], "B": [1]}


async def test_a_dead_event_holds_its_ticket_stream_until_it_is_replayed(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock, receiver: Receiver) -> None:
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    [head] = await ticket_event(sessions, clock, "A", 1)
    [later] = await ticket_event(sessions, clock, "A", 2)
    worker = make_worker(sessions, http, secrets, clock)
    receiver.status = 503
    for wait in (0, 10, 20):
        clock.advance(wait)
        assert await worker.run_once() == 1
    assert (await get_delivery(sessions, head)).status == "dead"
    receiver.status = 200
    clock.advance(3600)
    assert await worker.run_once() == 0, "A:2 must not overtake the dead A:1"
    assert (await get_delivery(sessions, later)).status == "pending"

    async with sessions() as session, session.begin():
        await replay(session, WebhookDelivery, [head], actor="admin-1", now=clock.now)
    while await worker.run_once():
        pass
    assert seqs_by_ticket(receiver) == {"A": [1, 2]}


async def test_each_endpoint_keeps_its_own_order(
        sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession, secrets: SecretStore,
        clock: FakeClock, receiver: Receiver) -> None:
    """One endpoint failing does not hold the same ticket's events back from another endpoint."""
    secrets.directory.joinpath("water-backup").write_text("other-secret\n", encoding="utf-8")
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    await add_endpoint(sessions, "water-backup", "water", "http://127.0.0.1:9/closed")
    await ticket_event(sessions, clock, "A", 1)
    await ticket_event(sessions, clock, "A", 2)
    worker = make_worker(sessions, http, secrets, clock)
    while await worker.run_once():
        pass
    assert seqs_by_ticket(receiver) == {"A": [1, 2]}


class Flaky:
    """The receiver's faults in turn, over and over until ``stop``: port closed, 500s, slow answers."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.stopped = asyncio.Event()

    async def run(self, phase: float) -> None:
        port = self.receiver.port
        while not self.stopped.is_set():
            await self.receiver.close()  # down: connection refused
            await asyncio.sleep(phase)
            self.receiver._closing.clear()
            await self.receiver.start(port)
            self.receiver.status = 500
            await asyncio.sleep(phase)
            self.receiver.status = 200
            self.receiver.delay = 0.05  # slow, but within the sender's timeout
            await asyncio.sleep(phase)
            self.receiver.delay = 0
            await asyncio.sleep(phase)  # healthy for a moment


@pytest.mark.slow
async def test_receiver_down_failing_then_slow_two_instances_deliver_every_event_once_in_order(
        engine: AsyncEngine, http: aiohttp.ClientSession, secrets: SecretStore, receiver: Receiver) -> None:
    sessions = session_factory(engine)
    await add_endpoint(sessions, "water-main", "water", receiver.url)
    # Two instances on PostgreSQL (each its own connection pool); SQLite deployments are single-instance,
    # so there the two workers share the one engine.
    postgres = engine.dialect.name == "postgresql"
    other_engine = await second_engine(engine) if postgres else engine
    quick = RetryPolicy(RetrySettings(max_attempts=1000, initial_delay=0.05, max_delay=0.5, jitter=0.3))
    workers: list[OutboxWorker] = []
    for instance_sessions in (sessions, session_factory(other_engine)):
        worker = make_worker(instance_sessions, http, secrets, utcnow, timeout=2)
        worker.policy, worker.batch_size, worker.poll_interval = quick, 8, 0.05
        workers.append(worker)
    tickets, events = 20, 8
    expected: set[str] = set()
    try:
        for w in workers:
            w.start()
        flaky = Flaky(receiver)
        fault = asyncio.create_task(flaky.run(phase=0.3))
        # Events are written while the receiver misbehaves, a ticket's events interleaved with the others'.
        clock = FakeClock()
        for seq in range(1, events + 1):
            for t in range(tickets):
                expected.update(await ticket_event(sessions, clock, f"T{t:03d}", seq))
            await asyncio.sleep(0.3)
        flaky.stopped.set()
        await fault
        async with asyncio.timeout(60):
            while {r.delivery_id for r in receiver.accepted} != expected:  # noqa: ASYNC110 (polls the receiver)
                await asyncio.sleep(0.1)
    finally:
        for w in workers:
            await w.stop()
        if postgres:
            await other_engine.dispose()
    accepted = [r.delivery_id for r in receiver.accepted]
    assert len(accepted) == len(expected) == tickets * events, "every event delivered exactly once"
    assert seqs_by_ticket(receiver) == {f"T{t:03d}": list(range(1, events + 1)) for t in range(tickets)}
    assert any(r.answered >= 500 for r in receiver.received), "the receiver really failed meanwhile"
