"""一键转接 (blind), warm transfer to an expert seat (complete and cancel), and recording across them."""

from __future__ import annotations

import asyncio

import pytest
from pbx_ami import Ami
from pbx_harness import Pbx
from pbx_scenes import answered_queue_call, recording_seconds, register_seat, wait_bridged_together
from pbx_sipp import SippRunner

pytestmark = pytest.mark.asterisk



def answered_by(prefix: str):
    return lambda m: m.get("DestChannel", "").startswith(prefix)


async def test_blind_transfer_to_a_subcentre_keeps_the_citizens_recording(
    pbx: Pbx, sipp: SippRunner, ami: Ami
) -> None:
    call = await answered_queue_call(sipp, ami)
    subcentre = await sipp.trunk_far_end("subcentre")
    # The dialplan (hotline-record) records the citizen's leg from the queue on, named by the call.
    recording = pbx.recordings / "hotline" / f"{call.linkedid}.wav"
    await asyncio.sleep(1)

    reply = await ami.action(
        "BlindTransfer", Channel=call.agent_channel, Context="hotline-transfer", Exten="8001"
    )
    assert reply["Response"] == "Success", reply
    transfer = await ami.wait_for("BlindTransfer")
    assert (transfer["Result"], transfer["Extension"], transfer["Context"]) == (
        "Success",
        "8001",
        "hotline-transfer",
    )
    answered = await ami.wait_for("DialEnd", DialStatus="ANSWER", where=answered_by("PJSIP/subcentre-"))
    assert answered["Channel"] == call.citizen_channel
    await wait_bridged_together(ami, call.citizen_channel, "PJSIP/subcentre-")

    await asyncio.sleep(2)
    await ami.action("Hangup", Channel=call.citizen_channel)
    assert await subcentre.wait() == 0
    # The sub-centre learned which 12345 call this is.
    assert f"X-Hotline-Call-Id:{call.linkedid}" in subcentre.log()
    await ami.wait_for("Hangup", Channel=call.citizen_channel)
    # One second with the agent, two with the sub-centre: one file for the whole call.
    assert await recording_seconds(recording) >= 2.5


async def warm_transfer_to_expert(sipp: SippRunner, ami: Ami):
    call = await answered_queue_call(sipp, ami)
    await register_seat(sipp, ami, "3001")
    reply = await ami.action("Atxfer", Channel=call.agent_channel, Context="hotline-expert", Exten="12333")
    assert reply["Response"] == "Success", reply
    expert = await ami.wait_for("DialEnd", DialStatus="ANSWER", where=answered_by("PJSIP/3001-"))
    # While the agent consults, the citizen is on hold, not bridged with the expert.
    await ami.wait_for("MusicOnHoldStart", Channel=call.citizen_channel)
    return call, expert["DestChannel"]


async def test_warm_transfer_to_the_12333_expert_completes_when_the_agent_hangs_up(
    sipp: SippRunner, ami: Ami
) -> None:
    call, expert_channel = await warm_transfer_to_expert(sipp, ami)
    await ami.action("Hangup", Channel=call.agent_channel)
    transfer = await ami.wait_for("AttendedTransfer")
    assert transfer["Result"] == "Success"
    await wait_bridged_together(ami, call.citizen_channel, "PJSIP/3001-")
    await ami.action("Hangup", Channel=expert_channel)
    assert await call.citizen.wait() == 0


async def test_warm_transfer_cancelled_returns_the_agent_to_the_citizen(sipp: SippRunner, ami: Ami) -> None:
    call, expert_channel = await warm_transfer_to_expert(sipp, ami)
    reply = await ami.action("CancelAtxfer", Channel=call.agent_channel)
    assert reply["Response"] == "Success", reply
    await ami.wait_for("Hangup", Channel=expert_channel)
    peer = await wait_bridged_together(ami, call.citizen_channel, "PJSIP/1001-")
    assert peer == call.agent_channel
    assert ami.named("AttendedTransfer", Result="Success") == []
