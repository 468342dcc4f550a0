"""``hotline bench ivr``: N concurrent fake-Asterisk sessions against the FastAGI server on loopback.

Two runs side by side in one process: the bare AGI server answering an empty handler (the floor: wire
format + loopback), and the full voice-entry flow on a real SQLite store (every session saved). Each
fake Asterisk times every command round trip; the report gives sessions/s and p50/p99 command latency.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from gateway.bus import EventBus
from gateway.db import create_engine, session_factory, upgrade
from gateway.policies import load_pack
from gateway.tickets.service import TicketService
from gateway.tickets.sla import SlaClock
from gateway.workcalendar import WorkCalendar
from ivr.agi import AgiChannel, AgiServer
from ivr.flow import load_flow
from ivr.models import IvrSession
from ivr.ports import QueueState
from ivr.prompts import PromptCatalogue
from ivr.retry import RetryQueue
from ivr.service import IvrService, build_deps, required_prompts
from ivr.store import IvrStore


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ivr", help="concurrent FastAGI sessions: sessions/s and p99 command latency")
    p.add_argument("--sessions", type=int, default=500, help="sessions in all")
    p.add_argument("--concurrency", type=int, default=200, help="sessions live at once")
    p.set_defaults(func=run)


@dataclass
class Result:
    sessions: int
    seconds: float
    latencies: list[float]

    def row(self, label: str) -> str:
        lat = sorted(self.latencies)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        return (f"{label:<28} {self.sessions:>8} {self.sessions / self.seconds:>10.0f} {len(lat):>9} "
                f"{statistics.median(lat) * 1000:>8.2f} {p99:>8.2f}")


HEADERS = ("agi_network: yes\nagi_network_script: {script}\nagi_channel: PJSIP/carrier-{uid:08x}\n"
           "agi_uniqueid: {linkedid}\nagi_callerid: {callerid}\nagi_context: hotline-entry\n"
           "agi_extension: s\nagi_priority: 5\n\n")


async def _session(port: int, script: str, uid: int, latencies: list[float]) -> None:
    """A silent caller: every prompt plays to its end, the description ends on silence. Latency is the
    gateway's step time as Asterisk sees it: from a reply written to the next command received."""
    linkedid = f"1763600000.{uid}"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS.format(script=script, uid=uid, linkedid=linkedid,
                                callerid=f"1380013{uid % 10000:04d}").encode())
    await writer.drain()
    sent = time.perf_counter()
    while line := await reader.readline():
        latencies.append(time.perf_counter() - sent)
        command = line.decode()
        if command.startswith("GET VARIABLE"):
            reply = f"200 result=1 ({linkedid})\n" if "linkedid" in command else "200 result=0\n"
        elif command.startswith("RECORD FILE"):
            reply = "200 result=0 (timeout) endpos=48000\n"
        elif command.startswith("STREAM FILE"):
            reply = "200 result=0 endpos=8000\n"
        else:
            reply = "200 result=1\n"
        writer.write(reply.encode())
        await writer.drain()
        sent = time.perf_counter()
    writer.close()
    await writer.wait_closed()


async def _drive(port: int, script: str, sessions: int, concurrency: int) -> Result:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(uid: int) -> None:
        async with gate:
            await _session(port, script, uid, latencies)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(sessions)))
    return Result(sessions, time.perf_counter() - start, latencies)


async def _bench(sessions: int, concurrency: int, tmp: Path) -> tuple[Result, Result]:
    async def floor(channel: AgiChannel) -> None:
        for _ in range(8):  # about as many commands as a voice-entry session sends
            await channel.stream_file("x", "0123456789*#")

    bare = AgiServer({"bare": floor}, port=0)
    await bare.start()
    try:
        floor_result = await _drive(bare.port, "bare", sessions, concurrency)
    finally:
        await bare.stop()

    engine = create_engine(f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}")
    await upgrade(engine)
    pack = load_pack("qingyang")
    calendar = WorkCalendar.for_pack(pack)
    tickets = TicketService(session_factory(engine), SlaClock(pack, calendar), EventBus())
    flow = load_flow()
    sounds = tmp / "sounds"
    sounds.mkdir()
    for prompt_id in required_prompts(flow, pack):
        (sounds / f"{prompt_id}.wav").write_bytes(b"RIFF")

    class Busy:
        async def state(self, queue: str) -> QueueState:
            return QueueState(agents_logged_in=5, estimated_wait_seconds=20)

    store = IvrStore(tickets.sessions, tickets)
    deps = build_deps(flow=flow, pack=pack, prompts=PromptCatalogue(sounds), store=store,
                      bus=EventBus(), clock=tickets.clock, calendar=calendar, queue_status=Busy(),
                      retry=RetryQueue())
    service = IvrService(deps, host="127.0.0.1", port=0)
    await service.start(required_prompts(flow, pack))
    try:
        flow_result = await _drive(service.server.port, "voice-entry", sessions, concurrency)
        await deps.retry.drain(grace=60)
        async with tickets.sessions() as session:
            outcomes = dict((await session.execute(
                select(IvrSession.outcome, func.count()).group_by(IvrSession.outcome))).all())
            details = list(await session.scalars(select(IvrSession.detail)))
        # Every queue is staffed and the store is up: any overflow offer here would be a false alarm.
        overflows = sum(1 for detail in details if "overflow" in detail)
        print(f"voice-entry outcomes: {outcomes}; overflow offered to {overflows}")
    finally:
        await service.stop()
        await engine.dispose()
    return floor_result, flow_result


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        floor, flow = asyncio.run(_bench(args.sessions, args.concurrency, Path(tmp)))
    print(f"{args.sessions} sessions, {args.concurrency} at once, one event loop, loopback TCP")
    print(f"{'server':<28} {'sessions':>8} {'sessions/s':>10} {'commands':>9} {'p50 ms':>8} {'p99 ms':>8}")
    print(floor.row("bare AGI (8 STREAM FILE)"))
    print(flow.row("voice-entry + SQLite"))
    ratio = (flow.sessions / flow.seconds) / (floor.sessions / floor.seconds)
    print(f"ratio voice-entry ÷ bare sessions/s = {ratio:.2f}")
    return 0
