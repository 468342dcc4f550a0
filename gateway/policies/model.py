"""The typed shape of a policy pack. Packs are data (packs/*.toml); this module only says what they may hold.

Every time limit is a ``Duration`` carrying the article it came from (``source``), so a deadline shown to an
agent or a unit can always be traced back to the text that imposes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.policies.categories import Category

Unit = Literal["working_days", "working_hours", "working_minutes", "hours", "minutes", "days"]
WORKING_UNITS = frozenset({"working_days", "working_hours", "working_minutes"})
_UNIT_ZH = {
    "working_days": "个工作日",
    "working_hours": "个工作小时",
    "working_minutes": "个工作分钟",
    "hours": "小时",
    "minutes": "分钟",
    "days": "日",
}
SLUG = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Duration(_Strict):
    """An amount of time: working time (``working_*``, counted on the pack's calendar) or natural wall-clock
    time (``hours``/``minutes``/``days``), with the article reference it comes from."""

    amount: int = Field(ge=0)
    unit: Unit
    source: str = ""

    @property
    def is_working_time(self) -> bool:
        return self.unit in WORKING_UNITS

    def times(self, factor: int) -> Duration:
        return Duration(amount=self.amount * factor, unit=self.unit, source=self.source)

    def __str__(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"

    @property
    def zh(self) -> str:
        return f"{self.amount}{_UNIT_ZH[self.unit]}"


class WorkingHours(_Strict):
    """Daily working periods (local time) on working days; everything else is off-hours."""

    periods: list[tuple[time, time]] = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    source: str = Field(min_length=1)

    @field_validator("periods")
    @classmethod
    def _ordered(cls, periods: list[tuple[time, time]]) -> list[tuple[time, time]]:
        previous_end = time(0)
        for start, end in periods:
            if not start < end:
                raise ValueError(f"period {start:%H:%M}-{end:%H:%M} must start before it ends")
            if start < previous_end:
                raise ValueError("periods must be in order and must not overlap")
            previous_end = end
        return periods

    @property
    def seconds_per_day(self) -> int:
        """Working seconds in one working day: what one ``working_days`` unit is worth."""
        return sum(_seconds(end) - _seconds(start) for start, end in self.periods)

    def day_offsets(self) -> tuple[tuple[int, int], ...]:
        """The periods as (start, end) seconds after local midnight."""
        return tuple((_seconds(start), _seconds(end)) for start, end in self.periods)


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


class CalendarDay(_Strict):
    """A pack-level calendar exception: a local statutory holiday, or a local make-up working day."""

    date: date
    kind: Literal["holiday", "workday"]
    name: str
    source: str = Field(min_length=1)


class CalendarRules(_Strict):
    days: list[CalendarDay] = []
    note: str = ""


class ClockRule(_Strict):
    start: Literal["dispatch", "sign"] = "dispatch"
    source: str = Field(min_length=1)


class DispatchRule(_Strict):
    """Intake → a written ticket dispatched to a unit; and, where a text says so, when a platform must
    pass a ticket down to the next-lower platform."""

    limit: Duration | None = None
    forward_by_end_of_sign_day: bool = False
    forward_source: str = ""


class SignRule(_Strict):
    limit: Duration
    urgent_limit: Duration | None = None
    deemed_accepted: bool = False
    deemed_accepted_source: str = ""
    # 楚雄: dispatched in off-hours → sign before this local time on the next working day.
    off_hours_by: time | None = None
    off_hours_source: str = ""


class ReturnRule(_Strict):
    """退单: a unit sends back a ticket that is not its business."""

    limit: Duration
    urgent_limit: Duration | None = None
    site_check_limit: Duration | None = None
    review_limit: Duration | None = None
    note: str = ""


class ProvincialRule(_Strict):
    """Tickets handed down by the provincial platform (庆阳: 甘肃省12345热线派发的工单)."""

    limit: Duration | None = None


class ExtensionCategoryTerms(_Strict):
    max_count: int | None = Field(default=None, ge=0)
    max_total_handling: Duration | None = None


@dataclass(frozen=True)
class ExtensionTerms:
    """The extension rule resolved for one ticket (its category and its original limit)."""

    max_count: int
    per_extension: Duration | None  # the longest single extension
    total_extension: Duration | None  # all extensions together
    total_handling: Duration | None  # original limit + all extensions
    request_before: Duration | None  # how long before the due date the request must be made
    sources: dict[str, str]


class ExtensionRule(_Strict):
    """延期. Lengths are bounded by any of: a fixed length per extension, a multiple of the ticket's own
    limit, a cap on all extensions together, a cap on the total handling time."""

    max_count: int = Field(ge=0)
    count_source: str = Field(min_length=1)
    max_length: Duration | None = None
    max_length_factor: int | None = Field(default=None, ge=1)
    max_total_extension: Duration | None = None
    max_total_extension_factor: int | None = Field(default=None, ge=1)
    max_total_handling: Duration | None = None
    length_source: str = ""
    request_before: Duration | None = None
    review_limit: Duration | None = None
    # Filled from [reopen].extension_allowed so the two sections cannot disagree.
    allowed_for_reopened: bool = True
    per_category: dict[Category, ExtensionCategoryTerms] = {}

    def terms(self, category: Category, original: Duration) -> ExtensionTerms:
        override = self.per_category.get(category, ExtensionCategoryTerms())
        max_count = self.max_count if override.max_count is None else override.max_count
        per_extension = self.max_length
        if per_extension is None and self.max_length_factor is not None:
            per_extension = _scaled(original, self.max_length_factor, self.length_source)
        total_extension = self.max_total_extension
        if total_extension is None and self.max_total_extension_factor is not None:
            total_extension = _scaled(original, self.max_total_extension_factor, self.length_source)
        total_handling = override.max_total_handling or self.max_total_handling
        sources = {"extension_count": self.count_source}
        if self.length_source:
            sources["extension_length"] = self.length_source
        if total_handling is not None:
            sources["extension_total"] = total_handling.source
        if self.request_before is not None:
            sources["extension_request_before"] = self.request_before.source
        return ExtensionTerms(max_count, per_extension, total_extension, total_handling,
                              self.request_before, sources)

    @model_validator(mode="after")
    def _bounded(self) -> ExtensionRule:
        bounds = (self.max_length, self.max_length_factor, self.max_total_extension,
                  self.max_total_extension_factor, self.max_total_handling)
        bounded = any(bound is not None for bound in bounds)
        if not bounded:
            unbounded = []
            for category in Category:
                override = self.per_category.get(category, ExtensionCategoryTerms())
                count = self.max_count if override.max_count is None else override.max_count
                if count > 0 and override.max_total_handling is None:
                    unbounded.append(category.value)
            if unbounded:
                raise ValueError("extensions need a length bound (max_length, max_length_factor, "
                                 "max_total_extension[_factor] or max_total_handling) for "
                                 + ", ".join(unbounded))
        return self


def _scaled(original: Duration, factor: int, source: str) -> Duration:
    return Duration(amount=original.amount * factor, unit=original.unit, source=source or original.source)


class ReopenRule(_Strict):
    """重办: a ticket sent back after an unsatisfied survey. ``limit`` None = the original handling limit."""

    limit: Duration | None = None
    extension_allowed: bool = True
    max_reopens: int | None = Field(default=None, ge=0)
    source: str = Field(min_length=1)


class SurveyLevel(_Strict):
    code: str = Field(pattern=SLUG)
    zh: str
    outcome: Literal["close", "reopen_if_unit_at_fault"]


class SatisfactionExclusion(_Strict):
    """A kind of ticket whose 'unsatisfied' rating is left out of the satisfaction rate."""

    code: str = Field(pattern=SLUG)
    label: str
    category: Category | None = None  # set when the exclusion is a whole category (庆阳: 建议类)
    source: str = Field(min_length=1)


class SurveyRule(_Strict):
    """回访. ``within``: after the reply/closing; ``reply_window``: how long the caller has to answer."""

    within: Duration | None = None
    reply_window: Duration | None = None
    no_reply_means_satisfied: bool = False
    no_reply_source: str = ""
    levels: list[SurveyLevel] = Field(min_length=2)
    exclusions: list[SatisfactionExclusion] = []
    source: str = ""

    def level(self, text: str) -> SurveyLevel:
        for level in self.levels:
            if text in (level.code, level.zh):
                return level
        raise KeyError(text)


class EmergencyRule(_Strict):
    """紧急 tickets: natural-time limits in most texts (the hotline and emergencies run round the clock)."""

    response: Duration | None = None
    first_feedback: Duration | None = None
    done: Duration
    definition: str = ""


EmergencyService = Literal["110", "119", "120", "122"]


class EmergencyLinkage(_Strict):
    """Words in a caller's description that belong to 110 (police), 119 (fire), 120 (ambulance) or 122
    (traffic police): the voice entry transfers such a call at once and logs it on a ticket."""

    words: dict[EmergencyService, list[str]] = {}
    ticket_category: Category = Category.HELP  # the category of the ticket that logs the transfer
    source: str = ""


class KnowledgeRule(_Strict):
    question_answer_limit: Duration | None = None


class ListItem(_Strict):
    """One line of an acceptance / non-acceptance / guidance list."""

    code: str = Field(pattern=SLUG)
    label: str = Field(min_length=1)
    guidance: str = ""
    source: str = Field(min_length=1)


class PolicyPack(_Strict):
    """One jurisdiction's rules. Use ``gateway.policies.load_pack`` rather than building one by hand."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(pattern=SLUG)
    name: str
    document: str
    seed: str | None = None
    notes: list[str] = []
    working_hours: WorkingHours
    calendar: CalendarRules = CalendarRules()
    clock: ClockRule
    dispatch: DispatchRule = DispatchRule()
    sign: SignRule
    returning: ReturnRule = Field(alias="return")
    handling: dict[Category, Duration]
    provincial: ProvincialRule = ProvincialRule()
    extension: ExtensionRule
    reopen: ReopenRule
    survey: SurveyRule
    emergency: EmergencyRule
    knowledge: KnowledgeRule = KnowledgeRule()
    emergency_linkage: EmergencyLinkage = EmergencyLinkage()
    acceptance: list[ListItem] = []
    non_acceptance: list[ListItem] = []
    guidance: list[ListItem] = []

    @model_validator(mode="after")
    def _complete(self) -> PolicyPack:
        missing = [c.value for c in Category if c not in self.handling]
        if missing:
            raise ValueError(f"handling has no limit for: {', '.join(missing)}")
        for where, duration in self.durations():
            if not duration.source:
                raise ValueError(f"{where} has no source (article reference)")
        for name in ("acceptance", "non_acceptance", "guidance"):
            codes = [item.code for item in getattr(self, name)]
            if len(codes) != len(set(codes)):
                raise ValueError(f"{name} has duplicate codes")
        # The reopen section owns "may a reopened ticket be extended"; mirror it on the extension rule.
        mirrored = self.extension.model_copy(update={"allowed_for_reopened": self.reopen.extension_allowed})
        object.__setattr__(self, "extension", mirrored)
        return self

    def durations(self) -> list[tuple[str, Duration]]:
        """Every Duration in the pack with its dotted path (for validation and for `policies show`)."""
        found: list[tuple[str, Duration]] = []

        def walk(value: object, path: str) -> None:
            if isinstance(value, Duration):
                found.append((path, value))
            elif isinstance(value, BaseModel):
                for name in type(value).model_fields:
                    walk(getattr(value, name), f"{path}.{name}" if path else name)
            elif isinstance(value, dict):
                for key, item in value.items():
                    walk(item, f"{path}.{key}")
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    walk(item, f"{path}[{i}]")

        walk(self, "")
        return found

    # -- the questions the ticket lifecycle asks -------------------------------------------------------

    @property
    def clock_start(self) -> Literal["dispatch", "sign"]:
        return self.clock.start

    @property
    def sign_deemed_accepted(self) -> bool:
        return self.sign.deemed_accepted

    def handling_limit(self, category: Category, urgent: bool = False, *, provincial: bool = False,
                       reopened: bool = False) -> Duration:
        """The handling limit: emergency > reopened > provincial > the category's own limit."""
        if urgent:
            return self.emergency.done
        if reopened and self.reopen.limit is not None:
            return self.reopen.limit
        if provincial and self.provincial.limit is not None:
            return self.provincial.limit
        return self.handling[category]

    def sign_limit(self, urgent: bool = False) -> Duration:
        if urgent and self.sign.urgent_limit is not None:
            return self.sign.urgent_limit
        return self.sign.limit

    def return_limit(self, urgent: bool = False, *, site_check: bool = False) -> Duration:
        if urgent and self.returning.urgent_limit is not None:
            return self.returning.urgent_limit
        if site_check and self.returning.site_check_limit is not None:
            return self.returning.site_check_limit
        return self.returning.limit

    @property
    def return_review_limit(self) -> Duration | None:
        return self.returning.review_limit

    def extension_terms(self, category: Category, urgent: bool = False, *, provincial: bool = False,
                        reopened: bool = False) -> ExtensionTerms:
        """The extension rule for one ticket; 0 extensions for a reopened one where the pack forbids it."""
        original = self.handling_limit(category, urgent, provincial=provincial, reopened=reopened)
        terms = self.extension.terms(category, original)
        if reopened and not self.reopen.extension_allowed:
            return ExtensionTerms(0, None, None, None, None, {"extension_count": self.reopen.source})
        return terms

    @property
    def satisfaction_exclusions(self) -> list[SatisfactionExclusion]:
        return self.survey.exclusions
