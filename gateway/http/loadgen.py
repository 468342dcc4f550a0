"""The benchmarks' HTTP load generator, in a process of its own.

A client in the server's own event loop takes half of that loop's time (request building, response
parsing): the figures would be the server's capacity shared with its client, not what a deployment
serves to other machines. The product and its baselines are driven the same way, so the ratios stay
fair; only the absolute figures change.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None


async def drive(calls: list[Call], concurrency: int) -> tuple[list[float], float]:
    """Each call's latency in seconds and the elapsed time, ``concurrency`` calls in flight, from another
    process; a call answered with a 4xx/5xx stops the run (a benchmark of errors measures nothing)."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await loop.run_in_executor(pool, _run, calls, concurrency)


def _run(calls: list[Call], concurrency: int) -> tuple[list[float], float]:
    return asyncio.run(_drive_here(calls, concurrency))


async def _drive_here(calls: list[Call], concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    pending = iter(calls)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def worker(session: aiohttp.ClientSession) -> None:
        for call in pending:  # one shared iterator: each call is taken once
            started = time.perf_counter()
            async with session.request(call.method, call.url, headers=call.headers, json=call.json) as response:
                await response.read()
                if response.status >= 400:
                    raise RuntimeError(f"{call.method} {call.url} answered {response.status}")
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


async def call_here(call: Call) -> int:
    """One call from this process (to record what the server does for it)."""
    async with aiohttp.ClientSession() as session:
        async with session.request(call.method, call.url, headers=call.headers, json=call.json) as response:
            await response.read()
            return response.status
