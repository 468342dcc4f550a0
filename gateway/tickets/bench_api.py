"""``hotline bench api``: handling-unit callbacks over HTTP (sign + reply) with the real store, beside a
bare aiohttp JSON endpoint driven by the same client in the same run.

The ratio says what auth, validation, the lifecycle, the audit row and the commit cost per callback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gateway.app import create_app
from gateway.auth.middleware import TOKENS
from gateway.config import load_settings
from gateway.db.scratch import scratch_schema
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.lifecycle import Actor
from gateway.tickets.schemas import ActorRef, NewTicket

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
        result = asyncio.run(_gateway(url, args.tickets, args.concurrency))
        _print(f"unit callbacks ({name})", result)
        print(f"{'':<28} ratio to bare endpoint: {result[1] / bare[1]:.3f}")
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
        def request(i: int) -> Callable[[aiohttp.ClientSession], Awaitable[int]]:
            async def go(s: aiohttp.ClientSession) -> int:
                async with s.post(f"{base}/x", json={"n": i}) as r:
                    await r.read()
                    return r.status
            return go
        return _stats(*await _drive([request(i) for i in range(n)], concurrency))
    finally:
        await runner.cleanup()


async def _gateway(pg_url: str | None, tickets: int, concurrency: int) -> Stats:
    with tempfile.TemporaryDirectory() as tmp:
        settings: dict[str, Any] = {"data_dir": Path(tmp), "policy": "qingyang"}
        if pg_url is None:
            return await _drive_gateway(settings, tickets, concurrency)
        async with scratch_schema(pg_url, "bench") as schema:
            return await _drive_gateway({**settings, "db": {"url": pg_url, "search_path": schema}}, tickets,
                                        concurrency)


async def _drive_gateway(settings: dict[str, Any], tickets: int, concurrency: int) -> Stats:
    app = create_app(load_settings(**settings))
    runner, base = await _serve(app)
    try:
        service = app[TICKETS]
        await service.add_unit("bench-unit", "压测单位")
        _, token = await app[TOKENS].create("unit", "bench-unit")
        numbers = []
        for _ in range(tickets):
            t = await service.create(NewTicket(category="complaint", content="幸福路路灯坏了"), AGENT)
            await service.accept(t.number, AGENT)
            await service.dispatch(t.number, AGENT, "bench-unit")
            numbers.append(t.number)
        headers = {"Authorization": f"Bearer {token}"}

        def call(path: str, body: dict[str, object] | None) -> Callable[[aiohttp.ClientSession], Awaitable[int]]:
            async def go(s: aiohttp.ClientSession) -> int:
                async with s.post(base + path, json=body, headers=headers) as r:
                    await r.read()
                    return r.status
            return go

        # Sign every ticket, then reply to every ticket: two callbacks per ticket, in order per ticket.
        signs = await _drive([call(f"/api/v1/tickets/{n}/sign", None) for n in numbers], concurrency)
        replies = await _drive([call(f"/api/v1/tickets/{n}/reply", {"text": "已处理完毕"}) for n in numbers],
                               concurrency)
    finally:
        await runner.cleanup()
    return _stats(signs[0] + replies[0], signs[1] + replies[1])
