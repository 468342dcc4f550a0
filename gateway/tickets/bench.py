"""``hotline bench tickets``: ticket transitions/s and p99 latency beside raw single-row inserts.

Both sides run on the same engine in the same run, so the ratio says what the lifecycle costs on top
of the storage itself (a transition = load + validate + update with version check + audit row + commit).
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
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import create_engine, session_factory, upgrade
from gateway.db.scratch import scratch_schema, search_path_args
from gateway.policies import load_pack
from gateway.tickets.lifecycle import Actor
from gateway.tickets.schemas import ActorRef, NewTicket
from gateway.tickets.service import TicketService
from gateway.tickets.sla import SlaClock
from gateway.workcalendar import WorkCalendar

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
        return await _bench_on(create_engine(url), tickets)
    async with scratch_schema(url, "bench") as schema:
        return await _bench_on(create_engine(url, connect_args=search_path_args(schema)), tickets)


async def _bench_on(engine: AsyncEngine, tickets: int) -> tuple[Result, Result]:
    try:
        await upgrade(engine)
        return await _raw_inserts(engine, tickets * 5), await _transitions(engine, tickets)
    finally:
        await engine.dispose()


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


async def _transitions(engine: AsyncEngine, tickets: int) -> Result:
    pack = load_pack("qingyang")
    fixed = datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    service = TicketService(session_factory(engine), SlaClock(pack, WorkCalendar.for_pack(pack)),
                            clock=lambda: fixed)
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
