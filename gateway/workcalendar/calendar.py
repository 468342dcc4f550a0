"""Working-time arithmetic on a pack's calendar, to the second.

A day is a working day unless a deployment override, then the pack, then chinesecalendar (national holidays
and 调休 make-up working days) says otherwise. On a working day, working time is the pack's periods
(half-open: 08:00:00 is working, 12:00:00 is not). Arithmetic works in whole seconds (sub-second parts of
the inputs are dropped), in the pack's time zone, and never guesses: a date whose year no data source
covers raises ``CalendarOutOfRange`` naming the year.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
from pydantic import ValidationError

from gateway.errors import ConfigError
from gateway.policies.model import Duration, PolicyPack, WorkingHours
from gateway.workcalendar.overrides import CalendarOverrides, DayOverride, load_overrides

# The years chinesecalendar has State Council schedules for (1.11: 2004–2026), read from its own data.
DATA_FIRST_YEAR = min(chinese_calendar.holidays).year
DATA_LAST_YEAR = max(chinese_calendar.holidays).year
_DAY = 86_400
_MAX_SCAN_DAYS = 3_660  # ten years without a working day means the calendar is broken, not long


class CalendarOutOfRange(ConfigError):
    """No holiday data for the year: add the year to the deployment override file."""

    default_error_id = "calendar-out-of-range"
    status = 503  # nothing the caller did wrong: the deployment lacks a year's holiday schedule

    def __init__(self, year: int) -> None:
        super().__init__(
            f"no holiday data for {year}: chinesecalendar covers {DATA_FIRST_YEAR}–{DATA_LAST_YEAR}; add the "
            f"State Council's {year} schedule as a deployment override (full_years = [{year}] and its days)",
            year=year,
        )
        self.year = year


class WorkCalendar:
    """Working days and hours for one pack (+ a deployment's overrides). Build once, reuse: days are cached.

    ``N working_days`` = N × ``seconds_per_day`` of working time (a day is worth its periods' total, e.g. 8 h
    for 楚雄), so 1 working day from 15:00 ends at 15:00 on the next working day. ``working_hours`` and
    ``working_minutes`` count the same working time. ``hours``/``minutes``/``days`` are wall-clock.
    A start in off-hours counts from the next working instant.
    """

    def __init__(self, working_hours: WorkingHours, *, pack_days: dict[date, DayOverride] | None = None,
                 overrides: CalendarOverrides | None = None) -> None:
        self.working_hours = working_hours
        self.tz = ZoneInfo(working_hours.timezone)
        self.seconds_per_day = working_hours.seconds_per_day
        self._offsets = working_hours.day_offsets()
        self._pack_days = pack_days or {}
        self._overrides = overrides or CalendarOverrides()
        self._working_day_cache: dict[date, bool] = {}

    @classmethod
    def for_pack(cls, pack: PolicyPack, overrides_file: Path | None = None) -> WorkCalendar:
        pack_days = {day.date: DayOverride(day.kind, day.name, f"{pack.id}: {day.source}")
                     for day in pack.calendar.days}
        overrides = load_overrides(Path(overrides_file)) if overrides_file is not None else None
        working_hours = pack.working_hours
        if overrides is not None and overrides.periods is not None:
            try:
                working_hours = WorkingHours(periods=list(overrides.periods), timezone=working_hours.timezone,
                                             source=f"deployment override {overrides_file}")
            except ValidationError as exc:
                raise ConfigError(f"calendar overrides {overrides_file}: working_hours.periods: "
                                  f"{exc.errors()[0]['msg']}", error_id="invalid-calendar-overrides") from exc
        return cls(working_hours, pack_days=pack_days, overrides=overrides)

    # -- days ---------------------------------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        """Whether working days of ``year`` are known (chinesecalendar or the deployment overrides)."""
        return DATA_FIRST_YEAR <= year <= DATA_LAST_YEAR or year in self._overrides.full_years

    def is_working_day(self, day: date) -> bool:
        cached = self._working_day_cache.get(day)
        if cached is None:
            cached = self._working_day_cache[day] = self._decide(day)
        return cached

    def _decide(self, day: date) -> bool:
        for days in (self._overrides.days, self._pack_days):
            if day in days:
                return days[day].kind == "workday"
        if day.year in self._overrides.full_years:
            return day.weekday() < 5
        if not DATA_FIRST_YEAR <= day.year <= DATA_LAST_YEAR:
            raise CalendarOutOfRange(day.year)
        return bool(chinese_calendar.is_workday(day))

    def _periods(self, day: date) -> tuple[tuple[int, int], ...]:
        return self._offsets if self.is_working_day(day) else ()

    # -- conversions --------------------------------------------------------------------------------------

    def _split(self, dt: datetime) -> tuple[date, int]:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(f"naive datetime {dt.isoformat()}: give a time zone (e.g. +08:00)")
        local = dt.astimezone(self.tz)
        return local.date(), local.hour * 3600 + local.minute * 60 + local.second

    def _join(self, day: date, seconds: int) -> datetime:
        return datetime.combine(day, time(), self.tz) + timedelta(seconds=seconds)

    def working_seconds(self, duration: Duration) -> int:
        if duration.unit == "working_days":
            return duration.amount * self.seconds_per_day
        if duration.unit == "working_hours":
            return duration.amount * 3600
        if duration.unit == "working_minutes":
            return duration.amount * 60
        raise ValueError(f"{duration} is natural time, not working time")

    # -- instants -----------------------------------------------------------------------------------------

    def is_working_time(self, dt: datetime) -> bool:
        day, sec = self._split(dt)
        return any(start <= sec < end for start, end in self._periods(day))

    def next_working_instant(self, dt: datetime) -> datetime:
        """``dt`` itself during working time, else the start of the next working period."""
        day, sec = self._split(dt)
        for _ in range(_MAX_SCAN_DAYS):
            for start, end in self._periods(day):
                if sec < end:
                    return self._join(day, max(start, sec))
            day, sec = day + timedelta(days=1), 0
        raise ConfigError(f"no working time within {_MAX_SCAN_DAYS} days after {dt.isoformat()}")

    def end_of_working_day(self, dt: datetime) -> datetime:
        """The end of working time on the working day where ``dt`` (or the next working instant) falls."""
        instant = self.next_working_instant(dt)
        day, _ = self._split(instant)
        return self._join(day, self._offsets[-1][1])

    def next_working_day_at(self, dt: datetime, at: time) -> datetime:
        """``at`` on the first working day where it is still after ``dt`` (楚雄: 'next working day 10:00')."""
        day, _ = self._split(dt)
        for _ in range(_MAX_SCAN_DAYS):
            candidate = datetime.combine(day, at, self.tz)
            if candidate > dt and self.is_working_day(day):
                return candidate
            day += timedelta(days=1)
        raise ConfigError(f"no working day within {_MAX_SCAN_DAYS} days after {dt.isoformat()}")

    # -- arithmetic ---------------------------------------------------------------------------------------

    def add(self, start: datetime, duration: Duration) -> datetime:
        """``start`` + ``duration``: working time on this calendar, or wall-clock for natural units."""
        if not duration.is_working_time:
            self._split(start)  # refuses naive datetimes for natural units too
            return (start + _natural(duration)).astimezone(self.tz)
        remaining = self.working_seconds(duration)
        day, sec = self._split(start)
        if remaining == 0:
            return self._join(day, sec)
        for _ in range(_MAX_SCAN_DAYS):
            for begin, end in self._periods(day):
                if sec >= end:
                    continue
                begin = max(begin, sec)
                if remaining <= end - begin:
                    return self._join(day, begin + remaining)
                remaining -= end - begin
            day, sec = day + timedelta(days=1), 0
        raise ConfigError(f"no working time within {_MAX_SCAN_DAYS} days after {start.isoformat()}")

    def subtract(self, end: datetime, duration: Duration) -> datetime:
        """The instant from which adding ``duration`` reaches ``end`` (e.g. 'request ≥ 1 wd before')."""
        if not duration.is_working_time:
            self._split(end)
            return (end - _natural(duration)).astimezone(self.tz)
        remaining = self.working_seconds(duration)
        day, sec = self._split(end)
        if remaining == 0:
            return self._join(day, sec)
        for _ in range(_MAX_SCAN_DAYS):
            for begin, finish in reversed(self._periods(day)):
                if sec <= begin:
                    continue
                finish = min(finish, sec)
                if remaining <= finish - begin:
                    return self._join(day, finish - remaining)
                remaining -= finish - begin
            day, sec = day - timedelta(days=1), _DAY
        raise ConfigError(f"no working time within {_MAX_SCAN_DAYS} days before {end.isoformat()}")

    def working_seconds_between(self, a: datetime, b: datetime) -> int:
        """Working seconds in [a, b); negative when b is before a."""
        day, sec = self._split(a)
        last_day, last_sec = self._split(b)
        if b < a:
            return -self.working_seconds_between(b, a)
        total = 0
        while day <= last_day:
            upper = last_sec if day == last_day else _DAY
            for begin, end in self._periods(day):
                total += max(0, min(end, upper) - max(begin, sec))
            day, sec = day + timedelta(days=1), 0
        return total


def _natural(duration: Duration) -> timedelta:
    if duration.unit == "hours":
        return timedelta(hours=duration.amount)
    if duration.unit == "minutes":
        return timedelta(minutes=duration.amount)
    return timedelta(days=duration.amount)
