"""What each audience may see of a ticket: the one place that decides it.

Every read path and every outbound payload that carries ticket data goes through here (the tickets API,
its timeline and requests, reports, hot-issue warnings, unit webhooks, federation pushes), so a new
endpoint cannot mask for itself and forget a field.

Audiences and their rules:

- **admin** (supervisors) and **agent** (话务员): the whole ticket. An agent token with a **territory**
  (remote seat) sees only its territory's tickets — a row filter (``ticket_filter``), applied to every list,
  report and hot-issue query; a ticket outside it answers 404 like one that does not exist.
- **unit** (承办单位): only tickets assigned to it (404 for others, so existence does not leak).
  - The caller's number, name and address only when the caller consented (``disclose_caller``); otherwise
    the masks below, which do not identify: last 4 digits, no name, the district (区/县) at most.
  - A confidential ticket's content, title, elements, reply and attachments only for its **lead unit**;
    an **assisting unit** of a confidential ticket sees neither the content nor the caller.
  - In the timeline, before/after values of edits and free texts follow the same rules.
- **peer** (another 12345 platform, over federation): the whole ticket. A parent supervises its children
  and a child handles what its parent dispatched to it (it calls the citizen back and runs the survey), so
  both are the platform itself, not a third party; they are trusted with the same data an agent sees and
  apply these rules to their own units.

Hot issues and reports never show a ticket's raw content: their summaries are matter words, taken from
non-confidential tickets only (``summary_texts``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.tickets.lifecycle import Status
from gateway.tickets.models import Assignment, Ticket, TicketEvent, TicketRequest, Unit

CONFIDENTIAL_PLACEHOLDER = "（保密件：内容仅主办单位可见）"
# Ticket fields an edit (``update``) may carry in its before/after values, by what they reveal.
CALLER_FIELDS = {"caller_name": "name", "caller_address": "address", "caller_number": "number"}
CONTENT_FIELDS = frozenset({"content", "title", "elements", "location"})
# Free texts in event data that may repeat the content (an on-call answer, guidance given to the caller).
TEXT_DATA = frozenset({"answer", "guidance"})


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str  # "admin" | "agent" | "unit" | "peer"
    id: str
    territory: str | None = None

    @classmethod
    def of(cls, actor: Any) -> Audience:
        """From a ``RequestActor`` (or anything with kind, id and territory)."""
        return cls(actor.kind, actor.id, getattr(actor, "territory", None))

    @property
    def is_unit(self) -> bool:
        return self.kind == "unit"


PLATFORM = Audience("admin", "platform")  # what is stored, pushed up and seen by supervisors
PEER = Audience("peer", "peer")


@dataclass(frozen=True, slots=True)
class Access:
    caller: bool  # the caller's full number, name and address
    content: bool  # content, title, elements, reply text and attachments


FULL = Access(caller=True, content=True)


def access(audience: Audience, t: Ticket) -> Access | None:
    """What ``audience`` may see of ``t``; None when it may not see the ticket at all. (Territories are a
    row filter: see ``ticket_filter``.)"""
    if not audience.is_unit:
        return FULL
    if all(a.unit_id != audience.id for a in t.assignments):
        return None
    content = not t.confidential or t.lead_unit_id == audience.id
    return Access(caller=bool(t.disclose_caller) and content, content=content)


def ticket_filter(audience: Audience, *, active_only: bool = False) -> ColumnElement[bool] | None:
    """The SQL condition on ``Ticket`` of the tickets ``audience`` may see (None: all)."""
    clauses: list[ColumnElement[bool]] = []
    if audience.is_unit:
        mine = select(Assignment.ticket_id).where(Assignment.unit_id == audience.id)
        if active_only:
            mine = mine.where(Assignment.active)
        clauses.append(Ticket.id.in_(mine))
    if audience.territory:
        clauses.append(territory_clause(audience.territory))
    return and_(*clauses) if clauses else None


async def visible_numbers(session: AsyncSession, audience: Audience, numbers: Iterable[str]) -> list[str]:
    """Which of these ticket numbers ``audience`` may see, sorted (for lists of other tickets' numbers:
    hot-issue clusters, duplicate candidates)."""
    wanted = sorted(set(numbers))
    where = ticket_filter(audience)
    if where is None or not wanted:
        return wanted
    return sorted(await session.scalars(select(Ticket.number).where(Ticket.number.in_(wanted), where)))


def territory_clause(territory: str) -> ColumnElement[bool]:
    """A ticket is in a territory when its location names it, or its lead unit is a unit of that region."""
    return or_(Ticket.location.contains(territory),
               Ticket.lead_unit_id.in_(select(Unit.id).where(Unit.region == territory)))


# ---- masks ------------------------------------------------------------------------------------------


def mask_number(number: str | None) -> str | None:
    """The last 4 digits only: enough to tell callers apart on the phone, not to find one."""
    if not number:
        return None
    digits = [c for c in number if c.isdigit()]
    return "*******" + "".join(digits[-4:]) if len(digits) >= 8 else "****"


def mask_name(name: str | None) -> str | None:
    """Nothing: a surname is half of a two-character name and no unit needs it to do its work."""
    return None


def mask_address(address: str | None) -> str | None:
    """The province/city/district prefix at most (known division names only), never a street, house
    number or 小区; None when the address does not start with a division name."""
    if not address:
        return None
    names = _division_names()
    kept, rest = "", address.strip()
    while rest:
        match = next((rest[:n] for n in range(min(len(rest), _LONGEST), 1, -1) if rest[:n] in names), None)
        if match is None:
            break
        kept, rest = kept + match, rest[len(match):].lstrip()
    return kept or None


_LONGEST = 20


@functools.cache
def _division_names() -> frozenset[str]:
    text = resources.files("gateway.tickets").joinpath("data/admin_divisions.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def warm_up() -> None:
    """Load the division names (file I/O: call it off the event loop at start-up)."""
    _division_names()


# A phone number written into a free text: 7 to 12 digits (a 13-digit ticket number is not one), or a
# mobile as 3-4-4 or a fixed line as area code + number, maybe after +86.
PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(?:1\d{2}[\s-]\d{4}[\s-]\d{4}|0\d{2,3}[\s-]\d{7,8}|\d{7,12})(?!\d)")


def redact(text: str | None, t: Ticket) -> str | None:
    """A free text (content, reply, reason) for an audience that may not see the caller: the caller's
    name and address and any phone number in it are masked — an agent often writes "请回电138…" into it."""
    if not text:
        return text
    if t.caller_address and len(t.caller_address) >= 4:
        text = text.replace(t.caller_address, mask_address(t.caller_address) or "***")
    if t.caller_name and len(t.caller_name) >= 2:
        text = text.replace(t.caller_name, "***")
    return PHONE_IN_TEXT.sub(lambda m: mask_number(m.group()) or "****", text)


def caller_view(t: Ticket, seen: Access) -> dict[str, Any]:
    if seen.caller:
        return {"number": t.caller_number, "name": t.caller_name, "address": t.caller_address, "masked": False}
    return {"number": mask_number(t.caller_number), "name": mask_name(t.caller_name),
            "address": mask_address(t.caller_address), "masked": True}


def matches_text(t: Ticket, seen: Access, words: str) -> bool:
    """Whether ``words`` are in what this audience sees of the ticket's texts: a search must not confirm a
    caller's masked number or name, nor words of content the audience may not read."""
    if not seen.content:
        return False
    texts = (t.title, t.content, t.location) if seen.caller else (redact(t.title, t), redact(t.content, t),
                                                                  t.location)
    return any(words in (text or "") for text in texts)


# ---- projections ----------------------------------------------------------------------------------------


def ticket_view(t: Ticket, audience: Audience, seen: Access, *, sla: dict[str, Any] | None,
                allowed_actions: list[str]) -> dict[str, Any]:
    hide = not seen.content

    def text(value: str | None) -> str | None:
        return value if seen.caller else redact(value, t)

    return {
        "number": t.number, "status": t.status, "status_zh": Status(t.status).zh, "version": t.version,
        "policy": t.policy_id, "channel": t.channel, "category": t.category, "urgent": t.urgent,
        "provincial": t.provincial, "title": "" if hide else text(t.title),
        "content": CONFIDENTIAL_PLACEHOLDER if hide else text(t.content),
        "elements": {} if hide else t.elements, "location": mask_address(t.location) if hide else t.location,
        "caller": caller_view(t, seen),
        "confidential": t.confidential, "external_ref": None if audience.is_unit else t.external_ref,
        "lead_unit": t.lead_unit_id,
        "assignments": [
            {"unit": a.unit_id, "role": a.role, "round": a.round, "active": a.active,
             "dispatched_at": a.dispatched_at, "sign_by": a.sign_by, "signed_at": a.signed_at,
             "deemed_signed": a.deemed_signed, "ended": a.ended_reason}
            for a in t.assignments],
        "rejection_reason": t.rejection_reason, "guidance": None if hide else text(t.guidance),
        "reply": None if hide or not t.reply_text else {
            "text": text(t.reply_text), "attachments": t.reply_attachments, "at": t.replied_at,
            "resolved_on_call": t.resolved_on_call},
        "satisfaction": t.satisfaction, "created_at": t.created_at, "dispatched_at": t.dispatched_at,
        "closed_at": t.closed_at, "extension_count": t.extension_count, "reopen_count": t.reopen_count,
        "supervise_level": t.supervise_level,
        "sla": sla,
        "allowed_actions": allowed_actions,
    }


def event_view(e: TicketEvent, t: Ticket, audience: Audience, seen: Access) -> dict[str, Any]:
    """One timeline entry. Units get edits' before/after values and free texts projected like the
    ticket itself; a reason is shown to a unit that may not see the content only when it wrote it."""
    own = e.actor_kind == audience.kind and e.actor_id == audience.id
    data = _event_data(e.data or {}, t, seen)
    reason = e.reason if seen.content or own else None
    if not seen.caller:
        reason = redact(reason, t)
    return {"seq": e.seq, "action": e.action, "actor": {"kind": e.actor_kind, "id": e.actor_id}, "at": e.at,
            "from": e.from_status, "to": e.to_status, "reason": reason, "data": data}


def _event_data(data: dict[str, Any], t: Ticket, seen: Access) -> dict[str, Any]:
    if seen.caller and seen.content:
        return data
    out = {k: v for k, v in data.items() if seen.content or k not in TEXT_DATA}
    if not seen.caller:
        out = {k: redact(v, t) if isinstance(v, str) else v for k, v in out.items()}
    for side in ("before", "after"):
        if isinstance(data.get(side), dict):
            out[side] = _fields(data[side], t, seen)
    return out


def _fields(values: dict[str, Any], t: Ticket, seen: Access) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in CALLER_FIELDS and not seen.caller:
            mask = {"name": mask_name, "address": mask_address, "number": mask_number}[CALLER_FIELDS[key]]
            out[key] = mask(value)
        elif key in CONTENT_FIELDS and not seen.content:
            out[key] = None
        elif isinstance(value, str) and not seen.caller:
            out[key] = redact(value, t)
        else:
            out[key] = value
    return out


def request_view(r: TicketRequest, number: str | None = None) -> dict[str, Any]:
    return {"id": r.id, "ticket": number, "kind": r.kind, "unit": r.unit_id, "status": r.status,
            "requested_at": r.requested_at, "review_by": r.review_by, "reason": r.reason, "basis": r.basis,
            "suggestion": r.suggestion, "working_days": r.working_days, "evidence": r.evidence,
            "decided_at": r.decided_at, "decided_by": r.decided_by, "note": r.decision_note}


def visible_requests(rows: list[TicketRequest], audience: Audience) -> list[TicketRequest]:
    """A unit sees the requests it filed; another unit's reasons may quote a confidential ticket."""
    return [r for r in rows if not audience.is_unit or r.unit_id == audience.id]


def summary_texts(tickets: list[Ticket]) -> list[str]:
    """The texts that topic words and hot-issue summaries may be built from: never a confidential one."""
    return [t.content for t in tickets if not t.confidential]
