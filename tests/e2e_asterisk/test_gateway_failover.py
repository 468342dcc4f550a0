"""Active/standby on a real Asterisk: two ``hotline serve`` processes on one PostgreSQL, a SIPp citizen
talking to a SIPp seat; kill -9 the leader. The standby logs in to AMI, adopts the call from Asterisk's
channels, and a one-key transfer asked for during the failover (through the standby, resent with the same
Idempotency-Key on 503 not-leader) is done by Asterisk exactly once. Prints the time to control."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pbx_ami import Ami
from pbx_gateway import TRANSFER_TARGETS
from pbx_harness import Pbx
from pbx_scenes import register_seat, wait_bridged_together
from pbx_sipp import SippRunner

from gateway.db.scratch import scratch_schema
from gateway.leadership.bench import Gateway, Rig, request_until_answered, wait_for

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL")

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
async def observer(pbx: Pbx) -> AsyncIterator[Ami]:
    client = await Ami.connect(pbx.ami_port, "gateway", pbx.ami_secret)
    yield client
    await client.close()


async def api(
    http: aiohttp.ClientSession, gw: Gateway, token: str, method: str, path: str, body: object = None
) -> dict[str, object]:
    async with http.request(
        method, gw.url + "/api/v1" + path, json=body, headers={"Authorization": f"Bearer {token}"}
    ) as answer:
        data = await answer.json()
        assert answer.status < 300, data
        return dict(data)


async def connected_call(http: aiohttp.ClientSession, gw: Gateway, token: str, within: float = 20) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        calls = (await api(http, gw, token, "GET", "/calls"))["calls"]
        assert isinstance(calls, list)
        for call in calls:
            if call.get("state") == "connected":
                return str(call["call_id"])
        await asyncio.sleep(0.1)
    raise AssertionError("the gateway never showed the answered call")


async def test_kill_the_leader_with_a_call_up_the_standby_takes_over_and_transfers_once(
    pbx: Pbx, sipp: SippRunner, observer: Ami, tmp_path: Path
) -> None:
    if not PG_URL:
        pytest.skip("HOTLINE_TEST_PG_URL is not set: two gateway instances need PostgreSQL")
    extra = {
        "HOTLINE_CALLS__TRANSFER_TARGETS": json.dumps(TRANSFER_TARGETS),
        "HOTLINE_CALLS__RECORDING_DIR": str(pbx.recordings / "hotline"),
        "HOTLINE_AMI__ACTION_TIMEOUT": "3",
        "HOTLINE_AMI__PING_INTERVAL": "1",
    }
    async with scratch_schema(PG_URL, "failover") as schema, aiohttp.ClientSession() as http:
        rig = Rig(PG_URL, schema, pbx.ami_port, pbx.ami_secret, tmp_path)
        try:
            await rig.create_token()
            a = await rig.start_gateway("a", **extra)
            await wait_for(http, a, within=90, role="leader", in_control=True)
            b = await rig.start_gateway("b", **extra)
            await wait_for(http, b, within=90, role="standby")
            await register_seat(sipp, observer, "1001")
            await api(http, b, rig.token, "PUT", "/agents/1001", {"name": "坐席1001", "queues": ["hotline"]})
            await api(http, b, rig.token, "POST", "/agents/1001/login")  # forwarded to the leader
            await observer.wait_for("QueueMemberAdded", Queue="hotline", Interface="PJSIP/1001")
            await sipp.citizen()
            connect = await observer.wait_for("AgentConnect", Queue="hotline", Interface="PJSIP/1001")
            subcentre = await sipp.trunk_far_end("subcentre")
            call_id = await connected_call(http, b, rig.token)

            a.process.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            await a.process.wait()
            transfer = asyncio.create_task(
                request_until_answered(
                    http, b, f"/calls/{call_id}/transfer", {"target": "county-subcentre"}, "failover-1", rig.token
                )
            )
            in_control = await wait_for(http, b, within=30, role="leader", in_control=True) - killed
            status, body, tries = await transfer
            answered = time.monotonic() - killed
            await wait_bridged_together(observer, connect["Channel"], "PJSIP/subcentre-")
            await asyncio.sleep(1)  # a second transfer would show by now
            transfers = observer.named("BlindTransfer")
            await observer.action("Hangup", Channel=connect["Channel"])
            assert await subcentre.wait() == 0
        finally:
            await rig.stop()
    print(
        f"real Asterisk failover: standby in control {in_control:.2f} s after kill -9, transfer answered "
        f"{answered:.2f} s ({tries} tries), BlindTransfer ×{len(transfers)}"
    )
    assert (status, body["number"]) == (200, "8001")
    assert tries > 1
    assert len(transfers) == 1
