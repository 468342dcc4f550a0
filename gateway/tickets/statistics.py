"""Handling statistics per unit / category / period (签收及时率, 按时办结率, 办结率, 退单率, 延期率, 重办率, 满意率).

Definitions (each rate is numerator / denominator; ``None`` when the denominator is 0):
- The population is the work dispatched in [start, end): lead assignments (主办) for unit figures.
- 签收及时率 sign_on_time: lead assignments signed by their sign-by time / lead assignments whose
  sign-by time has passed or that were signed. A ticket "deemed accepted" (视为受理) is not on time.
- 按时办结率 on_time: tickets replied (or resolved) by their due time / tickets replied or overdue now.
- 办结率 closed: tickets closed or terminated / tickets dispatched.
- 退单率 returned: lead assignments ended by an approved return / lead assignments.
- 延期率 extended: tickets with an approved extension / tickets dispatched.
- 重办率 reopened: tickets reopened at least once / tickets that reached the survey.
- 改派率 redispatched (``redispatch_statistics``): tickets dispatched more than once / tickets dispatched,
  by first lead unit and matter.
- 满意率 satisfied: 非常满意 + 满意 + 基本满意 / surveyed tickets, leaving out (甄别) the pack's exclusions:
  excluded categories (e.g. 建议类) and dissatisfied results marked with an exclusion code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tickets.models import Assignment, Ticket, TicketEvent, TicketRequest
from gateway.tickets.schemas import SatisfactionLevel

GroupBy = Literal["unit", "category"]
CLOSED = {"closed", "terminated"}
SATISFIED = {level.value for level in SatisfactionLevel if level.satisfied}


@dataclass
class Counter:
    numerator: int = 0
    denominator: int = 0

    def add(self, hit: bool) -> None:
        self.denominator += 1
        self.numerator += int(hit)

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass
class Figures:
    key: dict[str, str | None]
    dispatched: int = 0
    sign_on_time: Counter = field(default_factory=Counter)
    on_time: Counter = field(default_factory=Counter)
    closed: Counter = field(default_factory=Counter)
    returned: Counter = field(default_factory=Counter)
    extended: Counter = field(default_factory=Counter)
    reopened: Counter = field(default_factory=Counter)
    satisfied: Counter = field(default_factory=Counter)

    RATES = ("sign_on_time", "on_time", "closed", "returned", "extended", "reopened", "satisfied")

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {**self.key, "dispatched": self.dispatched}
        for name in self.RATES:
            c: Counter = getattr(self, name)
            out[f"{name}_rate"] = c.rate
            out[f"{name}_count"] = [c.numerator, c.denominator]
        return out


async def ticket_statistics(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    by: Sequence[GroupBy] = ("unit",),
    excluded_categories: Iterable[str] = (),
    unit_id: str | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[Figures]:
    """``where``: a further condition on ``Ticket`` (a remote seat's territory)."""
    excluded = set(excluded_categories)
    query = (select(Assignment, Ticket).join(Ticket, Ticket.id == Assignment.ticket_id)
             .where(Assignment.role == "lead", Assignment.dispatched_at >= start, Assignment.dispatched_at < end)
             .order_by(Assignment.id))
    leads = (await session.execute(query if where is None else query.where(where))).all()
    ticket_ids = {t.id for _, t in leads}
    extended_ids = set(await session.scalars(
        select(TicketRequest.ticket_id).where(TicketRequest.kind == "extension", TicketRequest.status ==
                                              "approved", TicketRequest.ticket_id.in_(ticket_ids))
    )) if ticket_ids else set()

    groups: dict[tuple[str | None, ...], Figures] = {}

    def group(unit: str | None, category: str) -> Figures:
        values = {"unit": unit, "category": category}
        key = tuple(values[b] for b in by)
        if key not in groups:
            groups[key] = Figures(key={b: values[b] for b in by})
        return groups[key]

    seen_tickets: dict[tuple[str | None, ...], set[int]] = defaultdict(set)
    for assignment, ticket in leads:
        if unit_id is not None and assignment.unit_id != unit_id:
            continue
        fig = group(assignment.unit_id, ticket.category)
        # Assignment-level figures: each dispatch to a unit counts (a returned and re-dispatched ticket
        # counts once for each unit that had it).
        if assignment.signed_at is not None or assignment.deemed_signed or (
                assignment.sign_by is not None and assignment.sign_by <= now):
            on_time = (assignment.signed_at is not None and not assignment.deemed_signed
                       and (assignment.sign_by is None or assignment.signed_at <= assignment.sign_by))
            fig.sign_on_time.add(on_time)
        fig.returned.add(assignment.ended_reason == "returned")
        # Ticket-level figures: attributed to the unit that holds the ticket at the end (current lead).
        if ticket.lead_unit_id != assignment.unit_id:
            continue
        key = tuple(fig.key.values())
        if ticket.id in seen_tickets[key]:
            continue  # a reopened ticket has several lead assignments for the same unit
        seen_tickets[key].add(ticket.id)
        fig.dispatched += 1
        fig.closed.add(ticket.status in CLOSED)
        fig.extended.add(ticket.id in extended_ids)
        if ticket.replied_at is not None:
            fig.on_time.add(ticket.due_at is None or ticket.replied_at <= ticket.due_at)
        elif ticket.due_at is not None and ticket.due_at < now:
            fig.on_time.add(False)
        if ticket.satisfaction is not None or ticket.status == "surveying":
            fig.reopened.add(ticket.reopen_count > 0)
        if ticket.satisfaction is not None and ticket.category not in excluded:
            if ticket.satisfaction in SATISFIED:
                fig.satisfied.add(True)
            elif ticket.satisfaction_excluded is None:
                fig.satisfied.add(False)
    return sorted(groups.values(), key=lambda f: tuple(str(v) for v in f.key.values()))


RedispatchBy = Literal["unit", "matter"]


async def redispatch_statistics(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    by: Sequence[RedispatchBy] = ("unit",),
    unit_id: str | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[dict[str, object]]:
    """改派率 (re-dispatch rate): tickets dispatched more than once / tickets first dispatched in [start, end).

    A ticket is dispatched again only after an approved 退单 (the platform takes it back and sends it
    elsewhere); a reopen (重办) keeps its units and is 重办率's business. ``unit`` is the FIRST lead unit —
    the one the dispatch got wrong — and ``matter`` the ticket's matter code (``elements["matter"]``, as
    the agent kept it from the draft; None when it was not kept)."""
    dispatch = TicketEvent.action == "dispatch"
    firsts = (select(TicketEvent.ticket_id, func.min(TicketEvent.at).label("at")).where(dispatch)
              .group_by(TicketEvent.ticket_id).subquery())
    query = (select(TicketEvent.ticket_id, TicketEvent.data, Ticket.elements)
             .join(firsts, firsts.c.ticket_id == TicketEvent.ticket_id)
             .join(Ticket, Ticket.id == TicketEvent.ticket_id)
             .where(dispatch, firsts.c.at >= start, firsts.c.at < end)
             .order_by(TicketEvent.ticket_id, TicketEvent.seq))
    rows = (await session.execute(query if where is None else query.where(where))).all()
    first: dict[int, tuple[str | None, str | None]] = {}
    dispatches: dict[int, int] = defaultdict(int)
    for ticket_id, data, elements in rows:
        dispatches[ticket_id] += 1
        if ticket_id not in first:
            matter = (elements or {}).get("matter")
            first[ticket_id] = ((data or {}).get("lead_unit"), matter if isinstance(matter, str) else None)
    groups: dict[tuple[str | None, ...], Counter] = {}
    for ticket_id, (unit, matter) in first.items():
        if unit_id is not None and unit != unit_id:
            continue
        values = {"unit": unit, "matter": matter}
        key = tuple(values[b] for b in by)
        groups.setdefault(key, Counter()).add(dispatches[ticket_id] > 1)
    return [
        {**dict(zip(by, key, strict=True)), "dispatched": c.denominator, "redispatched_rate": c.rate,
         "redispatched_count": [c.numerator, c.denominator]}
        for key, c in sorted(groups.items(), key=lambda kv: tuple(str(v) for v in kv[0]))
    ]
