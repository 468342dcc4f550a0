"""What kind of day a date is, for the call-volume model: from the working calendar and declared events.

The working calendar (gateway/workcalendar: chinesecalendar, the pack, the deployment's overrides) only
says working or not. The kinds callers behave differently on are read from that and the weekday:

- ``workday`` / ``weekend``: the ordinary Monday–Friday working day and Saturday/Sunday rest day;
- ``holiday``: a day off that is not an ordinary weekend (a weekday off), or any day of a run of three or
  more days off (a weekend inside 国庆 is a holiday to callers, not a weekend);
- ``makeup``: a 调休 working day on a Saturday or Sunday;
- ``after_holiday``: the first working day after a holiday run (the backlog of a long break arrives).

Events are deployment-declared days (a heating-season start, a policy announcement, a local festival).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from gateway.forecast.settings import DeclaredEvent
from gateway.workcalendar import CalendarOutOfRange, WorkCalendar

KINDS = ("workday", "weekend", "holiday", "makeup", "after_holiday")
_RUN = 3  # days off in a row that make a holiday rather than a weekend


@dataclass(frozen=True)
class DayInfo:
    day: date
    kind: str
    weekday: int
    event: str | None  # the declared event's name
    event_factor: float | None  # the volume multiple the deployment declared for it, if any
    assumed: bool = False  # a year the calendar has no holiday data for: Monday–Friday assumed working


def day_infos(calendar: WorkCalendar, first: date, last: date,
              events: list[DeclaredEvent] | tuple[DeclaredEvent, ...] = ()) -> list[DayInfo]:
    """``first``..``last`` inclusive. Looks a week beyond both ends to see whole runs of days off."""
    margin = timedelta(days=10)
    span = [first - margin + timedelta(days=i) for i in range((last - first + 2 * margin).days + 1)]
    assumed: set[date] = set()

    def is_working(d: date) -> bool:
        # A forecast may reach into a year whose State Council schedule is not in the calendar yet (add it
        # to the overrides file, as the /readyz advisory says); until then, say which days are guessed.
        try:
            return calendar.is_working_day(d)
        except CalendarOutOfRange:
            assumed.add(d)
            return d.weekday() < 5

    working = {d: is_working(d) for d in span}
    run_length: dict[date, int] = {}
    i = 0
    while i < len(span):
        if working[span[i]]:
            i += 1
            continue
        j = i
        while j < len(span) and not working[span[j]]:
            j += 1
        for d in span[i:j]:
            run_length[d] = j - i
        i = j
    infos = []
    day = first
    while day <= last:
        weekend = day.weekday() >= 5
        if working[day]:
            before = day - timedelta(days=1)
            if not working[before] and (run_length[before] >= _RUN or before.weekday() < 5):
                kind = "after_holiday"
            else:
                kind = "makeup" if weekend else "workday"
        else:
            kind = "holiday" if run_length[day] >= _RUN or not weekend else "weekend"
        event = next((e for e in events if e.start <= day <= (e.end or e.start)), None)
        infos.append(DayInfo(day, kind, day.weekday(), event.name if event else None,
                             event.factor if event else None, day in assumed))
        day += timedelta(days=1)
    return infos
