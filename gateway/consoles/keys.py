"""App keys of the consoles capability."""

from __future__ import annotations

from aiohttp import web

from gateway.consoles.hub import EventHub

HUB = web.AppKey("console_hub", EventHub)
