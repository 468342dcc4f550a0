"""The console pages (/console/…) and the few API endpoints they need beyond the other capabilities'
(/api/v1/console/…, ticket notes). Every button on the pages calls the documented HTTP API."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from gateway.appkeys import CLOCK, POLICY, SETTINGS
from gateway.calls.service import CALLS
from gateway.consoles.audience import in_territory
from gateway.consoles.boards import sla_board, wallboard
from gateway.consoles.keys import HUB
from gateway.consoles.performance import agent_performance
from gateway.consoles.systems import systems
from gateway.errors import Forbidden, NotFound
from gateway.http.api import actor_of, add_endpoints, endpoint
from gateway.http.jsonio import json_response
from gateway.policies import Category
from gateway.sms.models import SmsMessage
from gateway.surveys.models import Survey
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.lifecycle import Actor
from gateway.tickets.models import Ticket, Unit
from gateway.tickets.schemas import ActorRef
from gateway.tickets.views import Audience, visible_numbers

STATIC = Path(__file__).parent / "static"
PAGES = {"agent": "agent.html", "expert": "expert.html", "supervisor": "supervisor.html",
         "tickets": "workspace.html", "unit": "unit.html"}
PLATFORM = ("agent", "admin")
SUPERVISOR = ("admin",)
# Pause reasons offered on the agent page (any text is accepted by the API; these are the usual ones).
PAUSE_REASONS = ["小休", "用餐", "培训", "会议", "整理工单"]
NOTE_KIND = "other"  # notes are ticket links of kind "other" whose ref starts with "note:"
# Pages are plain files from this server: nothing from anywhere else may load or run.
# media-src blob:: a recording is fetched with the page's token and played from a blob: URL.
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class PeriodQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: datetime = Field(description="ISO 8601 with offset")
    end: datetime = Field(description="ISO 8601 with offset (exclusive)")

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-11-01T00:00:00+08:00")
        return value


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=5000)
    role: str = Field(default="agent", pattern=r"^(agent|expert|supervisor)$", description="who writes it")


# ---- pages --------------------------------------------------------------------------------------------


async def index(request: web.Request) -> web.StreamResponse:
    return _page("index.html")


async def page(request: web.Request) -> web.StreamResponse:
    name = PAGES.get(request.match_info["page"])
    if name is None:
        raise web.HTTPNotFound(text="no such console")
    return _page(name)


async def static_file(request: web.Request) -> web.StreamResponse:
    """The pages' scripts and styles: one flat folder, nothing outside it."""
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or name.startswith(".") or not name.endswith((".js", ".css", ".svg")) or not path.is_file():
        raise web.HTTPNotFound(text="no such file")
    response = web.FileResponse(path)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _page(name: str) -> web.StreamResponse:
    response = web.FileResponse(STATIC / name)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


# ---- API ----------------------------------------------------------------------------------------------


@endpoint("GET", "/console/config", summary="What the console pages need: who you are, transfer targets, "
          "expert groups, the policy pack's categories and non-acceptance reasons", kinds=PLATFORM,
          tags=("consoles",))
async def console_config(request: web.Request) -> web.Response:
    actor = actor_of(request)
    settings, pack = request.app[SETTINGS], request.app[POLICY]
    return json_response({
        "actor": {"kind": actor.kind, "id": actor.id},
        "policy": {
            "id": pack.id, "name": pack.name,
            "categories": [{"code": c.value, "zh": c.zh} for c in Category],
            "non_acceptance": [{"code": i.code, "label": i.label, "guidance": i.guidance, "source": i.source}
                               for i in pack.non_acceptance],
        },
        "transfer_targets": [{"name": name, "number": number}
                             for name, number in settings.calls.transfer_targets.items()],
        "experts": [{"name": name, "label": g.label} for name, g in settings.calls.experts.items()],
        "police_number": settings.calls.police_number,
        "pause_reasons": PAUSE_REASONS,
        "answer_target_seconds": settings.calls.answer_target_seconds,
        "timezone": settings.timezone,
        "systems": await systems(request.app),
    })


@endpoint("GET", "/console/unit", summary="What the unit portal needs: which unit you are, its name, the "
          "policy pack's name", kinds=("unit",), tags=("consoles",))
async def console_unit(request: web.Request) -> web.Response:
    actor = actor_of(request)
    async with request.app[TICKETS].sessions() as session:
        unit = await session.get(Unit, actor.id)
    pack = request.app[POLICY]
    return json_response({"actor": {"kind": actor.kind, "id": actor.id},
                          "unit": {"id": actor.id, "name": unit.name if unit else actor.id},
                          "policy": {"id": pack.id, "name": pack.name,
                                     "categories": [{"code": c.value, "zh": c.zh} for c in Category]},
                          "timezone": request.app[SETTINGS].timezone})


@endpoint("GET", "/console/systems", summary="Telephone system and live transcription states, in Chinese",
          kinds=PLATFORM, tags=("consoles",))
async def console_systems(request: web.Request) -> web.Response:
    return json_response(await systems(request.app))


@endpoint("GET", "/console/wallboard", summary="Wallboard: callers waiting, longest wait, agents by state, "
          "today's answered within target, 24 h 接通率, abandonment", kinds=PLATFORM, scope="stats",
          tags=("consoles",))
async def console_wallboard(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    board = await wallboard(request.app[CALLS], request.app[CLOCK](), settings.timezone,
                            settings.calls.answer_target_seconds)
    territory = actor_of(request).territory  # a remote seat: the alerts of its territory only
    board["alerts"] = [a for a in request.app[HUB].alerts if in_territory(territory, a.get("place"))]
    return json_response(board)


@endpoint("GET", "/console/sla-board", summary="Tickets turning yellow or red, by lead unit", kinds=SUPERVISOR,
          scope="reviews", tags=("consoles",))
async def console_sla_board(request: web.Request) -> web.Response:
    return json_response(await sla_board(request.app[TICKETS]))


@endpoint("GET", "/console/agent-performance", summary="Per agent and day: calls answered, talk time, tickets "
          "created, direct answers (即时办结), quality inspection (mean score, flagged calls, confirmed findings)",
          kinds=SUPERVISOR, scope="stats", query=PeriodQuery,
          tags=("consoles",), errors=(422,))
async def console_agent_performance(request: web.Request, q: PeriodQuery) -> web.Response:
    zone = ZoneInfo(request.app[SETTINGS].timezone)
    async with request.app[TICKETS].sessions() as session:
        items = await agent_performance(session, q.start, q.end, zone)
    return json_response({"start": q.start, "end": q.end, "items": items})


@endpoint("GET", "/console/calls/{call_id}", summary="A call as a console shows it: summary, transcript so "
          "far, latest draft, expert consulted", kinds=PLATFORM, scope="calls", tags=("consoles",),
          errors=(404,))
async def console_call(request: web.Request) -> web.Response:
    """Agents may read any call here, as through GET /api/v1/calls/{id}; the websocket is what limits
    pushes to their own calls."""
    call_id = request.match_info["call_id"]
    sheet = request.app[HUB].desk.get(call_id)
    live = request.app[CALLS].model.get(call_id)
    if sheet is None and live is None:
        raise NotFound(f"no call {call_id!r} on this gateway's console desk", error_id="no-such-call")
    body: dict[str, Any] = sheet.as_dict() if sheet is not None else {
        "call_id": call_id, "call": None, "transcript": [], "partial": "", "draft": None, "expert": None,
        "speech_unavailable": None}
    if live is not None:
        body["call"] = {**(body["call"] or {}), **live.summary()}
    return json_response(body)


@endpoint("POST", "/tickets/{number}/notes", summary="Add a note to a ticket (agent or expert seat)",
          body=NoteBody, kinds=PLATFORM, scope="tickets", tags=("tickets",), status=201, errors=(404,))
async def add_note(request: web.Request, body: NoteBody) -> web.Response:
    """Stored as a ticket link of kind "other" (ref "note:<id>"), so it is in the ticket's timeline."""
    actor = actor_of(request)
    if body.role == "supervisor" and actor.kind != "admin":
        raise Forbidden("only a supervisor token writes supervisor notes", error_id="wrong-token-kind")
    number = request.match_info["number"]
    service = request.app[TICKETS]
    at = service.clock()
    note = {"text": body.text, "role": body.role, "author": actor.id, "at": at.isoformat()}
    ref = f"note:{uuid.uuid4().hex[:12]}"
    await service.link(number, ActorRef(Actor(actor.kind), actor.id), NOTE_KIND, ref, note)
    return json_response({"id": ref, **note}, status=201)


@endpoint("GET", "/tickets/{number}/contacts", summary="What reached the citizen about a ticket: its surveys (回访) "
          "and text messages, oldest first", kinds=PLATFORM, scope="tickets", tags=("tickets",), errors=(404,))
async def ticket_contacts(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    audience = Audience.of(actor_of(request))
    async with request.app[TICKETS].sessions() as session:
        if not await visible_numbers(session, audience, [number]) or not await session.scalar(
                select(Ticket.id).where(Ticket.number == number)):
            raise NotFound(f"no ticket {number}", error_id="ticket-not-found")
        surveys = list(await session.scalars(select(Survey).where(Survey.ticket_number == number)
                                             .order_by(Survey.created_at)))
        texts = list(await session.scalars(select(SmsMessage).where(SmsMessage.ref == number)
                                           .order_by(SmsMessage.created_at)))
    return json_response({
        "surveys": [{"round": s.round, "channel": s.channel, "status": s.status, "level": s.level,
                     "created_at": s.created_at, "answered_at": s.answered_at, "outcome": s.outcome}
                    for s in surveys],
        "sms": [{"to": m.to_number, "purpose": m.purpose, "status": m.status, "text": m.text,
                 "created_at": m.created_at} for m in texts]})


@endpoint("GET", "/tickets/{number}/notes", summary="A ticket's notes, oldest first", kinds=PLATFORM,
          scope="tickets", tags=("tickets",), errors=(404,))
async def list_notes(request: web.Request) -> web.Response:
    links = await request.app[TICKETS].links(request.match_info["number"])
    notes = [{"id": link.ref, **link.meta} for link in links
             if link.kind == NOTE_KIND and link.ref.startswith("note:")]
    return json_response({"items": notes})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console", index)
    app.router.add_get("/console/", index)
    app.router.add_get("/console/{page}", page)
    app.router.add_get("/console/static/{name}", static_file)
    add_endpoints(app, console_config, console_unit, console_systems, console_wallboard, console_sla_board,
                  console_agent_performance, console_call, add_note, list_notes, ticket_contacts)
