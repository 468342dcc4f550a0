"""The forecast run on a stored call history (SQLite and PostgreSQL): offered calls read per half hour,
handle time and patience measured, staffed seats counted from the agent state history, the back-test
printed by ``hotline forecast``, and the API route for supervisors only."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.calls.models import AgentStateChange, CallRecord
from gateway.db import session_factory
from gateway.forecast import history
from gateway.forecast.errors import NotEnoughHistory
from gateway.forecast.service import ForecastService
from gateway.forecast.settings import ForecastSettings
from gateway.policies import load_pack
from gateway.workcalendar import WorkCalendar
from tests.forecast.synthetic import synthetic_history
from tests.tickets.support import SH

TODAY = date(2025, 11, 20)  # a Thursday; tomorrow is an ordinary Friday
NOW = datetime(2025, 11, 20, 9, 0, tzinfo=SH)
PATIENCE, TALK = 80.0, 200.0


def calls_from(counts: np.ndarray, first: date, seed: int = 7) -> list[dict[str, object]]:
    """One row per call: arrivals spread inside their half hour, a queue wait, abandon when the caller's
    exponential patience runs out before the wait, else answered and talked."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(counts.shape[0]):
        midnight = datetime(first.year, first.month, first.day, tzinfo=SH) + timedelta(days=d)
        for slot in range(48):
            for k in range(int(counts[d, slot])):
                start = midnight + timedelta(seconds=slot * 1800 + float(rng.uniform(0, 1800)))
                queued = start + timedelta(seconds=10)
                wait, patience = float(rng.exponential(40)), float(rng.exponential(PATIENCE))
                row = {"id": f"{d}.{slot}.{k}", "state": "ended", "queue": "hotline", "started_at": start,
                       "queued_at": queued, "kind": "citizen", "direction": "inbound"}
                if patience < wait:
                    row |= {"abandoned": True, "hold_seconds": round(patience), "outcome": "abandoned",
                            "ended_at": queued + timedelta(seconds=patience)}
                else:
                    talk = round(float(rng.exponential(TALK)))
                    answered = queued + timedelta(seconds=wait)
                    row |= {"abandoned": False, "hold_seconds": round(wait), "answered_at": answered,
                            "talk_seconds": talk, "outcome": "answered",
                            "ended_at": answered + timedelta(seconds=talk)}
                rows.append(row)
    return rows


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar.for_pack(load_pack("national"))


async def seed(engine: AsyncEngine, calendar: WorkCalendar, weeks: int) -> tuple[np.ndarray, date]:
    counts, infos = synthetic_history(calendar, TODAY - timedelta(days=1), days=weeks * 7, base=60.0,
                                      anomalies=False)
    first = infos[0].day
    rows = calls_from(counts, first)
    # Last week's Friday: two agents on the phones 08:00–18:00, one of them paused 12:00–13:00.
    friday = datetime(2025, 11, 14, tzinfo=SH)
    states = [("1001", "available", 8), ("1002", "available", 8), ("1002", "paused", 12),
              ("1002", "available", 13), ("1001", "logged_out", 18), ("1002", "logged_out", 18)]
    async with session_factory(engine).begin() as session:
        for i in range(0, len(rows), 2000):
            await session.execute(insert(CallRecord), rows[i:i + 2000])
        await session.execute(insert(AgentStateChange), [
            {"agent_id": a, "state": s, "at": friday + timedelta(hours=h)} for a, s, h in states])
    return counts, first


def service(engine: AsyncEngine, calendar: WorkCalendar) -> ForecastService:
    return ForecastService(session_factory(engine), calendar, ForecastSettings(min_samples=20),
                           answer_target_seconds=15, wrapup_seconds=30)


async def test_a_run_reads_the_history_measures_the_callers_and_plans_tomorrow(
        engine: AsyncEngine, calendar: WorkCalendar) -> None:
    counts, first = await seed(engine, calendar, weeks=9)
    async with session_factory(engine)() as session:
        read = await history.offered_per_slot(session, first, TODAY - timedelta(days=1), calendar.tz)
        staffed = await history.staffed_per_slot(session, date(2025, 11, 14), date(2025, 11, 14), calendar.tz)
    assert np.array_equal(read, counts)
    assert staffed[0, 15] == 0 and staffed[0, 16] == 2 and staffed[0, 24] == 1 and staffed[0, 26] == 2
    assert staffed[0, 36] == 0

    result = await service(engine, calendar).run(NOW)
    assert [b["method"] for b in result["backtest"]] == ["seasonal_naive", "calendar_glm"]
    assert result["method"] in ("seasonal_naive", "calendar_glm")
    assert len(result["days"]) == 14 and result["days"][0]["date"] == date(2025, 11, 21)
    behaviour = result["behaviour"]
    assert behaviour["measured"]
    assert behaviour["patience_seconds"] == pytest.approx(PATIENCE, rel=0.15)  # the censoring-aware fit
    assert behaviour["aht_seconds"] == pytest.approx(TALK + 30, rel=0.1)
    tomorrow = result["tomorrow"]
    assert "12:00" in tomorrow["misses"]  # one seat at lunch where the forecast needs more
    assert "03:00" not in tomorrow["misses"] or result["days"][0]["calls_per_slot"][6] > 0
    covered = result["roster"]["coverage"]
    assert all(c >= r for c, r in zip(covered, result["days"][0]["rostered_agents"], strict=True))
    again = await service(engine, calendar).run(NOW)
    assert again == result  # reading and computing only: the same history gives the same answer


async def test_too_short_a_history_is_refused_with_its_reason(engine: AsyncEngine, calendar: WorkCalendar) -> None:
    with pytest.raises(NotEnoughHistory, match="no calls"):
        await service(engine, calendar).run(NOW)
    await seed(engine, calendar, weeks=1)
    with pytest.raises(NotEnoughHistory, match="7 full days"):
        await service(engine, calendar).run(NOW)


async def test_a_short_history_skips_the_back_test(engine: AsyncEngine, calendar: WorkCalendar) -> None:
    await seed(engine, calendar, weeks=3)
    result = await service(engine, calendar).run(NOW, horizon_days=3)
    assert (result["backtest"], result["method"], len(result["days"])) == ([], "seasonal_naive", 3)


async def test_without_agent_state_history_tomorrows_staffing_is_unknown_not_zero(
        engine: AsyncEngine, calendar: WorkCalendar) -> None:
    await seed(engine, calendar, weeks=3)
    async with session_factory(engine).begin() as session:
        await session.execute(delete(AgentStateChange))
    result = await service(engine, calendar).run(NOW, horizon_days=2)
    tomorrow = result["tomorrow"]
    assert (tomorrow["slots"], tomorrow["misses"]) == ([], [])
    assert tomorrow["staffing_basis"].startswith("unknown")
    assert len(result["days"][0]["required_agents"]) == 48  # what is needed is still forecast


async def test_an_answer_is_reused_for_ten_minutes_of_the_same_day(engine: AsyncEngine, calendar: WorkCalendar) -> None:
    await seed(engine, calendar, weeks=3)
    forecaster = service(engine, calendar)
    first = await forecaster.run(NOW, horizon_days=2)
    async with session_factory(engine).begin() as session:  # a new call arrives …
        extra = calls_from(np.full((1, 48), 1.0), date(2025, 11, 19), seed=9)
        await session.execute(insert(CallRecord), [row | {"id": f"new-{row['id']}"} for row in extra])
    assert await forecaster.run(NOW + timedelta(minutes=5), horizon_days=2) is first  # … not re-read yet
    later = await forecaster.run(NOW + timedelta(minutes=11), horizon_days=2)
    assert later is not first and later["history_days"] == first["history_days"]
