"""HTTP API of SMS.

    POST /api/v1/sms/inbound                 a reply forwarded by the provider, signed like our webhooks
                                             (no API token: the signature is the credential)
    GET  /api/v1/sms/messages[?status=&purpose=&ref=&to=&limit=]     admin
    GET  /api/v1/sms/messages/{id}                                   admin
    POST /api/v1/sms/messages/{id}/replay                            admin, dead messages only
    GET  /api/v1/sms/outbox[?to=&limit=]     admin; what the development outbox provider "sent"
    GET  /api/v1/sms/inbound[?from=&unprocessed=1&limit=]            admin

The inbound body: ``{"id": provider's message id, "from": number, "text": ..., "to"?: our number,
"received_at"?: ISO 8601 with offset}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.appkeys import SETTINGS
from gateway.errors import NotFound, Unauthenticated, Unavailable
from gateway.http.api import declare
from gateway.http.jsonio import json_response
from gateway.sms.keys import SMS
from gateway.sms.models import SmsInbound, SmsMessage, SmsOutboxEntry
from gateway.webhooks.http import query_int, read_body, require_admin
from gateway.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


class InboundSms(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: str = Field(min_length=1, max_length=100)
    from_number: str = Field(alias="from", min_length=1, max_length=40)
    text: str = Field(max_length=2000)
    to: str | None = Field(default=None, max_length=40)
    received_at: AwareDatetime | None = None


def message_json(m: SmsMessage) -> dict[str, Any]:
    return {"id": m.id, "to": m.to_number, "text": m.text, "purpose": m.purpose, "ref": m.ref,
            "status": m.status, "attempts": m.attempts, "next_attempt_at": m.next_attempt_at,
            "last_error": m.last_error, "last_status": m.last_status,
            "provider_message_id": m.provider_message_id, "created_at": m.created_at, "sent_at": m.completed_at,
            "replay_count": m.replay_count, "last_replayed_at": m.last_replayed_at,
            "last_replayed_by": m.last_replayed_by}


def outbox_json(e: SmsOutboxEntry) -> dict[str, Any]:
    return {"id": e.id, "message_id": e.message_id, "to": e.to_number, "text": e.text, "created_at": e.created_at}


def inbound_json(r: SmsInbound) -> dict[str, Any]:
    return {"id": r.id, "provider_id": r.provider_id, "from": r.from_number, "to": r.to_number, "text": r.text,
            "received_at": r.received_at, "processed_at": r.processed_at}


async def receive_inbound(request: web.Request) -> web.Response:
    conf = request.app[SETTINGS].sms.inbound
    secret = conf.resolved_secret()
    if secret is None:
        raise Unavailable("inbound SMS are off: set HOTLINE_SMS__INBOUND__SECRET (or secret_file)",
                          error_id="sms-inbound-not-configured")
    raw = await request.read()
    if not verify_signature(secret, request.headers.get(TIMESTAMP_HEADER), raw,
                            request.headers.get(SIGNATURE_HEADER), tolerance=conf.signature_tolerance):
        raise Unauthenticated("bad or stale signature", error_id="bad-signature")
    body = await read_body(request, InboundSms)
    row, new = await request.app[SMS].receive(body.id, body.from_number, body.text, to_number=body.to,
                                              received_at=body.received_at)
    return json_response({"id": row.id, "duplicate": not new}, status=201 if new else 200)


async def list_messages(request: web.Request) -> web.Response:
    require_admin(request, "sms")
    q = request.query
    found = await request.app[SMS].messages(status=q.get("status"), purpose=q.get("purpose"), ref=q.get("ref"),
                                            to=q.get("to"), limit=query_int(request, "limit", 100, 1000))
    return json_response({"messages": [message_json(m) for m in found]})


async def get_message(request: web.Request) -> web.Response:
    require_admin(request, "sms")
    return json_response(message_json(await request.app[SMS].message(request.match_info["id"])))


async def replay_message(request: web.Request) -> web.Response:
    actor = require_admin(request, "sms")
    return json_response(message_json(await request.app[SMS].replay(request.match_info["id"], actor)))


async def list_outbox(request: web.Request) -> web.Response:
    require_admin(request, "sms")
    if request.app[SETTINGS].sms.provider != "outbox":
        raise NotFound("the SMS outbox is only kept with sms.provider = \"outbox\"", error_id="sms-outbox-off")
    found = await request.app[SMS].outbox(to=request.query.get("to"), limit=query_int(request, "limit", 100, 1000))
    return json_response({"messages": [outbox_json(e) for e in found]})


async def list_inbound(request: web.Request) -> web.Response:
    require_admin(request, "sms")
    found = await request.app[SMS].inbound(from_number=request.query.get("from"),
                                           unprocessed=request.query.get("unprocessed") in ("1", "true"),
                                           limit=query_int(request, "limit", 100, 1000))
    return json_response({"messages": [inbound_json(r) for r in found]})


def add_routes(app: web.Application) -> None:
    routes = [
        ("POST", "/inbound", receive_inbound, "A citizen's text, from the SMS provider (HMAC-signed)", InboundSms,
         None),
        ("GET", "/inbound", list_inbound, "Received texts", None, ("admin",)),
        ("GET", "/messages", list_messages, "Outgoing texts with their delivery state", None, ("admin",)),
        ("GET", "/messages/{id}", get_message, "One outgoing text", None, ("admin",)),
        ("POST", "/messages/{id}/replay", replay_message, "Send a dead text again", None, ("admin",)),
        ("GET", "/outbox", list_outbox, "Development outbox: texts the outbox provider 'sent'", None, ("admin",)),
    ]
    for method, path, handler, summary, body, kinds in routes:
        signed = (401, 503) if kinds is None else ()  # a bad signature; inbound SMS not configured
        spec = declare(method, "/sms" + path, summary=summary, kinds=kinds, scope="sms", body=body, tags=("sms",),
                       errors=signed)
        app.router.add_route(method, "/api/v1/sms" + path, spec(handler))
