"""Several gateway instances on one PostgreSQL: a console page sees the console events of every instance,
each once, in each instance's order, with nothing acted on twice; a dropped LISTEN connection loses
nothing; the table is pruned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from gateway.appkeys import BUS, ENGINE
from gateway.bus import DomainEvent
from gateway.consoles.keys import RELAY
from gateway.consoles.models import ConsoleEventRow
from gateway.db.scratch import scratch_schema
from gateway.http.jsonio import local_instant
from tests.conftest import PG_URL
from tests.consoles.support import Gateway, Page, running_gateway

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Gateway, Gateway]]:
    """Two instances sharing one database (a throwaway schema), each with its own (absent) Asterisk."""
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set (./dev test starts a private PostgreSQL and sets it)")
    async with scratch_schema(PG_URL, "relay") as schema, AsyncExitStack() as stack:
        shared = {"db": {"url": PG_URL, "search_path": schema}, "consoles": {"relay_poll_interval": 0.5}}
        first = await stack.enter_async_context(running_gateway(tmp_path / "a", None, **shared))
        second = await stack.enter_async_context(running_gateway(tmp_path / "b", None, seed=False, **shared))
        yield first, second


async def kinds_until(page: Page, count: int, within: float = 5.0) -> list[dict]:
    got: list[dict] = []
    async with asyncio.timeout(within):
        while len(got) < count:
            got.append(await page.next(within=within))
    return got


async def test_a_page_on_one_instance_sees_the_other_instances_events_once(pair: tuple[Gateway, Gateway]) -> None:
    a, b = pair
    on_b = await b.socket("supervisor")
    on_a = await a.socket("supervisor")
    acted_on_b: list[DomainEvent] = []
    b.app[BUS].subscribe("", acted_on_b.append)

    answered = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    a.publish("call.connected", call_id="1795346000.10", state="connected", caller="13800000001",
              answered_at=answered, agent_id="a1001")
    a.publish("transcript.partial", call_key="1795346000.10", text="我家")  # stays on its instance
    a.publish("transcript.final", call_key="1795346000.10", text="我家停水了", start=0.0, end=1.2)
    a.publish("ticket.dispatched", number="T1", actor="agent:a1001", lead_unit="water")

    seen = await kinds_until(on_b, 3)
    assert [e["kind"] for e in seen] == ["call.connected", "transcript.final", "ticket.dispatched"]
    assert seen[0]["data"]["answered_at"] == local_instant(answered).isoformat()  # shown in the centre's time
    assert seen[0]["data"]["caller"] == "13800000001"
    assert await on_b.drain(0.8) == []  # nothing twice, no partial
    assert [e["kind"] for e in await on_a.drain(0.8)] == [
        "call.connected", "transcript.partial", "transcript.final", "ticket.dispatched"
    ]  # its own events, once: the relay never sends them back
    assert acted_on_b == []  # B's tickets, webhooks and metrics never see A's events


async def test_both_instances_writing_at_once_lose_and_double_nothing(pair: tuple[Gateway, Gateway]) -> None:
    a, b = pair
    on_a, on_b = await a.socket("supervisor"), await b.socket("supervisor")

    async def publish(gateway: Gateway, name: str) -> None:
        for n in range(150):
            gateway.publish("agent.state", agent_id=f"{name}{n}", state="available", interface=f"PJSIP/{n}")
            if n % 10 == 0:
                await asyncio.sleep(0.01)  # several write batches, interleaved with the other instance's

    await asyncio.gather(publish(a, "a"), publish(b, "b"))
    for page, own, other in ((on_a, "a", "b"), (on_b, "b", "a")):
        events = await kinds_until(page, 300, within=15)
        ids = [e["data"]["agent_id"] for e in events]
        assert [i for i in ids if i.startswith(other)] == [f"{other}{n}" for n in range(150)]  # all, in order
        assert [i for i in ids if i.startswith(own)] == [f"{own}{n}" for n in range(150)]
        assert await page.drain(0.8) == []


async def test_a_dropped_listen_connection_costs_latency_not_events(pair: tuple[Gateway, Gateway]) -> None:
    a, b = pair
    on_b = await b.socket("supervisor")
    async with b.app[ENGINE].begin() as conn:
        dropped = await conn.scalar(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() AND datname = current_database()"))
    assert dropped >= 1
    a.publish("hotspot.warning", cluster="停水", count=50)
    (event,) = await kinds_until(on_b, 1, within=10)
    assert (event["kind"], event["data"]["count"]) == ("hotspot.warning", 50)


async def test_old_rows_are_pruned(pair: tuple[Gateway, Gateway]) -> None:
    a, _b = pair
    a.publish("agent.state", agent_id="a1001", state="paused", interface="PJSIP/1001")
    relay = a.app[RELAY]
    async with asyncio.timeout(5):
        await relay.outbox.join()  # written
    assert await relay.prune(datetime.now(UTC)) == 0  # younger than relay_keep_minutes
    assert await relay.prune(datetime.now(UTC) + timedelta(hours=2)) >= 1
    async with a.app[ENGINE].connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(ConsoleEventRow)) == 0


async def test_a_requests_console_events_commit_with_the_request_and_reach_the_other_instance(
        pair: tuple[Gateway, Gateway]) -> None:
    """Outbox: the row is written in the request's own transaction (present once the answer is, with no
    commit of the relay's own), and the other instance's page gets the event once."""
    a, b = pair
    on_b = await b.socket("supervisor")
    relay = a.app[RELAY]
    before = relay.written
    resp = await a.client.post("/api/v1/tickets", json={"category": "求助", "content": "人民路12号停水两天"},
                               headers={"Authorization": f"Bearer {a.tokens['agent']}", "Idempotency-Key": "outbox-1"})
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    assert relay.outbox.empty()  # not queued for the writer: already committed with the ticket
    assert relay.written > before
    async with a.app[ENGINE].connect() as conn:
        kinds = (await conn.scalars(select(ConsoleEventRow.kind).where(ConsoleEventRow.origin == relay.origin))).all()
    assert "ticket.created" in kinds
    (event,) = [e for e in await kinds_until(on_b, 1, within=5) if e["kind"] == "ticket.created"]
    assert event["data"]["number"] == created["number"]
    assert [e for e in await on_b.drain(0.8) if e["kind"] == "ticket.created"] == []
