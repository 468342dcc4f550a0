"""Agent, expert-seat and supervisor consoles: pages served from ./static, a websocket hub pushing console
events, and the small API the pages need (see README.md)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

from gateway.appkeys import BUS, ENGINE, SETTINGS
from gateway.calls.service import CALLS
from gateway.consoles.hub import EventHub
from gateway.consoles.keys import HUB, RELAY
from gateway.consoles.relay import ConsoleRelay
from gateway.timers import TIMERS

log = logging.getLogger(__name__)


def setup(app: web.Application) -> None:
    """Routes and the hub. Call after the calls capability's setup (the hub reads its agents)."""
    from gateway.consoles.http import add_routes
    from gateway.consoles.ws import websocket

    app[HUB] = EventHub()
    app.cleanup_ctx.append(hub_context)
    app.on_shutdown.append(close_pages)
    add_routes(app)
    app.router.add_get("/api/v1/ws", websocket)


async def hub_context(app: web.Application) -> AsyncIterator[None]:
    hub = app[HUB]
    stops = [app[BUS].subscribe("", hub.on_event)]
    if CALLS in app:
        # Which agent sits at which interface, so a ringing call reaches the right page after a restart.
        hub.learn_agents(await app[CALLS].agents.all())
    engine, settings = app[ENGINE], app[SETTINGS].consoles
    relay = None
    if settings.relay and engine.dialect.name == "postgresql":  # several instances share PostgreSQL
        relay = app[RELAY] = ConsoleRelay(engine, hub, settings)
        await relay.start()
        stops.append(app[BUS].add_outbox(relay.store, relay.on_event))
        app[TIMERS].add("console-relay-prune", relay.prune)
    yield
    for stop in stops:
        stop()
    if relay is not None:
        await relay.stop()


async def close_pages(app: web.Application) -> None:
    for ws in list(app[HUB].sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"the gateway is stopping")
