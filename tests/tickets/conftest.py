from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from gateway.policies import load_pack
from gateway.workcalendar import WorkCalendar
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import DomainEvent, EventBus
from gateway.db import session_factory
from gateway.tickets.lifecycle import Actor
from gateway.tickets.schemas import ActorRef, NewTicket
from gateway.tickets.service import TicketService
from gateway.tickets.sla import SlaClock

SH = ZoneInfo("Asia/Shanghai")
AGENT = ActorRef(Actor.AGENT, "a1001")
ADMIN = ActorRef(Actor.ADMIN, "reviewer")
WATER = ActorRef(Actor.UNIT, "water")
ROADS = ActorRef(Actor.UNIT, "roads")
POWER = ActorRef(Actor.UNIT, "power")


class FakeClock:
    """The service's notion of now, moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, local: str) -> datetime:
        self.now = datetime.fromisoformat(local).replace(tzinfo=SH)
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2026-11-16, 09:00 Shanghai: a plain working day.
    return FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=SH))


@pytest.fixture
def events() -> list[DomainEvent]:
    return []


def make_service(engine: AsyncEngine, clock: FakeClock, events: list[DomainEvent],
                 policy: str = "qingyang") -> TicketService:
    pack = load_pack(policy)
    bus = EventBus()
    bus.subscribe("ticket.", events.append)
    return TicketService(session_factory(engine), SlaClock(pack, WorkCalendar.for_pack(pack)), bus, clock)


@pytest.fixture
async def service(engine: AsyncEngine, clock: FakeClock, events: list[DomainEvent]) -> TicketService:
    svc = make_service(engine, clock, events)
    for unit_id, name in [("water", "市水务局"), ("roads", "市住建局"), ("power", "国网供电公司")]:
        await svc.add_unit(unit_id, name)
    return svc


def complaint(**overrides: object) -> NewTicket:
    data: dict[str, object] = {
        "category": "投诉", "content": "幸福路23号路灯坏了三天了，晚上很黑", "caller_number": "13800138000",
        "caller_name": "张先生", "location": "城关镇幸福路23号",
    }
    data.update(overrides)
    return NewTicket(**data)  # type: ignore[arg-type]


Factory = Callable[..., NewTicket]
