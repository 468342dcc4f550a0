"""The composition root: builds every shared client once, wires the capabilities, owns start/stop.

Nothing else in the code base creates engines, AMI connections, ASR pools or KB indexes; they are made
here and handed to the capabilities through ``web.AppKey`` entries. Start/stop order is the order of
``cleanup_ctx``: the database first, the things that use it after, torn down in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import text

from gateway.appkeys import (
    ADVISORIES,
    BUS,
    CALENDAR,
    CLOCK,
    ENGINE,
    POLICY,
    READINESS,
    SESSIONS,
    SETTINGS,
    SWITCHED_OFF,
)
from gateway.attachments import http as attachments_http
from gateway.auth.middleware import LIMITER, OPERATOR_SCOPE, TOKENS, FailedAuthLimiter, auth_middleware
from gateway.auth.tokens import TokenStore
from gateway.bus import EventBus
from gateway.calls import recordings as call_recordings
from gateway.calls import setup as setup_calls
from gateway.channels.wiring import setup as setup_channels
from gateway.config import Settings
from gateway.consoles import setup as setup_consoles
from gateway.db import create_engine, session_factory, upgrade, utcnow
from gateway.db.engine import create_read_engine
from gateway.db.unit_of_work import Sessions
from gateway.federation.wiring import setup as setup_federation
from gateway.forecast import setup as setup_forecast
from gateway.gauges import OPERATOR_GAUGES, OperatorGauges
from gateway.http import openapi
from gateway.http.api import ACTOR_KEY, API_PREFIX
from gateway.http.errors import Handler, error_middleware, note_response_started
from gateway.http.idempotency import (
    SESSIONS_FOR_IDEMPOTENCY,
    forget_old_idempotency_records,
    idempotency_middleware,
)
from gateway.http.jsonio import json_response
from gateway.leadership import LEADERSHIP, leadership_ctx
from gateway.leadership import setup as setup_leadership
from gateway.leadership.forward import leader_forwarding
from gateway.metrics import METRICS, Metrics, metrics_handler, metrics_middleware
from gateway.policies import load_pack
from gateway.quality import setup as setup_quality
from gateway.reports.wiring import setup as setup_reports
from gateway.sms.keys import SMS
from gateway.sms.wiring import setup as setup_sms
from gateway.speech.service import speech_context
from gateway.surveys.service import SURVEYS, SurveyService
from gateway.tickets import http as tickets_http
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.notify import UnitNotifier
from gateway.tickets.service import TicketService
from gateway.tickets.sla import SlaClock
from gateway.timers import TIMERS, Timers, timers_ctx
from gateway.understanding.http import setup as setup_understanding
from gateway.understanding.shared import UNDERSTANDING, SharedUnderstanding
from gateway.webhooks.keys import WEBHOOKS
from gateway.webhooks.wiring import setup as setup_webhooks
from gateway.workcalendar import WorkCalendar
from ivr.live_text import LiveDescriptionText
from ivr.service import DESCRIPTION_TEXT, ivr_context
from kb.appkeys import KB_QUESTION_CLOCK
from kb.deadline import calendar_clock
from kb.http import setup as setup_kb

log = logging.getLogger(__name__)

WS_PATH = "/api/v1/ws"


def create_app(settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> web.Application:
    """``clock`` is the gateway's notion of now; tests pass a controllable one."""
    app = web.Application(
        middlewares=[metrics_middleware, error_middleware, auth_middleware, leader_forwarding,
                     idempotency_middleware, read_pool_middleware],
        client_max_size=settings.http.max_body_bytes,
    )
    app.on_response_prepare.append(note_response_started)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[BUS] = EventBus()
    app[READINESS] = {}
    app[SWITCHED_OFF] = {}
    app[ADVISORIES] = {"calendar": lambda: calendar_advisory(app[CALENDAR], app[CLOCK]())}
    app[METRICS] = Metrics()
    app[OPERATOR_GAUGES] = OperatorGauges(app, app[METRICS].registry)
    app[LIMITER] = FailedAuthLimiter()
    # Policy and calendar load before anything listens: a broken pack stops start-up with its message.
    app[POLICY] = load_pack(settings.policy)
    app[CALENDAR] = WorkCalendar.for_pack(app[POLICY], settings.calendar_overrides)
    app[BUS].subscribe("ticket.", app[METRICS].on_event)

    app[TIMERS] = Timers(settings.timer_interval)
    app[UNDERSTANDING] = SharedUnderstanding.for_deployment(settings.data_dir, settings.timezone)  # one copy
    setup_leadership(app, app[METRICS].registry)  # SQLite: the single-instance lock, before the database
    if (leadership := app.get(LEADERSHIP)) is not None:
        app[TIMERS].gate = lambda: leadership.is_leader
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(tickets)
    setup_calls(app)
    setup_webhooks(app, app[METRICS].registry)
    setup_sms(app, app[METRICS].registry)
    app.cleanup_ctx.append(follow_up)
    app.cleanup_ctx.append(speech_context)
    setup_federation(app, app[METRICS].registry)
    setup_channels(app)
    setup_reports(app)
    setup_forecast(app)
    setup_understanding(app)
    setup_quality(app)
    app[KB_QUESTION_CLOCK] = calendar_clock(app[POLICY], app[CALENDAR])
    setup_kb(app)
    if settings.ivr.enabled and settings.speech.model_path is not None:  # live ASR text for the voice entry
        app[DESCRIPTION_TEXT] = LiveDescriptionText(app[BUS])
    setup_consoles(app)
    if settings.ivr.enabled:
        app.cleanup_ctx.append(ivr_context(settings, app[POLICY]))
    else:
        app[SWITCHED_OFF]["ivr"] = "ivr.enabled = false"
    app.cleanup_ctx.append(leadership_ctx)  # elects once every capability has registered its callbacks
    app.cleanup_ctx.append(timers_ctx)  # last: its jobs use everything above
    if (advice := calendar_advisory(app[CALENDAR], clock())) is not None:
        log.warning("%s", advice)
    app.router.add_get("/", to_consoles)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    openapi.setup(app)
    tickets_http.setup(app)
    attachments_http.setup(app)
    call_recordings.setup(app)
    return app


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    connect_args = {"server_settings": {"search_path": settings.db.search_path}} if settings.db.search_path else None
    engine = create_engine(settings.database_url, echo=settings.db.echo, pool_size=settings.db.pool_size,
                           connect_args=connect_args, sqlite_on_loop=settings.db.sqlite_statements_on_loop)
    await upgrade(engine)
    app[ENGINE] = engine
    # After the upgrade: it reads the schema as it is now.
    reader = create_read_engine(settings.database_url, pool_size=settings.db.sqlite_read_pool)
    sessions = session_factory(engine, reader)
    app[SESSIONS] = sessions
    app[SESSIONS_FOR_IDEMPOTENCY] = sessions  # also joins each keyed request's writes into one transaction
    tokens = app[TOKENS] = TokenStore(app[SESSIONS])
    app[TIMERS].add("token-last-used", tokens.flush_last_used)
    app[TIMERS].add("idempotency-forget", lambda: forget_old_idempotency_records(sessions))
    listener = (asyncio.create_task(tokens.listen_for_revocations(engine), name="token-revocations")
                if engine.dialect.name == "postgresql" else None)

    async def probe() -> str | None:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not ready"; say which
            return f"database unreachable: {exc.__class__.__name__}"
        return None

    app[READINESS]["database"] = probe
    log.info("database ready (%s)", engine.url.render_as_string(hide_password=True))
    yield
    if listener is not None:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    with contextlib.suppress(Exception):  # the last uses are bookkeeping: never block a shutdown on them
        await tokens.flush_last_used()
    if reader is not None:
        await reader.dispose()
    await engine.dispose()


async def tickets(app: web.Application) -> AsyncIterator[None]:
    service = app[TICKETS] = TicketService(app[SESSIONS], SlaClock(app[POLICY], app[CALENDAR]), app[BUS],
                                           app[CLOCK])
    app[TIMERS].add("deem-signed", service.deem_signed_overdue, leader_only=True)
    app[TIMERS].add("sla-escalation", service.escalate_warnings, leader_only=True)
    yield


async def follow_up(app: web.Application) -> AsyncIterator[None]:
    """What happens after a transition: units hear about it (webhooks), citizens are surveyed (SMS)."""
    service = app[TICKETS]
    service.hooks.append(UnitNotifier(app[WEBHOOKS]))
    surveys = app[SURVEYS] = SurveyService(service, app[SMS].queue, clock=app[CLOCK])
    timers = app[TIMERS]
    timers.add("surveys-open", surveys.open_pending)
    timers.add("surveys-replies", lambda: surveys.process_inbound(app[SMS]))
    timers.add("surveys-expire", surveys.expire_overdue)
    unsubscribe = [app[BUS].subscribe("ticket.approve_reply", lambda _e: timers.nudge()),
                   app[BUS].subscribe("ticket.resolve_on_call", lambda _e: timers.nudge()),
                   app[BUS].subscribe("sms.received", lambda _e: timers.nudge())]
    yield
    for stop in unsubscribe:
        stop()


@web.middleware
async def read_pool_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A GET under /api reads from SQLite's read pool (gateway/db/engine.py:create_read_engine), beside the
    one writer; the console websocket (also a GET) lives long and writes, so it keeps the writer."""
    if request.method not in ("GET", "HEAD") or not request.path.startswith(API_PREFIX) or request.path == WS_PATH:
        return await handler(request)
    sessions = request.app[SESSIONS]
    if not isinstance(sessions, Sessions):
        return await handler(request)
    with sessions.reading():
        return await handler(request)


async def to_consoles(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "alive"})


# Without these the instance cannot serve at all; any other check failing leaves it "degraded": it keeps
# serving what it can (a PBX link that is down does not stop units working their tickets).
CRITICAL_CHECKS = frozenset({"database"})


async def readyz(request: web.Request) -> web.Response:
    """Everyone (load balancers, orchestrators) gets the verdict and its status code; only an admin token
    with the "ops" scope gets the checks and advisories, whose texts describe the installation."""
    problems = {}
    for name, probe in request.app[READINESS].items():
        problem = await probe()
        if problem:
            problems[name] = problem
    critical = CRITICAL_CHECKS & problems.keys()
    status = "not-ready" if critical else "degraded" if problems else "ready"
    actor = request.get(ACTOR_KEY)
    if actor is None or actor.kind != "admin" or not actor.allows(OPERATOR_SCOPE):
        public: dict[str, object] = {"status": status}
        if (leadership := request.app.get(LEADERSHIP)) is not None:  # role and term only, no host names
            public |= {k: v for k, v in leadership.describe().items() if k in ("role", "term", "in_control")}
        return json_response(public, status=503 if critical else 200)
    checks = {name: f"off: {why}" for name, why in request.app[SWITCHED_OFF].items()}
    checks |= {name: problems.get(name, "ok") for name in request.app[READINESS]}
    body: dict[str, object] = {"status": status, "checks": checks}
    if (leadership := request.app.get(LEADERSHIP)) is not None:
        body["leadership"] = leadership.describe()  # role (leader/standby), term, which instance leads
    advisories = {name: text for name, check in request.app[ADVISORIES].items() if (text := check())}
    if advisories:
        body["advisories"] = advisories
    return json_response(body, status=503 if critical else 200)


def calendar_advisory(calendar: WorkCalendar, now: datetime, horizon: timedelta = timedelta(days=60)) -> str | None:
    """Deadlines reach weeks ahead: warn well before they cross into a year without holiday data."""
    year = (now + horizon).year
    if calendar.covers(year):
        return None
    return (f"the working calendar has no holiday data for {year}: deadlines reaching into {year} cannot be "
            f"computed and dispatch will be refused; add the State Council's {year} schedule to the "
            f"calendar overrides file (setting calendar_overrides, full_years = [{year}])")
