"""When a knowledge question (知识提问) is due, and how close it is — a small protocol.

The real answer comes from the ticket core's working-time calendar (gateway.workcalendar) and the policy
pack's limit; the composition root wires that in. ``WeekdayClock`` is a stopgap that knows weekends
only (no holidays, no 调休) so the service runs before that wiring exists.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from gateway.policies import Duration, PolicyPack
from gateway.workcalendar import WorkCalendar
from gateway.workcalendar.sla import warning_level

DEFAULTS_FILE = Path(__file__).with_name("data") / "defaults.toml"


class QuestionClock(Protocol):
    def due_for(self, asked_at: datetime) -> datetime:
        """When an answer to a question asked at ``asked_at`` is due."""
        ...

    def warning_level(self, asked_at: datetime, due_at: datetime, now: datetime) -> str:
        """"normal", "yellow" (due soon) or "red" (overdue)."""
        ...


@dataclass(frozen=True, slots=True)
class Limit:
    amount: int
    unit: str  # "working_days" is the only unit the stopgap understands
    source: str


def load_defaults(path: Path = DEFAULTS_FILE) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def default_question_limit() -> Limit:
    data = load_defaults()["question_limit"]
    return Limit(amount=int(data["amount"]), unit=str(data["unit"]), source=str(data["source"]))


class WeekdayClock:
    """Stopgap: ``amount`` weekdays later at the same time of day; yellow in the last quarter."""

    YELLOW_SHARE = 0.25

    def __init__(self, limit: Limit) -> None:
        if limit.unit != "working_days":
            raise ValueError(f"WeekdayClock understands working_days, not {limit.unit}")
        self.limit = limit

    def due_for(self, asked_at: datetime) -> datetime:
        due, left = asked_at, self.limit.amount
        while left:
            due += timedelta(days=1)
            if due.weekday() < 5:
                left -= 1
        return due

    def warning_level(self, asked_at: datetime, due_at: datetime, now: datetime) -> str:
        if now >= due_at:
            return "red"
        if due_at - now <= (due_at - asked_at) * self.YELLOW_SHARE:
            return "yellow"
        return "normal"


class CalendarClock:
    """The real clock: the policy pack's knowledge-question limit (庆阳 Art. 24: 2 working days) on the
    deployment's working calendar, with the ticket core's yellow/red rule."""

    def __init__(self, calendar: WorkCalendar, limit: Duration) -> None:
        self.calendar = calendar
        self.limit = limit

    def due_for(self, asked_at: datetime) -> datetime:
        return self.calendar.add(asked_at, self.limit)

    def warning_level(self, asked_at: datetime, due_at: datetime, now: datetime) -> str:
        return warning_level(self.calendar, asked_at, due_at, now)


def calendar_clock(pack: PolicyPack, calendar: WorkCalendar) -> CalendarClock:
    """The pack's own limit, or the knowledge base's documented default when the pack has none."""
    limit = pack.knowledge.question_answer_limit
    if limit is None:
        default = default_question_limit()
        limit = Duration(amount=default.amount, unit=default.unit, source=default.source)  # type: ignore[arg-type]
    return CalendarClock(calendar, limit)
