"""``hotline bench consoles``: how long a console event takes to reach a page on another instance (the
relay through PostgreSQL) beside the floor under it, a bare NOTIFY → LISTEN round trip on the same server,
and beside delivery to a page on the same instance, all in one run.

Two hubs and two relays share one throwaway schema, as two gateway instances would. Each event is stamped
when published on instance A and when it lands in the queue of a supervisor page on instance B.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

from gateway.bus import DomainEvent
from gateway.config import ConsoleSettings
from gateway.consoles.audience import Viewer
from gateway.consoles.hub import EventHub
from gateway.consoles.relay import ConsoleRelay
from gateway.db import create_engine, upgrade
from gateway.db.scratch import scratch_schema, search_path_args


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("consoles", help="console event latency across instances (PostgreSQL relay) vs NOTIFY")
    p.add_argument("--events", type=int, default=2000, help="events per measurement")
    p.add_argument("--rate", type=float, default=200.0, help="events/s offered in the steady run")
    p.add_argument("--pg-url", help="PostgreSQL URL (default: $HOTLINE_TEST_PG_URL)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    url = args.pg_url or os.environ.get("HOTLINE_TEST_PG_URL")
    if not url:
        print("skipped: the relay needs PostgreSQL; give --pg-url or set HOTLINE_TEST_PG_URL")
        return 0
    results = asyncio.run(_bench(url, args.events, args.rate))
    print(f"{'path':<34} {'n':>6} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for label, (n, rate, p50, p99) in results.items():
        print(f"{label:<34} {n:>6} {rate:>9.0f} {p50:>8.2f} {p99:>8.2f}")
    steady, notify = results["relay A→B, steady"], results["bare NOTIFY→LISTEN, steady"]
    print(f"ratio relay p50 ÷ bare NOTIFY p50 = {steady[2] / notify[2]:.2f}")
    return 0


def _summary(latencies: list[float], elapsed: float) -> tuple[int, float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(ordered), len(ordered) / elapsed, statistics.median(ordered) * 1000, p99 * 1000


async def _bench(url: str, events: int, rate: float) -> dict[str, tuple[int, float, float, float]]:
    out: dict[str, tuple[int, float, float, float]] = {}
    async with scratch_schema(url, "bench_relay") as schema:
        engines = [create_engine(url, connect_args=search_path_args(schema)) for _ in range(2)]
        await upgrade(engines[0])
        hubs = [EventHub(queue_size=events * 4) for _ in engines]
        settings = ConsoleSettings(relay_poll_interval=5.0)
        relays = [ConsoleRelay(engine, hub, settings) for engine, hub in zip(engines, hubs, strict=True)]
        for relay in relays:
            await relay.start()
        await asyncio.sleep(0.5)  # both listening
        viewer = Viewer("admin", "bench")
        local, _ = hubs[0].subscribe(viewer, None, None)
        remote, _ = hubs[1].subscribe(viewer, None, None)
        try:
            out["same instance (hub only)"], out["relay A→B, steady"] = await _relay_run(
                relays[0], hubs[0], local, remote, events, rate)
            _, out["relay A→B, burst"] = await _relay_run(relays[0], hubs[0], local, remote, events, None)
            out["bare NOTIFY→LISTEN, steady"] = await _notify_run(engines, events, rate)
        finally:
            for relay in relays:
                await relay.stop()
            for engine in engines:
                await engine.dispose()
    return out


async def _relay_run(relay: ConsoleRelay, hub: EventHub, local: Any, remote: Any, events: int,
                     rate: float | None) -> tuple[tuple[int, float, float, float], tuple[int, float, float, float]]:
    sent: dict[int, float] = {}
    local_lat: list[float] = []
    remote_lat: list[float] = []

    async def receive(queue: asyncio.Queue[dict[str, Any]], into: list[float]) -> None:
        while len(into) < events:
            message = await queue.get()
            into.append(time.perf_counter() - sent[message["data"]["n"]])

    receivers = [asyncio.create_task(receive(local.queue, local_lat)),
                 asyncio.create_task(receive(remote.queue, remote_lat))]
    started = time.perf_counter()
    for n in range(events):
        event = DomainEvent("agent.state", {"agent_id": f"a{n % 500}", "state": "available", "n": n})
        sent[n] = time.perf_counter()
        hub.on_event(event)  # what the bus does on instance A …
        relay.on_event(event)  # … and the relay, its other subscriber
        if rate is not None:
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
        elif n % 200 == 0:
            await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*receivers), 120)
    elapsed = time.perf_counter() - started
    return _summary(local_lat, elapsed), _summary(remote_lat, elapsed)


async def _notify_run(engines: list[Any], events: int, rate: float) -> tuple[int, float, float, float]:
    latencies: list[float] = []
    done = asyncio.Event()
    sent: dict[int, float] = {}

    def heard(*args: Any) -> None:
        latencies.append(time.perf_counter() - sent[int(args[3])])
        if len(latencies) == events:
            done.set()

    async with engines[1].connect() as listening, engines[0].connect() as sending:
        listener = (await listening.get_raw_connection()).driver_connection
        sender = (await sending.get_raw_connection()).driver_connection
        await listener.add_listener("hotline_bench", heard)
        started = time.perf_counter()
        for n in range(events):
            sent[n] = time.perf_counter()
            await sender.execute(f"NOTIFY hotline_bench, '{n}'")
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
        await asyncio.wait_for(done.wait(), 60)
        elapsed = time.perf_counter() - started
        await listener.remove_listener("hotline_bench", heard)
    return _summary(latencies, elapsed)
