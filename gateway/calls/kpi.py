"""Per-queue KPIs from the ``calls`` table (GB/T 33358: answer within 15 s; 24-hour 接通率 ≥ 95 %).

A call counts in the window when it joined a queue inside it. 接通率 (connection rate) = answered / offered;
service level = answered within the target / offered (abandoned calls count against both).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.calls.models import CallRecord
from gateway.db.base import utcnow


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def queue_kpis(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    queue: str | None = None,
    answer_target: int = 15,
) -> list[dict[str, Any]]:
    async with sessions() as session:
        return await queue_kpis_in(session, since=since, until=until, queue=queue, answer_target=answer_target)


async def queue_kpis_in(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    queue: str | None = None,
    answer_target: int = 15,
) -> list[dict[str, Any]]:
    """``queue_kpis`` inside a session the caller holds (e.g. while building a report)."""
    until = until or utcnow()
    since = since or until - timedelta(hours=24)
    c = CallRecord
    answered = c.answered_at.is_not(None)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0)).cast(Integer)

    query = (
        select(
            c.queue,
            func.count().label("offered"),
            count(answered).label("answered"),
            count(answered & (c.hold_seconds <= answer_target)).label("answered_in_target"),
            count(c.abandoned.is_(True)).label("abandoned"),
            count(c.outcome == "transferred").label("transferred"),
            func.avg(case((answered, c.hold_seconds))).label("avg_hold"),
            func.max(case((answered, c.hold_seconds))).label("max_hold"),
            func.avg(case((c.abandoned.is_(True), c.hold_seconds))).label("avg_abandon_wait"),
            func.avg(c.talk_seconds).label("avg_talk"),
            count(c.holds > 0).label("held"),
            func.avg(case((c.holds > 0, c.on_hold_seconds))).label("avg_on_hold"),
        )
        .where(c.queue.is_not(None), c.queued_at >= since, c.queued_at < until)
        .group_by(c.queue)
        .order_by(c.queue)
    )
    if queue is not None:
        query = query.where(c.queue == queue)
    rows = (await session.execute(query)).all()
    out = []
    for row in rows:
        offered, answered_n = int(row.offered), int(row.answered or 0)
        out.append(
            {
                "queue": row.queue,
                "since": since,
                "until": until,
                "offered": offered,
                "answered": answered_n,
                "answered_within_target": int(row.answered_in_target or 0),
                "answer_target_seconds": answer_target,
                "abandoned": int(row.abandoned or 0),
                "transferred": int(row.transferred or 0),
                "connection_rate": _ratio(answered_n, offered),
                "service_level": _ratio(int(row.answered_in_target or 0), offered),
                "avg_hold_seconds": _round(row.avg_hold),
                "max_hold_seconds": row.max_hold,
                "avg_abandon_wait_seconds": _round(row.avg_abandon_wait),
                "avg_talk_seconds": _round(row.avg_talk),
                # Put on hold by the agent (hold_seconds above is the wait in the queue, as Asterisk names it).
                "held_calls": int(row.held or 0),
                "avg_on_hold_seconds": _round(row.avg_on_hold),
            }
        )
    return out


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


async def platform_call_kpis(session: AsyncSession, start: datetime, end: datetime,
                             answer_target: int = 15) -> dict[str, float | None]:
    """All queues together, for periodic reports: the 15 s answer rate and the 24 h 接通率 (answered /
    offered) over [start, end). Runs in the caller's session."""
    rows = await queue_kpis_in(session, since=start, until=end, answer_target=answer_target)
    offered = sum(r["offered"] for r in rows)
    return {
        "answer_15s_rate": _ratio(sum(r["answered_within_target"] for r in rows), offered),
        "connect_24h_rate": _ratio(sum(r["answered"] for r in rows), offered),
    }

