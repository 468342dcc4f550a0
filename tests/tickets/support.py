"""Test helpers for the ticket core: actors, a controllable clock, a service on a real store."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import DomainEvent, EventBus
from gateway.db import session_factory
from gateway.policies import load_pack
from gateway.tickets.lifecycle import Actor
from gateway.tickets.schemas import ActorRef, NewTicket
from gateway.tickets.service import TicketService
from gateway.tickets.sla import SlaClock
from gateway.workcalendar import WorkCalendar

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




def make_service(engine: AsyncEngine, clock: FakeClock, events: list[DomainEvent],
                 policy: str = "qingyang") -> TicketService:
    pack = load_pack(policy)
    bus = EventBus()
    bus.subscribe("ticket.", events.append)
    return TicketService(session_factory(engine), SlaClock(pack, WorkCalendar.for_pack(pack)), bus, clock)


def complaint(**overrides: object) -> NewTicket:
    data: dict[str, object] = {
        "category": "投诉", "content": "幸福路23号路灯坏了三天了，晚上很黑", "caller_number": "13800138000",
        "caller_name": "张先生", "location": "城关镇幸福路23号",
    }
    data.update(overrides)
    return NewTicket(**data)  # type: ignore[arg-type]
