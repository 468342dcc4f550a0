"""GET /api/v1/forecast: the supervisor's view of the next days (volumes, seats, tomorrow's risks)."""

from __future__ import annotations

from aiohttp import web

from gateway.appkeys import CLOCK
from gateway.forecast.keys import FORECAST
from gateway.forecast.schemas import Forecast, ForecastQuery
from gateway.http.api import add_endpoints, endpoint
from gateway.http.jsonio import json_response


@endpoint("GET", "/forecast", summary="话务预测与排班: calls per half hour, seats needed, tomorrow's risks, roster",
          kinds=("admin",), scope="stats", query=ForecastQuery, response=Forecast, errors=(409,),
          tags=("forecast",))
async def forecast(request: web.Request, q: ForecastQuery) -> web.Response:
    """Supervisors only: staffing is management's business. 409 ``forecast-needs-history`` while the
    call history is shorter than two weeks."""
    data = await request.app[FORECAST].run(request.app[CLOCK](), horizon_days=q.days)
    return json_response(data)


def setup(app: web.Application) -> None:
    add_endpoints(app, forecast)
