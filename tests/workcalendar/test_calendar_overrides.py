"""A deployment's override file (TOML or CSV) wins over the pack and chinesecalendar, and can supply whole
years chinesecalendar does not cover. Mistakes in it are refused with the file and entry named."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.errors import ConfigError
from gateway.policies import Duration, load_pack
from gateway.workcalendar import CalendarOutOfRange, WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
ONE_WD = Duration(amount=1, unit="working_days", source="test")

TOML_2027 = """
full_years = [2027]

[[days]]
start = "2027-01-01"
end = "2027-01-03"
kind = "holiday"
name = "元旦"

[[days]]
date = "2026-11-28"
kind = "workday"
name = "a Saturday this deployment works"

[[days]]
date = "2026-11-25"
kind = "holiday"
name = "a local day off"

[[days]]
date = "2025-07-16"
kind = "workday"
name = "this county works through 火把节"
"""

CSV_2027 = """date,kind,name
2027,full_year,
2027-01-01..2027-01-03,holiday,元旦
2026-11-28,workday,a Saturday this deployment works
2026-11-25,holiday,a local day off
2025-07-16,workday,this county works through 火把节
"""


@pytest.fixture(params=["toml", "csv"])
def calendar(request: pytest.FixtureRequest, tmp_path: Path) -> WorkCalendar:
    path = tmp_path / f"calendar.{request.param}"
    path.write_text(TOML_2027 if request.param == "toml" else CSV_2027, encoding="utf-8")
    return WorkCalendar.for_pack(load_pack("chuxiong"), overrides_file=path)


@pytest.mark.parametrize(("day", "working"), [
    ("2027-01-01", False),  # listed holiday (a Friday)
    ("2027-01-04", True),   # full year, unlisted Monday → weekday rule
    ("2027-01-09", False),  # full year, unlisted Saturday
    ("2026-11-28", True),   # override makes a Saturday a working day
    ("2026-11-25", False),  # override makes a Wednesday a holiday
    ("2025-07-16", True),   # the deployment wins over the pack's 火把节
    ("2025-07-17", False),  # the pack's other 火把节 days still apply
])
def test_overrides_decide_first(calendar: WorkCalendar, day: str, working: bool) -> None:
    assert calendar.is_working_day(date.fromisoformat(day)) is working


def test_a_full_year_override_lets_arithmetic_cross_into_it(calendar: WorkCalendar) -> None:
    # Thu 2026-12-31 15:00 + 1 wd: 2027-01-01..03 off → Mon 2027-01-04 15:00
    start = datetime(2026, 12, 31, 15, tzinfo=TZ)
    assert calendar.add(start, ONE_WD) == datetime(2027, 1, 4, 15, tzinfo=TZ)


def test_years_beyond_the_override_still_fail(calendar: WorkCalendar) -> None:
    with pytest.raises(CalendarOutOfRange, match="2028"):
        calendar.is_working_day(date(2028, 1, 3))


def test_override_working_hours_replace_the_packs(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text('[working_hours]\nperiods = [["09:00", "12:00"], ["13:00", "17:00"]]\n', encoding="utf-8")
    cal = WorkCalendar.for_pack(load_pack("chuxiong"), overrides_file=path)
    assert cal.seconds_per_day == 7 * 3600
    two_hours = Duration(amount=2, unit="working_hours", source="test")
    # 11:00–12:00, lunch 12:00–13:00, 13:00–14:00
    assert cal.add(datetime(2026, 11, 23, 11, tzinfo=TZ), two_hours) == datetime(2026, 11, 23, 14, tzinfo=TZ)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.toml", 'full_years = [2027]\n[[days]]\ndate = "2027-01-01"\nkind = "vacation"\n',
     "days[0].kind"),
    ("bad.toml", '[[days]]\ndate = "2027-13-01"\nkind = "holiday"\n', "days[0].date"),
    ("bad.toml", '[[days]]\nstart = "2027-02-10"\nend = "2027-02-01"\nkind = "holiday"\n', "ends"),
    ("bad.toml", '[[days]]\nkind = "holiday"\n', "needs 'date'"),
    ("bad.toml", 'full_year = [2027]\n', "unknown keys"),
    ("bad.toml", "full_years = [2027\n", "not valid TOML"),
    ("bad.toml", '[working_hours]\nperiods = [["12:00", "08:00"]]\n', "working_hours.periods"),
    ("bad.csv", "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,nap,\n", "line 3"),
    ("bad.csv", "date,kind,name\nlater,full_year,\n", "line 2"),
    ("bad.csv", "day,type\n2027-01-01,holiday\n", "header"),
])
def test_bad_override_files_name_file_and_entry(tmp_path: Path, name: str, content: str,
                                                message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        WorkCalendar.for_pack(load_pack("chuxiong"), overrides_file=path)
    assert str(path) in caught.value.message
    assert message in caught.value.message


def test_missing_override_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        WorkCalendar.for_pack(load_pack("chuxiong"), overrides_file=tmp_path / "nope.toml")
