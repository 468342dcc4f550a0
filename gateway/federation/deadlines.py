"""The parent's limits apply to work it dispatched: a local round may not end after the parent's deadline.

A child re-dispatching a parent's ticket computes its own deadlines with its own pack (its units know
those rules), then this hook bounds them by the deadlines the parent sent with its latest event, so the
local clock turns yellow and red before the parent's does, never after.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.federation.models import Link
from gateway.tickets.lifecycle import Action
from gateway.tickets.models import Ticket
from gateway.tickets.schemas import Channel
from gateway.tickets.service import Change

CLOCK_ACTIONS = {Action.DISPATCH, Action.REOPEN, Action.RECORD_SURVEY, Action.APPROVE_EXTENSION,
                 Action.SIGN, Action.REJECT_REPLY}


def bounded(local: datetime | None, parent: datetime | None) -> datetime | None:
    if local is None or parent is None:
        return local
    return min(local, parent)


class ParentDeadlines:
    async def __call__(self, session: AsyncSession, ticket: Ticket, action: Action, change: Change,
                       seq: int) -> None:
        if ticket.channel != Channel.UPPER_PLATFORM.value or action not in CLOCK_ACTIONS or ticket.due_at is None:
            return
        with session.no_autoflush:  # the push hook after us reads the session's dirty set
            link = await session.scalar(select(Link).where(Link.local_number == ticket.number)
                                        .order_by(Link.id.desc()).limit(1))
        if link is None:
            return
        ticket.due_at = bounded(ticket.due_at, link.due_at)
        ticket.max_due_at = bounded(ticket.max_due_at, link.max_due_at)
