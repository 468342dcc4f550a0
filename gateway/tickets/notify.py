"""Tell handling units what happened to their tickets: signed webhooks written in the same transaction as
the transition (outbox), so a unit never misses a dispatch, a 督办 or a reopen, and never gets one that
was rolled back. Payloads carry no caller identity: units read the (masked) ticket through the API; the
note (free text) follows the ticket's rules for each recipient (``gateway.tickets.views``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tickets.lifecycle import Action
from gateway.tickets.models import Ticket
from gateway.tickets.service import Change
from gateway.tickets.views import Audience, access, redact
from gateway.webhooks.service import Webhooks

SIMPLE = {
    Action.DISPATCH: "ticket.dispatched",
    Action.REOPEN: "ticket.reopened",
    Action.WITHDRAW: "ticket.withdrawn",
    Action.MERGE: "ticket.merged",
    Action.APPROVE_RETURN: "ticket.return.approved",
    Action.REJECT_RETURN: "ticket.return.rejected",
    Action.APPROVE_EXTENSION: "ticket.extension.approved",
    Action.REJECT_EXTENSION: "ticket.extension.rejected",
    Action.REJECT_REPLY: "ticket.reply.rejected",
    Action.APPROVE_TERMINATION: "ticket.termination.approved",
    Action.REJECT_TERMINATION: "ticket.termination.rejected",
}


def event_kind(action: Action, change: Change) -> str | None:
    if action is Action.SUPERVISE:
        return "ticket.supervised" if change.data.get("level") == 2 else "ticket.reminder"
    if action is Action.RECORD_SURVEY:
        return "ticket.reopened" if change.data.get("reopened") else None
    return SIMPLE.get(action)


def recipients(ticket: Ticket, change: Change) -> list[str]:
    units = [a.unit_id for a in ticket.assignments if a.active]
    units += change.data.get("notified_units", [])
    if returned := change.data.get("returned_by"):
        units.append(returned)
    return list(dict.fromkeys(units))


class UnitNotifier:
    def __init__(self, webhooks: Webhooks) -> None:
        self.webhooks = webhooks

    async def __call__(self, session: AsyncSession, ticket: Ticket, action: Action, change: Change,
                       seq: int) -> None:
        kind = event_kind(action, change)
        if kind is None:
            return
        payload: dict[str, Any] = {
            "ticket": ticket.number, "status": ticket.status, "category": ticket.category,
            "urgent": ticket.urgent, "sign_by": ticket.sign_by, "due_at": ticket.due_at,
            "note": change.reason, "seq": seq,
        }
        if action is Action.SUPERVISE:
            payload["level"] = change.data.get("level")
        for unit in recipients(ticket, change):
            seen = access(Audience("unit", unit), ticket)
            note = None if seen is None or not seen.content else \
                change.reason if seen.caller else redact(change.reason, ticket)
            await self.webhooks.enqueue(session, unit, kind, {**payload, "note": note, "unit": unit},
                                        event_id=f"{ticket.number}:{seq}", stream=ticket.number, seq=seq)
