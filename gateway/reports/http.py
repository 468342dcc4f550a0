"""Reports on demand (JSON, HTML with charts, XLSX, CSV) and the hot-issue warnings board."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from gateway.appkeys import CLOCK
from gateway.errors import NotFound
from gateway.http.api import actor_of, add_endpoints, endpoint
from gateway.http.headers import attachment
from gateway.http.inputs import path_int
from gateway.http.jsonio import json_response
from gateway.reports.hotspots import members_of
from gateway.reports.keys import REPORTS
from gateway.reports.models import HotspotWarning
from gateway.reports.periodic import PERIODS, last_closed_start
from gateway.reports.render import render_csv, render_html, render_xlsx
from gateway.tickets.views import Audience, visible_numbers

ANY = ("agent", "admin", "unit")
ALIASES = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year", "annual": "year"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date | None = Field(default=None, description="first day of the period (a Monday, or the 1st of the "
                               "month/quarter/year); default: the last period that has ended")
    unit: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$",  # a unit id (POST /units)
                             description="a unit's own report (units always get their own)")
    format: str = Field(default="json", pattern="^(json|html|xlsx|csv)$")


class WarningQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str | None = Field(default=None, pattern="^(open|acknowledged)$")
    limit: int = Field(default=50, ge=1, le=500)


@endpoint("GET", "/reports/{period}", summary="周报/月报/季报/年报 per platform or unit: JSON, HTML, XLSX or CSV",
          kinds=ANY, scope="stats", query=ReportQuery, tags=("reports",))
async def report(request: web.Request, q: ReportQuery) -> web.StreamResponse:
    period = ALIASES.get(request.match_info["period"], request.match_info["period"])
    if period not in PERIODS:
        raise NotFound(f"no {period!r} report; periods: {', '.join(PERIODS)}", error_id="unknown-period")
    actor = actor_of(request)
    unit = actor.id if actor.kind == "unit" else q.unit
    start = q.start or last_closed_start(period, request.app[CLOCK]())
    data = await request.app[REPORTS].build(period, start, unit, territory=actor.territory)
    name = f"{period}-{start.isoformat()}" + (f"-{unit}" if unit else "")
    if q.format == "html":
        return web.Response(text=render_html(data), content_type="text/html", charset="utf-8")
    if q.format == "csv":
        return web.Response(text=render_csv(data), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": attachment(f"{name}.csv")})
    if q.format == "xlsx":
        return web.Response(body=render_xlsx(data), content_type=XLSX,
                            headers={"Content-Disposition": attachment(f"{name}.xlsx")})
    return json_response(data)


@endpoint("GET", "/reports", summary="Reports generated on the schedule", kinds=("admin",), tags=("reports",))
async def stored(request: web.Request) -> web.Response:
    rows = await request.app[REPORTS].stored()
    return json_response({"items": [{"period": r.period, "start": r.start, "unit": r.unit or None,
                                     "generated_at": r.generated_at, "total": r.data["volumes"]["total"]}
                                    for r in rows]})


@endpoint("GET", "/hotspots/warnings", summary="热点预警: one matter in one place, many tickets in a short time",
          query=WarningQuery, scope="stats", tags=("reports",))
async def warnings(request: web.Request, q: WarningQuery) -> web.Response:
    """A remote seat sees the warnings about its territory's tickets, and only those tickets' numbers."""
    audience = Audience.of(actor_of(request))
    async with request.app[REPORTS].sessions() as session:
        query = select(HotspotWarning).order_by(HotspotWarning.last_at.desc()).limit(q.limit)
        if q.status:
            query = query.where(HotspotWarning.status == q.status)
        rows = list(await session.scalars(query))
        members = await members_of(session, rows)
        seen = set(await visible_numbers(session, audience, [n for numbers in members.values() for n in numbers]))
    items = []
    for w in rows:
        tickets = [n for n in members[w.id] if n in seen]
        if tickets:
            items.append({"id": w.id, "category": w.category, "place": w.place, "summary": w.summary,
                          "name": w.summary, "matter": w.matter_code, "count": w.count, "tickets": tickets,
                          "unit": w.unit_id, "status": w.status, "first_at": w.first_at, "last_at": w.last_at})
    return json_response({"items": items})


@endpoint("POST", "/hotspots/warnings/{id}/acknowledge", summary="The supervisor has taken up a warning",
          kinds=("admin",), tags=("reports",))
async def acknowledge(request: web.Request) -> web.Response:
    warning_id = path_int(request, "id", error_id="warning-not-found", what="warning")
    warning = await request.app[REPORTS].hotspots.acknowledge(warning_id)
    if warning is None:
        raise NotFound(f"no warning {request.match_info['id']}", error_id="warning-not-found")
    return json_response({"id": warning.id, "status": warning.status})


def setup(app: web.Application) -> None:
    add_endpoints(app, report, stored, warnings, acknowledge)
