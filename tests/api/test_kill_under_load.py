"""Exactly once under fire: 16 clients make ~1,000 mixed writes (create, accept, dispatch, sign, 督办,
reply), each with its own Idempotency-Key, against a `hotline serve` process that is killed (-9) three
times mid-load — or whose PostgreSQL is stopped for 20 s. A client resends an unanswered request with the
same key and body until it gets an answer. Afterwards: every acknowledged write is present once, every
resend of any request returns its original outcome, and nothing is duplicated (tickets, audit rows,
webhook outbox rows)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from gateway.auth.middleware import TOKENS
from gateway.config import load_settings
from gateway.db import create_engine, session_factory
from gateway.db.scratch import scratch_schema, search_path_args
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.models import Ticket, TicketEvent
from gateway.webhooks.keys import WEBHOOKS
from gateway.webhooks.models import WebhookDelivery
from tests.calls.served_gateway import Served, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

CLIENTS, TICKETS_PER_CLIENT = 16, 10  # × 6 writes = 960
ROUNDS = 3
PG_URL = os.environ.get("HOTLINE_TEST_PG_URL")
# The data directory of the test cluster, for the outage test (./dev test's private cluster, or yours).
PG_DATA = os.environ.get("HOTLINE_TEST_PG_DATA")
RETRYABLE = {503}  # database unavailable: the same request again later


@dataclass
class Database:
    settings: dict[str, Any]  # load_settings(db=…)
    env: dict[str, str]  # the same for `hotline serve`

    def engine(self, data_dir: Path) -> AsyncEngine:
        if not self.settings:
            return create_engine(f"sqlite+aiosqlite:///{data_dir / 'hotline.sqlite3'}")
        return create_engine(self.settings["url"], connect_args=search_path_args(self.settings["search_path"]))


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[Database]:
    if kind == "sqlite":
        yield Database({}, {})
        return
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set (./dev test starts a private PostgreSQL and sets it)")
    async with scratch_schema(PG_URL, "kill") as schema:
        yield Database({"url": PG_URL, "search_path": schema},
                       {"HOTLINE_DB__URL": PG_URL, "HOTLINE_DB__SEARCH_PATH": schema})


class Gateway(Served):
    """``hotline serve`` in its own process on a database that outlives it, on one port throughout."""

    def __init__(self, data_dir: Path, db: Database) -> None:
        super().__init__({**os.environ, "HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_AMI__ENABLED": "false",
                          "HOTLINE_WEBHOOKS__ENABLED": "false", "HOTLINE_SMS__ENABLED": "false",
                          "HOTLINE_POLICY": "qingyang", **db.env}, port=free_port())
        self.url = f"http://127.0.0.1:{self.port}/api/v1"


async def prepare(data_dir: Path, db: Database) -> dict[str, str]:
    """Migrate, and create the tokens, units and a webhook endpoint the load needs."""
    settings = load_settings(data_dir=data_dir, policy="qingyang", ami={"enabled": False},
                             webhooks={"enabled": False}, db=db.settings or {})
    app = create_app(settings)
    async with TestClient(TestServer(app)):
        tokens = {}
        for name, kind, subject in [("agent", "agent", "a1001"), ("admin", "admin", "reviewer"),
                                    ("water", "unit", "water")]:
            _, tokens[name] = await app[TOKENS].create(kind, subject)
        await app[TICKETS].add_unit("water", "市水务局")
        await app[WEBHOOKS].create_endpoint("water-main", "water", "http://127.0.0.1:9/hooks", ["*"],
                                            generate_secret=True)
    return tokens


class Refused(Exception):
    """A write answered with neither success nor "try again": the client cannot go on with its ticket."""


@dataclass
class Write:
    who: str
    path: str
    body: dict[str, Any]
    key: str
    outcome: tuple[int, Any] | None = None


@dataclass
class Load:
    url: str
    tokens: dict[str, str]
    acknowledged: int = 0
    writes: list[Write] = field(default_factory=list)
    refused: list[Write] = field(default_factory=list)  # answered other than 2xx (must stay empty)
    unanswered: int = 0  # attempts that got no answer (the process was killed)
    unavailable: int = 0  # attempts answered 503 (the database was away)
    progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def send(self, http: aiohttp.ClientSession, write: Write) -> tuple[int, Any] | None:
        headers = {"Authorization": f"Bearer {self.tokens[write.who]}", "Idempotency-Key": write.key}
        try:
            async with http.post(self.url + write.path, json=write.body, headers=headers,
                                 timeout=aiohttp.ClientTimeout(total=30)) as resp:
                return resp.status, await resp.json()
        except (aiohttp.ClientError, TimeoutError):
            return None  # killed, not up yet, or the answer was lost

    async def answered(self, http: aiohttp.ClientSession, write: Write) -> Any:
        """Send until answered: the same key and body every time, as a careful client does."""
        self.writes.append(write)
        while True:
            got = await self.send(http, write)
            if got is not None and got[0] not in RETRYABLE:
                break
            if got is None:
                self.unanswered += 1
            else:
                self.unavailable += 1
            await asyncio.sleep(0.2)
        write.outcome = got
        if not 200 <= got[0] < 300:
            self.refused.append(write)
            raise Refused(write.path)
        async with self.progress:
            self.acknowledged += 1
            self.progress.notify_all()
        return got[1]

    async def client(self, http: aiohttp.ClientSession, n: int) -> None:
        with contextlib.suppress(Refused):  # reported by the test from ``refused``
            await self.tickets(http, n)

    async def tickets(self, http: aiohttp.ClientSession, n: int) -> None:
        for t in range(TICKETS_PER_CLIENT):
            key = f"c{n}-t{t}"
            created = await self.answered(http, Write("agent", "/tickets", {
                "category": "投诉", "content": f"幸福路{n}号路灯坏了（第{t}次）", "caller_number": "13800138000",
                "location": f"城关镇幸福路{n}号"}, f"{key}-create"))
            path = f"/tickets/{created['number']}"
            await self.answered(http, Write("agent", f"{path}/accept", {}, f"{key}-accept"))
            await self.answered(http, Write("agent", f"{path}/dispatch", {"lead_unit": "water"}, f"{key}-dispatch"))
            await self.answered(http, Write("water", f"{path}/sign", {}, f"{key}-sign"))
            await self.answered(http, Write("admin", f"{path}/supervise", {"level": 1, "note": "请尽快处理"},
                                            f"{key}-supervise"))
            await self.answered(http, Write("water", f"{path}/reply", {"text": "已修复"}, f"{key}-reply"))

    async def reached(self, count: int) -> None:
        async with self.progress:
            await self.progress.wait_for(lambda: self.acknowledged >= count)


async def run_load(tmp_path: Path, db: Database,
                   fault: Callable[[Load, Gateway], Coroutine[Any, Any, None]]) -> tuple[Load, Path]:
    data_dir = tmp_path / "data"
    tokens = await prepare(data_dir, db)
    gateway = Gateway(data_dir, db)
    load = Load(gateway.url, tokens)
    try:
        await gateway.start()
        async with aiohttp.ClientSession() as http:
            faults = asyncio.create_task(fault(load, gateway))
            try:
                async with asyncio.timeout(900):
                    await asyncio.gather(*(load.client(http, n) for n in range(CLIENTS)))
                    await faults
            finally:
                faults.cancel()  # a fault still under way is undone (a stopped database started again)
                with contextlib.suppress(asyncio.CancelledError):
                    await faults
            assert not load.refused, [(w.path, w.outcome) for w in load.refused]
            # Every request once more, with its key: the original outcome, whatever happened in between.
            for write in load.writes:
                assert await load.send(http, write) == write.outcome, write
    finally:
        await gateway.kill()
    return load, data_dir


async def assert_nothing_lost_or_doubled(load: Load, db: Database, data_dir: Path) -> None:
    created = {w.outcome[1]["number"] for w in load.writes if w.path == "/tickets" and w.outcome}
    assert len(created) == CLIENTS * TICKETS_PER_CLIENT
    engine = db.engine(data_dir)
    try:
        async with session_factory(engine)() as session:
            numbers = list(await session.scalars(select(Ticket.number)))
            events = (await session.execute(select(TicketEvent.ticket_id, TicketEvent.action))).all()
            deliveries = (await session.execute(
                select(WebhookDelivery.stream, WebhookDelivery.stream_seq, func.count())
                .where(WebhookDelivery.stream.is_not(None))  # a ticket's events
                .group_by(WebhookDelivery.stream, WebhookDelivery.stream_seq))).all()
            seqs = set((await session.execute(
                select(Ticket.number, TicketEvent.seq).join(Ticket, Ticket.id == TicketEvent.ticket_id))).all())
    finally:
        await engine.dispose()
    assert sorted(numbers) == sorted(created), "every acknowledged create is there, once; no ticket made twice"
    per_ticket = Counter(events)
    doubled = {pair: n for pair, n in per_ticket.items() if n > 1}
    assert not doubled, f"audit rows doubled: {doubled}"
    actions = Counter(action for _, action in per_ticket)
    assert all(n == len(numbers) for n in actions.values()), f"each ticket has each transition once: {actions}"
    assert {"dispatch", "sign", "supervise", "reply"} <= set(actions), actions
    assert deliveries and all(n == 1 for *_, n in deliveries), "no webhook queued twice"
    assert {(stream, seq) for stream, seq, _ in deliveries} <= seqs, "no webhook of a rolled-back transition"


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_kill_9_three_times_under_load_loses_nothing_and_doubles_nothing(tmp_path: Path, kind: str) -> None:
    total = CLIENTS * TICKETS_PER_CLIENT * 6

    async def kill_three_times(load: Load, gateway: Gateway) -> None:
        for round_ in range(1, ROUNDS + 1):
            await load.reached(total * round_ // (ROUNDS + 1))
            await gateway.kill()  # requests in flight: some committed, some not, none answered
            await gateway.start()

    async with database(kind) as db:
        load, data_dir = await run_load(tmp_path, db, kill_three_times)
        await assert_nothing_lost_or_doubled(load, db, data_dir)
    assert load.unanswered > 0, "requests really were cut off by the kills"


def pg_ctl(action: str, options: str = "") -> None:
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 and shutil.which("runuser") else []
    extra = ["-m", "fast"] if action == "stop" else ["-l", str(Path(str(PG_DATA)).parent / "log"), "-o", options]
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(PG_DATA), "-w", *extra, action], check=True,
                   capture_output=True, timeout=60)


def server_options() -> str:
    """The options the running server was started with (port, socket directory …; ./dev passes them on the
    command line, not in postgresql.conf), so that it comes back where the tests expect it."""
    words = shlex.split((Path(str(PG_DATA)) / "postmaster.opts").read_text())[1:]
    kept = [w for i, w in enumerate(words) if w != "-D" and (i == 0 or words[i - 1] != "-D")]
    return " ".join(shlex.quote(w) for w in kept)


@pytest.mark.postgres
async def test_postgresql_stopped_for_20_s_under_load_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    if not PG_DATA or not PG_URL:
        pytest.skip("needs a private PostgreSQL cluster it may stop: set HOTLINE_TEST_PG_URL and "
                    "HOTLINE_TEST_PG_DATA (its data directory)")
    total = CLIENTS * TICKETS_PER_CLIENT * 6

    async def stop_the_database(load: Load, gateway: Gateway) -> None:
        await load.reached(total // 3)
        options = server_options()
        await asyncio.to_thread(pg_ctl, "stop")
        try:
            await asyncio.sleep(20)
        finally:
            await asyncio.to_thread(pg_ctl, "start", options)

    async with database("postgres") as db:
        load, data_dir = await run_load(tmp_path, db, stop_the_database)
        await assert_nothing_lost_or_doubled(load, db, data_dir)
    assert load.unavailable > 0, "requests really were answered 503 while the database was away"
