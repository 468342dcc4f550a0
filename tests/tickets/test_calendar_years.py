"""Late in 2026, deadlines start to reach into 2027, which chinesecalendar does not cover."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import calendar_advisory
from gateway.bus import DomainEvent
from gateway.db import session_factory
from gateway.policies import load_pack
from gateway.tickets.service import TicketService
from gateway.tickets.sla import SlaClock
from gateway.workcalendar import CalendarOutOfRange, WorkCalendar
from tests.tickets.support import AGENT, FakeClock, complaint

OVERRIDES_2027 = """
full_years = [2027]
# 2027 New Year's Day (a Friday), as an operator would copy it from the State Council notice.
[[days]]
date = 2027-01-01
kind = "holiday"
name = "元旦"
"""


async def chuxiong(engine: AsyncEngine, clock: FakeClock, overrides: Path | None = None) -> TicketService:
    pack = load_pack("chuxiong")
    service = TicketService(session_factory(engine), SlaClock(pack, WorkCalendar.for_pack(pack, overrides)),
                            clock=clock)
    await service.add_unit("water", "州水务局")
    return service


async def dispatch(service: TicketService) -> str:
    t = await service.create(complaint(), AGENT)
    await service.accept(t.number, AGENT)
    return t.number


async def test_due_date_known_but_latest_due_in_2027_is_left_open(engine: AsyncEngine, clock: FakeClock) -> None:
    service = await chuxiong(engine, clock)  # 楚雄 complaint: 15 working days, up to 35 with extensions
    number = await dispatch(service)
    t = await service.dispatch(number, AGENT, "water")
    assert t.due_at is not None and t.due_at.year == 2026
    assert t.max_due_at is None


async def test_dispatch_whose_due_date_needs_2027_fails_loudly_and_changes_nothing(
        engine: AsyncEngine, clock: FakeClock, events: list[DomainEvent]) -> None:
    service = await chuxiong(engine, clock)
    number = await dispatch(service)
    clock.set("2026-12-21T10:00:00")
    with pytest.raises(CalendarOutOfRange) as err:
        await service.dispatch(number, AGENT, "water")
    assert err.value.status == 503 and "2027" in err.value.message
    assert (await service.get(number)).status == "accepted"


async def test_an_operator_supplied_2027_schedule_unblocks_it(engine: AsyncEngine, clock: FakeClock,
                                                              tmp_path: Path) -> None:
    overrides = tmp_path / "calendar.toml"
    overrides.write_text(OVERRIDES_2027, encoding="utf-8")
    service = await chuxiong(engine, clock, overrides)
    number = await dispatch(service)
    clock.set("2026-12-21T10:00:00")
    t = await service.dispatch(number, AGENT, "water")
    assert t.due_at is not None and t.due_at.year == 2027 and t.max_due_at is not None


def test_advisory_warns_two_months_ahead(tmp_path: Path, clock: FakeClock) -> None:
    cal = WorkCalendar.for_pack(load_pack("chuxiong"))
    assert calendar_advisory(cal, clock.set("2026-10-01T09:00:00")) is None
    advice = calendar_advisory(cal, clock.set("2026-11-22T09:00:00"))
    assert advice is not None and "2027" in advice and "calendar_overrides" in advice
    overrides = tmp_path / "calendar.toml"
    overrides.write_text(OVERRIDES_2027, encoding="utf-8")
    assert calendar_advisory(WorkCalendar.for_pack(load_pack("chuxiong"), overrides), clock.now) is None
