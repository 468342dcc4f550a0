"""``POST /api/v1/channels/{kind}/tickets``: one signed intake endpoint per channel kind.

The adapter signs like our webhooks do: ``X-Hotline-Timestamp`` and ``X-Hotline-Signature: sha256=<hex
HMAC-SHA256(secret, "<timestamp>." + body)>`` with the channel's secret; no API token is needed.
"""

from __future__ import annotations

from aiohttp import web

from gateway.appkeys import SETTINGS
from gateway.channels.keys import CHANNELS
from gateway.channels.service import INTAKE_CHANNELS, ChannelTicket
from gateway.errors import NotFound, Unauthenticated
from gateway.http.api import actor_of, add_endpoints, declare, endpoint, parse_body
from gateway.http.jsonio import json_response
from gateway.tickets.schemas import Channel
from gateway.tickets.views import Audience, visible_numbers
from gateway.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


@declare("POST", "/channels/{kind}/tickets", summary="Take in a ticket from a channel (web, wechat, mail, app, "
         "national_platform, leader_board), HMAC-signed", kinds=None, body=ChannelTicket, status=201,
         tags=("channels",), errors=(401, 404, 409, 422), also=(200,))
async def intake(request: web.Request) -> web.Response:
    """201 with the new ticket and its 并案 candidates; 200 with the same ticket when the message id was
    seen before (adapters may retry freely)."""
    kind = request.match_info["kind"]
    if kind not in {c.value for c in INTAKE_CHANNELS}:
        raise NotFound(f"no intake for channel {kind!r}", error_id="unknown-channel")
    intake = request.app[CHANNELS]
    secret = intake.secrets.get(kind)
    raw = await request.read()
    if secret is None or not verify_signature(secret, request.headers.get(TIMESTAMP_HEADER), raw,
                                              request.headers.get(SIGNATURE_HEADER),
                                              tolerance=request.app[SETTINGS].channels.signature_tolerance):
        raise Unauthenticated("missing or invalid channel signature", error_id="invalid-signature")
    body = await parse_body(request, ChannelTicket)
    assert isinstance(body, ChannelTicket)
    message, new = await intake.service.receive(Channel(kind), body)
    ticket = await intake.service.tickets.get(message.ticket_number)
    return json_response({"ticket": ticket.number, "status": ticket.status, "duplicate_message": not new,
                          "candidates": message.candidates}, status=201 if new else 200)


@endpoint("GET", "/channels/tickets/{number}", summary="A ticket's channel fields and its 并案 candidates now",
          scope="tickets", tags=("channels",))
async def details(request: web.Request) -> web.Response:
    """A remote seat (the territory middleware already refused it tickets outside its territory) sees
    only candidates inside its territory."""
    service = request.app[CHANNELS].service
    found = await service.details(request.match_info["number"])
    audience = Audience.of(actor_of(request))
    if audience.territory:
        async with service.sessions() as session:
            seen = set(await visible_numbers(session, audience, [c["ticket"] for c in found["candidates"]]))
        found["candidates"] = [c for c in found["candidates"] if c["ticket"] in seen]
    return json_response(found)


def setup(app: web.Application) -> None:
    add_endpoints(app, intake, details)

