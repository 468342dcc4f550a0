"""Two real gateway processes on one PostgreSQL and one (fake) Asterisk: kill -9 the leader with calls up.

The standby takes control by itself, sees every call again (its resync), and a transfer a console asks
for during the failover — through the standby, resent with the same Idempotency-Key on 503 not-leader —
reaches Asterisk exactly once, under the new term. Timing targets are in ``hotline bench failover``.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from gateway.db.scratch import scratch_schema
from gateway.leadership.bench import (
    CALL_BASE,
    Gateway,
    Rig,
    answered_calls,
    calls_seen,
    request_until_answered,
    wait_for,
)
from tests.fakes.fake_ami import FakeAmi

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL")
CALLS = 5

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    fake.channels.extend(answered_calls(CALLS))
    yield fake
    await fake.stop()


async def test_the_standby_takes_control_when_the_leader_is_killed_and_a_transfer_runs_once(
    fake_ami: FakeAmi, tmp_path: Path
) -> None:
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set: two gateway instances need PostgreSQL")
    async with scratch_schema(PG_URL, "failover") as schema, aiohttp.ClientSession() as http:
        rig = Rig(PG_URL, schema, fake_ami.port, fake_ami.secret, tmp_path)
        try:
            await rig.create_token()
            a = await rig.start_gateway("a")
            await wait_for(http, a, within=90, role="leader", in_control=True)
            b = await rig.start_gateway("b")
            await wait_for(http, b, within=90, role="standby")
            assert await _eventually_sees(http, b, rig.token, CALLS)  # through the standby, answered by a

            a.process.send_signal(signal.SIGKILL)
            await a.process.wait()
            status, body, tries = await request_until_answered(
                http, b, f"/calls/{CALL_BASE}.0/transfer", {"target": "12315"}, "transfer-during-failover", rig.token
            )
            await wait_for(http, b, within=30, role="leader", in_control=True)
            again, replay, _ = await request_until_answered(
                http, b, f"/calls/{CALL_BASE}.0/transfer", {"target": "12315"}, "transfer-during-failover", rig.token
            )
            seen_by_new_leader = await calls_seen(http, b, rig.token)
        finally:
            await rig.stop()
    transfers = fake_ami.actions("BlindTransfer")
    logins = {a["ActionID"].split("/t")[0]: a["ActionID"] for a in fake_ami.actions("Login")}  # instance → id
    assert (status, body["transfer"], body["number"]) == (200, "blind", "12315")
    assert tries > 1  # it met the failover: refused (503 not-leader) before the new leader ran it
    assert (again, replay) == (200, body)  # the resend replays the stored answer
    assert len(transfers) == 1
    assert "/t2/" in transfers[0]["ActionID"]  # sent by the new leader, under term 2
    assert seen_by_new_leader == CALLS
    assert sorted(action_id.split("/")[1] for action_id in logins.values()) == ["t1", "t2"]  # one login per term


async def _eventually_sees(http: aiohttp.ClientSession, gateway: Gateway, token: str, count: int) -> bool:
    for _ in range(600):
        if await calls_seen(http, gateway, token) == count:
            return True
        await asyncio.sleep(0.05)
    return False
