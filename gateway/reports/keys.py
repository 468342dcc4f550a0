from __future__ import annotations

from aiohttp import web

from gateway.reports.service import Reports

REPORTS = web.AppKey("reports", Reports)
