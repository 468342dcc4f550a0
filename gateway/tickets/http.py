"""Ticket endpoints for agents (话务员), handling units (承办单位) and reviewers.

Units only ever see tickets assigned to them, with the caller's identity masked unless the caller
allowed disclosure; a confidential ticket's content is shown to its lead unit only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from gateway.errors import Forbidden, InvalidInput
from gateway.http.api import RequestActor, actor_of, add_endpoints, endpoint
from gateway.http.jsonio import json_response
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.lifecycle import Actor, Status, allowed_actions
from gateway.tickets.models import Assignment, Ticket, TicketEvent, TicketRequest, Unit
from gateway.tickets.schemas import (
    ActorRef,
    NewTicket,
    RequestOut,
    Requests,
    StatsOut,
    TicketEvents,
    TicketOut,
    TicketPage,
    UnitOut,
    Units,
)
from gateway.tickets.service import TicketService
from gateway.tickets.statistics import ticket_statistics

PLATFORM = ("agent", "admin")
UNIT = ("unit",)
ADMIN = ("admin",)
ANY = ("agent", "admin", "unit")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateTicket(NewTicket):
    draft_ref: str | None = Field(default=None, max_length=100, description="draft ticket this came from")
    call_ref: str | None = Field(default=None, max_length=100, description="the call's Linkedid")


class Note(Body):
    note: str | None = Field(default=None, max_length=2000)


class Reason(Body):
    reason: str = Field(min_length=1, max_length=2000)


class Reject(Body):
    reason_code: str = Field(min_length=1, max_length=64)
    guidance: str = Field(min_length=1, max_length=2000)


class Resolve(Body):
    answer: str = Field(min_length=1, max_length=5000)


class Update(Body):
    category: str | None = None
    urgent: bool | None = None
    provincial: bool | None = None
    title: str | None = Field(default=None, max_length=200)
    content: str | None = Field(default=None, min_length=1, max_length=20_000)
    elements: dict[str, Any] | None = None
    location: str | None = Field(default=None, max_length=300)
    caller_name: str | None = Field(default=None, max_length=100)
    caller_address: str | None = Field(default=None, max_length=300)
    confidential: bool | None = None
    disclose_caller: bool | None = None


class Dispatch(Body):
    lead_unit: str = Field(min_length=1, max_length=64)
    assisting: list[str] = Field(default_factory=list, max_length=20)
    note: str | None = Field(default=None, max_length=2000)


class Merge(Body):
    into: str = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=1, max_length=2000)


class Review(Body):
    approve: bool
    note: str = Field(min_length=1, max_length=2000)


class Supervise(Body):
    level: Literal[1, 2] = Field(description="1 = 催办 (reminder), 2 = 督办 (supervision)")
    note: str = Field(min_length=1, max_length=2000)


class ReturnRequest(Body):
    reason: str = Field(min_length=1, max_length=2000)
    basis: str = Field(min_length=1, max_length=2000, description="依据: the law, 三定 or list it rests on")
    suggestion: str | None = Field(default=None, max_length=500, description="转送建议")


class ExtensionRequest(Body):
    working_days: int = Field(ge=1, le=60)
    reason: str = Field(min_length=1, max_length=2000)


class Attachment(Body):
    name: str = Field(min_length=1, max_length=200)
    size: int | None = Field(default=None, ge=0)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    url: str | None = Field(default=None, max_length=1000)
    content_type: str | None = Field(default=None, max_length=100)


class Reply(Body):
    text: str = Field(min_length=1, max_length=20_000)
    attachments: list[Attachment] = Field(default_factory=list, max_length=50)


class Termination(Body):
    reason: str = Field(min_length=1, max_length=2000)
    evidence: list[Attachment] = Field(min_length=1, max_length=50)


class Link(Body):
    kind: Literal["call", "recording", "transcript", "draft", "incident", "other"]
    ref: str = Field(min_length=1, max_length=300)
    meta: dict[str, Any] = Field(default_factory=dict)


class NewUnit(Body):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    name: str = Field(min_length=1, max_length=200)
    region: str | None = Field(default=None, max_length=100)
    parent_id: str | None = None


class TicketQuery(Body):
    status: str | None = Field(default=None, description="comma-separated statuses")
    category: str | None = None
    unit: str | None = Field(default=None, description="lead unit (platform callers only)")
    caller: str | None = Field(default=None, description="caller number, any format")
    active: bool = Field(default=True, description="units: only tickets they currently hold")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class StatsQuery(Body):
    start: datetime = Field(description="ISO 8601 with offset")
    end: datetime
    by: str = Field(default="unit", pattern=r"^(unit|category)(,(unit|category))?$")
    unit: str | None = None


# ---- views ------------------------------------------------------------------------------------------


def mask_name(name: str | None) -> str | None:
    return None if not name else name[0] + "*" * max(1, len(name) - 1)


def mask_number(number: str | None) -> str | None:
    if not number:
        return None
    digits = number.removeprefix("+86")
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


def mask_address(address: str | None) -> str | None:
    return None if not address else address[:6] + "***"


def ticket_view(service: TicketService, t: Ticket, actor: RequestActor, now: datetime) -> dict[str, Any]:
    as_unit = actor.kind == "unit"
    lead = t.lead_unit_id == actor.id
    hide_caller = as_unit and not t.disclose_caller
    hide_content = as_unit and t.confidential and not lead
    state = service.sla.state(t, now) if t.dispatched_at else None
    kind = Actor.UNIT if as_unit else Actor.ADMIN if actor.kind == "admin" else Actor.AGENT
    return {
        "number": t.number, "status": t.status, "status_zh": Status(t.status).zh, "version": t.version,
        "policy": t.policy_id, "channel": t.channel, "category": t.category, "urgent": t.urgent,
        "provincial": t.provincial, "title": t.title,
        "content": "（保密件：内容仅主办单位可见）" if hide_content else t.content,
        "elements": {} if hide_content else t.elements, "location": t.location,
        "caller": {
            "number": mask_number(t.caller_number) if hide_caller else t.caller_number,
            "name": mask_name(t.caller_name) if hide_caller else t.caller_name,
            "address": mask_address(t.caller_address) if hide_caller else t.caller_address,
            "masked": hide_caller,
        },
        "confidential": t.confidential, "external_ref": None if as_unit else t.external_ref,
        "lead_unit": t.lead_unit_id,
        "assignments": [
            {"unit": a.unit_id, "role": a.role, "round": a.round, "active": a.active,
             "dispatched_at": a.dispatched_at, "sign_by": a.sign_by, "signed_at": a.signed_at,
             "deemed_signed": a.deemed_signed, "ended": a.ended_reason}
            for a in t.assignments],
        "rejection_reason": t.rejection_reason, "guidance": t.guidance,
        "reply": {"text": t.reply_text, "attachments": t.reply_attachments, "at": t.replied_at,
                  "resolved_on_call": t.resolved_on_call} if t.reply_text else None,
        "satisfaction": t.satisfaction, "created_at": t.created_at, "dispatched_at": t.dispatched_at,
        "closed_at": t.closed_at, "extension_count": t.extension_count, "reopen_count": t.reopen_count,
        "supervise_level": t.supervise_level,
        "sla": state.as_dict() if state else None,
        "allowed_actions": allowed_actions(Status(t.status), kind),
    }


def event_view(e: TicketEvent) -> dict[str, Any]:
    return {"seq": e.seq, "action": e.action, "actor": {"kind": e.actor_kind, "id": e.actor_id}, "at": e.at,
            "from": e.from_status, "to": e.to_status, "reason": e.reason, "data": e.data}


def request_view(r: TicketRequest, number: str | None = None) -> dict[str, Any]:
    return {"id": r.id, "ticket": number, "kind": r.kind, "unit": r.unit_id, "status": r.status,
            "requested_at": r.requested_at, "review_by": r.review_by, "reason": r.reason, "basis": r.basis,
            "suggestion": r.suggestion, "working_days": r.working_days, "evidence": r.evidence,
            "decided_at": r.decided_at, "decided_by": r.decided_by, "note": r.decision_note}


# ---- helpers ------------------------------------------------------------------------------------------


def _service(request: web.Request) -> TicketService:
    return request.app[TICKETS]


def _actor(request: web.Request) -> ActorRef:
    a = actor_of(request)
    return ActorRef(Actor(a.kind), a.id)


async def _visible(request: web.Request, number: str) -> Ticket:
    """Load a ticket the caller may see: platform callers any, a unit only one assigned to it."""
    service = _service(request)
    ticket = await service.get(number)
    actor = actor_of(request)
    if actor.kind == "unit" and all(a.unit_id != actor.id for a in ticket.assignments):
        raise Forbidden("this ticket is not assigned to your unit", error_id="not-your-ticket")
    return ticket


async def _respond(request: web.Request, ticket: Ticket, status: int = 200) -> web.Response:
    service = _service(request)
    return json_response(ticket_view(service, ticket, actor_of(request), service.clock()), status=status)


def _number(request: web.Request) -> str:
    return request.match_info["number"]


# ---- platform -------------------------------------------------------------------------------------------


@endpoint("POST", "/tickets", summary="Create a ticket (登记), optionally from a draft or a call",
          body=CreateTicket, scope="tickets", status=201, tags=("tickets",), response=TicketOut)
async def create_ticket(request: web.Request, body: CreateTicket) -> web.Response:
    service = _service(request)
    actor = _actor(request)
    data = NewTicket(**body.model_dump(exclude={"draft_ref", "call_ref"}))
    ticket = await service.create(data, actor)
    if body.draft_ref:
        ticket = await service.link(ticket.number, actor, "draft", body.draft_ref)
    if body.call_ref:
        ticket = await service.link(ticket.number, actor, "call", body.call_ref)
    return await _respond(request, ticket, 201)


@endpoint("GET", "/tickets", summary="List tickets (units: only theirs)", kinds=ANY, scope="tickets",
          query=TicketQuery, tags=("tickets",), response=TicketPage)
async def list_tickets(request: web.Request, q: TicketQuery) -> web.Response:
    service = _service(request)
    actor = actor_of(request)
    query = select(Ticket).order_by(Ticket.id.desc()).limit(q.limit).offset(q.offset)
    if q.status:
        query = query.where(Ticket.status.in_(q.status.split(",")))
    if q.category:
        query = query.where(Ticket.category == service.pack_category(q.category))
    if q.caller:
        from gateway.tickets.schemas import normalise_phone

        query = query.where(Ticket.caller_number == normalise_phone(q.caller))
    if actor.kind == "unit":
        mine = select(Assignment.ticket_id).where(Assignment.unit_id == actor.id)
        if q.active:
            mine = mine.where(Assignment.active)
        query = query.where(Ticket.id.in_(mine))
    elif q.unit:
        query = query.where(or_(Ticket.lead_unit_id == q.unit))
    if actor.territory:  # a remote seat sees its own territory's tickets only
        from gateway.federation.territory import territory_clause

        query = query.where(territory_clause(actor.territory))
    async with service.sessions() as session:
        tickets = list(await session.scalars(query))
    now = service.clock()
    return json_response({"items": [ticket_view(service, t, actor, now) for t in tickets],
                          "limit": q.limit, "offset": q.offset})


@endpoint("GET", "/tickets/{number}", summary="One ticket with its SLA state", kinds=ANY, scope="tickets",
          tags=("tickets",), response=TicketOut)
async def get_ticket(request: web.Request) -> web.Response:
    return await _respond(request, await _visible(request, _number(request)))


@endpoint("GET", "/tickets/{number}/timeline", summary="The ticket's full history", kinds=ANY, scope="tickets",
          tags=("tickets",), response=TicketEvents)
async def timeline(request: web.Request) -> web.Response:
    await _visible(request, _number(request))
    events = await _service(request).timeline(_number(request))
    return json_response({"items": [event_view(e) for e in events]})


@endpoint("GET", "/tickets/{number}/requests", summary="Return / extension / termination requests",
          kinds=ANY, scope="tickets", tags=("tickets",), response=Requests)
async def ticket_requests(request: web.Request) -> web.Response:
    await _visible(request, _number(request))
    rows = await _service(request).requests(_number(request))
    return json_response({"items": [request_view(r, _number(request)) for r in rows]})


@endpoint("POST", "/tickets/{number}/accept", summary="受理", body=Note, scope="tickets", tags=("tickets",),
          response=TicketOut)
async def accept(request: web.Request, body: Note) -> web.Response:
    return await _respond(request, await _service(request).accept(_number(request), _actor(request), body.note))


@endpoint("POST", "/tickets/{number}/reject", summary="不予受理 with the pack's reason code and the guidance given",
          body=Reject, scope="tickets", tags=("tickets",), response=TicketOut)
async def reject(request: web.Request, body: Reject) -> web.Response:
    t = await _service(request).reject(_number(request), _actor(request), body.reason_code, body.guidance)
    return await _respond(request, t)


@endpoint("POST", "/tickets/{number}/resolve", summary="即时办结: answered on the call", body=Resolve,
          scope="tickets", tags=("tickets",), response=TicketOut)
async def resolve(request: web.Request, body: Resolve) -> web.Response:
    return await _respond(request, await _service(request).resolve_on_call(_number(request), _actor(request),
                                                                           body.answer))


@endpoint("PATCH", "/tickets/{number}", summary="Edit a ticket before dispatch", body=Update, scope="tickets",
          tags=("tickets",), errors=(409,), response=TicketOut)
async def update(request: web.Request, body: Update) -> web.Response:
    fields = body.model_dump(exclude_none=True)
    if not fields:
        raise InvalidInput("nothing to change", error_id="empty-update")
    return await _respond(request, await _service(request).update(_number(request), _actor(request), **fields))


@endpoint("POST", "/tickets/{number}/dispatch", summary="转派 to a lead unit and assisting units", body=Dispatch,
          scope="tickets", tags=("tickets",), response=TicketOut)
async def dispatch(request: web.Request, body: Dispatch) -> web.Response:
    t = await _service(request).dispatch(_number(request), _actor(request), body.lead_unit, body.assisting,
                                         body.note)
    return await _respond(request, t)


@endpoint("POST", "/tickets/{number}/merge", summary="并案 into an open ticket", body=Merge, scope="tickets",
          tags=("tickets",), response=TicketOut)
async def merge(request: web.Request, body: Merge) -> web.Response:
    t = await _service(request).merge(_number(request), _actor(request), body.into, body.reason)
    return await _respond(request, t)


@endpoint("POST", "/tickets/{number}/withdraw", summary="撤单 at the caller's request", body=Reason,
          scope="tickets", tags=("tickets",), response=TicketOut)
async def withdraw(request: web.Request, body: Reason) -> web.Response:
    return await _respond(request, await _service(request).withdraw(_number(request), _actor(request), body.reason))


@endpoint("POST", "/tickets/{number}/links", summary="Attach a call, recording, transcript or draft", body=Link,
          scope="tickets", tags=("tickets",), response=TicketOut)
async def link(request: web.Request, body: Link) -> web.Response:
    t = await _service(request).link(_number(request), _actor(request), body.kind, body.ref, body.meta)
    return await _respond(request, t)


# ---- reviews (admin) ------------------------------------------------------------------------------------


def _review(kind: str) -> Any:
    @endpoint("POST", f"/tickets/{{number}}/{kind}/review", summary=f"Review a {kind} (approve or reject)",
              body=Review, kinds=ADMIN, scope="reviews", tags=("reviews",), response=TicketOut)
    async def handler(request: web.Request, body: Review) -> web.Response:
        service = _service(request)
        method = getattr(service, f"review_{kind}")
        return await _respond(request, await method(_number(request), _actor(request), body.approve, body.note))

    handler.__name__ = f"review_{kind}"
    return handler


@endpoint("GET", "/reviews", summary="Requests awaiting review (退单/延期/终结)", kinds=ADMIN, scope="reviews",
          tags=("reviews",), response=Requests)
async def pending_reviews(request: web.Request) -> web.Response:
    service = _service(request)
    async with service.sessions() as session:
        rows = (await session.execute(
            select(TicketRequest, Ticket.number).join(Ticket, Ticket.id == TicketRequest.ticket_id)
            .where(TicketRequest.status == "pending").order_by(TicketRequest.requested_at))).all()
    return json_response({"items": [request_view(r, n) for r, n in rows]})


@endpoint("POST", "/tickets/{number}/reopen", summary="重办", body=Reason, kinds=ADMIN, scope="reviews",
          tags=("reviews",), response=TicketOut)
async def reopen(request: web.Request, body: Reason) -> web.Response:
    return await _respond(request, await _service(request).reopen(_number(request), _actor(request), body.reason))


@endpoint("POST", "/tickets/{number}/close", summary="办结 without a survey result", body=Reason, kinds=ADMIN,
          scope="reviews", tags=("reviews",), response=TicketOut)
async def close(request: web.Request, body: Reason) -> web.Response:
    return await _respond(request, await _service(request).close(_number(request), _actor(request), body.reason))


@endpoint("POST", "/tickets/{number}/supervise", summary="催办 / 督办", body=Supervise, kinds=ADMIN,
          scope="reviews", tags=("reviews",), response=TicketOut)
async def supervise(request: web.Request, body: Supervise) -> web.Response:
    t = await _service(request).supervise(_number(request), _actor(request), body.level, body.note)
    return await _respond(request, t)


# ---- handling units ---------------------------------------------------------------------------------------


@endpoint("POST", "/tickets/{number}/sign", summary="签收", kinds=UNIT, scope="tickets", tags=("units",),
          response=TicketOut)
async def sign(request: web.Request) -> web.Response:
    return await _respond(request, await _service(request).sign(_number(request), _actor(request)))


@endpoint("POST", "/tickets/{number}/return", summary="退单 with reasons and basis", body=ReturnRequest,
          kinds=UNIT, scope="tickets", tags=("units",), response=TicketOut)
async def request_return(request: web.Request, body: ReturnRequest) -> web.Response:
    t = await _service(request).request_return(_number(request), _actor(request), body.reason, body.basis,
                                               body.suggestion)
    return await _respond(request, t)


@endpoint("POST", "/tickets/{number}/extension", summary="延期 request", body=ExtensionRequest, kinds=UNIT,
          scope="tickets", tags=("units",), status=201, errors=(422,), response=RequestOut)
async def request_extension(request: web.Request, body: ExtensionRequest) -> web.Response:
    req = await _service(request).request_extension(_number(request), _actor(request), body.working_days,
                                                    body.reason)
    return json_response(request_view(req, _number(request)), status=201)


@endpoint("POST", "/tickets/{number}/reply", summary="答复 with result text and attachment metadata", body=Reply,
          kinds=UNIT, scope="tickets", tags=("units",), response=TicketOut)
async def reply(request: web.Request, body: Reply) -> web.Response:
    attachments = [a.model_dump(exclude_none=True) for a in body.attachments]
    t = await _service(request).reply(_number(request), _actor(request), body.text, attachments)
    return await _respond(request, t)


@endpoint("POST", "/tickets/{number}/termination", summary="终结办理 with evidence", body=Termination,
          kinds=UNIT, scope="tickets", tags=("units",), response=TicketOut)
async def request_termination(request: web.Request, body: Termination) -> web.Response:
    evidence = [a.model_dump(exclude_none=True) for a in body.evidence]
    t = await _service(request).request_termination(_number(request), _actor(request), body.reason, evidence)
    return await _respond(request, t)


# ---- units and statistics -----------------------------------------------------------------------------------


@endpoint("GET", "/units", summary="Handling units", kinds=ANY, tags=("units",), response=Units)
async def list_units(request: web.Request) -> web.Response:
    async with _service(request).sessions() as session:
        units = list(await session.scalars(select(Unit).order_by(Unit.id)))
    return json_response({"items": [{"id": u.id, "name": u.name, "region": u.region, "parent": u.parent_id,
                                     "active": u.active} for u in units]})


@endpoint("POST", "/units", summary="Register a handling unit", body=NewUnit, kinds=ADMIN, status=201,
          tags=("units",), response=UnitOut)
async def add_unit(request: web.Request, body: NewUnit) -> web.Response:
    unit = await _service(request).add_unit(body.id, body.name, body.region, body.parent_id)
    return json_response({"id": unit.id, "name": unit.name, "region": unit.region}, status=201)


@endpoint("GET", "/stats/tickets", summary="签收及时率, 按时办结率, 办结率, 退单率, 延期率, 重办率, 满意率",
          kinds=ANY, scope="stats", query=StatsQuery, tags=("stats",), response=StatsOut)
async def stats(request: web.Request, q: StatsQuery) -> web.Response:
    service = _service(request)
    actor = actor_of(request)
    if q.start.tzinfo is None or q.end.tzinfo is None:
        raise InvalidInput("start and end need a UTC offset, e.g. 2026-11-01T00:00:00+08:00",
                           error_id="naive-datetime")
    unit = actor.id if actor.kind == "unit" else q.unit
    excluded = [e.category.value for e in service.pack.satisfaction_exclusions if e.category is not None]
    async with service.sessions() as session:
        figures = await ticket_statistics(session, q.start, q.end, service.clock(), by=q.by.split(","),  # type: ignore[arg-type]
                                          excluded_categories=excluded, unit_id=unit)
    return json_response({"start": q.start, "end": q.end, "by": q.by, "items": [f.as_dict() for f in figures]})


def setup(app: web.Application) -> None:
    add_endpoints(
        app, create_ticket, list_tickets, get_ticket, timeline, ticket_requests, accept, reject, resolve, update,
        dispatch, merge, withdraw, link, pending_reviews, reopen, close, supervise, sign, request_return,
        request_extension, reply, request_termination, list_units, add_unit, stats,
        *(_review(kind) for kind in ("return", "extension", "reply", "termination")),
    )
