"""The receiving end of the wire, on SQLite and PostgreSQL: each event once, in order per ticket."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from gateway.federation.models import PushRow, Receipt
from gateway.federation.push import Platform, PushHook
from gateway.federation.receiver import Receiver
from gateway.federation.wire import EventBatch
from gateway.tickets.service import TicketService
from tests.tickets.support import AGENT, FakeClock, complaint


def event(ticket: str, seq: int, prev: int | None, action: str = "update") -> dict[str, Any]:
    at = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
    return {"ticket": ticket, "seq": seq, "prev_seq": prev, "action": action, "at": at,
            "actor": {"kind": "agent", "id": "a9"}, "to_status": "new",
            "snapshot": {"number": ticket, "status": "new", "policy": "hanbin", "channel": "phone",
                         "category": "complaint", "content": "路灯不亮", "created_at": at}}


def batch(*events: dict[str, Any]) -> EventBatch:
    return EventBatch.model_validate({"origin": "hanbin", "level": "district", "events": list(events)})


async def test_events_are_stored_once_and_a_gap_is_refused(service: TicketService, clock: FakeClock) -> None:
    platform = Platform("ankang", "city", None, None)
    platform.children = {"hanbin": "http://127.0.0.1:1"}
    receiver = Receiver(service.sessions, service, platform, clock)

    first = await receiver.receive("hanbin", batch(event("T1", 1, None, "create"), event("T1", 2, 1)))
    assert [r.result for r in first] == ["stored", "stored"]
    again = await receiver.receive("hanbin", batch(event("T1", 1, None, "create"), event("T1", 2, 1),
                                                   event("T1", 3, 2)))
    assert [r.result for r in again] == ["duplicate", "duplicate", "stored"]
    gap = await receiver.receive("hanbin", batch(event("T1", 5, 4)))
    assert (gap[0].result, gap[0].expected_prev_seq) == ("gap", 3)
    other = await receiver.receive("hanbin", batch(event("T2", 4, None)))  # a stream may start anywhere
    assert other[0].result == "stored"

    assert await receiver.apply_pending() == 4
    async with service.sessions() as session:
        rows = (await session.execute(select(Receipt.ticket_number, Receipt.seq, Receipt.status)
                                      .order_by(Receipt.id))).all()
    assert rows == [("T1", 1, "applied"), ("T1", 2, "applied"), ("T1", 3, "applied"), ("T2", 4, "applied")]


async def test_every_transition_is_queued_for_the_parent_in_order(service: TicketService, clock: FakeClock) -> None:
    platform = Platform("hanbin", "district", "ankang", "http://127.0.0.1:1")
    service.hooks.append(PushHook(platform, clock, lambda: None))
    ticket = await service.create(complaint(), AGENT)  # no hook runs on create: the next one catches up
    await service.accept(ticket.number, AGENT)
    await service.dispatch(ticket.number, AGENT, "water")
    async with service.sessions() as session:
        rows = (await session.execute(select(PushRow.seq, PushRow.prev_seq, PushRow.peer)
                                      .order_by(PushRow.seq))).all()
    assert rows == [(1, None, "ankang"), (2, 1, "ankang"), (3, 2, "ankang")]
