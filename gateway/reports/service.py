"""What the application holds for analysis (``app[REPORTS]``): building reports on demand and on the
schedule (stored, written to the reports directory and pushed to the parent platform)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.http.jsonio import dumps
from gateway.reports.hotspots import HotspotWatcher
from gateway.reports.models import StoredReport
from gateway.reports.periodic import Period, ReportBuilder, last_closed_start
from gateway.reports.render import render_html, render_xlsx

log = logging.getLogger(__name__)

PushUp = Callable[[dict[str, Any]], Awaitable[bool]]


class Reports:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], builder: ReportBuilder, hotspots: HotspotWatcher,
                 clock: Callable[[], datetime], *, directory: Path, periods: list[str],
                 push_up: PushUp | None = None) -> None:
        self.sessions = sessions
        self.builder = builder
        self.hotspots = hotspots
        self.clock = clock
        self.directory = directory
        self.periods = periods
        self.push_up = push_up

    async def build(self, period: Period, start: date, unit: str | None = None, *,
                    territory: str | None = None) -> dict[str, Any]:
        async with self.sessions() as session:
            report = await self.builder.build(session, period, start, self.clock(), unit, territory)
        return json.loads(dumps(report))  # the JSON form: what is stored, pushed and rendered

    async def scheduled(self) -> list[str]:
        """Timer job: the platform report of each period that has just ended, once. Returns what it made."""
        made = []
        for period in self.periods:
            start = last_closed_start(period, self.clock())  # type: ignore[arg-type]
            async with self.sessions() as session:
                exists = await session.scalar(select(StoredReport.id).where(
                    StoredReport.period == period, StoredReport.start == start.isoformat(), StoredReport.unit == ""))
            if exists:
                continue
            report = await self.build(period, start)  # type: ignore[arg-type]
            try:
                async with self.sessions() as session, session.begin():
                    session.add(StoredReport(period=period, start=start.isoformat(), unit="", data=report,
                                             generated_at=self.clock()))
            except IntegrityError:  # another instance made it first
                continue
            self._write(report)
            if self.push_up is not None:
                await self.push_up({"period": period, "start": start.isoformat(), "unit": "", "report": report})
            made.append(f"{period}:{start.isoformat()}")
        return made

    def _write(self, report: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = self.directory / f"{report['period']}-{report['start']}"
        stem.with_suffix(".html").write_text(render_html(report), encoding="utf-8")
        stem.with_suffix(".xlsx").write_bytes(render_xlsx(report))

    async def stored(self) -> list[StoredReport]:
        async with self.sessions() as session:
            return list(await session.scalars(select(StoredReport).order_by(StoredReport.generated_at.desc())))
