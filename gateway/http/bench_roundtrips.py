"""``hotline bench roundtrips``: database round trips, commits and pool checkouts per request, one request at a
time, for the request paths that matter (issue 17: one request = one transaction = one commit).

Counted with SQLAlchemy's engine events on the app's own engine, so what is counted is what production does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import event

from gateway.app import create_app
from gateway.appkeys import ENGINE, SESSIONS
from gateway.auth.middleware import TOKENS
from gateway.config import load_settings
from gateway.db.scratch import scratch_schema
from gateway.db.unit_of_work import Sessions
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.lifecycle import Actor
from gateway.tickets.schemas import ActorRef, NewTicket

AGENT = ActorRef(Actor.AGENT, "bench")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("roundtrips", help="database round trips and commits per request (SQLite, PostgreSQL)")
    p.add_argument("--pg-url", help="PostgreSQL URL (default: $HOTLINE_TEST_PG_URL; skipped if unset)")
    p.set_defaults(func=run)


@dataclass
class Counts:
    statements: int = 0
    commits: int = 0
    checkouts: int = 0

    def reset(self) -> None:
        self.statements = self.commits = self.checkouts = 0


def run(args: argparse.Namespace) -> int:
    pg = args.pg_url or os.environ.get("HOTLINE_TEST_PG_URL")
    print(f"{'engine':<11} {'request':<34} {'statements':>10} {'commits':>8} {'checkouts':>9}")
    for name, url in (("sqlite", None), ("postgresql", pg)):
        if name == "postgresql" and not url:
            print("postgresql  skipped: give --pg-url or set HOTLINE_TEST_PG_URL")
            continue
        for label, counts in asyncio.run(measure(url)):
            print(f"{name:<11} {label:<34} {counts.statements:>10} {counts.commits:>8} {counts.checkouts:>9}")
    return 0


async def measure(pg_url: str | None) -> list[tuple[str, Counts]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings: dict[str, Any] = {"data_dir": Path(tmp), "policy": "qingyang", "timer_interval": 3600,
                                "ivr": {"enabled": False}}
        if pg_url is None:
            return await _measure(settings)
        async with scratch_schema(pg_url, "bench") as schema:
            return await _measure({**settings, "db": {"url": pg_url, "search_path": schema}})


async def _measure(settings: dict[str, Any]) -> list[tuple[str, Counts]]:
    from aiohttp.test_utils import TestServer

    app = create_app(load_settings(**settings))
    server = TestServer(app)
    await server.start_server()
    results: list[tuple[str, Counts]] = []
    try:
        engine = app[ENGINE].sync_engine
        counts = Counts()

        def statement(*_a: Any) -> None:
            counts.statements += 1

        def commit(*_a: Any) -> None:
            counts.commits += 1

        def checkout(*_a: Any) -> None:
            counts.checkouts += 1

        sessions = app[SESSIONS]
        reader = sessions.reader if isinstance(sessions, Sessions) else None  # SQLite's read pool (GETs)
        for one in (engine, reader.sync_engine) if reader is not None else (engine,):
            event.listen(one, "before_cursor_execute", statement)
            event.listen(one, "commit", commit)
            event.listen(one.pool, "checkout", checkout)
        service = app[TICKETS]
        await service.add_unit("bench-unit", "压测单位")
        _, agent = await app[TOKENS].create("agent", "bench")
        _, unit = await app[TOKENS].create("unit", "bench-unit")
        numbers = []
        for _ in range(3):
            t = await service.create(NewTicket(category="complaint", content="幸福路路灯坏了"), AGENT)
            await service.accept(t.number, AGENT)
            await service.dispatch(t.number, AGENT, "bench-unit")
            numbers.append(t.number)
        base = str(server.make_url(""))
        key = iter(range(1_000_000))

        async with aiohttp.ClientSession() as http:
            def post(path: str, token: str, body: object) -> Callable[[], Awaitable[int]]:
                async def go() -> int:
                    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"k{next(key)}"}
                    async with http.post(base + path, json=body, headers=headers) as r:
                        await r.read()
                        return r.status
                return go

            def get(path: str, token: str | None) -> Callable[[], Awaitable[int]]:
                async def go() -> int:
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    async with http.get(base + path, headers=headers) as r:
                        await r.read()
                        return r.status
                return go

            paths: list[tuple[str, Callable[[], Awaitable[int]]]] = [
                ("POST /api/v1/tickets", post("/api/v1/tickets", agent,
                                              {"category": "complaint", "content": "幸福路路灯坏了"})),
                ("POST …/sign (unit)", post(f"/api/v1/tickets/{numbers[0]}/sign", unit, None)),
                ("POST …/reply (unit)", post(f"/api/v1/tickets/{numbers[0]}/reply", unit, {"text": "已处理完毕"})),
                ("GET /api/v1/tickets?limit=20", get("/api/v1/tickets?limit=20", agent)),
                ("GET /healthz", get("/healthz", None)),
            ]
            await asyncio.sleep(1.0)  # start-up jobs (reports, pruning) finish before counting
            await paths[3][1]()  # warm: the first request of a token may load it
            for label, request in paths:
                counts.reset()
                status = await request()
                if status >= 400:
                    raise RuntimeError(f"{label} answered {status}")
                results.append((label, Counts(counts.statements, counts.commits, counts.checkouts)))
    finally:
        await server.close()
    return results
