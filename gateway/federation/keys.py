from __future__ import annotations

from aiohttp import web

from gateway.federation.service import Federation

FEDERATION = web.AppKey("federation", Federation)
