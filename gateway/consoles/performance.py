"""Agent performance per day for the supervisor: calls answered, talk time, tickets created and direct
answers (即时办结), and the quality inspection of those calls (calls inspected, mean score, flagged calls,
findings a supervisor confirmed), by the centre's local date. Read from the call records, the ticket audit
trail and the inspections (gateway/quality)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.calls.models import CallRecord
from gateway.quality.models import QaFinding, QaInspection
from gateway.tickets.models import TicketEvent


async def agent_performance(session: AsyncSession, start: datetime, end: datetime, zone: ZoneInfo
                            ) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"calls": 0, "talk_seconds": 0, "tickets_created": 0, "direct_answers": 0,
                 "inspected": 0, "quality_score": None, "quality_flagged": 0, "findings_confirmed": 0})

    def day(at: datetime) -> str:
        return at.astimezone(zone).date().isoformat()

    calls = await session.execute(
        select(CallRecord.agent_id, CallRecord.started_at, CallRecord.talk_seconds)
        .where(CallRecord.started_at >= start, CallRecord.started_at < end, CallRecord.agent_id.is_not(None),
               CallRecord.kind == "citizen", CallRecord.answered_at.is_not(None)))
    for agent, at, talk in calls:
        row = rows[(day(at), str(agent))]
        row["calls"] += 1
        row["talk_seconds"] += talk or 0
    events = await session.execute(
        select(TicketEvent.actor_id, TicketEvent.at, TicketEvent.action)
        .where(TicketEvent.at >= start, TicketEvent.at < end, TicketEvent.actor_kind == "agent",
               TicketEvent.action.in_(("create", "resolve_on_call"))))
    for agent, at, action in events:
        if agent:
            rows[(day(at), agent)]["tickets_created" if action == "create" else "direct_answers"] += 1
    confirmed = (select(QaFinding.call_id, func.count().label("n"))
                 .where(QaFinding.verdict == "confirmed", QaFinding.current.is_(True))
                 .group_by(QaFinding.call_id).subquery())
    inspections = await session.execute(
        select(QaInspection.agent_id, QaInspection.call_started_at, QaInspection.score, QaInspection.flagged,
               func.coalesce(confirmed.c.n, 0))
        .outerjoin(confirmed, confirmed.c.call_id == QaInspection.call_id)
        .where(QaInspection.call_started_at >= start, QaInspection.call_started_at < end,
               QaInspection.agent_id.is_not(None)))
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    for agent, at, score, flagged, confirmed_findings in inspections:
        key = (day(at), str(agent))
        scores[key].append(score)
        row = rows[key]
        row["inspected"] += 1
        row["quality_flagged"] += int(bool(flagged))
        row["findings_confirmed"] += confirmed_findings
    for key, values in scores.items():
        rows[key]["quality_score"] = round(sum(values) / len(values), 1)
    return [{"day": d, "agent": a, **figures} for (d, a), figures in sorted(rows.items())]
