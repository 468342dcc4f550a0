"""Ticket search and the saved worklists (工作队列) of the agent and supervisor workspace.

Every filter is a SQL condition on ``Ticket`` (indexed: tickets_0002), combined with the audience's row
filter from ``views.ticket_filter``, so a unit or a remote seat finds only what it may see. Results are
projected by the caller through ``views`` like every other read path.

"即将超时" is measured in working time on the policy pack's calendar: a deadline (签收 or 办结) within the
next ``soon`` of working time. The calendar gives one instant for "now + soon", so the condition stays a
plain indexed comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from gateway.errors import Unprocessable
from gateway.surveys.models import Survey
from gateway.tickets.lifecycle import OPEN, Status
from gateway.tickets.models import Ticket, TicketRequest
from gateway.tickets.schemas import Channel, normalise_phone
from gateway.tickets.textindex import text_clause
from gateway.tickets.views import Audience, access, matches_text, ticket_filter

# Worklists: name → label. The order is the order the page shows them in.
WORKLISTS: dict[str, str] = {
    "to_dispatch": "待转派",
    "to_review": "待审核",
    "due_soon": "即将超时",
    "overdue": "已超时",
    "supervised": "督办中",
    "survey_failed": "回访失败/不满意重办",
    "to_merge": "待并案",
}
Worklist = Literal["to_dispatch", "to_review", "due_soon", "overdue", "supervised", "survey_failed", "to_merge"]
SlaFilter = Literal["due_soon", "overdue"]
# A unit's clock runs in these states (a request under review does not stop it).
CLOCK_RUNNING = (Status.DISPATCHED, Status.SIGNED, Status.RETURN_REQUESTED, Status.TERMINATION_REQUESTED)
OPEN_VALUES = tuple(s.value for s in OPEN)
SURVEY_FAILED = ("expired",)  # nobody answered and the pack has no default


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str | None = Field(default=None, pattern=r"^\d{1,20}$", description="ticket number or its start")
    caller: str | None = Field(default=None, max_length=32, description="caller number, any format "
                               "(agents and supervisors only: 422 caller-filter-not-allowed for units)")
    text: str | None = Field(default=None, min_length=1, max_length=100, description="words in title, "
                             "content or place")
    category: str | None = Field(default=None, max_length=32)
    matter: str | None = Field(default=None, max_length=100, description="诉求事项: code or name")
    unit: str | None = Field(default=None, max_length=64, description="lead unit (platform callers only)")
    status: str | None = Field(default=None, max_length=300, pattern=r"^[a-z_]+(,[a-z_]+)*$",
                               description="comma-separated statuses")
    sla: SlaFilter | None = Field(default=None, description="due_soon: a deadline within the next working "
                                  "day; overdue: a deadline passed")
    start: datetime | None = Field(default=None, description="created at or after (ISO 8601 with offset)")
    end: datetime | None = Field(default=None, description="created before (ISO 8601 with offset)")
    channel: Channel | None = None
    worklist: Worklist | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-11-01T00:00:00+08:00")
        return value

    @field_validator("status")
    @classmethod
    def _statuses(cls, value: str | None) -> str | None:
        if value is not None:
            unknown = sorted(set(value.split(",")) - {s.value for s in Status})
            if unknown:
                raise ValueError(f"unknown status {', '.join(unknown)}")
        return value


@dataclass(frozen=True, slots=True)
class Moment:
    """The instants a search compares deadlines with."""

    now: datetime
    soon: datetime  # now + the "即将超时" window in working time


def _deadline_between(start: datetime | None, end: datetime) -> ColumnElement[bool]:
    """A running deadline — the unsigned sign-by, or the handling due date — in [start, end). Written as
    two branches that each lead with the status, so each uses its own (status, deadline) index."""
    running = Ticket.status.in_([s.value for s in CLOCK_RUNNING])

    def within(column: Any) -> ColumnElement[bool]:
        return and_(column < end, column >= start) if start is not None else column < end

    return or_(and_(running, within(Ticket.due_at), Ticket.replied_at.is_(None)),
               and_(running, within(Ticket.sign_by), Ticket.signed_at.is_(None)))


def worklist_clause(name: str, at: Moment) -> ColumnElement[bool]:
    if name == "to_dispatch":  # accepted, including a return that was approved (back to 已受理)
        return Ticket.status == Status.ACCEPTED.value
    if name == "to_review":
        pending = select(TicketRequest.ticket_id).where(TicketRequest.status == "pending")
        return or_(Ticket.status == Status.REPLIED.value, Ticket.id.in_(pending))
    if name == "overdue":
        return _deadline_between(None, at.now)
    if name == "due_soon":  # a deadline ahead within the window, none passed yet
        return and_(_deadline_between(at.now, at.soon), ~_deadline_between(None, at.now))
    if name == "supervised":
        return and_(Ticket.supervise_level > 0, Ticket.status.in_(OPEN_VALUES))
    if name == "survey_failed":
        failed = select(Survey.ticket_id).where(Survey.status.in_(SURVEY_FAILED))
        reopened = and_(Ticket.reopen_count > 0, Ticket.status.in_(OPEN_VALUES))
        return or_(and_(Ticket.status == Status.SURVEYING.value, Ticket.id.in_(failed)), reopened)
    if name == "to_merge":  # another open ticket from the same caller
        other = aliased(Ticket)
        return and_(Ticket.status.in_((Status.NEW.value, Status.ACCEPTED.value)),
                    Ticket.caller_number.is_not(None),
                    exists().where(other.caller_number == Ticket.caller_number, other.id != Ticket.id,
                                   other.status.in_(OPEN_VALUES)))
    raise ValueError(name)


def search_statement(q: SearchQuery, audience: Audience, at: Moment, category: str | None,
                     dialect: str = "sqlite") -> Select[Ticket]:
    """``category``: ``q.category`` as the pack names it (the caller resolves it); ``dialect``: the
    database's, for its text index."""
    clauses: list[ColumnElement[bool]] = []
    if q.number:
        # Digits only: a prefix is the range [prefix, prefix + ":") on the unique index (":" follows "9").
        clauses.append(Ticket.number == q.number if len(q.number) >= 13 else
                       and_(Ticket.number >= q.number, Ticket.number < q.number + ":"))
    if q.caller:
        if audience.is_unit:  # a filter on the full number would reveal it, one guess at a time
            raise Unprocessable("units cannot search tickets by the caller's number",
                                error_id="caller-filter-not-allowed")
        number = normalise_phone(q.caller)
        clauses.append(Ticket.caller_number == number if number else false())
    if q.text:
        clauses.append(text_clause(q.text, dialect))
    if category:
        clauses.append(Ticket.category == category)
    if q.matter:
        clauses.append(or_(Ticket.elements["matter_code"].as_string() == q.matter,
                           Ticket.elements["matter"].as_string() == q.matter))
    if q.unit and not audience.is_unit:
        clauses.append(Ticket.lead_unit_id == q.unit)
    if q.status:
        clauses.append(Ticket.status.in_(q.status.split(",")))
    if q.sla:
        clauses.append(worklist_clause(q.sla, at))
    if q.start:
        clauses.append(Ticket.created_at >= q.start)
    if q.end:
        clauses.append(Ticket.created_at < q.end)
    if q.channel:
        clauses.append(Ticket.channel == q.channel.value)
    if q.worklist:
        clauses.append(worklist_clause(q.worklist, at))
    visible = ticket_filter(audience)
    if visible is not None:
        clauses.append(visible)
    if q.sla or q.worklist in ("due_soon", "overdue"):
        order: tuple[Any, ...] = (Ticket.due_at.asc().nulls_last(), Ticket.id)
    elif q.number:  # numbers run by date: newest first, walking the number index
        order = (Ticket.number.desc(),)
    else:
        order = (Ticket.id.desc(),)
    # One row more than asked: whether there is a next page, without counting every match.
    return select(Ticket).where(*clauses).order_by(*order).limit(q.limit + 1).offset(q.offset)


async def search(session: AsyncSession, q: SearchQuery, audience: Audience, at: Moment,
                 category: str | None) -> tuple[list[Ticket], bool]:
    dialect = session.get_bind().dialect.name
    rows = list(await session.scalars(search_statement(q, audience, at, category, dialect)))
    page, more = rows[: q.limit], len(rows) > q.limit
    if q.text and audience.is_unit:  # matched on the stored text; keep what the unit's projection shows
        page = [t for t in page if (seen := access(audience, t)) is not None and matches_text(t, seen, q.text)]
    return page, more


async def worklist_counts(session: AsyncSession, audience: Audience, at: Moment) -> dict[str, int]:
    """Each worklist's size, as ``audience`` sees it: one count per list, each on its own index."""
    visible = ticket_filter(audience)
    counts = {}
    for name in WORKLISTS:
        query = select(func.count()).select_from(Ticket).where(worklist_clause(name, at))
        if visible is not None:
            query = query.where(visible)
        counts[name] = int(await session.scalar(query) or 0)
    return counts
