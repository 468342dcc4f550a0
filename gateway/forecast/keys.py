from __future__ import annotations

from aiohttp import web

from gateway.forecast.service import ForecastService

FORECAST = web.AppKey("forecast", ForecastService)
