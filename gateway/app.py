"""The composition root: builds every shared client once, wires the capabilities, owns start/stop.

Nothing else in the code base creates engines, AMI connections, ASR pools or KB indexes; they are made
here and handed to the capabilities through ``web.AppKey`` entries. Start/stop order is the order of
``cleanup_ctx``: the database first, the things that use it after, torn down in reverse.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy import text

from gateway.appkeys import BUS, ENGINE, READINESS, SESSIONS, SETTINGS
from gateway.bus import EventBus
from gateway.calls import setup as setup_calls
from gateway.config import Settings
from gateway.db import create_engine, session_factory, upgrade
from gateway.http.errors import error_middleware
from gateway.http.jsonio import json_response

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=settings.http.max_body_bytes)
    app[SETTINGS] = settings
    app[BUS] = EventBus()
    app[READINESS] = {}
    app.cleanup_ctx.append(database)
    setup_calls(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url, echo=settings.db.echo, pool_size=settings.db.pool_size)
    await upgrade(engine)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)

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
    await engine.dispose()


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    problems = {}
    for name, probe in request.app[READINESS].items():
        problem = await probe()
        if problem:
            problems[name] = problem
    status = 503 if problems else 200
    body = {"status": "not-ready" if problems else "ready", "checks": {
        name: problems.get(name, "ok") for name in request.app[READINESS]}}
    return json_response(body, status=status)
