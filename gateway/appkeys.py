"""Typed keys for what the composition root puts on the aiohttp application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.bus import EventBus
from gateway.config import Settings

# A readiness probe answers None when healthy, or a plain sentence saying what is wrong.
ReadinessProbe = Callable[[], Awaitable[str | None]]

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
BUS = web.AppKey("bus", EventBus)
READINESS = web.AppKey("readiness", dict[str, ReadinessProbe])
# Capabilities switched off by configuration, with why: /readyz shows them as "off: …", not as problems.
SWITCHED_OFF = web.AppKey("switched_off", dict[str, str])
# Advisories: things an operator must act on soon that do not stop serving (shown by /readyz).
ADVISORIES = web.AppKey("advisories", dict[str, Callable[[], str | None]])

# Imported late to keep this module cheap for capabilities that only need the basics.
from gateway.policies import PolicyPack  # noqa: E402
from gateway.workcalendar import WorkCalendar  # noqa: E402

POLICY = web.AppKey("policy", PolicyPack)
CALENDAR = web.AppKey("calendar", WorkCalendar)
