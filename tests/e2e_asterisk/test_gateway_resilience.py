"""The PBX link failing under the gateway, on a real Asterisk: operations answer 503 while it is down; on
reconnect the gateway resyncs its call model from Asterisk (CoreShowChannels, QueueStatus) and, after an
Asterisk restart, logs the agents of record back into their queues with their pause kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from pbx_ami import Ami
from pbx_gateway import AmiLink, Gateway, reset_pbx, running_gateway
from pbx_harness import Pbx
from pbx_scenes import register_seat, wait_bridged_together
from pbx_sipp import SippRunner

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def sipp(module_pbx: Pbx, tmp_path: Path) -> AsyncIterator[SippRunner]:
    """SIPp for the test; afterwards Asterisk (restarted or not) is left with no calls and no members."""
    runner = SippRunner(module_pbx, tmp_path / "sipp")
    yield runner
    ami = await observe(module_pbx)
    try:
        await reset_pbx(ami)
    finally:
        await ami.close()
        await runner.stop_all()


async def observe(pbx: Pbx) -> Ami:
    return await Ami.connect(pbx.ami_port, "gateway", pbx.ami_secret)


async def log_in(gw: Gateway, sipp: SippRunner, ami: Ami, seat: str) -> None:
    await register_seat(sipp, ami, seat)
    await gw.ok("PUT", f"/agents/{seat}", {"name": f"坐席{seat}", "queues": ["hotline"]})
    await gw.ok("POST", f"/agents/{seat}/login", who=seat)
    await ami.wait_for("QueueMemberAdded", Queue="hotline", Interface=f"PJSIP/{seat}")


async def test_ami_link_down_answers_503_then_reconnects_and_resyncs(
    module_pbx: Pbx, sipp: SippRunner, tmp_path: Path
) -> None:
    link = await AmiLink(module_pbx.ami_port).start()
    ami = await observe(module_pbx)
    try:
        async with running_gateway(module_pbx, tmp_path / "gw", ami_port=link.port) as gw:
            await log_in(gw, sipp, ami, "1001")
            first_citizen = await sipp.citizen()
            first = await gw.wait_event("call.connected")

            link.cut()
            await gw.wait_until(
                lambda: not gw.svc.ami.connected, what="the gateway noticing the link is down"
            )
            ready = await gw.client.get("/readyz", headers={"Authorization": f"Bearer {gw.tokens['admin']}"})
            body = await ready.json()
            assert (ready.status, body["status"]) == (200, "degraded")
            assert body["checks"]["pbx"].startswith("PBX link down")
            for path, payload in [
                (f"/calls/{first['call_id']}/transfer", {"target": "county-subcentre"}),
                ("/agents/1001/pause", {"reason": "会议"}),
            ]:
                refused = await gw.refused(503, "POST", path, payload, who="1001")
                assert refused["error_id"] == "asterisk-unavailable"
            assert (await gw.ok("GET", "/calls"))["pbx"].startswith("PBX link down")

            # While the gateway is blind, the first citizen hangs up and a second one is answered.
            await ami.action("Hangup", Channel=first["citizen_channel"])
            assert await first_citizen.wait() == 0
            await sipp.citizen("citizen_call.xml", "13700137000")
            second = await ami.wait_for("AgentConnect", Queue="hotline", CallerIDNum="13700137000")

            link.restore()
            await gw.wait_event("pbx.resynced", where=lambda d: d["connects"] == 2, within=10)
            ended = await gw.wait_event("call.ended", call_id=first["call_id"])
            assert ended["end_reason"] == "ended while the gateway was away"
            adopted = await gw.ok("GET", f"/calls/{second['Linkedid']}")
            assert adopted["live"] is True
            assert (adopted["state"], adopted["caller"], adopted["queue"]) == (
                "connected",
                "13700137000",
                "hotline",
            )
            assert (adopted["agent_interface"], adopted["agent_channel"]) == (
                "PJSIP/1001",
                second["DestChannel"],
            )
            assert adopted["recording"], "a call the gateway did not see begin is recorded from now on"

            # The gateway drives the adopted call like any other.
            subcentre = await sipp.trunk_far_end("subcentre")
            await gw.ok(
                "POST", f"/calls/{second['Linkedid']}/transfer", {"target": "county-subcentre"}, who="1001"
            )
            await gw.wait_event("call.transferred", call_id=second["Linkedid"])
            await wait_bridged_together(ami, second["Channel"], "PJSIP/subcentre-")
            await ami.action("Hangup", Channel=second["Channel"])
            assert await subcentre.wait() == 0
    finally:
        await ami.close()
        await link.close()


async def test_asterisk_restart_mid_shift_logs_the_agents_in_again_with_their_pause(
    module_pbx: Pbx, sipp: SippRunner, tmp_path: Path
) -> None:
    ami = await observe(module_pbx)
    async with running_gateway(module_pbx, tmp_path / "gw") as gw:
        try:
            await log_in(gw, sipp, ami, "1001")
            await log_in(gw, sipp, ami, "1002")
            await gw.ok("POST", "/agents/1002/pause", {"reason": "培训"}, who="1002")
            await ami.wait_for("QueueMemberPause", Interface="PJSIP/1002", Paused="1")
        finally:
            await ami.close()

        await module_pbx.restart()
        await gw.wait_event("pbx.resynced", where=lambda d: d["connects"] == 2, within=30)
        ami = await observe(module_pbx)
        try:
            members = {
                m["Location"]: m
                for m in await ami.send("QueueStatus", Queue="hotline")
                if m.get("Event") == "QueueMember"
            }
            assert sorted(members) == ["PJSIP/1001", "PJSIP/1002"]
            assert (members["PJSIP/1001"]["Paused"], members["PJSIP/1001"]["Name"]) == ("0", "坐席1001")
            assert (members["PJSIP/1002"]["Paused"], members["PJSIP/1002"]["PausedReason"]) == ("1", "培训")
            agents = {a["agent_id"]: a for a in (await gw.ok("GET", "/agents"))["agents"]}
            assert (agents["1001"]["state"], agents["1002"]["state"]) == ("available", "paused")
            assert agents["1002"]["pause_reason"] == "培训"

            # The shift goes on: the next citizen reaches the agent who is not paused. (The phone
            # registers again: a restarted Asterisk does not ring a contact it has not qualified yet,
            # which takes up to qualify_frequency = 30 s; real phones re-register on their own timer.)
            await register_seat(sipp, ami, "1001")
            citizen = await sipp.citizen()
            connected = await gw.wait_event("call.connected")
            assert connected["agent_id"] == "1001"
            await ami.action("Hangup", Channel=connected["agent_channel"])
            assert await citizen.wait() == 0
        finally:
            await ami.close()
