"""Call KPIs counted from the citizen's arrival (GB/T 33358: a person within 15 s; 24-hour 接通率 ≥ 95 %).

A call counts in the window when it **arrived** inside it (``started_at``: the citizen's INVITE reached
the PBX, which answers at once), whether or not it ever reached a queue: a citizen who gives up in the
voice entry is offered and abandoned, not invisible. Per queue (the queue the call joined; ``None`` for
citizens who never reached one) and for the whole centre:

- ``offered`` = ``answered`` + ``abandoned_in_entry`` + ``abandoned_in_queue`` + ``transferred_before_answer``
  + ``emergency`` (sent on by the voice entry) + ``self_service`` (e.g. a callback registered) +
  ``unanswered`` (ended otherwise) + ``in_progress`` (not over yet);
- ``answered_within_target_of_arrival``: a person answered within the target counted from arrival (what
  the citizen lives); ``answered_within_target`` (= ``…_of_queue_join``): counted from joining the queue,
  Asterisk's service level, which ignores the time spent in the voice entry;
- ``connection_rate`` (接通率) = answered / calls that asked for a person (offered − emergency −
  self_service); ``service_level`` = answered within the target of arrival / the same;
- ``entry_seconds_p50`` / ``_p95``: time in the voice entry (arrival → queue join, or → hang-up there).

Rows are aggregated in Python from a few columns of the window's calls: percentiles and time differences
in SQL differ between SQLite and PostgreSQL, and a day's calls of a centre are thousands, not millions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.calls.models import CallRecord
from gateway.db.base import utcnow

ENTRY = None  # the "queue" of citizens who never reached one: they ended in the voice entry


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


async def call_kpis(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    queue: str | None = None,
    answer_target: int = 15,
) -> dict[str, Any]:
    """Per queue and for the centre: ``{"queues": [...], "centre": {...}}``."""
    async with sessions() as session:
        rows = await queue_kpis_in(session, since=since, until=until, queue=queue, answer_target=answer_target)
    until = until or utcnow()
    since = since or until - timedelta(hours=24)
    return {"queues": rows, "centre": centre_kpis(rows, since, until, answer_target)}


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
    query = (
        select(c.queue, c.kind, c.outcome, c.started_at, c.queued_at, c.answered_at, c.ended_at,
               c.hold_seconds, c.talk_seconds, c.holds, c.on_hold_seconds, c.abandoned)
        .where(c.direction == "inbound", c.kind != "spy", c.started_at >= since, c.started_at < until)
    )
    if queue is not None:
        query = query.where(c.queue == queue)
    by_queue: dict[str | None, list[Any]] = defaultdict(list)
    for row in (await session.execute(query)).all():
        by_queue[row.queue].append(row)
    ordered = sorted(by_queue, key=lambda q: (q is not None, q or ""))  # the voice entry's row first
    return [_row(q, by_queue[q], since, until, answer_target) for q in ordered]


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def _row(queue: str | None, calls: list[Any], since: datetime, until: datetime, target: int) -> dict[str, Any]:
    outcomes: dict[str | None, int] = defaultdict(int)
    for call in calls:
        outcomes[call.outcome] += 1
    answered = [c for c in calls if c.answered_at is not None]
    abandoned_in_queue = [c for c in calls if c.abandoned and c.answered_at is None]
    from_arrival = [_seconds(c.started_at, c.answered_at) for c in answered]
    entry_times = []
    for c in calls:
        if c.kind != "citizen":
            continue  # 110 and sub-centre hand-overs skip the voice entry
        end = c.queued_at if c.queued_at is not None else (c.ended_at if c.outcome == "entry_abandoned" else None)
        if (seconds := _seconds(c.started_at, end)) is not None:
            entry_times.append(max(0.0, seconds))
    held = [c for c in calls if c.holds]
    row = {
        "queue": queue,
        "since": since,
        "until": until,
        "answer_target_seconds": target,
        "offered": len(calls),
        "answered": len(answered),
        "answered_within_target_of_arrival": sum(1 for s in from_arrival if s is not None and s <= target),
        "answered_within_target_of_queue_join": sum(
            1 for c in answered if c.hold_seconds is not None and c.hold_seconds <= target),
        "abandoned_in_entry": outcomes["entry_abandoned"],
        "abandoned_in_queue": len(abandoned_in_queue),
        "transferred": outcomes["transferred"],
        "transferred_before_answer": sum(
            1 for c in calls if c.outcome == "transferred" and c.answered_at is None),
        "emergency": outcomes["emergency"],
        "self_service": outcomes["self_service"],
        "unanswered": outcomes["unanswered"],
        "in_progress": outcomes[None],
        "avg_hold_seconds": _mean(c.hold_seconds for c in answered),
        "max_hold_seconds": max((c.hold_seconds for c in answered if c.hold_seconds is not None), default=None),
        "avg_answer_seconds_of_arrival": _mean(from_arrival),
        "avg_abandon_wait_seconds": _mean(c.hold_seconds for c in abandoned_in_queue),
        "avg_talk_seconds": _mean(c.talk_seconds for c in calls),
        # Put on hold by the agent (hold_seconds above is the wait in the queue, as Asterisk names it).
        "held_calls": len(held),
        "avg_on_hold_seconds": _mean(c.on_hold_seconds for c in held),
        "entry_seconds_p50": _percentile(entry_times, 0.50),
        "entry_seconds_p95": _percentile(entry_times, 0.95),
    }
    return _rates(row)


def _rates(row: dict[str, Any]) -> dict[str, Any]:
    row["answered_within_target"] = row["answered_within_target_of_queue_join"]  # the older name
    row["abandoned"] = row["abandoned_in_entry"] + row["abandoned_in_queue"]
    wanted_a_person = row["offered"] - row["emergency"] - row["self_service"]
    row["connection_rate"] = _ratio(row["answered"], wanted_a_person)
    row["service_level"] = _ratio(row["answered_within_target_of_arrival"], wanted_a_person)
    row["service_level_of_queue_join"] = _ratio(row["answered_within_target_of_queue_join"], wanted_a_person)
    row["abandonment_rate"] = _ratio(row["abandoned"], wanted_a_person)
    return row


COUNTS = ("offered", "answered", "answered_within_target_of_arrival", "answered_within_target_of_queue_join",
          "abandoned_in_entry", "abandoned_in_queue", "transferred", "transferred_before_answer", "emergency",
          "self_service", "unanswered", "in_progress", "held_calls")


def centre_kpis(rows: list[dict[str, Any]], since: datetime, until: datetime, target: int) -> dict[str, Any]:
    """The whole centre: the queues' counts added up (every call is in exactly one row). Averages and
    percentiles cannot be added: the centre's are the calls-weighted means, its entry p95 the worst queue's."""
    total: dict[str, Any] = {"since": since, "until": until, "answer_target_seconds": target}
    for name in COUNTS:
        total[name] = sum(r[name] for r in rows)
    total["entry_seconds_p50"] = _weighted(rows, "entry_seconds_p50", "offered")
    total["entry_seconds_p95"] = max((r["entry_seconds_p95"] for r in rows if r["entry_seconds_p95"] is not None),
                                     default=None)
    return _rates(total)


def _weighted(rows: list[dict[str, Any]], field: str, weight: str) -> float | None:
    pairs = [(r[field], r[weight]) for r in rows if r[field] is not None and r[weight]]
    whole = sum(w for _, w in pairs)
    return round(sum(v * w for v, w in pairs) / whole, 1) if whole else None


def _mean(values: Iterable[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (a measured call's time, never an interpolation between two)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n × q)
    return round(ordered[int(rank) - 1], 1)


async def platform_call_kpis(session: AsyncSession, start: datetime, end: datetime,
                             answer_target: int = 15) -> dict[str, float | None]:
    """The centre, for periodic reports: the 15 s answer rate counted from arrival and the 接通率 over
    [start, end) (see the module's definitions). Runs in the caller's session."""
    rows = await queue_kpis_in(session, since=start, until=end, answer_target=answer_target)
    centre = centre_kpis(rows, start, end, answer_target)
    return {"answer_15s_rate": centre["service_level"], "connect_24h_rate": centre["connection_rate"]}
