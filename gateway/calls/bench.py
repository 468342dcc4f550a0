"""``hotline bench ami``: our AMI path measured side by side with bare panoramisk, in one run.

1. events/s: the same byte stream (the real captures, call ids renumbered per copy) parsed by bare
   panoramisk ``AMIProtocol`` (events dropped) vs our protocol → ordered queue → pipeline → call model →
   bus (ratio printed);
2. action round-trip latency against the fake AMI server over loopback TCP, vs a bare socket exchange;
3. memory (tracemalloc) with 500 concurrent simulated calls, after they end, and over repeated rounds.

Also runnable as ``python -m gateway.calls.bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from gateway.bus import EventBus
from gateway.calls.agents import AgentService
from gateway.calls.ami import AmiClient, _Protocol
from gateway.calls.model import ENDED_MEMORY, CallModel
from gateway.calls.operations import CallOperations
from gateway.calls.pipeline import CallPipeline
from gateway.config import AmiSettings, CallSettings

CAPTURES = (
    "agent_answers_queue_call.ami",
    "attended_transfer.ami",
    "basic_call.ami",
    "redirect_queue_caller.ami",
)
_ID = re.compile(r"\b1795345(\d{3})\.(\d+)\b")


def register(benches: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = benches.add_parser("ami", help="AMI pipeline + call model vs bare panoramisk; latency; memory")
    parser.add_argument("--copies", type=int, default=150, help="copies of the four captures in the stream")
    parser.add_argument("--pings", type=int, default=2000, help="actions for the latency figure")
    parser.add_argument("--calls", type=int, default=500, help="concurrent simulated calls for memory")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    asyncio.run(_main(args.copies, args.pings, args.calls))
    return 0


def _captures_dir() -> Path:
    # The recorded sessions are test data of the repository: the bench runs from a checkout.
    captures = Path(__file__).resolve().parents[2] / "tests" / "data" / "ami"
    if not captures.is_dir():
        raise SystemExit(f"bench ami needs the recorded Asterisk sessions in {captures} (run it from a checkout)")
    return captures


def build_stream(copies: int) -> tuple[bytes, int]:
    """Event frames only (no banner, no replies), each copy with its own call ids."""
    frames = []
    for name in CAPTURES:
        text = (_captures_dir() / name).read_bytes().decode("utf-8").split("\r\n", 1)[1]
        # FullyBooted greets each new AMI connection (the pipeline resyncs on it): not call traffic.
        frames += [f for f in text.split("\r\n\r\n") if f.startswith("Event:")
                   and not f.startswith("Event: FullyBooted")]
    block = "\r\n\r\n".join(frames) + "\r\n\r\n"
    parts = [_renumber(block, i) for i in range(copies)]
    return "".join(parts).encode("utf-8"), len(frames) * copies


def _renumber(block: str, copy: int) -> str:
    return _ID.sub(lambda m: f"{1800000000 + copy * 1000 + int(m[1])}.{m[2]}", block)


class _Sink:
    """Stands in for panoramisk's Manager: drops every event (bare parsing cost)."""

    save_stream = None
    forgetable_actions = ()

    def __init__(self) -> None:
        self.count = 0
        self.awaiting_actions: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.count += 1


class _Transport(asyncio.Transport):
    def write(self, data: Any) -> None:
        pass

    def close(self) -> None:
        pass


class _EventPathOnly(CallPipeline):
    """The pipeline without its side effects (MixMonitor, wrap-up, database): the event path itself."""

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        self.bus.publish(kind, **data)

    def _side(self, coro: Any, what: str) -> None:
        coro.close()  # agent views are read from the database: not part of the event path measured here


def _feed(protocol: asyncio.Protocol, data: bytes, chunk: int = 65536) -> None:
    for i in range(0, len(data), chunk):
        protocol.data_received(data[i : i + chunk])


async def bench_throughput(copies: int) -> None:
    data, count = build_stream(copies)
    bare = AMIProtocol()
    bare.connection_made(_Transport())
    sink = _Sink()
    bare.factory = sink
    started = time.perf_counter()
    _feed(bare, data)
    bare_seconds = time.perf_counter() - started

    client = AmiClient(AmiSettings(), secret="")
    ours = _Protocol()
    ours.client = client
    ours.connection_made(_Transport())
    ours.banner.set_result("bench")
    model, bus = CallModel(), EventBus()
    published = 0

    def count_event(_: Any) -> None:
        nonlocal published
        published += 1

    bus.subscribe("call.", count_event)
    agents = AgentService(client, None, bus, CallSettings())  # type: ignore[arg-type]
    operations = CallOperations(client, model, agents, None, bus, CallSettings())  # type: ignore[arg-type]
    pipeline = _EventPathOnly(client, model, agents, operations, None, bus)
    consumer = asyncio.create_task(pipeline.run())
    started = time.perf_counter()
    _feed(ours, data)
    while not client.events.empty():  # noqa: ASYNC110 - measuring: yield until the consumer caught up
        await asyncio.sleep(0)
    ours_seconds = time.perf_counter() - started
    consumer.cancel()
    assert sink.count == count and pipeline.processed == count, (sink.count, pipeline.processed, count)
    print(f"events/s  ({count:,} events, {len(data) / 1e6:.1f} MB, {copies * 4} calls)")
    print(f"  bare panoramisk parsing        {count / bare_seconds:>10,.0f} /s")
    print(
        f"  ours: parse+queue+model+bus    {count / ours_seconds:>10,.0f} /s   "
        f"ratio {bare_seconds / ours_seconds:.2f} of bare   ({published:,} domain events, "
        f"{len(model.calls)} calls left open)"
    )


async def bench_latency(pings: int) -> None:
    from tests.fakes.fake_ami import FakeAmi  # the fake server lives with the tests

    fake = FakeAmi()
    port = await fake.start()
    client = AmiClient(AmiSettings(port=port, ping_interval=3600), secret=fake.secret)
    client.start()
    await client.wait_connected(5)
    samples = []
    for _ in range(pings):
        started = time.perf_counter()
        await client.send("Ping")
        samples.append(time.perf_counter() - started)
    started = time.perf_counter()
    await asyncio.gather(*(client.send("Ping") for _ in range(pings)))
    concurrent_rate = pings / (time.perf_counter() - started)
    await client.close()

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(f"Action: Login\r\nActionID: 1\r\nSecret: {fake.secret}\r\n\r\n".encode())
    await reader.readuntil(b"\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")  # FullyBooted
    raw = []
    for i in range(pings):
        started = time.perf_counter()
        writer.write(f"Action: Ping\r\nActionID: {i}\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")
        raw.append(time.perf_counter() - started)
    writer.close()
    await fake.stop()

    def pct(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000

    print(f"action round trip (Ping, fake AMI over loopback, {pings} sequential)")
    print(f"  bare socket        p50 {pct(raw, 50):6.3f} ms   p99 {pct(raw, 99):6.3f} ms")
    print(
        f"  AmiClient.send     p50 {pct(samples, 50):6.3f} ms   p99 {pct(samples, 99):6.3f} ms   "
        f"ratio p50 {pct(samples, 50) / pct(raw, 50):.2f}"
    )
    print(f"  {pings} concurrent     {concurrent_rate:,.0f} actions/s")


def _call_events(n: int, base: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from tests.fakes import scenarios

    start, end = [], []
    for i in range(n):
        call_id = f"{base}.{i * 10}"
        start += scenarios.answered_call(call_id, agent=str(1000 + i))
        end += scenarios.agent_completes(call_id, agent=str(1000 + i))
        end += [{"Event": "BridgeDestroy", "BridgeUniqueid": f"bridge-{call_id}"}]
    return start, end


async def bench_memory(calls: int) -> None:
    model = CallModel()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    rows = []
    rounds = ENDED_MEMORY // calls + 4  # past the bound of remembered ended ids: growth must stop
    for round_no in range(rounds):
        start, end = _call_events(calls, 1900000000 + round_no)
        before = tracemalloc.get_traced_memory()[0]
        for event in start:
            model.apply(event)
        live = tracemalloc.get_traced_memory()[0]
        open_calls = len(model.calls)
        for event in end:
            model.apply(event)
        del start, end
        after = tracemalloc.get_traced_memory()[0]
        rows.append((round_no + 1, open_calls, live - before, after - baseline, len(model.calls)))
    tracemalloc.stop()
    print(f"memory (tracemalloc, call model, {calls} concurrent calls per round)")
    for round_no, open_calls, live, after, left in rows[:3] + rows[-3:]:
        print(
            f"  round {round_no}: {open_calls} live calls use {live / 1024:8.1f} KiB "
            f"({live / max(open_calls, 1) / 1024:.2f} KiB/call); after they end: {left} calls, "
            f"{after / 1024:8.1f} KiB above start"
        )
    print(
        f"  (growth until round {ENDED_MEMORY // calls} is the set of {ENDED_MEMORY:,} recently ended call "
        "ids kept to ignore late events; it stops there)"
    )


async def _main(copies: int, pings: int, calls: int) -> None:
    await bench_throughput(copies)
    await bench_latency(pings)
    await bench_memory(calls)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m gateway.calls.bench")
    sub = parser.add_subparsers(dest="bench", required=True)
    register(sub)
    namespace = parser.parse_args(["ami", *__import__("sys").argv[1:]])
    raise SystemExit(namespace.func(namespace))
