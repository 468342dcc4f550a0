"""Warning levels at any instant: normal → yellow (80 % of the working time gone) → red (overdue)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.policies import Category, load_pack
from gateway.workcalendar import WorkCalendar
from gateway.workcalendar.sla import deadlines, warning_level

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.for_pack(load_pack("chuxiong"))


# 楚雄 consultation dispatched Mon 08:00 → due Mon 18:00 (8 working hours); 80 % = 6.4 h → 16:24
@pytest.mark.parametrize(("now", "level"), [
    ("2026-11-23 07:00", "normal"),          # before the clock starts
    ("2026-11-23 13:00", "normal"),          # lunch: 4 h of 8 elapsed
    ("2026-11-23 16:23:59", "normal"),
    ("2026-11-23 16:24", "yellow"),
    ("2026-11-23 17:59:59", "yellow"),
    ("2026-11-23 18:00", "red"),
    ("2026-11-30 09:00", "red"),
])
def test_working_time_warning(cal: WorkCalendar, now: str, level: str) -> None:
    assert warning_level(cal, at("2026-11-23 08:00"), at("2026-11-23 18:00"), at(now)) == level


def test_lunch_and_nights_do_not_count_towards_yellow(cal: WorkCalendar) -> None:
    # Fri 17:00 → due Mon 17:00 (1 wd). Sunday evening is still only 1 h of 8 in.
    start, due = at("2026-11-27 17:00"), at("2026-11-30 17:00")
    assert warning_level(cal, start, due, at("2026-11-29 22:00")) == "normal"
    assert warning_level(cal, start, due, at("2026-11-30 15:24")) == "yellow"  # 1 h + 4 h + 1.4 h = 6.4 h


def test_custom_threshold(cal: WorkCalendar) -> None:
    start, due, now = at("2026-11-23 08:00"), at("2026-11-23 18:00"), at("2026-11-23 10:00")
    assert warning_level(cal, start, due, now, yellow_at=0.25) == "yellow"
    with pytest.raises(ValueError):
        warning_level(cal, start, due, now, yellow_at=0)


def test_natural_time_limits_warn_on_the_wall_clock(cal: WorkCalendar) -> None:
    # 楚雄 emergency: 48 natural hours from Fri 22:00 → Sun 22:00; 80 % = 38.4 h → Sun 12:24
    result = deadlines(load_pack("chuxiong"), cal, Category.HELP, True, at("2026-10-09 22:00"))
    assert result.warning(cal, at("2026-10-11 12:23")) == "normal"
    assert result.warning(cal, at("2026-10-11 12:24")) == "yellow"
    assert result.warning(cal, at("2026-10-11 22:00")) == "red"


def test_ticket_warning_uses_its_own_clock(cal: WorkCalendar) -> None:
    result = deadlines(load_pack("chuxiong"), cal, Category.CONSULTATION, False, at("2026-11-23 08:00"))
    assert result.warning(cal, at("2026-11-23 16:24")) == "yellow"
