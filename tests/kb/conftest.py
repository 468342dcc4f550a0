"""Knowledge-base fixtures: one segmenter per session, a KnowledgeBase on each test database, a clock the
test moves, and a simple working-day calendar standing in for the ticket core's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import DomainEvent, EventBus
from gateway.db import session_factory
from kb.access import Actor
from kb.segment import Segmenter
from kb.service import KnowledgeBase

ADMIN = Actor(kind="admin", id="platform-reviewer")
AGENT = Actor(kind="agent", id="agent-007")
WATER = Actor(kind="unit", id="clerk-1", unit_id="water-company")
HOUSING = Actor(kind="unit", id="clerk-2", unit_id="housing-bureau")

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # a Friday, 16:00 Beijing time


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class WorkingDayCalendar:
    """Fake of the ticket core's calendar: whole working days, weekends and listed holidays skipped;
    yellow when less than a quarter of the time is left, red once due."""

    def __init__(self, working_days: int, holidays: Iterable[date] = ()) -> None:
        self.working_days = working_days
        self.holidays = set(holidays)

    def is_working(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def due_for(self, asked_at: datetime) -> datetime:
        due, left = asked_at, self.working_days
        while left:
            due += timedelta(days=1)
            if self.is_working(due.date()):
                left -= 1
        return due

    def warning_level(self, asked_at: datetime, due_at: datetime, now: datetime) -> str:
        if now >= due_at:
            return "red"
        return "yellow" if due_at - now <= (due_at - asked_at) / 4 else "normal"


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    return Segmenter.load()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def events() -> tuple[EventBus, list[DomainEvent]]:
    bus = EventBus()
    seen: list[DomainEvent] = []
    bus.subscribe("kb.", seen.append)
    return bus, seen


@pytest.fixture
async def kb(engine: AsyncEngine, segmenter: Segmenter, clock: Clock,
             events: tuple[EventBus, list[DomainEvent]]) -> KnowledgeBase:
    """Searching its in-memory index from the start, so every later write goes through catch-up."""
    knowledge = KnowledgeBase(session_factory(engine), segmenter, question_clock=WorkingDayCalendar(2),
                              bus=events[0], clock=clock)
    await knowledge.search.warm()
    return knowledge


def content(**overrides: object) -> dict[str, object]:
    """A valid entry body; tests override what they are about."""
    body: dict[str, object] = {
        "question": "小区停水了找哪个单位?",
        "answer": "计划停水由供水公司提前公告;突发停水请拨打供水公司抢修电话,或通过12345反映。",
        "alternatives": ["家里没水了怎么办"],
        "basis_document": "《城市供水条例》",
        "basis_article": "第二十二条",
        "unit_id": "water-company",
        "region": "庆阳市",
        "is_public": True,
        "tags": ["停水"],
        "effective_at": "2026-01-01T00:00:00+08:00",
    }
    body.update(overrides)
    return body


async def publish(kb: KnowledgeBase, entry_id: str, **overrides: object) -> None:
    await kb.submit(ADMIN, "create", entry_id=entry_id, content=content(**overrides), publish=True)
