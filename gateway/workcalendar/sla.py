"""SLA clock: a ticket's deadlines from its pack and calendar, and its warning level at any instant.

The handling clock starts at dispatch (转派) unless the pack says "sign"; even then a unit cannot hold it
back by not signing: an unsigned ticket's clock starts at its sign deadline. Emergency deadlines always
run from dispatch, in the units the text gives (mostly natural hours).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from gateway.errors import InvalidInput
from gateway.policies import Category, Duration, ExtensionTerms, PolicyPack
from gateway.workcalendar.calendar import CalendarOutOfRange, WorkCalendar

WarningLevel = Literal["normal", "yellow", "red"]


@dataclass(frozen=True)
class Deadlines:
    dispatched_at: datetime
    clock_start: datetime
    sign_by: datetime
    due: datetime
    max_due: datetime | None  # the latest due with every extension allowed (None: year not covered)
    return_by: datetime
    max_extensions: int
    extension_request_by: datetime | None  # None when no extension is allowed
    forward_by: datetime | None = None  # 楚雄: pass down to the lower platform by the end of the sign day
    emergency_response_by: datetime | None = None
    emergency_feedback_by: datetime | None = None
    handling_limit: Duration | None = None
    limits: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def warning(self, cal: WorkCalendar, now: datetime, yellow_at: float = 0.8) -> WarningLevel:
        """The handling clock's warning level, on working or wall-clock time as the limit is counted."""
        wall_clock = self.handling_limit is not None and not self.handling_limit.is_working_time
        return warning_level(cal, self.clock_start, self.due, now, yellow_at, wall_clock=wall_clock)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in ("dispatched_at", "clock_start", "sign_by", "due", "max_due", "return_by",
                     "extension_request_by", "forward_by", "emergency_response_by", "emergency_feedback_by"):
            value = getattr(self, name)
            if value is not None or name == "max_due":  # null: unknown until the year's holidays are added
                body[name] = value  # an instant: the JSON encoder shows it in the centre's time
        body["max_extensions"] = self.max_extensions
        body["limits"] = self.limits
        body["sources"] = self.sources
        return body


def deadlines(pack: PolicyPack, cal: WorkCalendar, category: Category, urgent: bool, dispatched_at: datetime,
              *, provincial: bool = False, reopened: bool = False, signed_at: datetime | None = None,
              site_check: bool = False, strict: bool = True) -> Deadlines:
    """Every deadline of one ticket. ``signed_at`` matters for packs whose clock starts at signing and for
    楚雄's forward-by; ``site_check`` selects the longer return limit where a text has one. With
    ``strict=False`` a latest-due date (``max_due``) that falls in a year without holiday data is None
    instead of an error; every other deadline still fails loudly."""
    if signed_at is not None and signed_at < dispatched_at:
        raise InvalidInput("signed_at is before dispatched_at", error_id="invalid-sign-time")
    sources: dict[str, str] = {}
    limits: dict[str, str] = {}

    sign_limit = pack.sign_limit(urgent)
    if pack.sign.off_hours_by is not None and not cal.is_working_time(dispatched_at):
        sign_by = cal.next_working_day_at(dispatched_at, pack.sign.off_hours_by)
        sources["sign_by"] = pack.sign.off_hours_source
        limits["sign"] = f"next working day {pack.sign.off_hours_by:%H:%M}"
    else:
        sign_by = cal.add(dispatched_at, sign_limit)
        sources["sign_by"] = sign_limit.source
        limits["sign"] = str(sign_limit)
    if pack.sign.deemed_accepted:
        sources["sign_deemed_accepted"] = pack.sign.deemed_accepted_source

    if pack.clock_start == "sign" and not urgent:
        clock_start = min(signed_at, sign_by) if signed_at is not None else sign_by
    else:
        clock_start = dispatched_at
    sources["clock_start"] = pack.clock.source

    limit = pack.handling_limit(category, urgent, provincial=provincial, reopened=reopened)
    due = cal.add(clock_start, limit)
    sources["due"] = limit.source
    limits["handling"] = str(limit)

    terms = pack.extension_terms(category, urgent, provincial=provincial, reopened=reopened)
    sources.update(terms.sources)
    max_due: datetime | None = due
    request_by = None
    if terms.max_count > 0:
        try:
            max_due = _latest_due(cal, terms, clock_start, due)
        except CalendarOutOfRange as exc:
            if strict:
                raise
            # The latest possible due date lies in a year without holiday data. The ticket's own
            # deadlines are known; this one is left open (and said so) until the operator adds the year.
            max_due = None
            limits["max_due"] = f"unknown: {exc.message}"
        if terms.request_before is not None:
            request_by = cal.subtract(due, terms.request_before)
    bounds = (v for k, v in terms.sources.items() if k != "extension_request_before")
    sources["max_due"] = "; ".join(dict.fromkeys(bounds))

    return_limit = pack.return_limit(urgent, site_check=site_check)
    return_by = cal.add(dispatched_at, return_limit)
    sources["return_by"] = return_limit.source
    limits["return"] = str(return_limit)

    forward_by = None
    if pack.dispatch.forward_by_end_of_sign_day:
        forward_by = cal.end_of_working_day(signed_at or sign_by)
        sources["forward_by"] = pack.dispatch.forward_source

    response_by = feedback_by = None
    if urgent:
        if pack.emergency.response is not None:
            response_by = cal.add(dispatched_at, pack.emergency.response)
            sources["emergency_response_by"] = pack.emergency.response.source
        if pack.emergency.first_feedback is not None:
            feedback_by = cal.add(dispatched_at, pack.emergency.first_feedback)
            sources["emergency_feedback_by"] = pack.emergency.first_feedback.source

    return Deadlines(
        dispatched_at=dispatched_at, clock_start=clock_start, sign_by=sign_by, due=due, max_due=max_due,
        return_by=return_by, max_extensions=terms.max_count, extension_request_by=request_by,
        forward_by=forward_by, emergency_response_by=response_by, emergency_feedback_by=feedback_by,
        handling_limit=limit, limits=limits, sources=sources,
    )


def _latest_due(cal: WorkCalendar, terms: ExtensionTerms, clock_start: datetime, due: datetime) -> datetime:
    candidates = []
    if terms.per_extension is not None:
        extended = due
        for _ in range(terms.max_count):
            extended = cal.add(extended, terms.per_extension)
        candidates.append(extended)
    if terms.total_extension is not None:
        candidates.append(cal.add(due, terms.total_extension))
    if terms.total_handling is not None:
        candidates.append(cal.add(clock_start, terms.total_handling))
    return max(due, min(candidates))  # the pack validator guarantees at least one bound


def survey_deadlines(pack: PolicyPack, cal: WorkCalendar, closed_at: datetime
                     ) -> tuple[datetime | None, Duration | None]:
    """When the survey must be done after closing, and how long the caller has to answer it."""
    survey_by = cal.add(closed_at, pack.survey.within) if pack.survey.within is not None else None
    return survey_by, pack.survey.reply_window


def warning_level(cal: WorkCalendar, start: datetime, due: datetime, now: datetime, yellow_at: float = 0.8,
                  *, wall_clock: bool = False) -> WarningLevel:
    """"red" once ``now`` reaches ``due``; "yellow" once ``yellow_at`` of the time from start to due has
    elapsed (working time, or wall-clock time for natural limits); otherwise "normal"."""
    if not 0 < yellow_at <= 1:
        raise ValueError("yellow_at must be in (0, 1]")
    if now >= due:
        return "red"
    if wall_clock:
        total = (due - start).total_seconds()
        elapsed = (now - start).total_seconds()
    else:
        total = cal.working_seconds_between(start, due)
        elapsed = cal.working_seconds_between(start, now)
    if total > 0 and elapsed / total >= yellow_at:
        return "yellow"
    return "normal"
