from __future__ import annotations

from aiohttp import web

from gateway.quality.service import QualityService

QUALITY = web.AppKey("quality", QualityService)
