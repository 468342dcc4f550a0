from __future__ import annotations

from aiohttp import web

from gateway.leadership.service import Leadership

LEADERSHIP = web.AppKey("leadership", Leadership)
