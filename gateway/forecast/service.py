"""The forecast run: read the history (one session), then fit, back-test, staff and roster in a worker
thread (statsmodels, Erlang A and the integer program are CPU work that must not stall the event loop).

A run reads and computes, it stores nothing: running it twice on the same history gives the same answer.
An answer is reused for ``REUSE`` (pages reload; the history of the last half hour changes nothing), and
concurrent requests wait for one computation rather than each starting their own.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.forecast import history, model, staffing
from gateway.forecast.days import DayInfo, day_infos
from gateway.forecast.errors import NotEnoughHistory
from gateway.forecast.settings import ForecastSettings
from gateway.workcalendar import WorkCalendar

REUSE = timedelta(minutes=10)
MIN_DAYS = 14  # two weeks give a weekly shape; below that there is nothing to forecast from
BACKTEST_MIN_WEEKS = 8  # the back-test needs its held-out weeks and as many again to learn from


@dataclass(frozen=True)
class Inputs:
    today: date
    counts: np.ndarray  # offered calls, history days × 48
    infos: list[DayInfo]  # the history days, then the horizon days
    behaviour: history.CallerBehaviour
    staffed_last_week: np.ndarray | None  # agents on the phones per half hour, tomorrow's day last week


class ForecastService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], calendar: WorkCalendar,
                 settings: ForecastSettings, *, answer_target_seconds: float, wrapup_seconds: float) -> None:
        self.sessions = sessions
        self.calendar = calendar
        self.settings = settings
        self.answer_target = answer_target_seconds
        self.wrapup = wrapup_seconds
        self._lock = asyncio.Lock()
        self._answers: dict[int, tuple[datetime, dict[str, Any]]] = {}

    async def run(self, now: datetime, *, horizon_days: int | None = None) -> dict[str, Any]:
        horizon = horizon_days or self.settings.horizon_days
        async with self._lock:
            kept = self._answers.get(horizon)
            tz = self.calendar.tz
            if (kept is not None and kept[0] <= now < kept[0] + REUSE
                    and kept[0].astimezone(tz).date() == now.astimezone(tz).date()):
                return kept[1]
            inputs = await self.read(now, horizon)
            answer = await asyncio.to_thread(self.compute, inputs)
            self._answers[horizon] = (now, answer)
            return answer

    async def read(self, now: datetime, horizon: int) -> Inputs:
        tz = self.calendar.tz
        today = now.astimezone(tz).date()
        last = today - timedelta(days=1)
        async with self.sessions() as session:
            earliest = await history.earliest_call(session)
            if earliest is None:
                raise NotEnoughHistory("no calls recorded yet: the forecast learns from the call history")
            first = max(earliest.astimezone(tz).date(), today - timedelta(weeks=self.settings.history_weeks))
            if (last - first).days + 1 < MIN_DAYS:
                raise NotEnoughHistory(f"the call history covers {(last - first).days + 1} full days; "
                                       f"the forecast needs at least {MIN_DAYS}")
            counts = await history.offered_per_slot(session, first, last, tz)
            start = history.local_midnight(today - timedelta(weeks=4), tz)
            behaviour = await history.caller_behaviour(
                session, start, history.local_midnight(today, tz), wrapup_seconds=self.wrapup,
                default_aht=self.settings.default_aht_seconds,
                default_patience=self.settings.default_patience_seconds, min_samples=self.settings.min_samples)
            same_day_last_week = today + timedelta(days=1) - timedelta(weeks=1)
            staffed = None
            if await history.staffing_recorded(session, history.local_midnight(same_day_last_week, tz)
                                               + timedelta(days=1)):
                staffed = (await history.staffed_per_slot(session, same_day_last_week, same_day_last_week, tz))[0]
        infos = day_infos(self.calendar, first, today + timedelta(days=horizon), self.settings.events)
        return Inputs(today, counts, infos, behaviour, staffed)

    def compute(self, inputs: Inputs) -> dict[str, Any]:
        conf = self.settings
        n = len(inputs.counts)
        past, today_and_after = inputs.infos[:n], inputs.infos[n:]
        holdout = conf.holdout_weeks * 7
        backtest: list[model.BacktestResult] = []
        method = "seasonal_naive"
        if n >= max(BACKTEST_MIN_WEEKS * 7, 2 * holdout):
            backtest = model.backtest(inputs.counts, past, holdout)
            method = model.best(backtest)
        # Today is forecast too (its calls are still arriving); the horizon starts tomorrow.
        forecast = model.FORECASTERS[method](inputs.counts, past, today_and_after)[1:]
        horizon = today_and_after[1:]
        b = inputs.behaviour
        targets = staffing.Targets(self.answer_target, conf.service_level, conf.abandon_rate, conf.shrinkage)
        need = staffing.requirements(forecast, b.aht_seconds, b.patience_seconds, targets)
        tomorrow = []
        if inputs.staffed_last_week is not None:
            tomorrow = staffing.outlook(forecast[0], inputs.staffed_last_week, need["erlang_a"][0], b.aht_seconds,
                                        b.patience_seconds, targets)
        shifts = staffing.roster(need["rostered"][0], conf.shifts)
        return {
            "generated_for": inputs.today,
            "method": method,
            "backtest": [asdict(r) for r in backtest],
            "history_days": n,
            "behaviour": asdict(b),
            "targets": {"answer_seconds": self.answer_target, "service_level": conf.service_level,
                        "abandon_rate": conf.abandon_rate, "shrinkage": conf.shrinkage},
            # Days of a year without holiday data: weekdays assumed working (add the year to the overrides).
            "calendar_assumed_days": [info.day for info in horizon if info.assumed],
            "days": [{"date": info.day, "kind": info.kind, "event": info.event,
                      "calls": round(float(forecast[i].sum()), 1),
                      "calls_per_slot": [round(float(v), 2) for v in forecast[i]],
                      "required_agents": need["erlang_a"][i].tolist(),
                      "required_agents_erlang_c": need["erlang_c"][i].tolist(),
                      "rostered_agents": need["rostered"][i].tolist()}
                     for i, info in enumerate(horizon)],
            "tomorrow": {
                "date": horizon[0].day,
                "staffing_basis": ("agents on the phones in the same half hour of the same weekday last week"
                                   if inputs.staffed_last_week is not None else
                                   "unknown: no agent state history yet (recorded from now on)"),
                "slots": [asdict(s) | {"start": _slot_time(s.slot)} for s in tomorrow],
                "misses": [_slot_time(s.slot) for s in tomorrow if s.misses],
            },
            "roster": {
                "method": "integer program (scipy.optimize.milp, HiGHS): fewest agent-hours covering every "
                          "half hour's rostered requirement",
                "agent_hours": sum(s.agents * s.length_slots / 2 for s in shifts),
                "shifts": [{"pattern": s.pattern, "start": _slot_time(s.start_slot), "hours": s.length_slots / 2,
                            "agents": s.agents} for s in shifts],
                "coverage": staffing.coverage(shifts).tolist(),
            },
        }


def _slot_time(slot: int) -> str:
    return f"{slot // 2:02d}:{30 * (slot % 2):02d}"
