"""The actions a user could take on a ticket right now, for ``allowed_actions``.

The state machine (lifecycle.RULES) says which actions a status admits for a kind of actor; whether one
would succeed now also depends on the ticket: who holds it, who has signed, which requests await review.
A console greys out exactly what the service would refuse.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tickets.lifecycle import Action, Actor, Status, allowed_actions
from gateway.tickets.models import Ticket, TicketRequest

LEAD_ONLY = {Action.REQUEST_RETURN, Action.REQUEST_EXTENSION, Action.REPLY, Action.REQUEST_TERMINATION}
# A unit files one request of a kind at a time; a reviewer decides only what was filed.
FILED_BY_UNIT = {Action.REQUEST_RETURN: "return", Action.REQUEST_EXTENSION: "extension",
                 Action.REQUEST_TERMINATION: "termination"}
DECISIONS = {Action.APPROVE_RETURN: "return", Action.REJECT_RETURN: "return",
             Action.APPROVE_EXTENSION: "extension", Action.REJECT_EXTENSION: "extension",
             Action.APPROVE_TERMINATION: "termination", Action.REJECT_TERMINATION: "termination"}


def actions_now(t: Ticket, actor: Actor, actor_id: str, pending: frozenset[str]) -> list[str]:
    """``pending``: the kinds of this ticket's requests awaiting review (``pending_kinds``)."""
    mine = [a for a in t.assignments if a.active and a.unit_id == actor_id] if actor is Actor.UNIT else []
    lead = any(a.role == "lead" for a in mine)

    def possible(action: Action) -> bool:
        if actor is Actor.UNIT:
            if not mine or (action in LEAD_ONLY and not lead):
                return False
            if action is Action.SIGN:
                return any(a.signed_at is None for a in mine)
        if action in FILED_BY_UNIT:
            return FILED_BY_UNIT[action] not in pending
        if action in DECISIONS:
            return DECISIONS[action] in pending
        return True

    return [name for name in allowed_actions(Status(t.status), actor) if possible(Action(name))]


async def pending_kinds(session: AsyncSession, ticket_ids: list[int]) -> dict[int, frozenset[str]]:
    """One query for a page of tickets: ticket id → kinds of requests awaiting review."""
    found: dict[int, set[str]] = {}
    if ticket_ids:
        rows = await session.execute(select(TicketRequest.ticket_id, TicketRequest.kind).where(
            TicketRequest.ticket_id.in_(ticket_ids), TicketRequest.status == "pending"))
        for ticket_id, kind in rows:
            found.setdefault(ticket_id, set()).add(kind)
    return {ticket_id: frozenset(found.get(ticket_id, ())) for ticket_id in ticket_ids}
