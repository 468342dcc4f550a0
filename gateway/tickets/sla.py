"""The ticket's SLA clock: the policy pack's limits applied with its working-time calendar.

The ticket service asks this one object every question that depends on the jurisdiction (deadlines,
extension limits, re-handling rounds, reason codes), so the service itself stays policy-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.errors import InvalidInput, Unprocessable
from gateway.policies import Category, Duration, ExtensionTerms, PolicyPack
from gateway.tickets.models import Assignment, Ticket
from gateway.workcalendar import WorkCalendar
from gateway.workcalendar.sla import Deadlines, deadlines, warning_level

Level = Literal["normal", "yellow", "red"]


@dataclass(frozen=True, slots=True)
class SlaState:
    """Where a ticket stands at one instant (for boards, reminders and 督办)."""

    level: Level  # the worst of the sign and handling clocks
    sign_level: Level | None
    handling_level: Level | None
    sign_by: datetime | None
    due_at: datetime | None
    max_due_at: datetime | None
    working_seconds_left: int | None  # negative when overdue

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level, "sign_level": self.sign_level, "handling_level": self.handling_level,
            "sign_by": self.sign_by, "due_at": self.due_at, "max_due_at": self.max_due_at,
            "working_seconds_left": self.working_seconds_left,
        }


class SlaClock:
    def __init__(self, pack: PolicyPack, calendar: WorkCalendar, yellow_at: float = 0.8) -> None:
        self.pack = pack
        self.calendar = calendar
        self.yellow_at = yellow_at

    @property
    def sign_deemed_accepted(self) -> bool:
        return bool(self.pack.sign_deemed_accepted)

    # ---- starting and moving the clock ------------------------------------------------------------

    def _deadlines(self, t: Ticket, dispatched_at: datetime, *, signed_at: datetime | None = None,
                   reopened: bool = False) -> Deadlines:
        return deadlines(self.pack, self.calendar, Category(t.category), t.urgent, dispatched_at,
                         provincial=t.provincial, reopened=reopened, signed_at=signed_at, strict=False)

    def start(self, t: Ticket, now: datetime) -> None:
        """At dispatch (转派): sign-by, due and the latest due date any extensions could reach."""
        d = self._deadlines(t, now)
        t.clock_started_at = d.clock_start
        t.sign_by, t.due_at, t.max_due_at = d.sign_by, d.due, d.max_due
        t.first_feedback_by = d.emergency_feedback_by

    def on_sign(self, t: Ticket, signed_at: datetime) -> None:
        """Packs whose handling clock starts at 签收 (not the default) fix the due date here."""
        if self.pack.clock_start == "sign" and t.dispatched_at is not None:
            d = self._deadlines(t, t.dispatched_at, signed_at=signed_at, reopened=t.reopen_count > 0)
            t.clock_started_at = d.clock_start
            t.due_at, t.max_due_at = d.due, d.max_due

    def stop(self, t: Ticket) -> None:
        """A return (退单) approved: the ticket is back with the platform, no unit clock runs."""
        t.sign_by = t.due_at = t.max_due_at = t.first_feedback_by = t.clock_started_at = None
        t.signed_at = None
        t.deemed_signed = False

    def start_reopened(self, t: Ticket, now: datetime) -> None:
        """重办: a fresh sign limit and the pack's re-handling limit; extensions only where it allows."""
        d = self._deadlines(t, now, reopened=True)
        t.clock_started_at = d.clock_start
        t.sign_by, t.due_at, t.max_due_at = d.sign_by, d.due, d.max_due
        t.first_feedback_by = d.emergency_feedback_by

    # ---- returns ----------------------------------------------------------------------------------

    def return_overdue(self, t: Ticket, assignment: Assignment, now: datetime) -> bool:
        """A return asked after the pack's limit is still filed, but counts as late (逾期退单)."""
        limit = self.pack.return_limit(t.urgent)
        return now > self.calendar.add(assignment.dispatched_at, limit)

    def return_review_by(self, requested_at: datetime) -> datetime | None:
        limit = self.pack.return_review_limit
        return self.calendar.add(requested_at, limit) if limit else None

    # ---- extensions -------------------------------------------------------------------------------

    def _terms(self, t: Ticket) -> ExtensionTerms:
        return self.pack.extension_terms(Category(t.category), t.urgent, provincial=t.provincial,
                                         reopened=t.reopen_count > 0)

    def check_extension(self, t: Ticket, working_days: int, now: datetime) -> None:
        """Refuse, naming the rule's source, an extension the pack does not allow."""
        terms = self._terms(t)
        count_source = terms.sources.get("extension_count", "")
        if working_days < 1:
            raise InvalidInput("an extension is at least one working day", error_id="bad-extension-length")
        if terms.max_count == 0:
            raise Unprocessable(f"this ticket cannot be extended ({count_source})",
                                error_id="extension-not-allowed")
        if t.extension_count >= terms.max_count:
            raise Unprocessable(
                f"this ticket has had {t.extension_count} extension(s); the limit is {terms.max_count} "
                f"({count_source})", error_id="extension-limit-reached")
        if t.due_at is None:
            raise Unprocessable("the ticket has no running deadline to extend", error_id="no-deadline")
        if now > t.due_at:
            raise Unprocessable("the deadline has passed: extensions are requested before it expires",
                                error_id="extension-too-late")
        if terms.request_before is not None and now > self.calendar.subtract(t.due_at, terms.request_before):
            raise Unprocessable(
                f"extensions must be requested at least {_say(terms.request_before)} before the deadline "
                f"({terms.request_before.source})", error_id="extension-too-late")
        most = self.max_extension_days(t)
        if working_days > most:
            raise Unprocessable(
                f"at most {most} working day(s) can be added now "
                f"({terms.sources.get('extension_length') or terms.sources.get('extension_total', '')})",
                error_id="extension-too-long", max_working_days=most)

    def max_extension_days(self, t: Ticket) -> int:
        """The most whole working days one more extension may add: within the per-extension length and
        within the latest due date the pack allows (which carries the total caps)."""
        if t.due_at is None:
            return 0
        terms = self._terms(t)
        per_day = self.calendar.seconds_per_day
        room = None
        if t.max_due_at is not None:
            room = self.calendar.working_seconds_between(t.due_at, t.max_due_at) // per_day
        if terms.per_extension is not None:
            one = self.calendar.working_seconds(terms.per_extension) // per_day
            room = one if room is None else min(room, one)
        return int(room) if room is not None else 365

    def extend(self, t: Ticket, working_days: int) -> None:
        assert t.due_at is not None
        t.due_at = self.calendar.add(t.due_at, Duration(amount=working_days, unit="working_days",
                                                           source="extension"))

    def extension_review_by(self, requested_at: datetime) -> datetime | None:
        limit = self.pack.extension.review_limit
        return self.calendar.add(requested_at, limit) if limit else None

    def rule_text(self, t: Ticket, kind: str) -> str:
        """The rule a unit's request is judged against, in words, with its source (for reviewers)."""
        if kind == "extension":
            terms = self._terms(t)
            parts = [f"最多延期 {terms.max_count} 次"]
            if terms.per_extension is not None:
                parts.append(f"每次不超过 {terms.per_extension.zh}")
            if terms.request_before is not None:
                parts.append(f"须在到期前 {terms.request_before.zh} 提出")
            sources = "；".join(dict.fromkeys(v for v in terms.sources.values() if v))
            return "，".join(parts) + (f"（{sources}）" if sources else "")
        if kind == "return":
            limit = self.pack.return_limit(t.urgent)
            return f"退单须在派单后 {limit.zh} 内提出，并说明理由和依据（{limit.source}）"
        return "按答复/终结办理规范审核"

    # ---- re-handling, reason codes ----------------------------------------------------------------

    def may_reopen(self, t: Ticket) -> bool:
        cap = self.pack.reopen.max_reopens
        return cap is None or t.reopen_count < cap

    def non_acceptance_reason(self, code: str) -> str:
        for item in self.pack.non_acceptance:
            if item.code == code:
                return str(item.label)
        known = ", ".join(i.code for i in self.pack.non_acceptance)
        raise InvalidInput(f"unknown non-acceptance reason {code!r}; this policy knows: {known}",
                           error_id="unknown-reason-code")

    def satisfaction_exclusion(self, code: str) -> str:
        for item in self.pack.satisfaction_exclusions:
            if item.code == code:
                return str(item.label)
        known = ", ".join(i.code for i in self.pack.satisfaction_exclusions)
        raise InvalidInput(f"unknown satisfaction exclusion {code!r}; this policy knows: {known}",
                           error_id="unknown-exclusion")

    # ---- warnings -----------------------------------------------------------------------------------

    def state(self, t: Ticket, now: datetime) -> SlaState:
        sign_level: Level | None = None
        handling_level: Level | None = None
        left: int | None = None
        category = Category(t.category)
        if t.sign_by is not None and t.signed_at is None and t.dispatched_at is not None:
            # The sign clock of the current round runs from its dispatch (a reopen is a new dispatch).
            start = max((a.dispatched_at for a in t.assignments if a.active and a.role == "lead"),
                        default=t.dispatched_at)
            wall = not self.pack.sign_limit(t.urgent).is_working_time
            sign_level = warning_level(self.calendar, start, t.sign_by, now, self.yellow_at, wall_clock=wall)
        open_ = t.closed_at is None and t.replied_at is None
        if t.due_at is not None and t.clock_started_at is not None and open_:
            limit = self.pack.handling_limit(category, t.urgent, provincial=t.provincial,
                                             reopened=t.reopen_count > 0)
            handling_level = warning_level(self.calendar, t.clock_started_at, t.due_at, now, self.yellow_at,
                                           wall_clock=not limit.is_working_time)
            left = self.calendar.working_seconds_between(now, t.due_at) if now <= t.due_at else \
                -self.calendar.working_seconds_between(t.due_at, now)
        order = {"normal": 0, "yellow": 1, "red": 2}
        levels = [lv for lv in (sign_level, handling_level) if lv]
        worst: Level = max(levels, key=order.__getitem__) if levels else "normal"
        return SlaState(worst, sign_level, handling_level, t.sign_by, t.due_at, t.max_due_at, left)


def _say(d: Duration) -> str:
    units = {"working_days": "working day(s)", "working_hours": "working hour(s)", "hours": "hour(s)",
             "minutes": "minute(s)", "days": "day(s)", "working_minutes": "working minute(s)"}
    return f"{d.amount:g} {units.get(d.unit, d.unit)}"
