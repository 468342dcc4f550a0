"""``setup(app)``: the webhook routes, and the delivery worker started and stopped with the app."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.appkeys import SESSIONS, SETTINGS
from gateway.webhooks.http import add_routes
from gateway.webhooks.keys import WEBHOOKS
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.outbox import OutboxMetrics, OutboxWorker, RetryPolicy
from gateway.webhooks.secrets import SecretStore
from gateway.webhooks.service import USER_AGENT, Webhooks, WebhookSender

log = logging.getLogger(__name__)


def setup(app: web.Application, registry: CollectorRegistry | None = None) -> None:
    """``registry``: where the worker's metrics go (the one /metrics serves); a private one if None."""
    add_routes(app)
    app.cleanup_ctx.append(functools.partial(webhooks_context, registry=registry or CollectorRegistry()))


async def webhooks_context(app: web.Application, *, registry: CollectorRegistry) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    conf = settings.webhooks
    sessions = app[SESSIONS]
    secrets = SecretStore(conf.secrets_dir or settings.data_dir / "secrets" / "webhooks")
    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as http:
        worker = OutboxWorker(
            "webhooks", WebhookDelivery, sessions, WebhookSender(sessions, http, secrets, conf.timeout),
            RetryPolicy(conf.retry), batch_size=conf.batch_size, lease=conf.lease,
            poll_interval=conf.poll_interval,
            metrics=OutboxMetrics(registry, "hotline_webhook_delivery", "Webhook delivery"),
        )
        app[WEBHOOKS] = Webhooks(sessions, secrets, worker if conf.enabled else None)
        if conf.enabled:
            worker.start()
        else:
            log.info("webhook worker disabled: deliveries are stored, not sent")
        yield
        await worker.stop()
