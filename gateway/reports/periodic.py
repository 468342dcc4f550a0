"""Periodic reports (周报/月报/季报/年报) per platform and per unit: volumes by channel, category and topic,
the KPIs of the standard, top issues with their trend, hot-issue warnings, overdue lists, and what the
child platforms pushed up. The report is a JSON-ready dict; ``render`` turns it into HTML/XLSX/CSV.

Call KPIs (15 s answer rate, 24 h 接通率) belong to the call model: they come through ``CallKpis`` and
show as "n/a" where no provider is wired — never as an invented figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import InvalidInput
from gateway.federation.models import MirroredTicket
from gateway.reports.hotspots import members_of
from gateway.reports.models import HotspotWarning, TicketMatter
from gateway.reports.topics import cluster_name
from gateway.tickets.lifecycle import OPEN
from gateway.tickets.models import Assignment, Ticket
from gateway.tickets.statistics import Counter as Rate
from gateway.tickets.statistics import ticket_statistics
from gateway.tickets.views import Audience, territory_clause, ticket_filter, visible_numbers

SHANGHAI = ZoneInfo("Asia/Shanghai")
Period = Literal["week", "month", "quarter", "year"]
PERIODS: tuple[Period, ...] = ("week", "month", "quarter", "year")
PERIOD_ZH = {"week": "周报", "month": "月报", "quarter": "季报", "year": "年报"}

# (start, end) → {"answer_15s_rate": …, "connect_24h_rate": …}; values None when unknown.
CallKpis = Callable[[AsyncSession, datetime, datetime], Awaitable[dict[str, float | None]]]


def check_start(period: Period, start: date) -> date:
    aligned = {"week": start.weekday() == 0, "month": start.day == 1,
               "quarter": start.day == 1 and start.month in (1, 4, 7, 10),
               "year": (start.month, start.day) == (1, 1)}[period]
    if not aligned:
        raise InvalidInput(f"a {period} report starts on a {'Monday' if period == 'week' else 'first day'} "
                           f"of its {period}; {start} is not one", error_id="period-start-misaligned")
    return start


def next_start(period: Period, start: date) -> date:
    if period == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def previous_start(period: Period, start: date) -> date:
    if period == "week":
        return start - timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = start.month - 1 - months
    return date(start.year + month // 12, month % 12 + 1, 1)


def current_start(period: Period, day: date) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


def last_closed_start(period: Period, now: datetime) -> date:
    """The start of the most recent period that has fully ended by ``now`` (Shanghai time)."""
    return previous_start(period, current_start(period, now.astimezone(SHANGHAI).date()))


def bounds(period: Period, start: date) -> tuple[datetime, datetime]:
    def at(d: date) -> datetime:
        return datetime.combine(d, time(0), SHANGHAI)

    return at(start), at(next_start(period, start))


def _category_zh(slug: str) -> str:
    from gateway.policies import Category

    try:
        return Category(slug).zh
    except ValueError:
        return slug


def _rates(figures: list[Any]) -> dict[str, Any]:
    total = {name: Rate() for name in ("sign_on_time", "on_time", "satisfied", "reopened", "returned", "extended",
                                       "closed")}
    for f in figures:
        for name, rate in total.items():
            c = getattr(f, name)
            rate.numerator += c.numerator
            rate.denominator += c.denominator
    return {f"{name}_rate": rate.rate for name, rate in total.items()} | {
        f"{name}_count": [rate.numerator, rate.denominator] for name, rate in total.items()}


class ReportBuilder:
    def __init__(self, *, platform_id: str, level: str, excluded_categories: list[str],
                 call_kpis: CallKpis | None = None) -> None:
        self.platform_id = platform_id
        self.level = level
        self.excluded = excluded_categories
        self.call_kpis = call_kpis

    @staticmethod
    async def _topics(session: AsyncSession, tickets: list[Ticket]) -> tuple[Counter[str], dict[str, list[str]]]:
        """热点话题 as matters (counts of every ticket's matter) and the issues as matters in places (named
        and numbered from non-confidential tickets only: a place is content). What the hot-issue worker
        read (``ticket_matters``); a ticket it has not read yet (seconds old) is not counted yet."""
        confidential = {t.id for t in tickets if t.confidential}
        matters: Counter[str] = Counter()
        issues: dict[str, list[str]] = {}
        ids = [t.id for t in tickets]
        for chunk in range(0, len(ids), 500):
            for m in await session.scalars(select(TicketMatter).where(
                    TicketMatter.ticket_id.in_(ids[chunk:chunk + 500]))):
                matters[m.matter_name] += 1
                if m.ticket_id not in confidential:
                    issues.setdefault(cluster_name(m.place_label, m.matter_name), []).append(m.number)
        return matters, issues

    async def _tickets(self, session: AsyncSession, start: datetime, end: datetime,
                       unit: str | None, territory: str | None) -> list[Ticket]:
        query = select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end)
        if unit:
            query = query.where(Ticket.id.in_(select(Assignment.ticket_id).where(Assignment.unit_id == unit)))
        if territory:
            query = query.where(territory_clause(territory))
        return list(await session.scalars(query.order_by(Ticket.created_at)))

    async def build(self, session: AsyncSession, period: Period, start_day: date, now: datetime,
                    unit: str | None = None, territory: str | None = None) -> dict[str, Any]:
        """The platform's report, a unit's (its tickets only) or a remote seat's (its territory's only).
        Topic words and summaries never come from a confidential ticket (``views.summary_texts``)."""
        check_start(period, start_day)
        start, end = bounds(period, start_day)
        prev_start, _ = bounds(period, previous_start(period, start_day))
        scope = Audience("unit", unit, territory) if unit else Audience("agent", "report", territory)
        tickets = await self._tickets(session, start, end, unit, territory)
        previous = await self._tickets(session, prev_start, start, unit, territory)
        topics, issues = await self._topics(session, tickets)
        _, previous_issues = await self._topics(session, previous)
        top = sorted(issues.items(), key=lambda item: (-len(item[1]), item[0]))[:10]

        daily: Counter[str] = Counter(t.created_at.astimezone(SHANGHAI).strftime("%m-%d") for t in tickets)
        days, day = [], start
        while day < end and day <= max(now, start):
            label = day.astimezone(SHANGHAI).strftime("%m-%d")
            days.append([label, daily.get(label, 0)])
            day += timedelta(days=1)

        figures = await ticket_statistics(session, start, end, now, by=["unit"], unit_id=unit,
                                          excluded_categories=self.excluded, where=ticket_filter(scope))
        calls = await self.call_kpis(session, start, end) if self.call_kpis else {}
        overdue = await self._overdue(session, now, unit, territory)
        hotspots = list(await session.scalars(select(HotspotWarning).where(
            HotspotWarning.created_at >= start, HotspotWarning.created_at < end).order_by(HotspotWarning.count.desc())))
        members = await members_of(session, hotspots)
        if unit or territory:  # a unit's or a seat's report: the warnings about its own tickets only
            seen = set(await visible_numbers(session, scope, [n for numbers in members.values() for n in numbers]))
            hotspots = [w for w in hotspots if seen & set(members[w.id])]
        children = await self._children(session, start, end) if unit is None and territory is None else []

        return {
            "title": f"{self.platform_id} {PERIOD_ZH[period]} {start_day.isoformat()}" + (f" · {unit}" if unit else ""),
            "platform": {"id": self.platform_id, "level": self.level}, "unit": unit,
            "period": period, "start": start_day.isoformat(), "end": next_start(period, start_day).isoformat(),
            "generated_at": now,
            "volumes": {
                "total": len(tickets), "previous_total": len(previous),
                "by_channel": Counter(t.channel for t in tickets).most_common(),
                "by_category": Counter(_category_zh(t.category) for t in tickets).most_common(),
                "by_topic": topics.most_common(15),
                "daily": days,
            },
            "kpis": {"answer_15s_rate": calls.get("answer_15s_rate"),
                     "connect_24h_rate": calls.get("connect_24h_rate"),
                     "call_kpis_source": "calls" if self.call_kpis else None, **_rates(figures)},
            "top_issues": [{"topic": name, "count": len(numbers), "previous": len(previous_issues.get(name, [])),
                            "trend": len(numbers) - len(previous_issues.get(name, [])), "tickets": numbers[:20]}
                           for name, numbers in top],
            "hotspots": [{"id": w.id, "category": w.category, "place": w.place, "count": w.count,
                          "summary": w.summary, "matter": w.matter_code, "unit": w.unit_id,
                          "first_at": w.first_at} for w in hotspots],
            "overdue": overdue,
            "children": children,
        }

    async def _overdue(self, session: AsyncSession, now: datetime, unit: str | None,
                       territory: str | None) -> list[dict[str, Any]]:
        query = select(Ticket).where(Ticket.status.in_([s.value for s in OPEN]), Ticket.due_at < now,
                                     or_(Ticket.replied_at.is_(None), Ticket.replied_at > Ticket.due_at))
        if unit:
            query = query.where(Ticket.lead_unit_id == unit)
        if territory:
            query = query.where(territory_clause(territory))
        rows = list(await session.scalars(query.order_by(Ticket.due_at).limit(500)))
        return [{"number": t.number, "unit": t.lead_unit_id, "category": t.category, "status": t.status,
                 "due_at": t.due_at, "days_overdue": round((now - t.due_at).total_seconds() / 86400, 1),
                 "summary": None if t.confidential else t.content[:60]} for t in rows if t.due_at is not None]

    async def _children(self, session: AsyncSession, start: datetime, end: datetime) -> list[dict[str, Any]]:
        rows = list(await session.scalars(select(MirroredTicket).where(
            MirroredTicket.created_at >= start, MirroredTicket.created_at < end)))
        by_peer: dict[str, list[MirroredTicket]] = {}
        for r in rows:
            by_peer.setdefault(r.peer, []).append(r)
        return [{"peer": peer, "tickets": len(items),
                 "closed": sum(1 for r in items if r.status in ("closed", "terminated")),
                 "by_channel": Counter(r.channel for r in items).most_common()}
                for peer, items in sorted(by_peer.items())]
