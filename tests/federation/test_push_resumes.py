"""Issue 9, done-when: the district goes down mid-push and catches up with nothing lost or doubled."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.appkeys import SESSIONS
from gateway.federation.keys import FEDERATION
from gateway.federation.models import Receipt
from gateway.federation.wire import EventBatch, EventResult
from gateway.tickets.models import Ticket, TicketEvent
from tests.api.support import Api
from tests.federation.support import city_and_district, eventually, start_district
from tests.tickets.support import FakeClock


async def district_events(district: Api) -> list[tuple[str, int, str]]:
    async with district.app[SESSIONS]() as session:
        rows = (await session.execute(select(Ticket.number, TicketEvent.seq, TicketEvent.action)
                                      .join(Ticket, Ticket.id == TicketEvent.ticket_id))).all()
    return sorted((n, s, a) for n, s, a in rows)


async def city_receipts(city: Api) -> list[tuple[str, int, str]]:
    async with city.app[SESSIONS]() as session:
        rows = (await session.execute(select(Receipt.ticket_number, Receipt.seq, Receipt.action)
                                      .where(Receipt.peer == "hanbin"))).all()
    return sorted((n, s, a) for n, s, a in rows)


async def test_district_down_mid_push_catches_up_with_nothing_lost_or_doubled(
        tmp_path: Path, clock: FakeClock) -> None:
    async with city_and_district(tmp_path, clock) as p:
        city, district = p.city, p.district
        receiver = city.app[FEDERATION].receiver
        original = receiver.receive
        stored_but_unanswered, release = asyncio.Event(), asyncio.Event()

        async def stalls_after_storing(peer: str, batch: EventBatch) -> list[EventResult]:
            results = await original(peer, batch)  # committed at the city …
            stored_but_unanswered.set()
            await release.wait()  # … but the district will be gone before it hears so
            return results

        receiver.receive = stalls_after_storing
        numbers = []
        for i in range(3):
            t = await district.ok("agent", "POST", "/tickets", {
                "category": "求助", "content": f"江北街道第{i}号楼电梯故障", "caller_number": f"1380013800{i}"},
                status=201)
            await district.ok("agent", "POST", f"/tickets/{t['number']}/accept", {})
            await district.ok("agent", "POST", f"/tickets/{t['number']}/dispatch", {"lead_unit": "water"})
            numbers.append(t["number"])
        await asyncio.wait_for(stored_but_unanswered.wait(), 10)
        expected = await district_events(district)
        assert len(expected) == 9

        await p.stack.aclose()  # the district goes down mid-push
        receiver.receive = original
        release.set()
        partial = await city_receipts(city)
        assert 0 < len(partial) < len(expected) or partial == expected

        # Back up on the same data directory: the backlog is visible on both sides, then drains.
        district, stack = await start_district(tmp_path, clock, city, p.district_token)
        async with stack:
            mine = await district.ok("admin", "GET", "/federation/status")
            assert next(x for x in mine["peers"] if x["peer"] == "ankang")["backlog"] > 0
            theirs = await city.ok("admin", "GET", "/federation/status")
            reported: dict[str, Any] = next(x for x in theirs["peers"] if x["peer"] == "hanbin")["peer_reported"]
            assert reported["level"] == "district"

            clock.advance(minutes=2)  # the leases of the dead process's sends expire
            district.app[FEDERATION].nudge()

            async def drained() -> bool:
                status = await district.ok("admin", "GET", "/federation/status")
                return next(x for x in status["peers"] if x["peer"] == "ankang")["backlog"] == 0

            await eventually(drained, "the district's backlog drained")
            assert await city_receipts(city) == expected  # each event once: nothing lost, nothing doubled

            async def mirrored() -> list[Any] | None:  # acting on receipts follows storing them
                items = (await city.ok("admin", "GET", "/federation/mirror?peer=hanbin"))["items"]
                done = len(items) == len(numbers) and {m["status"] for m in items} == {"dispatched"}
                return items if done else None  # all three, not just the first ones applied

            mirror = await eventually(mirrored, "the district's tickets mirrored at the city")
            assert sorted(m["number"] for m in mirror) == sorted(numbers)
