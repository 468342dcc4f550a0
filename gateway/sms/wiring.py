"""``setup(app)``: the SMS routes, and the send worker started and stopped with the app."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.appkeys import BUS, SESSIONS, SETTINGS
from gateway.config import SmsSettings
from gateway.sms.http import add_routes
from gateway.sms.keys import SMS
from gateway.sms.models import SmsMessage
from gateway.sms.providers import HttpSmsProvider, OutboxSmsProvider, SmsProvider
from gateway.sms.service import Sms, SmsSender
from gateway.webhooks.outbox import OutboxMetrics, OutboxWorker, RetryPolicy

log = logging.getLogger(__name__)


def setup(app: web.Application, registry: CollectorRegistry | None = None) -> None:
    """``registry``: where the worker's metrics go (the one /metrics serves); a private one if None."""
    add_routes(app)
    app.cleanup_ctx.append(functools.partial(sms_context, registry=registry or CollectorRegistry()))


def make_provider(conf: SmsSettings, sessions: async_sessionmaker[AsyncSession],
                  http: aiohttp.ClientSession) -> SmsProvider:
    if conf.provider == "http":
        return HttpSmsProvider(conf.http, http)
    return OutboxSmsProvider(sessions)


async def sms_context(app: web.Application, *, registry: CollectorRegistry) -> AsyncIterator[None]:
    conf = app[SETTINGS].sms
    sessions = app[SESSIONS]
    async with aiohttp.ClientSession() as http:
        worker = OutboxWorker(
            "sms", SmsMessage, sessions, SmsSender(make_provider(conf, sessions, http)), RetryPolicy(conf.retry),
            batch_size=conf.batch_size, lease=conf.lease, poll_interval=conf.poll_interval,
            metrics=OutboxMetrics(registry, "hotline_sms_send", "SMS send"),
        )
        app[SMS] = Sms(sessions, app[BUS], region=conf.default_region, worker=worker if conf.enabled else None)
        if conf.enabled:
            worker.start()
        else:
            log.info("SMS worker disabled: messages are queued, not sent")
        yield
        await worker.stop()
