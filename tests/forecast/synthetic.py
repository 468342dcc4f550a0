"""A seeded synthetic year of a 12345 centre's offered calls, per half hour (local time).

Weekly shape (Monday the busiest, weekends quiet), a daily shape with a morning and an afternoon peak and
quiet nights, statutory holidays and 调休 makeup days from the real calendar, the rush on the first day
after a long holiday, a slow yearly swell (summer: water, power), a mild trend, and a few anomalies
(an outage day with almost no calls, a storm of calls about one event) that a model must not learn.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from gateway.forecast.days import DayInfo, day_infos
from gateway.forecast.settings import DeclaredEvent
from gateway.workcalendar import WorkCalendar

WEEKDAY = (1.15, 1.05, 1.0, 1.0, 0.95, 0.62, 0.55)
KIND = {"workday": 1.0, "weekend": 1.0, "holiday": 0.45, "makeup": 0.85, "after_holiday": 1.45}


def intraday_shape(off: bool) -> np.ndarray:
    hours = np.arange(48) / 2 + 0.25
    morning = np.exp(-((hours - 10.0) ** 2) / (2 * 1.3 ** 2))
    afternoon = 0.85 * np.exp(-((hours - 15.0) ** 2) / (2 * 1.6 ** 2))
    evening = 0.35 * np.exp(-((hours - 20.0) ** 2) / (2 * 1.5 ** 2))
    night = 0.03
    shape = morning + afternoon + evening + night
    if off:
        shape = 0.7 * shape + 0.3 * np.exp(-((hours - 13.0) ** 2) / (2 * 3.0 ** 2))
    return shape / shape.sum()


def expected(infos: list[DayInfo], base: float, start_index: int = 0) -> np.ndarray:
    rates = np.zeros((len(infos), 48))
    for n, info in enumerate(infos):
        t = start_index + n
        level = base * (1 + 0.10 * np.sin(2 * np.pi * (info.day.timetuple().tm_yday - 100) / 365.25))
        level *= 1 + 0.0003 * t
        weekday = WEEKDAY[info.weekday] if info.kind in ("workday", "weekend") else 1.0
        level *= weekday * KIND[info.kind]
        if info.event is not None:
            level *= info.event_factor or 1.6
        rates[n] = level * intraday_shape(info.kind in ("weekend", "holiday"))
    return rates


def synthetic_history(calendar: WorkCalendar, last: date, days: int = 364, base: float = 1200.0,
                      seed: int = 12345, events: tuple[DeclaredEvent, ...] = (),
                      anomalies: bool = True) -> tuple[np.ndarray, list[DayInfo]]:
    """Counts (days × 48) for the ``days`` days ending with ``last``, and their day kinds."""
    rng = np.random.default_rng(seed)
    first = last - timedelta(days=days - 1)
    infos = day_infos(calendar, first, last, list(events))
    rates = expected(infos, base)
    if anomalies:
        # Three anomalous days in the first three quarters (never in the back-test's hold-out weeks).
        for n, factor in zip(rng.choice(np.arange(30, days - 60), size=3, replace=False), (0.1, 2.6, 3.2),
                             strict=True):
            rates[n] *= factor
    return rng.poisson(rates).astype(float), infos
