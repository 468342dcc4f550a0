"""Typed keys for what the composition root puts on the aiohttp application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.bus import EventBus
from gateway.config import Settings

# A readiness probe answers None when healthy, or a plain sentence saying what is wrong.
ReadinessProbe = Callable[[], Awaitable[str | None]]

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
BUS = web.AppKey("bus", EventBus)
READINESS = web.AppKey("readiness", dict[str, ReadinessProbe])

# Prometheus metrics of this process; capabilities register their collectors on it (/metrics serves it).
METRICS = web.AppKey("metrics", CollectorRegistry)
