"""GET /api/v1/forecast is the supervisors' (admin tokens); ``hotline forecast`` prints the back-test."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.db import create_engine, upgrade
from tests.api.support import running_gateway
from tests.forecast.test_forecast_run import NOW, seed
from tests.tickets.support import FakeClock


async def test_only_supervisors_get_the_forecast_and_it_works_on_their_history(tmp_path: Path) -> None:
    async with running_gateway(tmp_path, FakeClock(NOW), policy="national") as api:
        for who in ("agent", "water"):
            assert (await api.call(who, "GET", "/forecast")).status == 403
        refused = await api.ok("admin", "GET", "/forecast", status=409)
        assert refused["error_id"] == "forecast-needs-history"
        assert (await api.call("admin", "GET", "/forecast", params={"days": "0"})).status == 422

        from gateway.appkeys import CALENDAR, ENGINE
        await seed(api.app[ENGINE], api.app[CALENDAR], weeks=3)
        answer = await api.ok("admin", "GET", "/forecast", params={"days": "2"})
        assert [d["date"] for d in answer["days"]] == ["2025-11-21", "2025-11-22"]
        assert len(answer["tomorrow"]["slots"]) == 48


def test_the_cli_prints_the_back_test_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from gateway.policies import load_pack
    from gateway.workcalendar import WorkCalendar

    async def prepare() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.sqlite3'}")
        await upgrade(engine)
        await seed(engine, WorkCalendar.for_pack(load_pack("national")), weeks=9)
        await engine.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_POLICY", "national")
    assert main(["forecast", "--now", NOW.isoformat(), "--days", "3"]) == 0
    out = capsys.readouterr().out
    assert "back-test, last 28 days held out, per half hour:" in out
    assert "seasonal_naive" in out and "calendar_glm" in out and "WAPE" in out and "MAPE" in out
    assert "roster for tomorrow" in out
    assert main(["forecast", "--now", datetime(2025, 11, 20, 9, 0).isoformat()]) == 2  # no UTC offset
