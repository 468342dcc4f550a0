"""Ticket endpoints for agents (话务员), handling units (承办单位) and reviewers.

Units only ever see tickets assigned to them, with the caller's identity masked unless the caller
allowed disclosure; a confidential ticket's content is shown to its lead unit only.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from gateway.appkeys import SETTINGS
from gateway.db.unit_of_work import for_reads
from gateway.errors import InvalidInput, NotFound, Unprocessable
from gateway.http.api import RequestActor, actor_of, add_endpoints, endpoint
from gateway.http.jsonio import json_response
from gateway.http.ratelimit import TokenBuckets
from gateway.policies import Duration
from gateway.tickets import views
from gateway.tickets.actions import actions_now, pending_kinds
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.lifecycle import Actor
from gateway.tickets.models import Ticket, TicketRequest, Unit
from gateway.tickets.schemas import (
    ActorRef,
    NewTicket,
    RequestOut,
    Requests,
    SearchPage,
    StatsOut,
    TicketEvents,
    TicketOut,
    TicketPage,
    UnitOut,
    Units,
    WorklistsOut,
    normalise_phone,
)
from gateway.tickets.search import WORKLISTS, Moment, SearchQuery, search, worklist_counts
from gateway.tickets.service import TicketService
from gateway.tickets.statistics import redispatch_statistics, ticket_statistics
from gateway.tickets.views import Access, Audience, access, request_view, ticket_filter, visible_requests

PLATFORM = ("agent", "admin")
UNIT = ("unit",)
ADMIN = ("admin",)
ANY = ("agent", "admin", "unit")

LISTING_LIMIT = web.AppKey("ticket_listing_limit", TokenBuckets)
# "即将超时": a deadline within this much working time.
SOON = Duration(amount=1, unit="working_days", source="workspace: 即将超时 = within one working day")


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


class Attachment(Body):
    name: str = Field(min_length=1, max_length=200)
    size: int | None = Field(default=None, ge=0)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    url: str | None = Field(default=None, max_length=1000)
    content_type: str | None = Field(default=None, max_length=100)


class ReturnRequest(Body):
    reason: str = Field(min_length=1, max_length=2000)
    basis: str = Field(min_length=1, max_length=2000, description="依据: the law, 三定 or list it rests on")
    suggestion: str | None = Field(default=None, max_length=500, description="转送建议")
    evidence: list[Attachment] = Field(default_factory=list, max_length=50,
                                       description="files uploaded to /tickets/{number}/attachments")


class ExtensionRequest(Body):
    working_days: int = Field(ge=1, le=60)
    reason: str = Field(min_length=1, max_length=2000)


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
    caller: str | None = Field(default=None, description="caller number, any format (platform callers only: "
                                                         "422 caller-filter-not-allowed for units)")
    active: bool = Field(default=True, description="units: only tickets they currently hold")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class StatsQuery(Body):
    start: datetime = Field(description="ISO 8601 with offset")
    end: datetime
    by: str = Field(default="unit", pattern=r"^(unit|category)(,(unit|category))?$")
    unit: str | None = None


class RedispatchQuery(Body):
    start: datetime = Field(description="ISO 8601 with offset")
    end: datetime
    by: str = Field(default="unit", pattern=r"^(unit|matter)(,(unit|matter))?$")
    unit: str | None = None


# ---- views (what each audience sees: gateway/tickets/views.py) ------------------------------------


def ticket_view(service: TicketService, t: Ticket, actor: RequestActor, now: datetime,
                pending: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``t`` as ``actor`` may see it; raises 404 when it may not see the ticket at all. ``pending``: the
    kinds of its requests awaiting review, for the actions that are possible now."""
    audience = Audience.of(actor)
    seen = access(audience, t)
    if seen is None:
        raise _not_found(t.number)
    state = service.sla.state(t, now) if t.dispatched_at else None
    kind = Actor.UNIT if audience.is_unit else Actor.ADMIN if actor.kind == "admin" else Actor.AGENT
    return views.ticket_view(t, audience, seen, sla=state.as_dict() if state else None,
                             allowed_actions=actions_now(t, kind, actor.id, pending))


# ---- helpers ------------------------------------------------------------------------------------------


def _service(request: web.Request) -> TicketService:
    return request.app[TICKETS]


def _actor(request: web.Request) -> ActorRef:
    a = actor_of(request)
    return ActorRef(Actor(a.kind), a.id, a.token_id if a.kind == "unit" else None)


def _not_found(number: str) -> NotFound:
    # The same answer as for a ticket that does not exist: whether it exists is not the caller's business.
    return NotFound(f"no ticket {number}", error_id="ticket-not-found")


async def _visible(request: web.Request, number: str) -> tuple[Ticket, Access]:
    """Load a ticket the caller may see (404 otherwise) and what it may see of it."""
    ticket = await _service(request).get(number)
    seen = access(Audience.of(actor_of(request)), ticket)
    if seen is None:
        raise _not_found(number)
    return ticket, seen


async def _respond(request: web.Request, ticket: Ticket, status: int = 200) -> web.Response:
    service = _service(request)
    async with for_reads(service.sessions) as session:
        pending = await pending_kinds(session, [ticket.id])
    return json_response(ticket_view(service, ticket, actor_of(request), service.clock(), pending[ticket.id]),
                         status=status)


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
          query=TicketQuery, tags=("tickets",), errors=(422, 429), response=TicketPage)
async def list_tickets(request: web.Request, q: TicketQuery) -> web.Response:
    service = _service(request)
    actor = actor_of(request)
    request.app[LISTING_LIMIT].take(actor.token_id or f"{actor.kind}:{actor.id}")
    query = select(Ticket).order_by(Ticket.id.desc()).limit(q.limit).offset(q.offset)
    if q.status:
        query = query.where(Ticket.status.in_(q.status.split(",")))
    if q.category:
        query = query.where(Ticket.category == service.pack_category(q.category))
    audience = Audience.of(actor)
    if q.caller:
        if audience.is_unit:  # a filter on the full number would reveal it, one guess at a time
            raise Unprocessable("units cannot search tickets by the caller's number",
                                error_id="caller-filter-not-allowed")
        query = query.where(Ticket.caller_number == normalise_phone(q.caller))
    if q.unit and not audience.is_unit:
        query = query.where(Ticket.lead_unit_id == q.unit)
    visible = ticket_filter(audience, active_only=q.active)
    if visible is not None:
        query = query.where(visible)
    async with service.sessions() as session:
        tickets = list(await session.scalars(query))
        pending = await pending_kinds(session, [t.id for t in tickets])
    now = service.clock()
    return json_response({"items": [ticket_view(service, t, actor, now, pending[t.id]) for t in tickets],
                          "limit": q.limit, "offset": q.offset})


def _moment(service: TicketService) -> Moment:
    now = service.clock()
    return Moment(now, service.sla.calendar.add(now, SOON))


@endpoint("GET", "/search/tickets", summary="Search tickets: number, caller number (platform only), text, "
          "category, matter, unit, status, SLA, dates, channel, worklist; paged", kinds=ANY, scope="tickets",
          query=SearchQuery, tags=("tickets",), errors=(422, 429), response=SearchPage)
async def search_tickets(request: web.Request, q: SearchQuery) -> web.Response:
    service = _service(request)
    actor = actor_of(request)
    request.app[LISTING_LIMIT].take(actor.token_id or f"{actor.kind}:{actor.id}")
    category = service.pack_category(q.category) if q.category else None
    at = _moment(service)
    async with service.sessions() as session:
        tickets, more = await search(session, q, Audience.of(actor), at, category)
        pending = await pending_kinds(session, [t.id for t in tickets])
    return json_response({"items": [ticket_view(service, t, actor, at.now, pending[t.id]) for t in tickets],
                          "limit": q.limit, "offset": q.offset, "has_more": more})


@endpoint("GET", "/worklists", summary="The saved worklists (待转派, 待审核, 即将超时, 已超时, 督办中, "
          "回访失败/不满意重办, 待并案) with their counts", kinds=PLATFORM, scope="tickets", tags=("tickets",),
          response=WorklistsOut)
async def worklists(request: web.Request) -> web.Response:
    service = _service(request)
    async with service.sessions() as session:
        counts = await worklist_counts(session, Audience.of(actor_of(request)), _moment(service))
    return json_response({"items": [{"name": name, "label": label, "count": counts[name]}
                                    for name, label in WORKLISTS.items()]})


@endpoint("GET", "/tickets/{number}", summary="One ticket with its SLA state", kinds=ANY, scope="tickets",
          tags=("tickets",), response=TicketOut)
async def get_ticket(request: web.Request) -> web.Response:
    ticket, _ = await _visible(request, _number(request))
    return await _respond(request, ticket)


@endpoint("GET", "/tickets/{number}/timeline", summary="The ticket's full history", kinds=ANY, scope="tickets",
          tags=("tickets",), response=TicketEvents)
async def timeline(request: web.Request) -> web.Response:
    ticket, seen = await _visible(request, _number(request))
    audience = Audience.of(actor_of(request))
    events = await _service(request).timeline(_number(request))
    return json_response({"items": [views.event_view(e, ticket, audience, seen) for e in events]})


@endpoint("GET", "/tickets/{number}/requests", summary="Return / extension / termination requests",
          kinds=ANY, scope="tickets", tags=("tickets",), response=Requests)
async def ticket_requests(request: web.Request) -> web.Response:
    await _visible(request, _number(request))
    rows = visible_requests(await _service(request).requests(_number(request)), Audience.of(actor_of(request)))
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
            select(TicketRequest, Ticket, Unit.name).join(Ticket, Ticket.id == TicketRequest.ticket_id)
            .join(Unit, Unit.id == TicketRequest.unit_id)
            .where(TicketRequest.status == "pending").order_by(TicketRequest.requested_at))).all()
    return json_response({"items": [{**request_view(r, t.number), "unit_name": name,
                                     "rule": service.sla.rule_text(t, r.kind)} for r, t, name in rows]})


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
    await _visible(request, _number(request))  # 404 before any state check
    return await _respond(request, await _service(request).sign(_number(request), _actor(request)))


@endpoint("POST", "/tickets/{number}/return", summary="退单 with reasons and basis", body=ReturnRequest,
          kinds=UNIT, scope="tickets", tags=("units",), response=TicketOut)
async def request_return(request: web.Request, body: ReturnRequest) -> web.Response:
    await _visible(request, _number(request))  # 404 before any state check
    evidence = [a.model_dump(exclude_none=True) for a in body.evidence]
    t = await _service(request).request_return(_number(request), _actor(request), body.reason, body.basis,
                                               body.suggestion, evidence)
    return await _respond(request, t)


@endpoint("POST", "/tickets/{number}/extension", summary="延期 request", body=ExtensionRequest, kinds=UNIT,
          scope="tickets", tags=("units",), status=201, errors=(422,), response=RequestOut)
async def request_extension(request: web.Request, body: ExtensionRequest) -> web.Response:
    await _visible(request, _number(request))  # 404 before any state check
    req = await _service(request).request_extension(_number(request), _actor(request), body.working_days,
                                                    body.reason)
    return json_response(request_view(req, _number(request)), status=201)


@endpoint("POST", "/tickets/{number}/reply", summary="答复 with result text and attachment metadata", body=Reply,
          kinds=UNIT, scope="tickets", tags=("units",), response=TicketOut)
async def reply(request: web.Request, body: Reply) -> web.Response:
    await _visible(request, _number(request))  # 404 before any state check
    attachments = [a.model_dump(exclude_none=True) for a in body.attachments]
    t = await _service(request).reply(_number(request), _actor(request), body.text, attachments)
    return await _respond(request, t)


@endpoint("POST", "/tickets/{number}/termination", summary="终结办理 with evidence", body=Termination,
          kinds=UNIT, scope="tickets", tags=("units",), response=TicketOut)
async def request_termination(request: web.Request, body: Termination) -> web.Response:
    await _visible(request, _number(request))  # 404 before any state check
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
                                          excluded_categories=excluded, unit_id=unit,
                                          where=ticket_filter(Audience.of(actor)))
    return json_response({"start": q.start, "end": q.end, "by": q.by, "items": [f.as_dict() for f in figures]})


@endpoint("GET", "/stats/redispatch", summary="改派率: tickets dispatched more than once, by first unit and matter",
          kinds=ANY, scope="stats", query=RedispatchQuery, tags=("stats",), response=StatsOut)
async def redispatch_stats(request: web.Request, q: RedispatchQuery) -> web.Response:
    service = _service(request)
    actor = actor_of(request)
    if q.start.tzinfo is None or q.end.tzinfo is None:
        raise InvalidInput("start and end need a UTC offset, e.g. 2026-11-01T00:00:00+08:00",
                           error_id="naive-datetime")
    unit = actor.id if actor.kind == "unit" else q.unit  # a unit sees its own figures only
    async with service.sessions() as session:
        items = await redispatch_statistics(session, q.start, q.end, by=q.by.split(","),  # type: ignore[arg-type]
                                            unit_id=unit, where=ticket_filter(Audience.of(actor)))
    return json_response({"start": q.start, "end": q.end, "by": q.by, "items": items})


async def _warm_up(app: web.Application) -> None:
    await asyncio.get_running_loop().run_in_executor(None, views.warm_up)


def setup(app: web.Application) -> None:
    http = app[SETTINGS].http
    app[LISTING_LIMIT] = TokenBuckets(http.listing_rate_per_second, http.listing_burst)
    app.on_startup.append(_warm_up)
    add_endpoints(
        app, create_ticket, list_tickets, search_tickets, worklists, get_ticket, timeline, ticket_requests, accept,
        reject, resolve, update,
        dispatch, merge, withdraw, link, pending_reviews, reopen, close, supervise, sign, request_return,
        request_extension, reply, request_termination, list_units, add_unit, stats, redispatch_stats,
        *(_review(kind) for kind in ("return", "extension", "reply", "termination")),
    )
