"""The federation wire format: what one 12345 platform sends another. A third-party platform implements
these documents (JSON Schema: ``hotline federation schema``, and the OpenAPI entries of /federation/…).

Every message is an HTTPS POST with ``Authorization: Bearer <peer token>`` (the receiver issued the token
to the sender, kind ``peer``, subject = the sender's platform id).

``POST /api/v1/federation/events`` carries a batch of ticket events, each the audit record of one
transition plus the ticket as it stood after it. Events are ordered per ticket: ``prev_seq`` names the
previous event of the same ticket sent to this receiver (null for the first). The receiver stores an
event once per (sender, ticket, seq) — a re-sent event is answered ``duplicate`` — and refuses one whose
``prev_seq`` is not the last it stored (``gap``, with ``expected_prev_seq``); the sender then re-sends
from there. Delivery is therefore at-least-once, receipt exactly-once, order kept per ticket.

Direction gives meaning: a parent sends a child the events of tickets dispatched to it (the ``dispatch``
creates work there); a child sends its parent all of its events (intake, transitions, survey results),
and those on tickets the parent dispatched to it act there (accept → sign, approve_reply → reply,
request_extension, and the ``upward-return`` link → request_return).

``POST /api/v1/federation/call-transfers`` carries one ``CallTransfer``: a call our agent one-key-transferred
to the receiver, with the ticket linked to it; the receiver makes the ticket its own and links it to the
call when it arrives (by the ``X-Hotline-Call-Id`` SIP header, else the caller's number).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.tickets.models import Ticket, TicketEvent


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer peers may send more: ignore, don't fail


class WireCaller(Wire):
    number: str | None = None
    name: str | None = None
    address: str | None = None


class WireReply(Wire):
    text: str
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    at: datetime | None = None


class WireTicket(Wire):
    """The ticket after the event, in the sender's terms (its own number, statuses, deadlines in UTC)."""

    number: str
    status: str
    policy: str
    channel: str
    category: str
    urgent: bool = False
    provincial: bool = False
    title: str = ""
    content: str
    elements: dict[str, Any] = Field(default_factory=dict)
    location: str | None = None
    caller: WireCaller = Field(default_factory=WireCaller)
    confidential: bool = False
    disclose_caller: bool = False
    external_ref: str | None = None
    lead_unit: str | None = None
    created_at: datetime
    dispatched_at: datetime | None = None
    sign_by: datetime | None = None
    signed_at: datetime | None = None
    due_at: datetime | None = None
    max_due_at: datetime | None = None
    replied_at: datetime | None = None
    closed_at: datetime | None = None
    reply: WireReply | None = None
    satisfaction: str | None = None
    satisfaction_excluded: str | None = None
    reopen_count: int = 0
    extension_count: int = 0


class WireActor(Wire):
    kind: str
    id: str | None = None


class WireEvent(Wire):
    ticket: str = Field(description="the sender's ticket number")
    seq: int = Field(ge=1, description="the sender's per-ticket event sequence")
    prev_seq: int | None = Field(default=None, description="previous event of this ticket sent to this receiver")
    action: str
    at: datetime
    actor: WireActor
    from_status: str | None = None
    to_status: str
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    command: dict[str, Any] | None = Field(default=None, description="for upward-return links: reason, basis, "
                                                                     "suggestion")
    snapshot: WireTicket


class EventBatch(Wire):
    origin: str = Field(description="the sender's platform id")
    level: str = Field(description="province | city | county | district")
    backlog: int = Field(default=0, ge=0, description="events the sender still has queued for this receiver")
    events: list[WireEvent] = Field(max_length=500)


class EventResult(Wire):
    ticket: str
    seq: int
    result: Literal["stored", "duplicate", "gap"]
    expected_prev_seq: int | None = None


class EventAck(Wire):
    receiver: str
    results: list[EventResult]


class ReportPush(Wire):
    """A periodic report (the document ``GET /api/v1/reports/{period}`` returns as JSON)."""

    origin: str
    period: Literal["week", "month", "quarter", "year"]
    start: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    unit: str = ""
    report: dict[str, Any]


class CallTransfer(Wire):
    """一键转接 across platforms: the sender's agent blind-transferred call ``call_id`` to the receiver and
    its ticket follows. ``call_id`` is what the sender's trunk puts in the ``X-Hotline-Call-Id`` SIP header
    of the transferred call, so the receiver matches the arriving call to the ticket by it (or, when the
    header is lost on the way, by ``caller_number``). Sent once per (origin, call_id); a re-send is
    answered ``duplicate``."""

    origin: str = Field(description="the sender's platform id")
    call_id: str = Field(min_length=1, max_length=64, description="the sender's call id (X-Hotline-Call-Id)")
    caller_number: str | None = Field(default=None, description="the citizen's number as the sender saw it")
    target: str = Field(description="the sender's transfer target name")
    at: datetime
    actor: WireActor = Field(description="the agent who transferred the call")
    ticket: WireTicket = Field(description="the ticket linked to the call, as it stood at the transfer")


class CallTransferAck(Wire):
    receiver: str
    result: Literal["stored", "duplicate"]


def snapshot(t: Ticket) -> dict[str, Any]:
    """The whole ticket, caller included: a peer platform is the platform audience, not a unit (see
    ``gateway.tickets.views``): a parent supervises and a child handles and surveys — both need it."""
    return {
        "number": t.number, "status": t.status, "policy": t.policy_id, "channel": t.channel,
        "category": t.category, "urgent": t.urgent, "provincial": t.provincial, "title": t.title,
        "content": t.content, "elements": t.elements or {}, "location": t.location,
        "caller": {"number": t.caller_number, "name": t.caller_name, "address": t.caller_address},
        "confidential": t.confidential, "disclose_caller": t.disclose_caller, "external_ref": t.external_ref,
        "lead_unit": t.lead_unit_id, "created_at": t.created_at, "dispatched_at": t.dispatched_at,
        "sign_by": t.sign_by, "signed_at": t.signed_at, "due_at": t.due_at, "max_due_at": t.max_due_at,
        "replied_at": t.replied_at, "closed_at": t.closed_at,
        "reply": {"text": t.reply_text, "attachments": t.reply_attachments or [], "at": t.replied_at}
        if t.reply_text else None,
        "satisfaction": t.satisfaction, "satisfaction_excluded": t.satisfaction_excluded,
        "reopen_count": t.reopen_count, "extension_count": t.extension_count,
    }


def event_document(e: TicketEvent, t: Ticket, prev_seq: int | None,
                   command: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "ticket": t.number, "seq": e.seq, "prev_seq": prev_seq, "action": e.action, "at": e.at,
        "actor": {"kind": e.actor_kind, "id": e.actor_id}, "from_status": e.from_status,
        "to_status": e.to_status, "reason": e.reason, "data": e.data or {}, "command": command,
        "snapshot": snapshot(t),
    }


def json_schemas() -> dict[str, Any]:
    """The documents of the wire format as JSON Schema (for third-party implementers)."""
    return {model.__name__: model.model_json_schema()
            for model in (EventBatch, EventAck, ReportPush, CallTransfer, CallTransferAck)}
