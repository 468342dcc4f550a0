from __future__ import annotations

from aiohttp import web

from gateway.sms.service import Sms

SMS = web.AppKey("sms", Sms)
