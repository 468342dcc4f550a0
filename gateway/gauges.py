"""The gauges an operator pages on, computed when /metrics is scraped (see deploy/hotline-alerts.yml).

Each source's values are cached for ``ttl`` of the gateway's clock (10 s): however many Prometheus
servers or curious people scrape, the database sees one query per source per ``ttl``, and concurrent
scrapes wait for the same refresh. The open tickets' SLA levels are the exception: working-time
arithmetic costs about 0.1 ms per ticket (Python, holding the GIL even in a thread), so with ten
thousand tickets under the clock they are recomputed once a minute (``TICKETS_TTL``); levels move over
hours, and the alerts wait minutes. A source that fails (the database is down) is left out of the
exposition — an absent series, not a made-up zero — and counted in ``hotline_metrics_source_errors_total``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from gateway.appkeys import CALENDAR, CLOCK, SESSIONS, SETTINGS
from gateway.calls.models import AgentRecord
from gateway.calls.service import CALLS
from gateway.consoles.boards import waiting_calls
from gateway.db.base import utcnow
from gateway.leadership.keys import LEADERSHIP
from gateway.sms.models import SmsMessage
from gateway.speech.service import SPEECH
from gateway.surveys.models import Survey
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.lifecycle import HANDLING
from gateway.tickets.models import Ticket
from gateway.tickets.sla import SlaClock, SlaState
from gateway.webhooks.models import WebhookDelivery, WebhookEndpoint
from gateway.webhooks.outbox import WAITING, OutboxColumns
from gateway.workcalendar import WorkCalendar

log = logging.getLogger(__name__)

AGENT_STATES = ("logged_out", "available", "paused", "wrapup")  # gateway/calls/models.py
SLA_LEVELS = ("normal", "yellow", "red", "overdue")
SURVEY_PENDING = "pending"
TICKETS_TTL = timedelta(seconds=60)
# What SlaClock.state reads of a ticket (plus its assignments): not the texts, which can be long.
SLA_COLUMNS = (Ticket.category, Ticket.urgent, Ticket.provincial, Ticket.reopen_count, Ticket.dispatched_at,
               Ticket.clock_started_at, Ticket.sign_by, Ticket.signed_at, Ticket.due_at, Ticket.max_due_at,
               Ticket.replied_at, Ticket.closed_at)
CALENDAR_LOOKAHEAD_YEARS = 50  # far beyond any holiday data anyone publishes


async def oldest_undelivered_by_endpoint(session: AsyncSession, now: datetime) -> dict[str, float]:
    """Every active webhook endpoint → age in seconds of its oldest delivery not delivered (0 if none)."""
    d = WebhookDelivery
    rows = await session.execute(
        select(d.endpoint_id, func.min(d.created_at)).where(d.status != d.DONE_STATUS).group_by(d.endpoint_id))
    oldest = {endpoint: created for endpoint, created in rows}
    active = await session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True)))
    return {endpoint: max(0.0, (now - oldest[endpoint]).total_seconds()) if endpoint in oldest else 0.0
            for endpoint in active}


@dataclass(frozen=True, slots=True)
class Gauge:
    name: str
    help: str
    samples: tuple[tuple[dict[str, str], float], ...]  # (labels, value); every sample has the same labels

    def family(self) -> GaugeMetricFamily:
        labels = sorted(self.samples[0][0]) if self.samples else []
        family = GaugeMetricFamily(self.name, self.help, labels=labels)
        for sample_labels, value in self.samples:
            family.add_metric([sample_labels[k] for k in labels], value)
        return family


def gauge(name: str, help: str, value: float) -> Gauge:
    return Gauge(name, help, (({}, value),))


def by_label(name: str, help: str, label: str, values: dict[str, float]) -> Gauge:
    return Gauge(name, help, tuple(({label: key}, value) for key, value in sorted(values.items())))


# ---- what each gauge means -----------------------------------------------------------------------------


def sla_bucket(state: SlaState) -> str:
    """One bucket per ticket: overdue once its handling deadline has passed; otherwise the worst level of
    its clocks (red then means the sign-by limit passed unsigned; yellow, most of a limit used)."""
    if state.handling_level == "red":
        return "overdue"
    return state.level


def tickets_by_sla_level(sla: SlaClock, tickets: Iterable[Ticket], now: datetime) -> dict[str, float]:
    counts = Tally(sla_bucket(sla.state(t, now)) for t in tickets)
    return {level: float(counts[level]) for level in SLA_LEVELS}


def calendar_days_left(calendar: WorkCalendar, now: datetime) -> float:
    """Days until the end of the last year with holiday data, counted from now without a gap; negative
    once that year has ended (deadlines that reach past it cannot be computed)."""
    local = now.astimezone(calendar.tz)
    year = local.year
    if calendar.covers(year):
        while calendar.covers(year + 1) and year < local.year + CALENDAR_LOOKAHEAD_YEARS:
            year += 1
    else:
        while not calendar.covers(year) and year > local.year - CALENDAR_LOOKAHEAD_YEARS:
            year -= 1
    end = local.replace(year=year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return round((end - local).total_seconds() / 86400, 2)


async def oldest_waiting_age(session: AsyncSession, model: type[OutboxColumns], now: datetime) -> float:
    m: Any = model
    oldest = await session.scalar(select(func.min(m.created_at)).where(m.status.in_(WAITING)))
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


# ---- the collector -------------------------------------------------------------------------------------

Source = Callable[[], Awaitable[list[Gauge]]]


class OperatorGauges(Collector):
    """Registered on the app's registry; ``refresh()`` (awaited by the /metrics handler) recomputes the
    values when the cached ones are older than ``ttl``; ``collect()`` only reads them."""

    def __init__(self, app: web.Application, registry: CollectorRegistry, ttl: timedelta = timedelta(seconds=10)):
        self.app = app
        self.ttl = ttl
        self._cached: dict[str, tuple[datetime, list[Gauge]]] = {}  # source → (when computed, its gauges)
        self._lock = asyncio.Lock()
        self.errors = Counter("hotline_metrics_source_errors", "Scrape-time metric sources that failed",
                              ["source"], registry=registry)
        self.sources: dict[str, Source] = {
            "pbx": self._pbx, "asr": self._asr, "calendar": self._calendar, "queues": self._queues,
            "agents": self._agents, "tickets": self._tickets, "surveys": self._surveys,
            "outboxes": self._outboxes,
        }
        self.ttls = {"tickets": max(ttl, TICKETS_TTL)}
        registry.register(self)

    def collect(self) -> Iterator[Metric]:
        for _, gauges in self._cached.values():
            for g in gauges:
                yield g.family()

    async def refresh(self) -> None:
        async with self._lock:
            now = self.app[CLOCK]()
            for name, source in self.sources.items():
                cached = self._cached.get(name)
                # (a clock stepped back refreshes too, rather than serve stale values until it catches up)
                if cached is not None and timedelta(0) <= now - cached[0] < self.ttls.get(name, self.ttl):
                    continue
                try:
                    self._cached[name] = (now, await source())
                except Exception:  # one broken source must not hide the others (or the process metrics)
                    log.warning("metrics source %s failed", name, exc_info=True)
                    self.errors.labels(name).inc()
                    self._cached.pop(name, None)

    # ---- sources: each answers the gauges it owns --------------------------------------------------

    async def _pbx(self) -> list[Gauge]:
        if not self.app[SETTINGS].ami.enabled:
            return []  # no PBX configured: no series (an alert on "down" must not fire)
        if (leadership := self.app.get(LEADERSHIP)) is not None and not leadership.is_leader:
            return []  # a standby has no AMI link on purpose (hotline_leader says which instance leads)
        return [gauge("hotline_pbx_up", "1 when the AMI link to Asterisk is up",
                      float(self.app[CALLS].ami.problem() is None))]

    async def _asr(self) -> list[Gauge]:
        if self.app[SETTINGS].speech.model_path is None:
            return []  # live ASR not configured: no series
        speech = self.app.get(SPEECH)
        return [gauge("hotline_asr_up", "1 when the live ASR model is loaded and serving",
                      float(speech is not None and speech.problem is None))]

    async def _calendar(self) -> list[Gauge]:
        return [gauge("hotline_calendar_data_days_left",
                      "Days until the end of the last year with holiday data (negative: already past)",
                      calendar_days_left(self.app[CALENDAR], self.app[CLOCK]()))]

    async def _queues(self) -> list[Gauge]:
        calls = self.app.get(CALLS)
        waiting = waiting_calls(calls, self.app[CLOCK]()) if calls is not None else []
        count = dict.fromkeys(self.app[SETTINGS].calls.queues, 0.0)
        longest = dict.fromkeys(self.app[SETTINGS].calls.queues, 0.0)
        for w in waiting:
            count[w["queue"]] = count.get(w["queue"], 0.0) + 1
            longest[w["queue"]] = max(longest.get(w["queue"], 0.0), float(w["waiting_seconds"]))
        return [by_label("hotline_queue_callers_waiting", "Callers waiting in a queue for an agent",
                         "queue", count),
                by_label("hotline_queue_longest_wait_seconds", "How long the longest-waiting caller has waited",
                         "queue", longest)]

    async def _agents(self) -> list[Gauge]:
        async with self.app[SESSIONS]() as session:
            rows = (await session.execute(
                select(AgentRecord.state, func.count()).group_by(AgentRecord.state))).all()
        states = dict.fromkeys(AGENT_STATES, 0.0) | {state: float(n) for state, n in rows}
        return [by_label("hotline_agents", "Registered agents by state", "state", states)]

    async def _tickets(self) -> list[Gauge]:
        service = self.app[TICKETS]
        now = self.app[CLOCK]()
        async with self.app[SESSIONS]() as session:
            rows = list(await session.scalars(
                select(Ticket).options(load_only(*SLA_COLUMNS))
                .where(Ticket.status.in_([s.value for s in HANDLING]))))
        # Working-time arithmetic per ticket: CPU work, kept off the event loop.
        levels = await asyncio.to_thread(tickets_by_sla_level, service.sla, rows, now)
        return [by_label("hotline_tickets_open", "Tickets under a unit's clock (dispatched or signed) by SLA "
                         "level: overdue = handling deadline passed; red = sign-by passed unsigned; yellow = "
                         f"{service.sla.yellow_at:.0%} of a limit used", "sla_level", levels)]

    async def _surveys(self) -> list[Gauge]:
        async with self.app[SESSIONS]() as session:
            pending = await session.scalar(
                select(func.count()).select_from(Survey).where(Survey.status == SURVEY_PENDING))
        return [gauge("hotline_surveys_pending", "回访 surveys sent and waiting for the citizen's answer",
                      float(pending or 0))]

    async def _outboxes(self) -> list[Gauge]:
        now = utcnow()  # the outboxes stamp and schedule their rows on the wall clock, not the app's clock
        async with self.app[SESSIONS]() as session:
            webhooks = await oldest_waiting_age(session, WebhookDelivery, now)
            sms = await oldest_waiting_age(session, SmsMessage, now)
            per_endpoint = await oldest_undelivered_by_endpoint(session, now)
        return [gauge("hotline_webhook_backlog_oldest_seconds",
                      "Age of the oldest webhook delivery not yet delivered (pending or retrying); 0 if none",
                      webhooks),
                by_label("hotline_webhook_endpoint_oldest_undelivered_seconds",
                         "Per active endpoint, age of its oldest delivery not yet delivered (pending, retrying or "
                         "dead: a ticket's later events wait behind it); 0 if none", "endpoint", per_endpoint),
                gauge("hotline_sms_backlog_oldest_seconds",
                      "Age of the oldest SMS not yet sent (pending or retrying); 0 if none", sms)]


OPERATOR_GAUGES = web.AppKey("operator_gauges", OperatorGauges)
