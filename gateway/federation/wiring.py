"""``setup(app)``: federation routes, the ticket hooks, the push worker and the timer jobs."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.appkeys import BUS, CLOCK, SESSIONS, SETTINGS
from gateway.calls.service import CALLS
from gateway.federation import http
from gateway.federation.deadlines import ParentDeadlines
from gateway.federation.keys import FEDERATION
from gateway.federation.models import PushRow
from gateway.federation.push import Platform, PushHook, PushSender
from gateway.federation.receiver import Receiver
from gateway.federation.service import Federation, PeerTokens
from gateway.federation.territory import territory_middleware
from gateway.federation.transfers import CallTransfers
from gateway.tickets.appkeys import TICKETS
from gateway.timers import TIMERS
from gateway.webhooks.outbox import OutboxMetrics, OutboxWorker, RetryPolicy

USER_AGENT = "hotline12345-federation/1"


def setup(app: web.Application, registry: CollectorRegistry | None = None) -> None:
    http.setup(app)
    app.middlewares.append(territory_middleware)
    app.cleanup_ctx.append(functools.partial(federation_context, registry=registry or CollectorRegistry()))


async def federation_context(app: web.Application, *, registry: CollectorRegistry) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    conf = settings.federation
    sessions, tickets, clock = app[SESSIONS], app[TICKETS], app[CLOCK]
    platform = Platform(conf.platform_id, conf.level, conf.parent_id, conf.parent_url)
    await platform.load_children(sessions)
    tokens = PeerTokens(conf.secrets_dir or settings.data_dir / "secrets" / "federation")
    parent_token = conf.resolved_parent_token()

    def token_for(peer: str) -> str | None:
        return parent_token if peer == platform.parent_id else tokens.get(peer)

    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as client:
        worker = OutboxWorker(
            "federation", PushRow, sessions, PushSender(sessions, client, platform, token_for, conf.timeout, clock),
            RetryPolicy(conf.retry), clock=clock, batch_size=conf.batch_size, lease=conf.lease,
            poll_interval=conf.poll_interval,
            metrics=OutboxMetrics(registry, "hotline_federation_push", "Federation messages"),
        )
        receiver = Receiver(sessions, tickets, platform, clock)
        federation = app[FEDERATION] = Federation(sessions, tickets, platform, receiver, clock,
                                                  worker if conf.enabled else None)
        # First in line: bound the deadlines, then queue (before other hooks flush the session).
        tickets.hooks[0:0] = [ParentDeadlines(), PushHook(platform, clock, federation.nudge)]
        unsubscribe = app[BUS].subscribe(
            "ticket.created", lambda e: federation.soon(lambda: federation.queue_created(e.data["number"])))
        transfers = federation.transfers = CallTransfers(
            sessions, tickets, platform, clock, conf.transfer_platforms,
            timedelta(minutes=conf.transfer_match_minutes), lambda: app.get(CALLS), federation.nudge)
        bus = app[BUS]
        unsubscribe_calls = [
            bus.subscribe("call.transfer_requested", lambda e: federation.soon(lambda: transfers.hand_over(e.data))),
            *(bus.subscribe(kind, lambda e: federation.soon(lambda: transfers.on_call(e.data)))
              for kind in ("call.offered", "call.connected")),
        ]
        app[TIMERS].add("federation-catch-up", federation.catch_up)
        app[TIMERS].add("federation-apply", receiver.apply_pending)
        app[TIMERS].add("federation-call-transfers", transfers.apply_pending)
        await receiver.apply_pending()  # whatever was stored before a restart
        await transfers.apply_pending()
        if conf.enabled:
            worker.start()
        yield
        unsubscribe()
        for stop in unsubscribe_calls:
            stop()
        await federation.drain()
        await worker.stop()
