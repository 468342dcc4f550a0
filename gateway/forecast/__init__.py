"""Call-volume forecast and staffing (话务预测与排班): see README.md."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web


def setup(app: web.Application) -> None:
    from gateway.forecast import http

    http.setup(app)
    app.cleanup_ctx.append(forecast_context)


async def forecast_context(app: web.Application) -> AsyncIterator[None]:
    from gateway.appkeys import CALENDAR, SESSIONS, SETTINGS
    from gateway.forecast.keys import FORECAST
    from gateway.forecast.service import ForecastService

    settings = app[SETTINGS]
    app[FORECAST] = ForecastService(app[SESSIONS], app[CALENDAR], settings.forecast,
                                    answer_target_seconds=settings.calls.answer_target_seconds,
                                    wrapup_seconds=settings.calls.wrapup_seconds)
    yield
