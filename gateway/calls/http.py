"""HTTP API for the agent and supervisor consoles: /api/v1/calls/… and /api/v1/agents/….

Callers authenticate with API tokens (agents and supervisors). Every identifier that reaches Asterisk is
checked against its pattern in ``identifiers.py`` here, before any AMI action (422 ``invalid-…``). An
``Idempotency-Key``
header makes a POST safe to resend: the same key returns the first result and sends no second AMI action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import select

from gateway.calls import schemas
from gateway.calls.identifiers import (
    AGENT_ID,
    CALL_ID,
    EXTENSION,
    INTERFACE,
    MEMBER_NAME,
    PAUSE_REASON,
    PHONE_NUMBER,
    QUEUE,
    TICKET_ID,
)
from gateway.calls.kpi import call_kpis
from gateway.calls.models import CallRecord, PoliceHandoff
from gateway.calls.service import CALLS, CallsService
from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.http.api import ACTOR_KEY, authorize, declare, parse_body, parse_query
from gateway.http.inputs import check_time, one_line
from gateway.http.jsonio import json_response, loads_object

PREFIX = "/api/v1"


CONSOLE = ("agent", "admin")
SUPERVISOR = ("admin",)


def add_routes(app: web.Application) -> None:
    """Each route checks its caller: agents and supervisors (admin tokens) drive calls; an agent may
    change only its own seat (login, pause …); listen/whisper/barge and registering seats are for
    supervisors."""
    routes: list[tuple[str, str, Any, str, tuple[str, ...], bool]] = [
        ("GET", "/calls", list_calls, "Calls, newest first", CONSOLE, False),
        ("GET", "/calls/kpi", kpi, "KPIs per queue and centre, from arrival", CONSOLE, False),
        ("GET", "/calls/handoffs", list_handoffs, "12345→110 handoff records", CONSOLE, False),
        ("POST", "/calls/outbound", outbound, "Originate a callback or a voice survey", CONSOLE, False),
        ("GET", "/calls/{call_id}", get_call, "One call with its legs", CONSOLE, False),
        ("POST", "/calls/{call_id}/transfer", transfer, "一键转接 (blind) to a sub-centre or hotline", CONSOLE, False),
        ("POST", "/calls/{call_id}/expert", consult_expert, "Warm transfer: consult an expert seat", CONSOLE, False),
        ("POST", "/calls/{call_id}/expert/complete", complete_expert, "Hand the citizen to the expert", CONSOLE, False),
        ("POST", "/calls/{call_id}/expert/cancel", cancel_expert, "Back to the citizen", CONSOLE, False),
        ("POST", "/calls/{call_id}/conference", conference, "三方通话 with a unit or 110", CONSOLE, False),
        (
            "POST",
            "/calls/{call_id}/conference/leave",
            leave_conference,
            "The agent leaves the 三方通话",
            CONSOLE,
            False,
        ),
        ("POST", "/calls/{call_id}/police", police, "12345→110 transfer with a handoff record", CONSOLE, False),
        ("POST", "/calls/{call_id}/hold", hold, "Put the citizen on hold (music; the agent waits)", CONSOLE, False),
        ("POST", "/calls/{call_id}/resume", resume, "Bring the citizen back from hold", CONSOLE, False),
        ("POST", "/calls/{call_id}/hangup", hang_up, "End the call (in a 三方通话: for everyone)", CONSOLE, False),
        ("PUT", "/calls/{call_id}/ticket", link_ticket, "Link the call to a ticket", CONSOLE, False),
        ("GET", "/agents", list_agents, "Seats and their state", CONSOLE, False),
        ("GET", "/agents/{agent_id}", get_agent, "One seat", CONSOLE, False),
        ("PUT", "/agents/{agent_id}", register_agent, "Register a seat (interface, skills)", SUPERVISOR, False),
        ("POST", "/agents/{agent_id}/login", agent_login, "Log in to queues", CONSOLE, True),
        ("POST", "/agents/{agent_id}/logout", agent_logout, "Log out", CONSOLE, True),
        ("POST", "/agents/{agent_id}/pause", agent_pause, "Pause with a reason", CONSOLE, True),
        ("POST", "/agents/{agent_id}/ready", agent_ready, "Ready (unpause)", CONSOLE, True),
        ("PUT", "/agents/{agent_id}/queues", agent_queues, "Change the seat's queues", CONSOLE, True),
        ("POST", "/agents/{agent_id}/spy", spy, "Supervisor listen / whisper / barge", SUPERVISOR, False),
    ]
    for method, path, handler, summary, kinds, own_seat in routes:
        doc = DOCS.get(handler.__name__, RouteDoc())
        spec = declare(method, path, summary=summary, kinds=kinds, scope="calls", tags=("calls",), body=doc.body,
                       query=doc.query, status=doc.status, response=doc.response, errors=(422, 503))
        route = PREFIX + path.replace("{call_id}", CALL_ID_ROUTE)
        app.router.add_route(method, route, spec(_guard(handler, kinds, own_seat, doc)))


# A call id is never one of the fixed names beside it, so GET /calls/kpi is the KPI list and nothing else
# (and a 405 on /calls/outbound names POST only).
CALL_ID_ROUTE = "{call_id:(?!(?:outbound|kpi|handoffs)$)[^{}/]+}"


@dataclass(frozen=True)
class RouteDoc:
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = schemas.CallAction
    status: int = 200


DOCS = {
    "list_calls": RouteDoc(response=schemas.CallList),
    "kpi": RouteDoc(query=schemas.KpiQuery, response=schemas.KpiList),
    "list_handoffs": RouteDoc(query=schemas.HandoffQuery, response=schemas.HandoffList),
    "outbound": RouteDoc(body=schemas.Outbound, status=202),
    "get_call": RouteDoc(response=schemas.CallDetail),
    "transfer": RouteDoc(body=schemas.Transfer),
    "consult_expert": RouteDoc(body=schemas.ConsultExpert),
    "conference": RouteDoc(body=schemas.Conference),
    "police": RouteDoc(body=schemas.PoliceHandoffRecord),
    "link_ticket": RouteDoc(body=schemas.LinkTicket),
    "list_agents": RouteDoc(response=schemas.AgentList),
    "get_agent": RouteDoc(response=schemas.Agent),
    "register_agent": RouteDoc(body=schemas.RegisterAgent, response=schemas.Agent),
    "agent_login": RouteDoc(body=schemas.Login, response=schemas.Agent),
    "agent_logout": RouteDoc(response=schemas.Agent),
    "agent_pause": RouteDoc(body=schemas.Pause, response=schemas.Agent),
    "agent_ready": RouteDoc(response=schemas.Agent),
    "agent_queues": RouteDoc(body=schemas.Queues, response=schemas.Agent),
    "spy": RouteDoc(body=schemas.Spy),
}


def _guard(handler: Any, kinds: tuple[str, ...], own_seat: bool, doc: RouteDoc) -> Any:
    async def guarded(request: web.Request) -> web.StreamResponse:
        actor = authorize(request, kinds, "calls")
        if "call_id" in request.match_info:
            CALL_ID.check(request.match_info["call_id"], "call_id")
        if "agent_id" in request.match_info:
            AGENT_ID.check(request.match_info["agent_id"], "agent_id")
        if own_seat and actor.kind == "agent" and actor.id != request.match_info["agent_id"]:
            raise Forbidden("an agent can only change its own seat", error_id="not-your-seat")
        # The documented models are checked here, at the edge; the handler reads the (cached) body itself.
        if doc.body is not None:
            await parse_body(request, doc.body)
        if doc.query is not None:
            parse_query(request, doc.query)
        return await handler(request)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


# ---- helpers ---------------------------------------------------------------------------------------


def _svc(request: web.Request) -> CallsService:
    return request.app[CALLS]


async def _body(request: web.Request) -> dict[str, Any]:
    return loads_object(await request.read())  # cached: the idempotency middleware may have read it already


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{name}' is required", error_id="missing-field", field=name)
    return one_line(name, value.strip())


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be text", error_id="invalid-field", field=name)
    return one_line(name, value)


def _queues(body: dict[str, Any], *, required: bool) -> list[str] | None:
    queues = body.get("queues")
    if queues is None and not required:
        return None
    if not isinstance(queues, list) or not all(isinstance(q, str) and q for q in queues):
        raise InvalidInput("'queues' must be a list of queue names", error_id="invalid-queues")
    return [one_line("queues", q) for q in queues]


def _key(request: web.Request, operation: str) -> str | None:
    header = request.headers.get("Idempotency-Key")
    if header is None:
        return None
    if not header or len(header) > 128 or any(ch in header for ch in "\r\n"):
        raise InvalidInput("Idempotency-Key must be 1–128 characters", error_id="invalid-idempotency-key")
    # Scoped by operation and target so one key reused for another operation cannot return a wrong result.
    return f"{operation}:{request.match_info.get('call_id') or request.match_info.get('agent_id', '')}:{header}"


def _actor(request: web.Request) -> str | None:
    actor = request.get(ACTOR_KEY)
    return None if actor is None else actor.id


def _time(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"'{name}' must be an ISO 8601 time", error_id="invalid-time") from exc
    if value.tzinfo is None:
        raise InvalidInput(f"'{name}' needs a UTC offset", error_id="invalid-time")
    check_time(name, value)
    return value


def _row(row: CallRecord) -> dict[str, Any]:
    data = {column.name: getattr(row, column.name) for column in CallRecord.__table__.columns}
    data["call_kind"] = data.pop("kind")
    return data | {"call_id": row.id}


# ---- calls -----------------------------------------------------------------------------------------


async def list_calls(request: web.Request) -> web.Response:
    svc = _svc(request)
    calls = [c.summary() for c in svc.model.calls.values() if c.kind != "spy"]
    return json_response({"calls": calls, "pbx": svc.ami.problem() or "connected"})


async def get_call(request: web.Request) -> web.Response:
    svc = _svc(request)
    call_id = request.match_info["call_id"]
    live = svc.model.get(call_id)
    if live is not None:
        return json_response({"live": True, **live.summary()})
    async with svc.recorder.sessions() as session:
        row = await session.get(CallRecord, call_id)
    if row is None:
        raise NotFound(f"no call {call_id!r}", error_id="no-such-call")
    return json_response({"live": False, **_row(row)})


async def transfer(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await _svc(request).operations.blind_transfer(
        request.match_info["call_id"],
        _text(body, "target"),
        actor=_actor(request),
        key=_key(request, "transfer"),
    )
    return json_response(result)


async def consult_expert(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await _svc(request).operations.consult_expert(
        request.match_info["call_id"],
        _text(body, "expert"),
        actor=_actor(request),
        key=_key(request, "expert"),
    )
    return json_response(result)


async def complete_expert(request: web.Request) -> web.Response:
    result = await _svc(request).operations.complete_consultation(
        request.match_info["call_id"], key=_key(request, "expert-complete")
    )
    return json_response(result)


async def cancel_expert(request: web.Request) -> web.Response:
    result = await _svc(request).operations.cancel_consultation(
        request.match_info["call_id"], key=_key(request, "expert-cancel")
    )
    return json_response(result)


async def conference(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await _svc(request).operations.start_conference(
        request.match_info["call_id"],
        PHONE_NUMBER.check(_text(body, "party"), "party"),
        actor=_actor(request),
        key=_key(request, "conference"),
    )
    return json_response(result)


async def leave_conference(request: web.Request) -> web.Response:
    result = await _svc(request).operations.leave_conference(
        request.match_info["call_id"], key=_key(request, "conference-leave")
    )
    return json_response(result)


async def police(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await _svc(request).operations.transfer_to_police(
        request.match_info["call_id"], body, actor=_actor(request), key=_key(request, "police")
    )
    return json_response(result)


async def _bodiless(request: web.Request, operation: Callable[..., Awaitable[dict[str, Any]]], name: str
                    ) -> web.Response:
    """An operation on the call in the path that takes no body: the acting agent and the idempotency key."""
    return json_response(
        await operation(request.match_info["call_id"], actor=_actor(request), key=_key(request, name))
    )


async def hold(request: web.Request) -> web.Response:
    return await _bodiless(request, _svc(request).holds.hold, "hold")


async def resume(request: web.Request) -> web.Response:
    return await _bodiless(request, _svc(request).holds.resume, "resume")


async def hang_up(request: web.Request) -> web.Response:
    return await _bodiless(request, _svc(request).holds.hang_up, "hangup")


async def link_ticket(request: web.Request) -> web.Response:
    body = await _body(request)
    ticket_id = TICKET_ID.check(_text(body, "ticket_id"), "ticket_id")
    result = await _svc(request).operations.link_ticket(request.match_info["call_id"], ticket_id)
    return json_response(result)


async def outbound(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await _svc(request).operations.originate(
        _text(body, "kind"),
        PHONE_NUMBER.check(_text(body, "number"), "number"),
        agent_id=AGENT_ID.optional(body.get("agent_id"), "agent_id"),
        ticket_id=TICKET_ID.optional(body.get("ticket_id"), "ticket_id"),
        key=_key(request, "outbound"),
    )
    return json_response(result, status=202)


async def kpi(request: web.Request) -> web.Response:
    svc = _svc(request)
    target = svc.operations.settings.answer_target_seconds
    kpis = await call_kpis(
        svc.recorder.sessions,
        since=_time(request, "since"),
        until=_time(request, "until"),
        queue=QUEUE.optional(request.query.get("queue"), "queue"),
        answer_target=target,
    )
    return json_response(kpis)


async def list_handoffs(request: web.Request) -> web.Response:
    """Handoff records (12345→110 and 110→12345); ``?undelivered=1`` lists those the webhook still owes."""
    svc = _svc(request)
    query = select(PoliceHandoff).order_by(PoliceHandoff.id)
    if request.query.get("undelivered") in ("1", "true"):
        query = query.where(PoliceHandoff.delivered_at.is_(None), PoliceHandoff.direction == "to_110")
    async with svc.recorder.sessions() as session:
        rows = (await session.scalars(query)).all()
    return json_response(
        {
            "handoffs": [
                {
                    "id": h.id,
                    "direction": h.direction,
                    "call_id": h.call_id,
                    "ticket_id": h.ticket_id,
                    "incident_id": h.incident_id,
                    "record": h.record,
                    "created_at": h.created_at,
                    "delivered_at": h.delivered_at,
                }
                for h in rows
            ]
        }
    )


# ---- agents ----------------------------------------------------------------------------------------


async def list_agents(request: web.Request) -> web.Response:
    return json_response({"agents": await _svc(request).agents.all()})


async def get_agent(request: web.Request) -> web.Response:
    return json_response(await _svc(request).agents.get(request.match_info["agent_id"]))


async def register_agent(request: web.Request) -> web.Response:
    body = await _body(request)
    queues = body.get("queues")
    view = await _svc(request).agents.register(
        request.match_info["agent_id"],
        name=MEMBER_NAME.check(body.get("name", ""), "name"),
        interface=INTERFACE.optional(body.get("interface"), "interface"),
        queues=None if queues is None else QUEUE.check_list(queues, "queues"),
    )
    return json_response(view)


async def agent_login(request: web.Request) -> web.Response:
    body = await _body(request)
    queues = body.get("queues")
    served = None if queues is None else QUEUE.check_list(queues, "queues")
    return json_response(await _svc(request).agents.login(request.match_info["agent_id"], served))


async def agent_logout(request: web.Request) -> web.Response:
    return json_response(await _svc(request).agents.logout(request.match_info["agent_id"]))


async def agent_pause(request: web.Request) -> web.Response:
    body = await _body(request)
    reason = PAUSE_REASON.check(_text(body, "reason"), "reason")
    return json_response(await _svc(request).agents.pause(request.match_info["agent_id"], reason))


async def agent_ready(request: web.Request) -> web.Response:
    return json_response(await _svc(request).agents.ready(request.match_info["agent_id"]))


async def agent_queues(request: web.Request) -> web.Response:
    body = await _body(request)
    queues = QUEUE.check_list(body.get("queues"), "queues")
    return json_response(await _svc(request).agents.set_queues(request.match_info["agent_id"], queues))


async def spy(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await _svc(request).operations.spy(
        request.match_info["agent_id"],
        EXTENSION.check(_text(body, "supervisor"), "supervisor"),
        _text(body, "mode"),
        key=_key(request, "spy"),
    )
    return json_response(result)
