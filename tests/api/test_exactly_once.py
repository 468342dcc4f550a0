"""Exactly-once requests: with an Idempotency-Key, a crash leaves either nothing (the resend runs it) or
everything (the resend gets the original answer); never a second ticket, audit row or webhook. And a
database that cannot be reached answers a JSON 503 with Retry-After, then recovers without a restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy.exc import OperationalError

from gateway.appkeys import BUS
from gateway.db.scratch import scratch_schema
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.service import TicketService
from tests.api.support import Api, running_gateway
from tests.api.test_tickets_api import NEW, dispatched
from tests.conftest import PG_URL
from tests.tickets.support import FakeClock


@contextlib.asynccontextmanager
async def gateway_on(store: str, tmp_path: Path, clock: FakeClock, url: str | None = None) -> AsyncIterator[Api]:
    if store == "sqlite":
        async with running_gateway(tmp_path, clock) as api:
            yield api
        return
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set (./dev test starts a private PostgreSQL and sets it)")
    async with scratch_schema(PG_URL, "once") as schema, \
            running_gateway(tmp_path, clock, db={"url": url or PG_URL, "search_path": schema}) as api:
        yield api


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def api(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    async with gateway_on(request.param, tmp_path, clock) as api:
        yield api


class Crash(Exception):
    """The process dying at a chosen point (what a kill -9 would leave behind is what we check)."""


def crash_after_commit(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next keyed request dies after its transaction committed, before its answer is sent."""
    bus = api.app[BUS]
    deliver = bus.deliver

    def dying(events: Any) -> None:
        monkeypatch.setattr(bus, "deliver", deliver)
        raise Crash

    monkeypatch.setattr(bus, "deliver", dying)


async def count_tickets(api: Api) -> int:
    return len((await api.ok("admin", "GET", "/tickets"))["items"])


async def test_a_create_that_died_after_its_commit_is_answered_with_the_ticket_it_made(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    headers = {"Idempotency-Key": "create-1"}
    crash_after_commit(api, monkeypatch)
    lost = await api.call("agent", "POST", "/tickets", NEW, headers=headers)
    assert lost.status == 500  # the client never learned the outcome
    again = await api.call("agent", "POST", "/tickets", NEW, headers=headers)
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert await count_tickets(api) == 1
    assert (await api.ok("admin", "GET", "/tickets"))["items"][0]["number"] == (await again.json())["number"]


async def test_a_create_that_died_before_its_commit_left_nothing_and_the_resend_makes_it(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    create = TicketService.create

    async def dies_after_writing(self: TicketService, *args: Any) -> Any:
        await create(self, *args)  # its own transaction is done: only a savepoint of the request's
        raise Crash

    monkeypatch.setattr(TicketService, "create", dies_after_writing)
    headers = {"Idempotency-Key": "create-2"}
    assert (await api.call("agent", "POST", "/tickets", NEW, headers=headers)).status == 500
    assert await count_tickets(api) == 0
    monkeypatch.setattr(TicketService, "create", create)
    again = await api.call("agent", "POST", "/tickets", NEW, headers=headers)
    assert again.status == 201 and "Idempotent-Replayed" not in again.headers
    assert await count_tickets(api) == 1


async def test_supervision_retried_after_a_lost_answer_is_recorded_once(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    number = await dispatched(api)
    before = len((await api.ok("admin", "GET", f"/tickets/{number}/timeline"))["items"])
    headers = {"Idempotency-Key": "supervise-1"}
    body = {"level": 2, "note": "请尽快处理"}
    crash_after_commit(api, monkeypatch)
    assert (await api.call("admin", "POST", f"/tickets/{number}/supervise", body, headers=headers)).status == 500
    again = await api.call("admin", "POST", f"/tickets/{number}/supervise", body, headers=headers)
    assert again.status == 200 and again.headers["Idempotent-Replayed"] == "true"
    timeline = (await api.ok("admin", "GET", f"/tickets/{number}/timeline"))["items"]
    assert len(timeline) == before + 1
    assert [e["action"] for e in timeline].count("supervise") == 1


async def test_a_refusal_committed_with_its_key_is_replayed_not_turned_into_in_progress(api: Api) -> None:
    number = await dispatched(api)
    headers = {"Idempotency-Key": "sign-1"}
    first = await api.call("water", "POST", f"/tickets/{number}/sign", headers=headers)
    again = await api.call("water", "POST", f"/tickets/{number}/sign", headers=headers)
    assert first.status == again.status
    assert await first.json() == await again.json()
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_concurrent_duplicates_wait_for_the_first_and_replay_its_answer(api: Api) -> None:
    headers = {"Idempotency-Key": "create-racing"}
    answers = await asyncio.gather(*(api.call("agent", "POST", "/tickets", NEW, headers=headers) for _ in range(8)))
    assert [a.status for a in answers] == [201] * 8
    assert len({(await a.json())["number"] for a in answers}) == 1
    assert sum("Idempotent-Replayed" in a.headers for a in answers) == 7
    assert await count_tickets(api) == 1


async def test_events_of_a_rolled_back_request_are_never_published(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    api.app[BUS].subscribe("ticket.", lambda e: seen.append(e.kind))
    create = TicketService.create

    async def dies_after_writing(self: TicketService, *args: Any) -> Any:
        await create(self, *args)
        raise Crash

    monkeypatch.setattr(TicketService, "create", dies_after_writing)
    assert (await api.call("agent", "POST", "/tickets", NEW, headers={"Idempotency-Key": "k"})).status == 500
    assert seen == []
    monkeypatch.setattr(TicketService, "create", create)
    await api.ok("agent", "POST", "/tickets", NEW, headers={"Idempotency-Key": "k"}, status=201)
    assert seen == ["ticket.created"]


# ---- the database unreachable --------------------------------------------------------------------------

async def test_a_database_error_answers_json_503_with_retry_after(
        tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_gateway(tmp_path, clock) as api:
        async def unreachable(*_args: Any, **_kw: Any) -> Any:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

        monkeypatch.setattr(api.app[TICKETS], "create", unreachable)
        for headers in ({}, {"Idempotency-Key": "during-outage"}):
            resp = await api.call("agent", "POST", "/tickets", NEW, headers=headers)
            assert resp.status == 503
            assert (await resp.json())["error_id"] == "database-unavailable"
            assert int(resp.headers["Retry-After"]) > 0
        monkeypatch.undo()
        # The key was not left locked: the resend runs the request.
        resp = await api.call("agent", "POST", "/tickets", NEW, headers={"Idempotency-Key": "during-outage"})
        assert resp.status == 201 and "Idempotent-Replayed" not in resp.headers


class Proxy:
    """A TCP relay in front of PostgreSQL that the test can cut (the server "stopped") and restore."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.links):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.links.add(writer)  # before the upstream connects: a cut in between must close this one too
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.links.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.links -= {writer, up_writer}


@pytest.mark.postgres
async def test_postgresql_gone_mid_load_answers_503_then_recovers_without_restart(
        tmp_path: Path, clock: FakeClock) -> None:
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set (./dev test starts a private PostgreSQL and sets it)")
    parts = urlsplit(PG_URL)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    url = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    async with gateway_on("postgres", tmp_path, clock, url=url) as api:
        await api.ok("agent", "POST", "/tickets", NEW, headers={"Idempotency-Key": "before"}, status=201)
        await proxy.cut()
        keys = [f"outage-{i}" for i in range(6)]
        answers = await asyncio.gather(*(api.call("agent", "POST", "/tickets", NEW, headers={"Idempotency-Key": k})
                                         for k in keys), api.call("agent", "GET", "/tickets"))
        for resp in answers:
            assert resp.status == 503, await resp.text()
            assert resp.content_type == "application/json"
            assert (await resp.json())["error_id"] == "database-unavailable"
            assert int(resp.headers["Retry-After"]) > 0
        await proxy.start()  # PostgreSQL back: the same process serves again
        for key in keys:
            resp = await api.call("agent", "POST", "/tickets", NEW, headers={"Idempotency-Key": key})
            assert resp.status == 201, await resp.text()
            assert "Idempotent-Replayed" not in resp.headers  # nothing was half-written, no key left locked
        assert await count_tickets(api) == 1 + len(keys)
    await proxy.cut()
