"""``setup(app)``: report routes, the hot-issue worker on its own timer, the scheduled reports on the timer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from gateway.appkeys import BUS, CLOCK, POLICY, SESSIONS, SETTINGS
from gateway.calls.kpi import platform_call_kpis
from gateway.federation.keys import FEDERATION
from gateway.leadership import LEADERSHIP
from gateway.reports import http
from gateway.reports.hotspots import HotspotWatcher
from gateway.reports.keys import REPORTS
from gateway.reports.periodic import ReportBuilder
from gateway.reports.service import Reports
from gateway.timers import TIMERS
from gateway.understanding.shared import UNDERSTANDING
from gateway.webhooks.keys import WEBHOOKS


def setup(app: web.Application) -> None:
    http.setup(app)
    app.cleanup_ctx.append(reports_context)


async def reports_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    conf = settings.analysis
    sessions, clock = app[SESSIONS], app[CLOCK]
    watcher = HotspotWatcher(sessions, app[BUS], app[WEBHOOKS], clock,
                             window=timedelta(minutes=conf.hotspot_window_minutes),
                             threshold=conf.hotspot_threshold, understanding=app[UNDERSTANDING],
                             interval=conf.hotspot_interval_seconds)
    excluded = [e.category.value for e in app[POLICY].satisfaction_exclusions if e.category is not None]
    federation = app[FEDERATION]
    builder = ReportBuilder(platform_id=federation.platform.id, level=federation.platform.level,
                            excluded_categories=excluded,
                            call_kpis=platform_call_kpis)
    reports = app[REPORTS] = Reports(sessions, builder, watcher, clock,
                                     directory=conf.reports_dir or settings.data_dir / "reports",
                                     periods=conf.scheduled_periods, push_up=federation.push_report)
    if (leadership := app.get(LEADERSHIP)) is not None:
        watcher.worker.gate = lambda: leadership.is_leader
    watcher.start()  # its own timer: every few seconds, batched, durable (gateway/jobs)
    app[TIMERS].add("reports-scheduled", reports.scheduled)
    yield
    await watcher.stop()
