"""The deployment's own history as understanding data.

- Closed tickets → training examples: the ticket's text → its FINAL category, matter and lead unit (after
  any 退单 and re-dispatch, the ticket row holds the last decision), so the model learns the centre's
  practice. The matter is the code the agent kept in ``elements["matter"]`` (the console saves the
  draft's matter there); a ticket without a known matter code is left out and counted.
- Approved 退单 (派单异议 upheld: "不属于本单位职责") → ``(unit name, matter, township) → count``, the
  feedback the dispatch suggestion lowers a unit by.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.policies import Category
from gateway.tickets.models import Ticket, TicketRequest, Unit
from gateway.understanding.classifier import Example

FINAL = ("closed", "terminated")
# The console's summary prefix (【类别】来电人反映：…) is the agent's framing, not the caller's words.
_PREFIX = re.compile(r"^【[^】]*】\s*(来电人)?(反映|咨询|求助|投诉|举报|建议)?[：:]?\s*")


@dataclass(frozen=True, slots=True)
class History:
    examples: list[Example]
    skipped: int  # final tickets without a matter code the taxonomy knows


def ticket_text(ticket: Ticket) -> str:
    return _PREFIX.sub("", ticket.content).strip()


async def ticket_examples(session: AsyncSession, matters: Collection[str], *, since: datetime | None = None) -> History:
    query = (
        select(Ticket, Unit.name)
        .outerjoin(Unit, Unit.id == Ticket.lead_unit_id)
        .where(Ticket.status.in_(FINAL), Ticket.merged_into_id.is_(None))
        .order_by(Ticket.id)
    )
    if since is not None:
        query = query.where(Ticket.closed_at >= since)
    examples, skipped = [], 0
    for ticket, unit in (await session.execute(query)).all():
        matter = (ticket.elements or {}).get("matter")
        text = ticket_text(ticket)
        if not isinstance(matter, str) or matter not in matters or not text:
            skipped += 1
            continue
        examples.append(Example(text, Category(ticket.category).zh, matter, unit))
    return History(examples, skipped)


async def approved_returns(session: AsyncSession) -> Counter[tuple[str, str, str]]:
    """Approved 退单 per (unit name, matter, the ticket's place text); ``by_township`` keys them by place."""
    rows = await session.execute(
        select(Ticket.elements, Ticket.location, Ticket.content, Unit.name)
        .join(TicketRequest, TicketRequest.ticket_id == Ticket.id)
        .join(Unit, Unit.id == TicketRequest.unit_id)
        .where(TicketRequest.kind == "return", TicketRequest.status == "approved")
    )
    counts: Counter[tuple[str, str, str]] = Counter()
    for elements, location, content, unit in rows.all():
        matter = (elements or {}).get("matter")
        if matter:
            counts[(unit, matter, location or content)] += 1
    return counts


def by_township(
    counts: Counter[tuple[str, str, str]], township_of: Callable[[str], str | None]
) -> dict[tuple[str, str, str | None], int]:
    """CPU work (reads each place text): run it in a worker thread."""
    out: dict[tuple[str, str, str | None], int] = {}
    for (unit, matter, place), n in counts.items():
        key = (unit, matter, township_of(place))
        out[key] = out.get(key, 0) + n
    return out
