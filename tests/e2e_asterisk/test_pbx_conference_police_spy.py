"""三方通话 with the agent leaving, 110 both ways, and supervisor spying."""

from __future__ import annotations

import asyncio
import re

import pytest
from pbx_ami import Ami, chan_vars
from pbx_harness import TRUNK_IPS
from pbx_scenes import answered_queue_call, register_seat, wait_bridged_together
from pbx_sipp import SippRunner

pytestmark = pytest.mark.asterisk


async def conference_members(ami: Ami, room: str) -> list[str]:
    return [
        m["Channel"]
        for m in await ami.send("ConfbridgeList", Conference=room)
        if m.get("Event") == "ConfbridgeList"
    ]


async def test_three_way_call_with_110_continues_after_the_agent_leaves(sipp: SippRunner, ami: Ami) -> None:
    call = await answered_queue_call(sipp, ami)
    police = await sipp.trunk_far_end("police110")
    room = re.sub(r"\D", "", call.linkedid)
    moved = await ami.action(
        "Redirect",
        Channel=call.citizen_channel,
        Context="hotline-conference",
        Exten=room,
        Priority="1",
        ExtraChannel=call.agent_channel,
        ExtraContext="hotline-conference",
        ExtraExten=room,
        ExtraPriority="1",
    )
    assert moved["Response"] == "Success", moved
    dialled = await ami.action(
        "Originate",
        Channel="Local/110@hotline-police",
        Context="hotline-conference",
        Exten=room,
        Priority="1",
        Async="true",
        Variable=f"HOTLINE_CALL_ID={call.linkedid}",
    )
    assert dialled["Response"] == "Success", dialled
    for channel in (call.citizen_channel, call.agent_channel):
        await ami.wait_for("ConfbridgeJoin", Conference=room, Channel=channel)
    police_leg = await ami.wait_for(
        "ConfbridgeJoin", Conference=room, where=lambda m: m["Channel"].startswith("Local/110@")
    )

    await ami.action("Hangup", Channel=call.agent_channel)
    await ami.wait_for("ConfbridgeLeave", Conference=room, Channel=call.agent_channel)
    # The room's member list catches up with the Leave event a moment later.
    for _ in range(50):
        members = await conference_members(ami, room)
        if call.agent_channel not in members:
            break
        await asyncio.sleep(0.1)
    assert sorted(members) == sorted([call.citizen_channel, police_leg["Channel"]])
    assert ami.named("ConfbridgeEnd", Conference=room) == []

    # The citizen and 110 talk on; then both hang up.
    await ami.action("Hangup", Channel=call.citizen_channel)
    await ami.action("Hangup", Channel=police_leg["Channel"])
    assert await police.wait() == 0
    assert f"X-Hotline-Call-Id:{call.linkedid}" in police.log()


async def test_one_key_transfer_to_110_tells_110_the_call_id(sipp: SippRunner, ami: Ami) -> None:
    call = await answered_queue_call(sipp, ami)
    police = await sipp.trunk_far_end("police110")
    reply = await ami.action(
        "BlindTransfer", Channel=call.agent_channel, Context="hotline-police", Exten="110"
    )
    assert reply["Response"] == "Success", reply
    assert (await ami.wait_for("BlindTransfer"))["Result"] == "Success"
    await wait_bridged_together(ami, call.citizen_channel, "PJSIP/police110-")
    await ami.action("Hangup", Channel=call.citizen_channel)
    assert await police.wait() == 0
    assert f"X-Hotline-Call-Id:{call.linkedid}" in police.log()


async def test_a_call_from_110_carries_its_incident_id_to_the_agent(sipp: SippRunner, ami: Ami) -> None:
    await register_seat(sipp, ami, "1001")
    await ami.action("QueueAdd", Queue="hotline", Interface="PJSIP/1001")
    police = await sipp.run(
        "police-caller",
        "police_call.xml",
        "-s",
        "12345",
        "-key",
        "incident",
        "JJ20261122-0042",
        ip=TRUNK_IPS["police110"],
    )
    handoff = await ami.wait_for("UserEvent", UserEvent="HotlinePolice")
    assert handoff["IncidentId"] == "JJ20261122-0042"
    join = await ami.wait_for("QueueCallerJoin", Queue="hotline")
    assert chan_vars(join)["HOTLINE_INCIDENT_ID"] == "JJ20261122-0042"
    assert chan_vars(join)["HOTLINE_KIND"] == "police"
    assert join["Channel"].startswith("PJSIP/police110-")
    connect = await ami.wait_for("AgentConnect", Queue="hotline")
    await ami.action("Hangup", Channel=connect["DestChannel"])
    assert await police.wait() == 0


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_supervisor_spies_on_an_agent(sipp: SippRunner, ami: Ami, mode: str) -> None:
    call = await answered_queue_call(sipp, ami)
    await register_seat(sipp, ami, "2001")
    reply = await ami.action(
        "Originate",
        Channel="PJSIP/2001",
        Context="hotline-spy",
        Exten=mode,
        Priority="1",
        Async="true",
        Variable="HOTLINE_SPY_TARGET=PJSIP/1001-",
    )
    assert reply["Response"] == "Success", reply
    spy = await ami.wait_for("ChanSpyStart")
    assert spy["SpyeeChannel"] == call.agent_channel
    assert spy["SpyerChannel"].startswith("PJSIP/2001-")
    await ami.action("Hangup", Channel=call.agent_channel)
    await ami.wait_for("ChanSpyStop", within=30)  # slower when the machine is loaded


async def test_spying_without_a_target_is_refused(sipp: SippRunner, ami: Ami) -> None:
    await answered_queue_call(sipp, ami)
    await register_seat(sipp, ami, "2001")
    await ami.action(
        "Originate", Channel="PJSIP/2001", Context="hotline-spy", Exten="listen", Priority="1", Async="true"
    )
    supervisor = await ami.wait_for("Hangup", where=lambda m: m["Channel"].startswith("PJSIP/2001-"))
    assert supervisor["Cause"] == "21"  # call rejected
    assert ami.named("ChanSpyStart") == []
