"""A gateway process killed (-9) while 50 calls are up on the (fake) Asterisk; 10 of them end while it is
down. After a restart the calls table matches Asterisk: the 40 still up are live again with the times the
first run saved, the 10 that ended are closed with an end time and the reason, none left ``connected``.

And killed the instant a console has been told that a burst of short calls ended: each of those calls is
stored, with its own end (not reconstructed after the restart), although none of them was ever stored up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.calls.model import AWAY
from tests.calls.served_gateway import Gateway, admin_token, rows, until
from tests.fakes import scenarios
from tests.fakes.fake_ami import FakeAmi, frame

pytestmark = pytest.mark.slow

CALLS, ENDED_IN_THE_GAP = 50, 10


def call_ids() -> list[str]:
    return [f"1795347000.{10 * n}" for n in range(1, CALLS + 1)]


def agent(n: int) -> str:
    return str(2000 + n)


def live_channels(call_id: str, agent_id: str) -> list[dict[str, Any]]:
    """The two legs CoreShowChannels shows for an answered queue call."""
    bridge = f"bridge-{call_id}"
    base, _, seq = call_id.partition(".")
    citizen = scenarios.core_show_channel(scenarios.citizen_channel(call_id), call_id, call_id,
                                          application="Queue", bridge=bridge)
    agent_leg = scenarios.core_show_channel(scenarios.agent_channel(call_id, agent_id), f"{base}.{int(seq) + 1}",
                                            call_id, application="AppQueue", bridge=bridge,
                                            context="from-agents")
    return [{**citizen, "ApplicationData": "hotline,t", **scenarios.recorded(call_id)}, agent_leg]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.stop()


async def test_calls_that_ended_while_the_gateway_was_dead_are_closed_and_the_rest_adopted(
        tmp_path: Path, fake: FakeAmi) -> None:
    data_dir = tmp_path / "data"
    gateway = Gateway(data_dir, fake.port, fake.secret)
    ids = call_ids()
    try:
        await gateway.start()
        session = await fake.wait_logged_in(within=60)
        for n, call_id in enumerate(ids):
            events = scenarios.answered_call(call_id, citizen=f"1380000{n:04d}", agent=agent(n))
            await session.send("".join(frame(e) for e in events))
        before = await until(lambda found: len(found) == CALLS and all(
            r.state == "connected" and r.answered_at is not None for r in found.values()), data_dir, 60)
        await gateway.kill()

        # While the gateway is dead, 10 calls end; Asterisk keeps the other 40 up.
        ended, still_up = ids[:ENDED_IN_THE_GAP], ids[ENDED_IN_THE_GAP:]
        fake.channels = [leg for n, call_id in enumerate(ids) if call_id in still_up
                         for leg in live_channels(call_id, agent(n))]
        fake.drop_all()

        await gateway.start()
        after = await until(lambda found: sum(r.state == "ended" for r in found.values()) == ENDED_IN_THE_GAP,
                            data_dir, 60)
    finally:
        await gateway.kill()

    assert set(after) == set(ids), "no call lost, none made up"
    for call_id in ended:
        row = after[call_id]
        assert (row.state, row.end_reason, row.outcome) == ("ended", AWAY, "answered"), call_id
        answered_at = before[call_id].answered_at
        assert isinstance(row.ended_at, datetime) and answered_at is not None and row.ended_at >= answered_at
    for call_id in still_up:
        row = after[call_id]
        assert (row.state, row.ended_at, row.end_reason) == ("connected", None, None), call_id
        # What Asterisk's snapshot does not say, the first run had saved: kept, not reset.
        assert (row.started_at, row.queued_at, row.answered_at, row.hold_seconds) == (
            before[call_id].started_at, before[call_id].queued_at, before[call_id].answered_at,
            before[call_id].hold_seconds), call_id
        assert row.recording == scenarios.recording_of(call_id)



BURST = 40


async def listening(http: aiohttp.ClientSession, gateway: Gateway) -> aiohttp.ClientWebSocketResponse:
    """A console's websocket, once the gateway's HTTP server accepts connections."""
    async with asyncio.timeout(60):
        while True:
            try:
                return await http.ws_connect(f"http://127.0.0.1:{gateway.port}/api/v1/ws")
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.2)


async def test_calls_a_console_saw_end_are_stored_with_their_end_when_the_gateway_is_killed_at_once(
        tmp_path: Path, fake: FakeAmi) -> None:
    data_dir = tmp_path / "data"
    gateway = Gateway(data_dir, fake.port, fake.secret)
    ids = [f"1795348000.{10 * n}" for n in range(1, BURST + 1)]
    burst = [event for n, call_id in enumerate(ids)
             for event in (*scenarios.answered_call(call_id, citizen=f"1390000{n:04d}", agent=agent(n)),
                           *scenarios.agent_completes(call_id, agent=agent(n)))]
    try:
        await gateway.start()
        session = await fake.wait_logged_in(within=60)
        token = await admin_token(data_dir)
        async with aiohttp.ClientSession() as http, await listening(http, gateway) as console:
            await console.send_json({"type": "hello", "token": token})
            assert (await console.receive_json(timeout=10))["type"] == "welcome"
            await session.send("".join(frame(e) for e in burst))
            seen_ended: set[str] = set()
            async with asyncio.timeout(60):
                while len(seen_ended) < BURST:
                    message = await console.receive_json()
                    if message.get("kind") == "call.ended":
                        seen_ended.add(message["data"]["call_id"])
            await gateway.kill()  # the instant the console knows: no time left to write anything
        stored = await rows(data_dir)

        fake.channels = []  # Asterisk has no call up any more
        fake.drop_all()
        resyncs = len(fake.actions("CoreShowChannels"))
        await gateway.start()
        await fake.wait_for_action("QueueStatus", count=len(fake.actions("QueueStatus")) + 1, within=60)
        assert len(fake.actions("CoreShowChannels")) > resyncs
        after = await rows(data_dir)
    finally:
        await gateway.kill()

    assert seen_ended == set(ids)
    for found in (stored, after):
        assert set(found) == set(ids), "every call the console saw end is stored"
        for call_id in ids:
            row = found[call_id]
            assert (row.state, row.outcome, row.end_reason) == ("ended", "answered", "hangup"), call_id
            assert row.ended_at is not None and row.answered_at is not None and row.ended_at >= row.answered_at
