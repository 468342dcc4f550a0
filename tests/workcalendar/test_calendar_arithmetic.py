"""Working-time arithmetic: to the second, across lunch, weekends, national holidays and 调休 make-up days.

楚雄's calendar (08:00–12:00, 14:00–18:00, 8 h a day) is used unless a test says otherwise.
2026 facts from chinesecalendar: National Day 10-01..10-07 (Thu–Wed) off; Sun 09-20 and Sat 10-10 are
make-up working days; Mid-Autumn 09-25 (Fri) off. 2026-11-23 is a Monday.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.policies import Duration, load_pack
from gateway.workcalendar import CalendarOutOfRange, WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def d(amount: int, unit: str) -> Duration:
    return Duration(amount=amount, unit=unit, source="test")


@pytest.fixture(scope="module")
def chuxiong() -> WorkCalendar:
    return WorkCalendar.for_pack(load_pack("chuxiong"))


@pytest.fixture(scope="module")
def national() -> WorkCalendar:
    return WorkCalendar.for_pack(load_pack("national"))


@pytest.mark.parametrize(("day", "working"), [
    ("2026-11-23", True),    # Monday
    ("2026-11-28", False),   # Saturday
    ("2026-11-29", False),   # Sunday
    ("2026-09-30", True),    # the day before National Day
    ("2026-10-01", False),   # National Day
    ("2026-10-05", False),   # National Day, a Monday
    ("2026-10-07", False),   # last day of the break
    ("2026-10-08", True),
    ("2026-10-10", True),    # 调休: a Saturday worked
    ("2026-10-17", False),   # an ordinary Saturday
    ("2026-09-20", True),    # 调休: a Sunday worked
    ("2026-09-25", False),   # Mid-Autumn, a Friday
    ("2026-02-14", True),    # 调休 Saturday before Spring Festival
    ("2026-02-16", False),   # Spring Festival
])
def test_national_holidays_and_make_up_days(chuxiong: WorkCalendar, day: str, working: bool) -> None:
    assert chuxiong.is_working_day(date.fromisoformat(day)) is working


@pytest.mark.parametrize(("instant", "working"), [
    ("2026-11-23 07:59:59", False),
    ("2026-11-23 08:00:00", True),
    ("2026-11-23 11:59:59", True),
    ("2026-11-23 12:00:00", False),  # periods are half-open
    ("2026-11-23 13:59:59", False),  # lunch break
    ("2026-11-23 14:00:00", True),
    ("2026-11-23 17:59:59", True),
    ("2026-11-23 18:00:00", False),
    ("2026-11-28 10:00:00", False),  # Saturday
    ("2026-10-10 10:00:00", True),   # make-up Saturday
    ("2026-10-05 10:00:00", False),  # National Day
])
def test_is_working_time(chuxiong: WorkCalendar, instant: str, working: bool) -> None:
    assert chuxiong.is_working_time(at(instant)) is working


@pytest.mark.parametrize(("start", "amount", "unit", "expected"), [
    ("2026-11-23 09:00", 2, "working_hours", "2026-11-23 11:00"),
    ("2026-11-23 11:00", 2, "working_hours", "2026-11-23 15:00"),    # across lunch
    ("2026-11-23 12:30", 2, "working_hours", "2026-11-23 16:00"),    # starts in lunch: counts from 14:00
    ("2026-11-23 17:00", 2, "working_hours", "2026-11-24 09:00"),    # overnight
    ("2026-11-23 19:00", 2, "working_hours", "2026-11-24 10:00"),    # evening start
    ("2026-11-24 07:00", 2, "working_hours", "2026-11-24 10:00"),    # before 08:00
    ("2026-11-27 17:00", 2, "working_hours", "2026-11-30 09:00"),    # over a weekend
    ("2026-11-28 09:00", 1, "working_hours", "2026-11-30 09:00"),    # starts on a Saturday
    ("2026-11-23 08:00", 1, "working_days", "2026-11-23 18:00"),     # ends 18:00, not next 08:00
    ("2026-11-23 15:00", 1, "working_days", "2026-11-24 15:00"),
    ("2026-09-30 16:00", 1, "working_days", "2026-10-08 16:00"),     # across National Day
    ("2026-10-09 15:00", 1, "working_days", "2026-10-10 15:00"),     # onto the make-up Saturday
    ("2026-09-18 16:00", 1, "working_days", "2026-09-20 16:00"),     # onto the make-up Sunday
    ("2026-09-24 16:00", 1, "working_days", "2026-09-28 16:00"),     # over Mid-Autumn + weekend
    ("2026-11-23 10:00:30", 1, "working_minutes", "2026-11-23 10:01:30"),
    ("2026-11-23 11:59:30", 1, "working_minutes", "2026-11-23 14:00:30"),  # to the second across lunch
    ("2026-11-23 10:00", 0, "working_days", "2026-11-23 10:00"),
    ("2026-10-09 22:00", 48, "hours", "2026-10-11 22:00"),           # natural time ignores the calendar
    ("2026-10-03 23:50", 30, "minutes", "2026-10-04 00:20"),
    ("2026-11-28 10:00", 2, "days", "2026-11-30 10:00"),
])
def test_add(chuxiong: WorkCalendar, start: str, amount: int, unit: str, expected: str) -> None:
    result = chuxiong.add(at(start), d(amount, unit))
    assert result == at(expected)
    assert result.utcoffset() == timedelta(hours=8)


def test_add_accepts_any_offset_and_answers_in_the_pack_time_zone(chuxiong: WorkCalendar) -> None:
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = chuxiong.add(start, d(2, "working_hours"))
    assert result.isoformat() == "2026-11-23T11:00:00+08:00"


def test_a_working_day_is_the_packs_working_seconds(national: WorkCalendar, chuxiong: WorkCalendar) -> None:
    # national default 08:30–12:00, 14:00–17:30 = 7 h; 楚雄 8 h
    assert national.seconds_per_day == 7 * 3600
    assert chuxiong.seconds_per_day == 8 * 3600
    assert national.add(at("2026-11-23 15:00"), d(1, "working_days")) == at("2026-11-24 15:00")
    assert national.add(at("2026-11-23 17:00"), d(1, "working_hours")) == at("2026-11-24 09:00")


@pytest.mark.parametrize(("end", "amount", "unit", "expected"), [
    ("2026-11-24 10:00", 1, "working_days", "2026-11-23 10:00"),
    ("2026-11-30 09:00", 2, "working_hours", "2026-11-27 17:00"),
    ("2026-10-08 16:00", 1, "working_days", "2026-09-30 16:00"),
    ("2026-11-23 15:00", 2, "working_hours", "2026-11-23 11:00"),
    ("2026-11-23 15:00", 0, "working_days", "2026-11-23 15:00"),
    ("2026-10-11 22:00", 48, "hours", "2026-10-09 22:00"),
])
def test_subtract(chuxiong: WorkCalendar, end: str, amount: int, unit: str, expected: str) -> None:
    assert chuxiong.subtract(at(end), d(amount, unit)) == at(expected)


@pytest.mark.parametrize(("a", "b", "seconds"), [
    ("2026-11-23 11:00", "2026-11-23 14:30", 3600 + 1800),
    ("2026-11-23 12:10", "2026-11-23 13:50", 0),
    ("2026-11-27 17:00", "2026-11-30 09:00", 2 * 3600),
    ("2026-09-30 00:00", "2026-10-09 00:00", 2 * 8 * 3600),   # 09-30 and 10-08 only
    ("2026-11-23 10:00:00", "2026-11-23 10:00:59", 59),
    ("2026-11-30 09:00", "2026-11-27 17:00", -2 * 3600),
])
def test_working_seconds_between(chuxiong: WorkCalendar, a: str, b: str, seconds: int) -> None:
    assert chuxiong.working_seconds_between(at(a), at(b)) == seconds


def test_working_seconds_agree_with_a_minute_by_minute_walk(chuxiong: WorkCalendar) -> None:
    rng = random.Random(7)
    for _ in range(6):
        a = at("2026-09-15 00:00") + timedelta(minutes=rng.randrange(40 * 1440))
        b = a + timedelta(minutes=rng.randrange(1, 4 * 1440))
        walked = sum(60 for i in range(int((b - a).total_seconds() // 60))
                     if chuxiong.is_working_time(a + timedelta(minutes=i)))
        assert chuxiong.working_seconds_between(a, b) == walked
        # and add() is the inverse of working_seconds_between from a working instant
        start = chuxiong.next_working_instant(a)
        end = chuxiong.add(start, d(walked // 60, "working_minutes"))
        assert chuxiong.working_seconds_between(start, end) == walked


@pytest.mark.parametrize("call", [
    lambda cal: cal.add(datetime(2026, 11, 23, 10), Duration(amount=1, unit="working_days")),
    lambda cal: cal.add(datetime(2026, 11, 23, 10), Duration(amount=1, unit="hours")),
    lambda cal: cal.is_working_time(datetime(2026, 11, 23, 10)),
    lambda cal: cal.working_seconds_between(datetime(2026, 11, 23, 10), at("2026-11-24 10:00")),
])
def test_naive_datetimes_are_refused(chuxiong: WorkCalendar, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="naive"):
        call(chuxiong)


def test_a_year_without_data_fails_loudly_naming_the_year(chuxiong: WorkCalendar) -> None:
    with pytest.raises(CalendarOutOfRange) as caught:
        chuxiong.is_working_day(date(2027, 3, 1))
    assert caught.value.year == 2027
    assert "no holiday data for 2027" in caught.value.message
    assert "2004–2026" in caught.value.message
    assert "deployment override" in caught.value.message


def test_arithmetic_running_into_an_uncovered_year_fails_rather_than_guessing(chuxiong: WorkCalendar) -> None:
    with pytest.raises(CalendarOutOfRange, match="2027"):
        chuxiong.add(at("2026-12-30 10:00"), d(5, "working_days"))


def test_pack_local_holidays_apply_only_to_that_pack(chuxiong: WorkCalendar, national: WorkCalendar) -> None:
    # 楚雄 火把节 2025-07-16..18 (Wed–Fri)
    for day in ("2025-07-16", "2025-07-17", "2025-07-18"):
        assert not chuxiong.is_working_day(date.fromisoformat(day))
        assert national.is_working_day(date.fromisoformat(day))
    assert chuxiong.add(at("2025-07-15 17:00"), d(1, "working_days")) == at("2025-07-21 17:00")


def test_end_of_working_day_and_next_working_day_at(chuxiong: WorkCalendar) -> None:
    assert chuxiong.end_of_working_day(at("2026-11-23 09:00")) == at("2026-11-23 18:00")
    assert chuxiong.end_of_working_day(at("2026-11-23 20:00")) == at("2026-11-24 18:00")
    ten = datetime.strptime("10:00", "%H:%M").time()
    assert chuxiong.next_working_day_at(at("2026-11-24 07:00"), ten) == at("2026-11-24 10:00")
    assert chuxiong.next_working_day_at(at("2026-11-23 12:30"), ten) == at("2026-11-24 10:00")
    assert chuxiong.next_working_day_at(at("2026-09-30 19:00"), ten) == at("2026-10-08 10:00")
