"""What the forecast reads from the call model: offered calls per half hour, handle time, patience, and
staffed seats (agents logged in and not paused) per half hour from the agent state history.

Rows are bucketed in Python (local half hours), as gateway/calls/kpi.py does: date arithmetic in SQL
differs between SQLite and PostgreSQL. Only the one column needed is read, streamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.calls.models import AgentStateChange, CallRecord
from gateway.forecast.model import SLOTS

ON_PHONES = frozenset({"available", "wrap_up", "wrapup"})  # logged in, not paused (wrap-up is work)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def slot_of(at: datetime, first: date, tz: ZoneInfo) -> tuple[int, int]:
    local = at.astimezone(tz)
    return (local.date() - first).days, local.hour * 2 + local.minute // 30


async def offered_per_slot(session: AsyncSession, first: date, last: date, tz: ZoneInfo) -> np.ndarray:
    """Inbound calls that arrived, per local half hour, days ``first``..``last`` inclusive (kpi.py's
    ``offered``: every arrival counts, answered or not)."""
    days = (last - first).days + 1
    counts = np.zeros((days, SLOTS))
    c = CallRecord
    query = select(c.started_at).where(
        c.direction == "inbound", c.kind != "spy",
        c.started_at >= local_midnight(first, tz), c.started_at < local_midnight(last + timedelta(days=1), tz))
    async for (started,) in await session.stream(query.execution_options(yield_per=5000)):
        day, slot = slot_of(started, first, tz)
        if 0 <= day < days:
            counts[day, slot] += 1
    return counts


async def earliest_call(session: AsyncSession) -> datetime | None:
    c = CallRecord
    return await session.scalar(select(func.min(c.started_at)).where(c.direction == "inbound", c.kind != "spy"))


@dataclass(frozen=True)
class CallerBehaviour:
    aht_seconds: float  # talk + wrap-up, of answered calls
    patience_seconds: float  # mean time callers wait before abandoning (exponential fit)
    answered: int
    abandoned: int
    measured: bool  # False: too few calls, the defaults were used


async def caller_behaviour(session: AsyncSession, since: datetime, until: datetime, *, wrapup_seconds: float,
                           default_aht: float, default_patience: float, min_samples: int) -> CallerBehaviour:
    """Patience is fitted as the exponential that explains the abandons: every queued caller's wait is
    time at risk (an answered caller's wait is a patience known to be longer), so the maximum-likelihood
    mean patience = total queue waiting time / abandons. The mean of the abandoners' waits alone would
    understate it: the patient ones were answered before they could give up."""
    c = CallRecord
    rows = (await session.execute(
        select(c.answered_at, c.talk_seconds, c.hold_seconds, c.abandoned).where(
            c.direction == "inbound", c.kind != "spy", c.started_at >= since, c.started_at < until,
            c.queued_at.is_not(None)))).all()
    talks = [r.talk_seconds for r in rows if r.answered_at is not None and r.talk_seconds is not None]
    abandons = sum(1 for r in rows if r.abandoned and r.answered_at is None)
    at_risk = sum(r.hold_seconds or 0 for r in rows)
    measured_aht = len(talks) >= min_samples
    measured_patience = abandons >= min_samples
    aht = (sum(talks) / len(talks) + wrapup_seconds) if measured_aht else default_aht
    patience = at_risk / abandons if measured_patience else default_patience
    return CallerBehaviour(round(aht, 1), round(patience, 1), len(talks), abandons,
                           measured_aht and measured_patience)


async def staffing_recorded(session: AsyncSession, before: datetime) -> bool:
    """Whether any agent state was recorded before ``before``: without it, staffed seats are unknown, not 0."""
    s = AgentStateChange
    return bool(await session.scalar(select(func.count()).select_from(s).where(s.at < before)))


async def staffed_per_slot(session: AsyncSession, first: date, last: date, tz: ZoneInfo) -> np.ndarray:
    """Mean number of agents on the phones (logged in and not paused) in each local half hour, from the
    agent state history: each agent's time in an on-phone state, summed per half hour, / 1800 s."""
    days = (last - first).days + 1
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    seconds = np.zeros(days * SLOTS)
    s = AgentStateChange
    before = (select(s.agent_id, func.max(s.at).label("at")).where(s.at < start).group_by(s.agent_id)
              .subquery())
    opening = (await session.execute(
        select(s.agent_id, s.state, s.at).join(before, (s.agent_id == before.c.agent_id) & (s.at == before.c.at))
    )).all()
    inside = (await session.execute(
        select(s.agent_id, s.state, s.at).where(s.at >= start, s.at < end).order_by(s.at, s.id))).all()
    current: dict[str, tuple[str, datetime]] = {a: (state, start) for a, state, _ in opening}
    for agent, state, at in inside:
        if agent in current:
            _add(seconds, current[agent], at, start)
        current[agent] = (state, at)
    for span in current.values():
        _add(seconds, span, end, start)
    return (seconds / 1800.0).reshape(days, SLOTS)


def _add(seconds: np.ndarray, span: tuple[str, datetime], until: datetime, origin: datetime) -> None:
    state, since = span
    if state not in ON_PHONES:
        return
    a = max(0.0, (since - origin).total_seconds())
    b = min(len(seconds) * 1800.0, (until - origin).total_seconds())
    while a < b:
        slot = int(a // 1800)
        edge = min(b, (slot + 1) * 1800.0)
        seconds[slot] += edge - a
        a = edge
