"""``hotline bench http``: the request paths of issue 17 over HTTP at concurrency 8, each beside a baseline
doing the same work minus the product, in the same run, on the same engine:

- ``POST /api/v1/tickets`` (agent token, ``Idempotency-Key``: the one-transaction path the consoles use)
  beside a bare SQLAlchemy ORM insert + commit of one row, same concurrency, same engine kind, no HTTP.
- ``GET /api/v1/tickets?limit=20`` beside a bare aiohttp handler that runs the very statements the product
  ran for that request (recorded with the engine's events) on the same engine and returns the rows as JSON.
- ``GET /healthz`` beside a bare aiohttp JSON hello.

The per-token listing budget (an anti-scraping limit, ``http.listing_rate_per_second``) is raised for the
run: the figure is the gateway's capacity, not the budget.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import String, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.app import create_app
from gateway.appkeys import ENGINE
from gateway.auth.middleware import TOKENS
from gateway.config import load_settings
from gateway.db import create_engine
from gateway.db.scratch import scratch_schema, search_path_args
from gateway.http.loadgen import Call, call_here, drive
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.bench_api import Stats, _drive, _serve, _stats, steady
from gateway.tickets.lifecycle import Actor
from gateway.tickets.schemas import ActorRef, NewTicket

AGENT = ActorRef(Actor.AGENT, "bench")
NEW = {"category": "complaint", "content": "幸福路路灯坏了，晚上一片漆黑", "caller_number": "13800138000"}
Request = Callable[[aiohttp.ClientSession], Awaitable[int]]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("http", help="POST ticket, GET list, /healthz over HTTP vs same-work baselines")
    p.add_argument("--requests", type=int, default=1000, help="requests per path")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    p.add_argument("--pg-url", help="PostgreSQL URL (default: $HOTLINE_TEST_PG_URL; skipped if unset)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = measure_all(args.pg_url or os.environ.get("HOTLINE_TEST_PG_URL"), args.requests, args.concurrency)
    print_rows(rows)
    getattr(args, "collected", []).extend(rows)
    return 0


Row = tuple[str, str, Stats, Stats | None]  # engine, path, product, baseline


def print_rows(rows: list[Row]) -> None:
    print(f"{'engine':<11} {'path':<30} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}   baseline req/s, p99 ms")
    for engine, path, product, base in rows:
        print(f"{engine:<11} {path:<30} {product[1]:>8.0f} {product[2]:>7.2f} {product[3]:>7.2f}   "
              f"{base[1]:.0f}/s, {base[3]:.2f} ms, ratio {product[1] / base[1]:.2f}" if base else "")


def measure_all(pg_url: str | None, n: int, concurrency: int) -> list[Row]:
    rows: list[Row] = []
    for name, url in (("sqlite", None), ("postgresql", pg_url)):
        if name == "postgresql" and not url:
            print("postgresql: skipped (give --pg-url or set HOTLINE_TEST_PG_URL)")
            continue
        rows += [(name, *r) for r in asyncio.run(_on_engine(url, n, concurrency))]
    return rows


async def _on_engine(pg_url: str | None, n: int, concurrency: int) -> list[tuple[str, Stats, Stats | None]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings: dict[str, Any] = {"data_dir": Path(tmp), "policy": "qingyang", "timer_interval": 3600,
                                    "ivr": {"enabled": False},
                                    "http": {"listing_rate_per_second": 1e9, "listing_burst": 1_000_000_000}}
        if pg_url is None:
            bare = await _bare_inserts(f"sqlite+aiosqlite:///{Path(tmp) / 'bare.sqlite3'}", None, n, concurrency)
            return await _product(settings, n, concurrency, bare)
        async with scratch_schema(pg_url, "bench") as schema:
            bare = await _bare_inserts(pg_url, schema, n, concurrency)
            return await _product({**settings, "db": {"url": pg_url, "search_path": schema}}, n, concurrency, bare)


class _Base(DeclarativeBase):
    pass


class _BareTicket(_Base):
    __tablename__ = "bench_bare_tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    content: Mapped[str] = mapped_column(String(2000))
    caller_number: Mapped[str] = mapped_column(String(20))


async def _bare_inserts(url: str, schema: str | None, n: int, concurrency: int) -> Stats:
    """The issue's baseline for creating a ticket: an ORM insert + commit per request, c=8, same engine."""
    engine = create_engine(url, connect_args=search_path_args(schema))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_Base.metadata.create_all)
        sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

        def insert() -> Request:
            async def go(_http: aiohttp.ClientSession) -> int:
                async with sessions() as session, session.begin():
                    session.add(_BareTicket(category=NEW["category"], content=NEW["content"],
                                            caller_number=NEW["caller_number"]))
                return 200
            return go
        return _stats(*await _drive([insert() for _ in range(n)], concurrency))
    finally:
        await engine.dispose()


async def _product(settings: dict[str, Any], n: int, concurrency: int,
                   bare_insert: Stats) -> list[tuple[str, Stats, Stats | None]]:
    app = create_app(load_settings(**settings))
    runner, base = await _serve(app)
    try:
        await app[TICKETS].add_unit("bench-unit", "压测单位")
        _, token = await app[TOKENS].create("agent", "bench")
        headers = {"Authorization": f"Bearer {token}"}
        for _ in range(20):  # a full first page to list
            await app[TICKETS].create(NewTicket.model_validate(NEW), AGENT)

        def get(path: str, auth: bool = True) -> Call:
            return Call("GET", base + path, headers if auth else {})

        def create(i: int) -> Call:
            return Call("POST", base + "/api/v1/tickets", {**headers, "Idempotency-Key": f"bench-{i}"}, NEW)

        await steady(app)
        list_path = "/api/v1/tickets?limit=20"
        statements = await _recorded(app[ENGINE], get(list_path))
        healthz = _stats(*await drive([get("/healthz", False) for _ in range(n)], concurrency))
        bare_healthz = await _bare_app(None, n, concurrency)
        listing = _stats(*await drive([get(list_path) for _ in range(n)], concurrency))
        bare_listing = await _bare_app((app[ENGINE], statements), n, concurrency)
        created = _stats(*await drive([create(i) for i in range(n)], concurrency))
    finally:
        await runner.cleanup()
    return [("POST /api/v1/tickets (key)", created, bare_insert),
            ("GET /api/v1/tickets?limit=20", listing, bare_listing),
            ("GET /healthz", healthz, bare_healthz)]


async def _recorded(engine: AsyncEngine, request: Call) -> list[tuple[str, Any]]:
    """The statements (with their parameters) the product sends for one request."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        if await call_here(request) >= 400:
            raise RuntimeError("the request to record failed")
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def _bare_app(sql: tuple[AsyncEngine, list[tuple[str, Any]]] | None, n: int, concurrency: int) -> Stats:
    """A bare aiohttp app: a JSON hello, or the recorded statements run on the same engine, rows as JSON."""
    async def handler(_request: web.Request) -> web.Response:
        if sql is None:
            return web.json_response({"status": "alive"})
        engine, statements = sql
        rows: list[list[Any]] = []
        async with engine.connect() as conn:
            for statement, parameters in statements:
                result = await conn.exec_driver_sql(statement, parameters)
                if result.returns_rows:
                    rows += [[str(v) for v in row] for row in result]
        return web.json_response({"items": rows})

    bare = web.Application()
    bare.router.add_get("/x", handler)
    runner, base = await _serve(bare)
    try:
        return _stats(*await drive([Call("GET", base + "/x") for _ in range(n)], concurrency))
    finally:
        await runner.cleanup()
