"""Federation endpoints: the wire (events and reports from peers) and the operators' view of it."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from gateway.errors import Forbidden
from gateway.federation.keys import FEDERATION
from gateway.federation.models import MirroredTicket, Receipt
from gateway.federation.wire import CallTransfer, CallTransferAck, EventAck, EventBatch, ReportPush, json_schemas
from gateway.http.api import actor_of, add_endpoints, endpoint
from gateway.http.jsonio import json_response
from gateway.tickets.http import _actor, ticket_view

PEER = ("peer",)
ADMIN = ("admin",)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NewChild(Body):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$", description="the child's platform id (= its unit id here)")
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000, description="base URL of the child's gateway")
    level: str = Field(pattern="^(city|county|district)$")
    region: str | None = Field(default=None, max_length=100)


class UpwardReturn(Body):
    reason: str = Field(min_length=1, max_length=2000)
    basis: str = Field(min_length=1, max_length=2000, description="依据: why it is not ours")
    suggestion: str | None = Field(default=None, max_length=500, description="转送建议")


class MirrorQuery(Body):
    peer: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


def _peer(request: web.Request) -> str:
    federation = request.app[FEDERATION]
    peer = actor_of(request).id
    if peer != federation.platform.parent_id and peer not in federation.platform.children:
        raise Forbidden(f"platform {peer} is neither our parent nor one of our children",
                        error_id="unknown-peer-platform")
    return peer


@endpoint("POST", "/federation/events", summary="Receive a peer platform's ticket events (ordered per ticket)",
          body=EventBatch, kinds=PEER, scope="federation", tags=("federation",))
async def receive_events(request: web.Request, body: EventBatch) -> web.Response:
    """At-least-once delivery, exactly-once receipt: each event is stored once per (sender, ticket, seq);
    a re-sent one is answered ``duplicate``; one whose ``prev_seq`` is not the last stored is ``gap``."""
    federation = request.app[FEDERATION]
    results = await federation.receiver.receive(_peer(request), body)
    federation.soon(federation.receiver.apply_pending)
    ack = EventAck(receiver=federation.platform.id, results=results)
    return json_response(ack.model_dump(mode="json"))


@endpoint("POST", "/federation/reports", summary="Receive a child platform's periodic report", body=ReportPush,
          kinds=PEER, scope="federation", status=201, tags=("federation",))
async def receive_report(request: web.Request, body: ReportPush) -> web.Response:
    await request.app[FEDERATION].receiver.receive_report(_peer(request), body)
    return json_response({"stored": True}, status=201)


@endpoint("POST", "/federation/call-transfers", summary="Receive a call one-key-transferred to us with its ticket",
          body=CallTransfer, kinds=PEER, scope="federation", tags=("federation",))
async def receive_call_transfer(request: web.Request, body: CallTransfer) -> web.Response:
    """Stored once per (sender, call id), a re-send is ``duplicate``; then a local ticket is made from the
    sender's and linked to the call when it arrives (X-Hotline-Call-Id, else the caller's number)."""
    federation = request.app[FEDERATION]
    transfers = federation.transfers
    assert transfers is not None
    result = await transfers.receive(_peer(request), body)
    federation.soon(transfers.apply_pending)
    ack = CallTransferAck(receiver=federation.platform.id, result=result)  # type: ignore[arg-type]
    return json_response(ack.model_dump(mode="json"))


@endpoint("GET", "/federation/schema", summary="The federation wire format as JSON Schema", kinds=None,
          tags=("federation",))
async def schema(request: web.Request) -> web.Response:
    return json_response(json_schemas())


@endpoint("GET", "/federation/status", summary="This platform's level, its peers and the backlog both ways",
          kinds=ADMIN, tags=("federation",))
async def status(request: web.Request) -> web.Response:
    return json_response(await request.app[FEDERATION].status())


@endpoint("GET", "/federation/children", summary="Child platforms", kinds=ADMIN, tags=("federation",))
async def list_children(request: web.Request) -> web.Response:
    children = await request.app[FEDERATION].children()
    return json_response({"items": [{"id": c.id, "name": c.name, "level": c.level, "url": c.url,
                                     "region": c.region, "active": c.active} for c in children]})


@endpoint("POST", "/federation/children", summary="Register a child platform (it becomes a unit too)",
          body=NewChild, kinds=ADMIN, status=201, tags=("federation",))
async def add_child(request: web.Request, body: NewChild) -> web.Response:
    c = await request.app[FEDERATION].add_child(body.id, body.name, body.url, body.level, body.region)
    return json_response({"id": c.id, "name": c.name, "level": c.level, "url": c.url}, status=201)


@endpoint("POST", "/federation/tickets/{number}/return", summary="退回上级: return a parent's ticket with reasons",
          body=UpwardReturn, scope="tickets", tags=("federation",))
async def return_upward(request: web.Request, body: UpwardReturn) -> web.Response:
    federation = request.app[FEDERATION]
    ticket = await federation.return_upward(request.match_info["number"], _actor(request), body.reason,
                                            body.basis, body.suggestion)
    return json_response(ticket_view(federation.tickets, ticket, actor_of(request), federation.clock()))


@endpoint("POST", "/federation/outbox/replay", summary="Send dead federation messages again", kinds=ADMIN,
          tags=("federation",))
async def replay_dead(request: web.Request) -> web.Response:
    ids = await request.app[FEDERATION].replay_dead(str(actor_of(request).id))
    return json_response({"replayed": ids})


@endpoint("GET", "/federation/mirror", summary="Child platforms' tickets as last pushed", kinds=ADMIN,
          query=MirrorQuery, tags=("federation",))
async def mirror(request: web.Request, q: MirrorQuery) -> web.Response:
    async with request.app[FEDERATION].sessions() as session:
        query = select(MirroredTicket).order_by(MirroredTicket.updated_at.desc()).limit(q.limit)
        if q.peer:
            query = query.where(MirroredTicket.peer == q.peer)
        rows = list(await session.scalars(query))
    items: list[dict[str, Any]] = [{"peer": r.peer, "number": r.number, "seq": r.last_seq, "status": r.status,
                                    "channel": r.channel, "category": r.category, "snapshot": r.snapshot}
                                   for r in rows]
    return json_response({"items": items})


@endpoint("GET", "/federation/receipts", summary="Events received from peers and whether they were applied",
          kinds=ADMIN, query=MirrorQuery, tags=("federation",))
async def receipts(request: web.Request, q: MirrorQuery) -> web.Response:
    async with request.app[FEDERATION].sessions() as session:
        query = select(Receipt).order_by(Receipt.id.desc()).limit(q.limit)
        if q.peer:
            query = query.where(Receipt.peer == q.peer)
        rows = list(await session.scalars(query))
    return json_response({"items": [{"peer": r.peer, "ticket": r.ticket_number, "seq": r.seq, "action": r.action,
                                     "status": r.status, "error": r.error, "received_at": r.received_at}
                                    for r in rows]})


def setup(app: web.Application) -> None:
    add_endpoints(app, receive_events, receive_report, receive_call_transfer, schema, status, list_children,
                  add_child, return_upward, replay_dead, mirror, receipts)
