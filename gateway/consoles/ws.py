"""GET /api/v1/ws: one websocket per console page.

Protocol (JSON text frames):

1. The page sends ``{"type": "hello", "token": "hl_…", "epoch": …, "last_seq": …, "expert_groups": […]}``
   within 10 s. The token goes in the first message, not the URL, so it never lands in access logs.
   ``epoch`` and ``last_seq`` are what the page saw before it lost the connection (omit them on first
   load); ``expert_groups`` is sent by the expert seat page.
2. The gateway answers ``{"type": "welcome", "epoch", "seq", "actor", "replay": n}`` and then the ``n``
   events the page missed, or ``{"type": "welcome", …, "resync": true}`` when they can no longer be
   replayed (the gateway restarted, or they left the bounded ring): the page then refetches its state
   through the HTTP API.
3. Then live events: ``{"type": "event", "seq", "kind", "at", "data"}``, ``seq`` increasing.

Close codes: 4400 no hello, 4401 bad token (also sent to an open page within ``TOKEN_RECHECK`` seconds of
its token being revoked: every stream checks its token again in the shared database, so a revocation on
any instance reaches it), 4403 units (they have no console), 4429 too many failed sign-ins, 4008 the page
read too slowly and was dropped (reconnect and catch up), 1001 server stopping.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web

from gateway.appkeys import SETTINGS
from gateway.auth.middleware import LIMITER, TOKENS
from gateway.consoles.audience import Viewer
from gateway.consoles.hub import SLOW_CONSUMER, EventHub, Subscription
from gateway.consoles.keys import HUB
from gateway.errors import InvalidInput
from gateway.http.api import declare
from gateway.http.jsonio import dumps, loads

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0
TOKEN_RECHECK = 30.0  # seconds an open page may go on after its token was revoked


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@declare("GET", "/ws", summary="Console live events (websocket; the token goes in the first message)",
         kinds=None, tags=("consoles",))
async def websocket(request: web.Request) -> web.StreamResponse:
    """Upgrade to a websocket; see gateway/consoles/ws.py for the hello / welcome / event protocol,
    the catch-up after a reconnect and the close codes."""
    hub = request.app[HUB]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024)
    await ws.prepare(request)
    hub.sockets.add(ws)
    try:
        try:
            hello = await _hello(ws)
            viewer = await _viewer(request, hello)
        except Refused as refused:
            await ws.close(code=refused.code, message=refused.reason.encode())
            return ws
        subscription, missed = hub.subscribe(viewer, _text(hello.get("epoch")), _int(hello.get("last_seq")))
        try:
            await _welcome(ws, hub, viewer, missed)
            await _serve(ws, subscription, request, hello["token"].strip())
        finally:
            hub.unsubscribe(subscription)
    finally:
        hub.sockets.discard(ws)
    return ws


async def _hello(ws: web.WebSocketResponse) -> dict[str, Any]:
    try:
        async with asyncio.timeout(HELLO_TIMEOUT):
            message = await ws.receive()
    except TimeoutError:
        raise Refused(4400, "send {\"type\": \"hello\", \"token\": …} first") from None
    if message.type != WSMsgType.TEXT:
        raise Refused(4400, "the first message must be the JSON hello")
    try:
        hello = loads(message.data)  # the strict reader: a hello nested 1,000 deep is refused, not a crash
    except InvalidInput:
        raise Refused(4400, "the hello is not valid JSON") from None
    if not isinstance(hello, dict) or hello.get("type") != "hello" or not isinstance(hello.get("token"), str):
        raise Refused(4400, "the first message must be {\"type\": \"hello\", \"token\": …}")
    return hello


async def _viewer(request: web.Request, hello: dict[str, Any]) -> Viewer:
    limiter, address = request.app[LIMITER], request.remote or "unknown"
    actor = await request.app[TOKENS].verify(hello["token"].strip())
    if actor is None:  # only failures are limited: a valid token is never refused (one NAT, many seats)
        if limiter.blocked_for(address) > 0:
            raise Refused(4429, "too many failed sign-ins from this address; wait a minute")
        limiter.failed(address)
        raise Refused(4401, "the API token is invalid or revoked")
    if actor.kind not in ("agent", "admin"):
        raise Refused(4403, f"{'an' if actor.kind[:1] in 'aeio' else 'a'} {actor.kind} token has no console stream")
    known = request.app[SETTINGS].calls.experts
    groups = hello.get("expert_groups") or []
    if not isinstance(groups, list):
        groups = []
    return Viewer(actor.kind, actor.id, frozenset(str(g) for g in groups if str(g) in known), actor.territory)


async def _welcome(ws: web.WebSocketResponse, hub: EventHub, viewer: Viewer,
                   missed: list[dict[str, Any]] | None) -> None:
    welcome: dict[str, Any] = {"type": "welcome", "epoch": hub.epoch, "seq": hub.seq,
                               "actor": {"kind": viewer.kind, "id": viewer.id},
                               "expert_groups": sorted(viewer.expert_groups)}
    if missed is None:
        welcome["resync"] = True
    else:
        welcome["replay"] = len(missed)
    await ws.send_str(dumps(welcome))
    for message in missed or ():
        await ws.send_str(dumps(message))


async def _serve(ws: web.WebSocketResponse, subscription: Subscription, request: web.Request, token: str) -> None:
    """Write the page's queue out while reading from it (reading is how closes and pongs are seen); cut
    the page off the moment its queue overflows, even if a send is stuck on a full socket, or once its
    token is revoked."""
    writer = asyncio.create_task(_write(ws, subscription))
    reader = asyncio.create_task(_read(ws))
    dropped = asyncio.create_task(subscription.dropped.wait())
    revoked = asyncio.create_task(_until_revoked(request, token))
    tasks = {writer, reader, dropped, revoked}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        who = f"{subscription.viewer.kind}:{subscription.viewer.id}"
        if dropped.done():
            writer.cancel()
            log.warning("console page of %s dropped: it read too slowly", who)
            await close(ws, request, SLOW_CONSUMER, "too slow: events were dropped; reconnect to catch up")
        elif revoked.done() and not revoked.cancelled() and revoked.exception() is None:
            writer.cancel()
            log.info("console page of %s closed: its token was revoked", who)
            await close(ws, request, 4401, "the API token was revoked")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _until_revoked(request: web.Request, token: str) -> None:
    """Returns once the token no longer verifies. A database hiccup is not a revocation: it checks again."""
    tokens = request.app[TOKENS]
    while True:
        await asyncio.sleep(TOKEN_RECHECK)
        try:
            if await tokens.verify(token) is None:
                return
        except Exception:  # keep the page; the next check decides
            log.warning("could not re-check a console token; the page stays open", exc_info=True)


async def _write(ws: web.WebSocketResponse, subscription: Subscription) -> None:
    while not ws.closed:
        message = await subscription.queue.get()
        await ws.send_str(dumps(message))


async def _read(ws: web.WebSocketResponse) -> None:
    async for _ in ws:
        pass  # pages send nothing after the hello; anything else is ignored


async def close(ws: web.WebSocketResponse, request: web.Request, code: int, reason: str) -> None:
    """Close politely, but never hang on a peer that stopped reading: then the connection is cut."""
    transport = request.transport
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await ws.close(code=code, message=reason.encode())
    except (TimeoutError, ConnectionError):
        if transport is not None:
            transport.abort()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
