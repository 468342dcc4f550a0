"""A monthly report renders with real charts (SVG with its data points, XLSX with Excel charts, CSV), on
demand and on the schedule, and a child platform's scheduled report is pushed up to its parent."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from gateway.appkeys import SESSIONS
from gateway.federation.models import PeerReport
from gateway.reports.keys import REPORTS
from gateway.surveys.service import SURVEYS
from tests.api.support import Api, running_gateway
from tests.federation.support import city_and_district, eventually
from tests.tickets.support import FakeClock

SVG = "{http://www.w3.org/2000/svg}"


async def november(api: Api, clock: FakeClock) -> dict[str, str]:
    """A small month: phone and web tickets, one closed satisfied, one overdue."""
    clock.set("2026-11-02T09:00:00")
    numbers = {}
    for name, channel, category, content in [
            ("lamp", "phone", "投诉", "幸福路路灯不亮"), ("water", "web", "求助", "新城街道自来水停水"),
            ("noise", "phone", "投诉", "工地夜间施工噪音扰民"), ("card", "wechat", "咨询", "社保卡补办材料")]:
        numbers[name] = (await api.ok("agent", "POST", "/tickets", {
            "channel": channel, "category": category, "content": content, "caller_number": "13800138000"},
            status=201))["number"]
        clock.advance(hours=1)
    for name, unit in [("lamp", "roads"), ("noise", "roads"), ("water", "water")]:
        await api.ok("agent", "POST", f"/tickets/{numbers[name]}/accept", {})
        await api.ok("agent", "POST", f"/tickets/{numbers[name]}/dispatch", {"lead_unit": unit})
    await api.ok("roads", "POST", f"/tickets/{numbers['lamp']}/sign")
    await api.ok("roads", "POST", f"/tickets/{numbers['lamp']}/reply", {"text": "已更换灯泡"})
    await api.ok("admin", "POST", f"/tickets/{numbers['lamp']}/reply/review", {"approve": True, "note": "ok"})
    await api.app[SURVEYS].open_pending()
    await api.app[SURVEYS].handle_sms_reply("+8613800138000", "2")
    clock.set("2026-11-30T20:00:00")  # noise and water are long overdue by now
    return numbers


def data_points(svg: ElementTree.Element) -> dict[str, float]:
    return {e.get("data-label") or "": float(e.get("data-value") or 0)
            for e in svg.iter() if e.get("class") == "datum"}


async def test_a_monthly_report_renders_with_real_charts(tmp_path: Path, clock: FakeClock) -> None:
    async with running_gateway(tmp_path, clock) as api:
        numbers = await november(api, clock)
        report = await api.ok("admin", "GET", "/reports/month?start=2026-11-01")
        assert report["volumes"]["total"] == 4
        assert dict(report["volumes"]["by_channel"]) == {"phone": 2, "web": 1, "wechat": 1}
        assert report["kpis"]["satisfied_rate"] == 1.0 and report["kpis"]["satisfied_count"] == [1, 1]
        assert report["kpis"]["answer_15s_rate"] is None  # no call model wired: n/a, not a made-up figure
        assert {o["number"] for o in report["overdue"]} == {numbers["noise"], numbers["water"]}

        resp = await api.call("admin", "GET", "/reports/month?start=2026-11-01&format=html")
        page = await resp.text()
        assert resp.status == 200 and resp.content_type == "text/html"
        svgs = [ElementTree.fromstring(s) for s in re.findall(r"<svg.*?</svg>", page, flags=re.S)]
        assert len(svgs) == 5
        by_title = {s.get("aria-label"): s for s in svgs}
        assert data_points(by_title["渠道分布"]) == {"phone": 2, "web": 1, "wechat": 1}
        daily = data_points(by_title["每日受理量"])
        assert daily["11-02"] == 4 and sum(daily.values()) == 4 and len(daily) == 30
        bars = [e for e in by_title["渠道分布"].iter(f"{SVG}rect")]
        assert float(bars[0].get("width") or 0) > float(bars[1].get("width") or 0) > 0  # 2 drawn longer than 1
        assert "15秒接通率</th><td>n/a" in page

        resp = await api.call("admin", "GET", "/reports/month?start=2026-11-01&format=xlsx")
        book = load_workbook(io.BytesIO(await resp.read()))
        assert book["概况"]["B3"].value == 4
        assert [[c.value for c in row] for row in book["渠道"].iter_rows(min_row=2)] == \
            [["phone", 2], ["web", 1], ["wechat", 1]]
        assert len(book["每日"]._charts) == 1 and len(book["渠道"]._charts) == 1  # native Excel charts

        resp = await api.call("admin", "GET", "/reports/month?start=2026-11-01&format=csv")
        rows = list(csv.reader(io.StringIO(await resp.text())))
        assert ["by_channel", "phone", "2"] in rows and ["volumes", "total", "4"] in rows

        # A unit gets its own report only.
        mine = await api.ok("roads", "GET", "/reports/month?start=2026-11-01&unit=water")
        assert mine["unit"] == "roads" and mine["volumes"]["total"] == 2
        bad = await api.call("admin", "GET", "/reports/month?start=2026-11-03")
        assert bad.status == 400 and (await bad.json())["error_id"] == "period-start-misaligned"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is installed by ./dev (APT_PACKAGES)")
async def test_the_report_page_draws_in_a_browser(tmp_path: Path, clock: FakeClock) -> None:
    async with running_gateway(tmp_path, clock) as api:
        await november(api, clock)
        resp = await api.call("admin", "GET", "/reports/month?start=2026-11-01&format=html")
        page = tmp_path / "report.html"
        page.write_text(await resp.text(), encoding="utf-8")
    png = tmp_path / "report.png"
    browser = await asyncio.create_subprocess_exec(
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}", "--window-size=1200,1600",
        page.as_uri(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    assert await asyncio.wait_for(browser.wait(), 120) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


async def test_scheduled_reports_are_made_once_and_pushed_to_the_parent(tmp_path: Path, clock: FakeClock) -> None:
    async with city_and_district(tmp_path, clock) as p:
        await p.district.ok("agent", "POST", "/tickets", {"category": "求助", "content": "江北街道停电"},
                            status=201)
        clock.set("2026-12-01T08:00:00")
        reports = p.district.app[REPORTS]
        await reports.scheduled()  # (the start-up timer round may have made some of them already)
        stored = {(r.period, r.start) for r in await reports.stored()}
        assert {("week", "2026-11-23"), ("month", "2026-11-01"), ("quarter", "2026-07-01"),
                ("year", "2025-01-01")} <= stored
        assert await reports.scheduled() == []  # each once
        assert (tmp_path / "district" / "reports" / "month-2026-11-01.html").exists()
        assert (tmp_path / "district" / "reports" / "month-2026-11-01.xlsx").exists()

        async def at_city() -> list[Any]:
            async with p.city.app[SESSIONS]() as session:
                from sqlalchemy import select

                return list(await session.scalars(select(PeerReport).where(PeerReport.peer == "hanbin")))

        pushed = await eventually(lambda: _all(at_city, len(stored)), "the district's reports at the city")
        month = next(r for r in pushed if (r.period, r.start) == ("month", "2026-11-01"))
        assert month.data["volumes"]["total"] == 1 and month.data["platform"]["level"] == "district"


async def _all(fetch: Any, n: int) -> Any:
    rows = await fetch()
    return rows if len(rows) == n else None


async def test_without_a_start_the_report_is_of_the_last_period_that_ended(tmp_path: Path, clock: FakeClock) -> None:
    async with running_gateway(tmp_path, clock) as api:
        clock.set("2026-12-03T10:00:00")  # a Thursday (Shanghai): the last ended week began on Monday 11-23
        weekly = await api.ok("admin", "GET", "/reports/weekly")
        monthly = await api.ok("admin", "GET", "/reports/month")
        assert (weekly["period"], weekly["start"]) == ("week", "2026-11-23")
        assert (monthly["period"], monthly["start"]) == ("month", "2026-11-01")
        unknown = await api.call("admin", "GET", "/reports/daily")
        assert unknown.status == 404
        assert "week, month, quarter, year" in (await unknown.json())["message"]
