"""A deployment's own calendar file: local holidays, extra working days, whole years, working hours.

Operators edit it; it wins over the pack and over chinesecalendar. TOML::

    # Years this file describes completely: any day not listed below follows Mon–Fri work, Sat–Sun rest.
    full_years = [2027]

    [[days]]
    date = "2027-01-01"
    kind = "holiday"            # or "workday" (调休 make-up working day)
    name = "元旦"

    [[days]]
    start = "2027-02-06"        # a range, both ends included
    end = "2027-02-12"
    kind = "holiday"
    name = "春节"

    [working_hours]             # optional: replaces the pack's daily periods
    periods = [["08:30", "12:00"], ["14:30", "18:00"]]

or CSV with a header ``date,kind,name``, where ``date`` is a day, a range ``2027-02-06..2027-02-12``, or a
year (``2027``) with kind ``full_year``.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

KINDS = ("holiday", "workday")


@dataclass(frozen=True)
class DayOverride:
    kind: str  # "holiday" | "workday"
    name: str
    source: str


@dataclass(frozen=True)
class CalendarOverrides:
    days: dict[date, DayOverride] = field(default_factory=dict)
    full_years: frozenset[int] = frozenset()
    periods: tuple[tuple[time, time], ...] | None = None


def load_overrides(path: Path) -> CalendarOverrides:
    """Read a deployment override file (.toml or .csv). Raises ConfigError naming the file and entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"calendar overrides {path}: cannot read: {exc.strerror}",
                          error_id="invalid-calendar-overrides") from exc
    if path.suffix.lower() == ".csv":
        return _from_csv(path, text)
    return _from_toml(path, text)


def _fail(path: Path, where: str, message: str) -> ConfigError:
    return ConfigError(f"calendar overrides {path}: {where}: {message}",
                       error_id="invalid-calendar-overrides")


def _from_toml(path: Path, text: str) -> CalendarOverrides:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, "file", f"not valid TOML: {exc}") from exc
    unknown = set(data) - {"full_years", "days", "working_hours"}
    if unknown:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown)}")
    years = data.get("full_years", [])
    if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
        raise _fail(path, "full_years", "must be a list of years, e.g. [2027]")
    days: dict[date, DayOverride] = {}
    for i, entry in enumerate(data.get("days", [])):
        where = f"days[{i}]"
        if not isinstance(entry, dict):
            raise _fail(path, where, "must be a table")
        kind, name = entry.get("kind"), str(entry.get("name", ""))
        if kind not in KINDS:
            raise _fail(path, f"{where}.kind", f"must be one of {KINDS}, not {kind!r}")
        if "date" in entry:
            first = last = _as_date(path, f"{where}.date", entry["date"])
        elif "start" in entry and "end" in entry:
            first = _as_date(path, f"{where}.start", entry["start"])
            last = _as_date(path, f"{where}.end", entry["end"])
        else:
            raise _fail(path, where, "needs 'date' or 'start' and 'end'")
        _put_range(path, where, days, first, last, DayOverride(kind, name, f"{path.name} {where}"))
    periods = None
    if "working_hours" in data:
        periods = _periods(path, data["working_hours"].get("periods"))
    return CalendarOverrides(days, frozenset(years), periods)


def _from_csv(path: Path, text: str) -> CalendarOverrides:
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not {"date", "kind"} <= set(reader.fieldnames):
        raise _fail(path, "header", "needs columns date,kind[,name]")
    days: dict[date, DayOverride] = {}
    years: set[int] = set()
    for line_no, row in enumerate(reader, start=2):
        where = f"line {line_no}"
        raw = (row.get("date") or "").strip()
        kind = (row.get("kind") or "").strip()
        name = row.get("name") or ""
        if kind == "full_year":
            if not raw.isdigit():
                raise _fail(path, where, f"full_year needs a year in the date column, not {raw!r}")
            years.add(int(raw))
            continue
        if kind not in KINDS:
            raise _fail(path, where, f"kind must be holiday, workday or full_year, not {kind!r}")
        first_text, _, last_text = raw.partition("..")
        first = _as_date(path, where, first_text)
        last = _as_date(path, where, last_text) if last_text else first
        _put_range(path, where, days, first, last, DayOverride(kind, name.strip(), f"{path.name} {where}"))
    return CalendarOverrides(days, frozenset(years), None)


def _as_date(path: Path, where: str, value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise _fail(path, where, f"not a date (YYYY-MM-DD): {value!r}") from exc


def _put_range(path: Path, where: str, days: dict[date, DayOverride], first: date, last: date,
               override: DayOverride) -> None:
    if last < first:
        raise _fail(path, where, f"range ends ({last}) before it starts ({first})")
    day = first
    while day <= last:
        days[day] = override
        day += timedelta(days=1)


def _periods(path: Path, raw: object) -> tuple[tuple[time, time], ...]:
    try:
        periods = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in raw)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise _fail(path, "working_hours.periods", 'must look like [["08:30", "12:00"], ...]') from exc
    if not periods or any(not a < b for a, b in periods):
        raise _fail(path, "working_hours.periods", "each period must start before it ends")
    return periods
