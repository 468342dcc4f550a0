from __future__ import annotations

from aiohttp import web

from gateway.webhooks.service import Webhooks

WEBHOOKS = web.AppKey("webhooks", Webhooks)
