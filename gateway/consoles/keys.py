"""App keys of the consoles capability."""

from __future__ import annotations

from aiohttp import web

from gateway.consoles.hub import EventHub
from gateway.consoles.relay import ConsoleRelay

HUB = web.AppKey("console_hub", EventHub)
RELAY = web.AppKey("console_relay", ConsoleRelay)
