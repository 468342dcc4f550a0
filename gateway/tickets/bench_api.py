"""``hotline bench api``: handling-unit callbacks over HTTP (sign + reply, each with an ``Idempotency-Key`` as
the units' clients send them) with the real store, beside a baseline doing the same work minus the product:
a bare aiohttp endpoint that, on the same engine, reads the ticket row by number, updates it with a version
check and writes an audit row in one transaction, and answers the row as JSON, driven by the same client in
the same run. The ratio says what auth, idempotency, validation, the lifecycle rules, the views and the
product's extra statements cost per callback. (The bare JSON endpoint without SQL is printed too.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiohttp import web
from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from gateway.appkeys import ENGINE
from gateway.auth.middleware import TOKENS
from gateway.config import load_settings
from gateway.db.scratch import scratch_schema
from gateway.http.loadgen import Call, drive
from gateway.reports.keys import REPORTS
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.lifecycle import Actor
from gateway.tickets.models import Ticket, TicketEvent
from gateway.tickets.schemas import ActorRef, NewTicket
from gateway.understanding.shared import UNDERSTANDING

AGENT = ActorRef(Actor.AGENT, "bench")
Stats = tuple[int, float, float, float]  # requests, per second, p50 ms, p99 ms


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("api", help="unit callbacks/s and p99 over HTTP vs a bare aiohttp endpoint")
    p.add_argument("--tickets", type=int, default=200, help="tickets worked through sign and reply")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    p.add_argument("--pg-url", help="PostgreSQL URL (default: $HOTLINE_TEST_PG_URL; skipped if unset)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pg = args.pg_url or os.environ.get("HOTLINE_TEST_PG_URL")
    print(f"{'target':<28} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    bare = asyncio.run(_bare(args.tickets * 2, args.concurrency))
    _print("bare aiohttp JSON endpoint", bare)
    for name, url in (("sqlite", None), ("postgresql", pg)):
        if name == "postgresql" and not pg:
            print("postgresql                   skipped: give --pg-url or set HOTLINE_TEST_PG_URL")
            continue
        result, same_sql = asyncio.run(_gateway(url, args.tickets, args.concurrency))
        _print(f"bare SQL endpoint ({name})", same_sql)
        _print(f"unit callbacks ({name})", result)
        print(f"{'':<28} ratio unit callbacks ÷ same-SQL endpoint ({name}): {result[1] / same_sql[1]:.3f}")
    return 0


def _print(label: str, r: Stats) -> None:
    print(f"{label:<28} {r[0]:>8} {r[1]:>8.0f} {r[2]:>8.2f} {r[3]:>8.2f}")


def _stats(latencies: list[float], elapsed: float) -> Stats:
    ordered = sorted(latencies)
    return (len(ordered), len(ordered) / elapsed, statistics.median(ordered) * 1000,
            ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000)


async def _drive(requests: list[Callable[[aiohttp.ClientSession], Awaitable[int]]],
                 concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue: asyncio.Queue[Callable[[aiohttp.ClientSession], Awaitable[int]]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            request = queue.get_nowait()
            t0 = time.perf_counter()
            status = await request(session)
            latencies.append(time.perf_counter() - t0)
            if status >= 400:
                raise RuntimeError(f"request failed with {status}")

    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


async def steady(app: web.Application) -> None:
    """The state a running deployment is in: its understanding model loaded (the first run of a fresh data
    dir trains it), and the hot-issue reader caught up with the tickets made while setting up."""
    await app[UNDERSTANDING].get()
    await app[REPORTS].hotspots.drain()


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _bare(n: int, concurrency: int) -> Stats:
    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"number": body["n"], "status": "signed"})

    app = web.Application()
    app.router.add_post("/x", handler)
    runner, base = await _serve(app)
    try:
        return _stats(*await drive([Call("POST", f"{base}/x", json={"n": i}) for i in range(n)], concurrency))
    finally:
        await runner.cleanup()


async def _gateway(pg_url: str | None, tickets: int, concurrency: int) -> tuple[Stats, Stats]:
    with tempfile.TemporaryDirectory() as tmp:
        settings: dict[str, Any] = {"data_dir": Path(tmp), "policy": "qingyang"}
        if pg_url is None:
            return await _drive_gateway(settings, tickets, concurrency)
        async with scratch_schema(pg_url, "bench") as schema:
            return await _drive_gateway({**settings, "db": {"url": pg_url, "search_path": schema}}, tickets,
                                        concurrency)


async def _drive_gateway(settings: dict[str, Any], tickets: int, concurrency: int) -> tuple[Stats, Stats]:
    app = create_app(load_settings(**{"timer_interval": 3600, "ivr": {"enabled": False}, **settings}))
    runner, base = await _serve(app)
    try:
        service = app[TICKETS]
        await service.add_unit("bench-unit", "压测单位")
        _, token = await app[TOKENS].create("unit", "bench-unit")
        numbers = []
        for _ in range(tickets * 2):  # half for the product, half for the same-SQL baseline
            t = await service.create(NewTicket(category="complaint", content="幸福路路灯坏了"), AGENT)
            await service.accept(t.number, AGENT)
            await service.dispatch(t.number, AGENT, "bench-unit")
            numbers.append(t.number)
        headers = {"Authorization": f"Bearer {token}"}
        keys = iter(range(10**9))

        def call(path: str, body: dict[str, object] | None) -> Call:
            return Call("POST", base + path, {**headers, "Idempotency-Key": f"k{next(keys)}"}, body)

        ours, theirs = numbers[:tickets], numbers[tickets:]
        await steady(app)
        bare_runner, bare_base = await _serve(_same_sql_app(app[ENGINE]))
        try:
            def bare(number: str, status: str) -> Call:
                return Call("POST", f"{bare_base}/{number}/{status}", json={"text": "已处理完毕"})
            same_sql = [await drive([bare(n, "signed") for n in theirs], concurrency),
                        await drive([bare(n, "replied") for n in theirs], concurrency)]
        finally:
            await bare_runner.cleanup()
        # Sign every ticket, then reply to every ticket: two callbacks per ticket, in order per ticket.
        signs = await drive([call(f"/api/v1/tickets/{n}/sign", None) for n in ours], concurrency)
        replies = await drive([call(f"/api/v1/tickets/{n}/reply", {"text": "已处理完毕"}) for n in ours],
                               concurrency)
    finally:
        await runner.cleanup()
    return (_stats(signs[0] + replies[0], signs[1] + replies[1]),
            _stats(same_sql[0][0] + same_sql[1][0], same_sql[0][1] + same_sql[1][1]))


def _same_sql_app(engine: AsyncEngine) -> web.Application:
    """A transition's SQL without the product: the row by number, a versioned update, an audit row, one
    commit, the row back as JSON."""
    tickets, events = cast(Table, Ticket.__table__), cast(Table, TicketEvent.__table__)

    async def transition(request: web.Request) -> web.Response:
        body = await request.json()
        async with engine.begin() as conn:
            row = (await conn.execute(select(tickets).where(tickets.c.number == request.match_info["number"]))).one()
            now = datetime.now(UTC)
            status = request.match_info["status"]
            await conn.execute(update(tickets).where(tickets.c.id == row.id, tickets.c.version == row.version)
                               .values(version=row.version + 1, status=status, updated_at=now))
            await conn.execute(insert(events).values(ticket_id=row.id, seq=row.version + 1, action=status,
                                                     actor_kind="unit", actor_id="bench-unit", at=now,
                                                     from_status=row.status, to_status=status,
                                                     reason=body.get("text"), data={}))
        return web.json_response({"number": row.number, "status": status, "version": row.version + 1})

    app = web.Application()
    app.router.add_post("/{number}/{status}", transition)
    return app
