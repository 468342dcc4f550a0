"""Several gateway instances share one database: each received event is acted on by exactly one of them,
and in order per ticket (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from gateway.federation.models import Receipt
from gateway.federation.push import Platform
from gateway.federation.receiver import Receiver
from gateway.federation.wire import EventBatch, WireEvent
from gateway.tickets.models import Ticket
from gateway.tickets.service import TicketService
from tests.tickets.support import FakeClock


def dispatch(ticket: str) -> dict[str, Any]:
    at = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    return {"ticket": ticket, "seq": 3, "prev_seq": None, "action": "dispatch", "at": at,
            "actor": {"kind": "agent", "id": "a9"}, "from_status": "accepted", "to_status": "dispatched",
            "snapshot": {"number": ticket, "status": "dispatched", "policy": "national", "channel": "phone",
                         "category": "投诉", "content": f"{ticket}: 路灯不亮", "created_at": at,
                         "lead_unit": "hanbin"}}


def supervise(ticket: str) -> dict[str, Any]:  # a later event of the same ticket (a no-op on a new ticket)
    return {**dispatch(ticket), "seq": 4, "prev_seq": 3, "action": "supervise", "data": {"level": 1}}


class Recording(Receiver):
    """A receiver (one gateway instance) that notes what it acts on and yields mid-way, as real work does."""

    def __init__(self, *args: Any, log: list[tuple[str, str, int]], name: str) -> None:
        super().__init__(*args)
        self.log, self.name = log, name

    async def _apply(self, peer: str, ev: WireEvent) -> None:
        self.log.append((self.name, ev.ticket, ev.seq))
        await asyncio.sleep(0.01)
        await super()._apply(peer, ev)


async def test_two_instances_apply_each_event_once_and_in_order(service: TicketService, clock: FakeClock) -> None:
    platform = Platform("hanbin", "district", "ankang", "http://127.0.0.1:1")
    acted: list[tuple[str, str, int]] = []
    one, two = (Recording(service.sessions, service, platform, clock, log=acted, name=name)
                for name in ("one", "two"))
    numbers = [f"202611160000{i}" for i in range(1, 5)]
    await one.receive("ankang", EventBatch.model_validate({
        "origin": "ankang", "level": "city",
        "events": [e for n in numbers for e in (dispatch(n), supervise(n))]}))

    handled = await asyncio.gather(one.apply_pending(), two.apply_pending())

    assert sum(handled) == 8
    assert sorted((ticket, seq) for _, ticket, seq in acted) == sorted((n, s) for n in numbers for s in (3, 4))
    for n in numbers:  # the dispatch before the supervision, whoever applied which
        assert [seq for _, ticket, seq in acted if ticket == n] == [3, 4]
    async with service.sessions() as session:
        local = list(await session.scalars(select(Ticket.external_ref).order_by(Ticket.external_ref)))
        statuses = set(await session.scalars(select(Receipt.status)))
    assert local == numbers  # one local ticket per dispatch
    assert statuses == {"applied"}


async def test_a_claim_left_by_an_instance_that_died_is_taken_over_after_the_lease(
        service: TicketService, clock: FakeClock) -> None:
    platform = Platform("hanbin", "district", "ankang", "http://127.0.0.1:1")
    receiver = Receiver(service.sessions, service, platform, clock)
    await receiver.receive("ankang", EventBatch.model_validate({
        "origin": "ankang", "level": "city", "events": [dispatch("2026111600009")]}))
    async with service.sessions() as session:
        receipt_id = await session.scalar(select(Receipt.id))
    assert await receiver._claim(receipt_id)  # an instance claims it … and dies before acting
    assert not await receiver._claim(receipt_id)
    assert await receiver.apply_pending() == 0

    clock.advance(minutes=6)
    assert await receiver.apply_pending() == 1
    async with service.sessions() as session:
        assert await session.scalar(select(Receipt.status)) == "applied"
