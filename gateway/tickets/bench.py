"""``hotline bench tickets``: ticket transitions/s and p99 latency beside raw single-row inserts.

Both sides run on the same engine in the same run, so the ratio says what the lifecycle costs on top
of the storage itself (a transition = load + validate + update with version check + audit row + commit).
The transitions run through the gateway as production wires it (``create_app``): the bus and its
subscribers (consoles, metrics, hot issues), the webhook notifier hook and the SLA clock all act on them.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from gateway.appkeys import ENGINE
from gateway.config import load_settings
from gateway.db.scratch import scratch_schema
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.lifecycle import Actor
from gateway.tickets.schemas import ActorRef, NewTicket
from gateway.tickets.service import TicketService

AGENT = ActorRef(Actor.AGENT, "bench")
UNIT = ActorRef(Actor.UNIT, "bench-unit")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tickets", help="ticket transitions/s and p99 vs raw inserts (SQLite, PostgreSQL)")
    p.add_argument("--tickets", type=int, default=300, help="tickets to drive through the lifecycle")
    p.add_argument("--pg-url", help="PostgreSQL URL (default: $HOTLINE_TEST_PG_URL; skipped if unset)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    urls: list[tuple[str, str | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        urls.append(("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        urls.append(("postgresql", args.pg_url or os.environ.get("HOTLINE_TEST_PG_URL")))
        print(f"{'engine':<11} {'op':<22} {'n':>6} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
        for name, url in urls:
            if url is None:
                print(f"{name:<11} skipped: give --pg-url or set HOTLINE_TEST_PG_URL")
                continue
            raw, flow = asyncio.run(_bench(url, args.tickets))
            for label, r in (("raw single-row insert", raw), ("ticket transition", flow)):
                print(f"{name:<11} {label:<22} {r.n:>6} {r.rate:>9.0f} {r.p50:>8.2f} {r.p99:>8.2f}")
            print(f"{name:<11} ratio transitions/s ÷ raw inserts/s = {flow.rate / raw.rate:.2f}")
    return 0


class Result:
    def __init__(self, latencies: list[float], elapsed: float) -> None:
        self.n = len(latencies)
        self.rate = self.n / elapsed
        ordered = sorted(latencies)
        self.p50 = statistics.median(ordered) * 1000
        self.p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def _timed(ops: list[Callable[[], Awaitable[object]]]) -> Result:
    latencies = []
    started = time.perf_counter()
    for op in ops:
        t0 = time.perf_counter()
        await op()
        latencies.append(time.perf_counter() - t0)
    return Result(latencies, time.perf_counter() - started)


async def _bench(url: str, tickets: int) -> tuple[Result, Result]:
    """Run on a scratch database: a temporary SQLite file, or a throwaway schema on PostgreSQL."""
    if not url.startswith("postgresql"):
        return await _bench_on({"url": url}, tickets)
    async with scratch_schema(url, "bench") as schema:
        return await _bench_on({"url": url, "search_path": schema}, tickets)


async def _bench_on(db: dict[str, Any], tickets: int) -> tuple[Result, Result]:
    fixed = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), policy="qingyang", db=db, timer_interval=3600,
                                 ivr={"enabled": False}, ami={"enabled": False})
        runner = web.AppRunner(create_app(settings, clock=lambda: fixed))
        await runner.setup()  # the database, the bus's subscribers, the hooks: as `hotline serve` starts them
        try:
            app = runner.app
            return await _raw_inserts(app[ENGINE], tickets * 5), await _transitions(app[TICKETS], tickets)
        finally:
            await runner.cleanup()


def _bench_table() -> Table:
    return Table("bench_rows", MetaData(), Column("id", Integer, primary_key=True), Column("body", String(200)))


async def _raw_inserts(engine: AsyncEngine, n: int) -> Result:
    table = _bench_table()
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: table.create(c, checkfirst=True))

    async def one(i: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(insert(table).values(body=f"row {i} 幸福路路灯坏了"))

    return await _timed([functools.partial(one, i) for i in range(n)])


async def _transitions(service: TicketService, tickets: int) -> Result:
    await service.add_unit("bench-unit", "压测单位")
    numbers = []
    for _ in range(tickets):
        t = await service.create(NewTicket(category="complaint", content="幸福路路灯坏了",
                                           caller_number="13800138000"), AGENT)
        numbers.append(t.number)
    ops: list[Callable[[], Awaitable[object]]] = []
    for number in numbers:
        ops += [
            functools.partial(service.accept, number, AGENT),
            functools.partial(service.dispatch, number, AGENT, "bench-unit"),
            functools.partial(service.sign, number, UNIT),
            functools.partial(service.reply, number, UNIT, "已处理"),
            functools.partial(service.review_reply, number, ActorRef(Actor.ADMIN, "bench"), True, "ok"),
        ]
    return await _timed(ops)
