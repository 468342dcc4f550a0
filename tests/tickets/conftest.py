from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import DomainEvent
from gateway.tickets.service import TicketService
from tests.tickets.support import SH, FakeClock, make_service


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2026-11-16, 09:00 Shanghai: a plain working day.
    return FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=SH))


@pytest.fixture
def events() -> list[DomainEvent]:
    return []


@pytest.fixture
async def service(engine: AsyncEngine, clock: FakeClock, events: list[DomainEvent]) -> TicketService:
    svc = make_service(engine, clock, events)
    for unit_id, name in [("water", "市水务局"), ("roads", "市住建局"), ("power", "国网供电公司")]:
        await svc.add_unit(unit_id, name)
    return svc
