"""The supervisor's boards, computed from the live call model, the agents and the ticket store."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.calls.kpi import centre_kpis, queue_kpis
from gateway.calls.service import CallsService
from gateway.tickets.lifecycle import HANDLING
from gateway.tickets.models import Ticket, Unit
from gateway.tickets.service import TicketService

WAITING_STATES = ("new", "queued", "ringing")
SLA_BOARD_LIMIT = 2000  # tickets under a running clock looked at, soonest due first


def _warnings(tickets: TicketService, rows: list[Ticket], now: datetime) -> dict[str | None, list[dict[str, Any]]]:
    by_unit: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for t in rows:
        state = tickets.sla.state(t, now)
        if state.level != "normal":
            by_unit[t.lead_unit_id].append({"number": t.number, "title": t.title, "category": t.category,
                                            "status": t.status, "urgent": t.urgent, **state.as_dict()})
    return by_unit


def waiting_calls(calls: CallsService, now: datetime) -> list[dict[str, Any]]:
    """Callers waiting in a queue, longest first (no numbers: the board is shown to every agent)."""
    waiting = []
    for call in calls.model.calls.values():
        if call.kind == "spy" or call.direction != "inbound" or call.state not in WAITING_STATES:
            continue
        if call.queue is None:
            continue  # still in the IVR: not waiting for a person yet
        since = call.queued_at or call.started_at
        waiting.append({"call_id": call.call_id, "queue": call.queue, "state": call.state,
                        "waiting_seconds": max(0, int((now - since).total_seconds()))})
    return sorted(waiting, key=lambda w: -w["waiting_seconds"])


async def wallboard(calls: CallsService, now: datetime, timezone: str, answer_target: int) -> dict[str, Any]:
    waiting = waiting_calls(calls, now)
    agents = await calls.agents.all()
    for agent in agents:
        call = calls.model.call_of_agent(agent["interface"])
        agent["call"] = {"call_id": call.call_id, "state": call.state} if call is not None else None
    midnight = now.astimezone(ZoneInfo(timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
    today = await queue_kpis(calls.recorder.sessions, since=midnight, until=now, answer_target=answer_target)
    last_day = await queue_kpis(calls.recorder.sessions, since=now - timedelta(hours=24), until=now,
                                answer_target=answer_target)
    return {
        "now": now,
        "pbx": calls.ami.problem() or "connected",
        "waiting": len(waiting),
        "longest_wait_seconds": waiting[0]["waiting_seconds"] if waiting else 0,
        "waiting_calls": waiting,
        "agents_by_state": dict(Counter(a["state"] for a in agents)),
        "agents": agents,
        # Counted from the citizens' arrival: those who hung up in the voice entry are in ("queue": null).
        "today": {"queues": today, **centre_kpis(today, midnight, now, answer_target)},
        "last_24h": {"queues": last_day, **centre_kpis(last_day, now - timedelta(hours=24), now, answer_target)},
    }


async def sla_board(tickets: TicketService) -> dict[str, Any]:
    """Tickets turning yellow or red, by lead unit, the most urgent first."""
    now = tickets.clock()
    async with tickets.sessions() as session:
        rows = list(await session.scalars(
            select(Ticket).where(Ticket.status.in_([s.value for s in HANDLING]))
            .order_by(Ticket.due_at).limit(SLA_BOARD_LIMIT)))
        names = {u.id: u.name for u in await session.scalars(select(Unit))}
    # Working-time arithmetic for up to SLA_BOARD_LIMIT tickets: CPU work, kept off the event loop.
    by_unit = await asyncio.to_thread(_warnings, tickets, rows, now)
    units = []
    for unit_id, items in by_unit.items():
        items.sort(key=lambda i: (i["level"] != "red", i["working_seconds_left"] or 0))
        units.append({"unit": unit_id, "name": names.get(unit_id or "", unit_id),
                      "red": sum(i["level"] == "red" for i in items),
                      "yellow": sum(i["level"] == "yellow" for i in items), "tickets": items})
    units.sort(key=lambda u: (-u["red"], -u["yellow"], str(u["unit"])))
    return {"now": now, "looked_at": len(rows), "truncated": len(rows) == SLA_BOARD_LIMIT, "units": units}
