"""The gateway's own call control on a real Asterisk: its AmiClient, event pipeline, call model, agents
and operations, driven through its HTTP API while SIPp plays citizens, seats, a sub-centre and 110.

One Asterisk serves the module; each test gets a fresh gateway (fresh database) and leaves Asterisk with
no channels and no queue members. A raw AMI connection (pbx_ami) watches Asterisk independently, so the
assertions do not rely on the code under test to say what happened on the PBX.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from pbx_ami import Ami
from pbx_gateway import Gateway, reset_pbx, running_gateway
from pbx_harness import TRUNK_IPS, Pbx
from pbx_scenes import channels, longest_silence, recording_seconds, register_seat, wait_bridged_together
from pbx_sipp import Sipp, SippRunner

from gateway.calls.operations import recording_legs
from tests.webhooks.receiver import Receiver

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Scene:
    pbx: Pbx
    gw: Gateway
    ami: Ami  # the independent observer
    sipp: SippRunner

    async def agent_logged_in(self, seat: str = "1001", queues: tuple[str, ...] = ("hotline",)) -> Sipp:
        """The seat's phone registers; a supervisor registers the agent; the agent logs in (QueueAdd)."""
        phone = await register_seat(self.sipp, self.ami, seat)
        await self.gw.ok("PUT", f"/agents/{seat}", {"name": f"坐席{seat}", "queues": list(queues)})
        view = await self.gw.ok("POST", f"/agents/{seat}/login", who=seat)
        assert view["state"] == "available"
        for queue in queues:
            await self.ami.wait_for("QueueMemberAdded", Queue=queue, Interface=f"PJSIP/{seat}")
        return phone

    async def answered_call(self, seat: str = "1001") -> tuple[Sipp, dict]:
        """A citizen calls 12345 and the logged-in agent answers: the gateway's call.connected."""
        citizen = await self.sipp.citizen()
        connected = await self.gw.wait_event("call.connected", agent_interface=f"PJSIP/{seat}")
        return citizen, connected


@pytest_asyncio.fixture(loop_scope="module")
async def scene(module_pbx: Pbx, tmp_path: Path) -> AsyncIterator[Scene]:
    ami = await Ami.connect(module_pbx.ami_port, "gateway", module_pbx.ami_secret)
    sipp = SippRunner(module_pbx, tmp_path / "sipp")
    try:
        async with running_gateway(module_pbx, tmp_path / "gateway") as gw:
            yield Scene(module_pbx, gw, ami, sipp)
            await reset_pbx(ami)
    finally:
        await sipp.stop_all()
        await ami.close()



# ---- queue ---------------------------------------------------------------------------------------------


async def test_agent_logs_in_through_the_api_and_answers_a_queue_call(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in("1001")
    member = next(
        m for m in await ami.send("QueueStatus", Queue="hotline") if m.get("Event") == "QueueMember"
    )
    assert (member["Location"], member["Name"], member["Paused"]) == ("PJSIP/1001", "坐席1001", "0")

    citizen, connected = await scene.answered_call()
    call_id = connected["call_id"]
    assert connected["agent_id"] == "1001"
    assert (connected["caller"], connected["queue"], connected["call_kind"]) == (
        "13800138000",
        "hotline",
        "citizen",
    )
    live = await gw.ok("GET", f"/calls/{call_id}")
    assert (live["live"], live["state"], live["agent_id"]) == (True, "connected", "1001")
    assert await wait_bridged_together(ami, live["citizen_channel"], "PJSIP/1001-") == live["agent_channel"]
    # Asterisk's truth (issue 15): the agent talking is on_call with the call's id, in the API and on the board.
    await gw.wait_until(lambda: gw.named("agent.state", agent_id="1001", state="on_call"), what="agent on_call")
    (agent,) = (await gw.ok("GET", "/agents"))["agents"]
    assert (agent["state"], agent["call_id"], agent["login_state"]) == ("on_call", call_id, "available")
    board = await gw.ok("GET", "/console/wallboard")
    assert board["agents_by_state"] == {"on_call": 1}
    assert [(a["state"], a["call_id"]) for a in board["agents"]] == [("on_call", call_id)]

    await asyncio.sleep(1)
    await ami.action("Hangup", Channel=live["agent_channel"])
    ended = await gw.wait_event("call.ended", call_id=call_id)
    assert ended["outcome"] == "answered"
    assert await citizen.wait() == 0
    await gw.settle()
    stored = await gw.ok("GET", f"/calls/{call_id}")
    assert (stored["live"], stored["state"], stored["agent_id"]) == (False, "ended", "1001")
    assert stored["hold_seconds"] <= 15
    (kpi,) = (await gw.ok("GET", "/calls/kpi?queue=hotline"))["queues"]
    assert (kpi["offered"], kpi["answered"], kpi["answered_within_target"], kpi["abandoned"]) == (1, 1, 1, 0)
    # Recorded by the gateway on the citizen's leg, named by the call id.
    assert Path(stored["recording"]) == scene.pbx.recordings / "hotline" / f"{call_id}.wav"
    assert await recording_seconds(Path(stored["recording"])) >= 0.5


async def test_citizen_hanging_up_in_the_queue_counts_as_abandoned(scene: Scene) -> None:
    gw = scene.gw
    citizen = await scene.sipp.citizen("citizen_abandon.xml", "13900139000", "-d", "2000")
    offered = await gw.wait_event("call.offered", caller="13900139000")
    abandoned = await gw.wait_event("call.abandoned", call_id=offered["call_id"])
    assert abandoned["hold_seconds"] >= 1
    ended = await gw.wait_event("call.ended", call_id=offered["call_id"])
    assert ended["outcome"] == "abandoned"
    assert await citizen.wait() == 0
    await gw.settle()
    (kpi,) = (await gw.ok("GET", "/calls/kpi"))["queues"]
    assert (kpi["queue"], kpi["offered"], kpi["answered"], kpi["abandoned"]) == ("hotline", 1, 0, 1)
    assert kpi["connection_rate"] == 0.0


# ---- transfers -----------------------------------------------------------------------------------------


async def test_one_key_transfer_to_the_subcentre_keeps_one_recording_named_by_the_call(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in()
    _citizen, connected = await scene.answered_call()
    call_id = connected["call_id"]
    subcentre = await scene.sipp.trunk_far_end("subcentre")
    recording = await gw.wait_event("call.recording", call_id=call_id)
    await asyncio.sleep(1)

    reply = await gw.ok("POST", f"/calls/{call_id}/transfer", {"target": "county-subcentre"}, who="1001")
    assert (reply["transfer"], reply["number"]) == ("blind", "8001")
    transferred = await gw.wait_event("call.transferred", call_id=call_id)
    assert transferred["transfer"]["kind"] == "blind"
    assert transferred["transfer"]["target"] == "8001"
    await wait_bridged_together(ami, connected["citizen_channel"], "PJSIP/subcentre-")
    # The agent is free again; the call goes on with the sub-centre.
    live = await gw.ok("GET", f"/calls/{call_id}")
    assert (live["state"], live["agent_channel"]) == ("transferred", None)

    await asyncio.sleep(2)
    await ami.action("Hangup", Channel=connected["citizen_channel"])
    ended = await gw.wait_event("call.ended", call_id=call_id)
    assert ended["outcome"] == "transferred"
    assert await subcentre.wait() == 0
    assert f"X-Hotline-Call-Id:{call_id}" in subcentre.log()
    path = Path(recording["recording"])
    assert path.name == f"{call_id}.wav"
    assert await recording_seconds(path) >= 2.5  # the agent's second and the sub-centre's two
    await gw.settle()
    (kpi,) = (await gw.ok("GET", "/calls/kpi"))["queues"]
    assert (kpi["answered"], kpi["transferred"]) == (1, 1)


async def test_a_transfer_the_subcentre_cannot_take_brings_the_citizen_back_to_the_queue(
    scene: Scene,
) -> None:
    gw = scene.gw
    await scene.agent_logged_in()
    citizen, connected = await scene.answered_call()
    call_id = connected["call_id"]
    # Every line of the sub-centre is busy: the dial fails and the citizen is queued again.
    subcentre = await scene.sipp.run(
        "far-subcentre-busy",
        "trunk_busy.xml",
        ip=TRUNK_IPS["subcentre"],
        port=scene.pbx.trunk_ports["subcentre"],
    )
    await gw.ok("POST", f"/calls/{call_id}/transfer", {"target": "county-subcentre"}, who="1001")
    failed = await gw.wait_event("call.transfer_failed", call_id=call_id)
    assert failed["transfer"]["result"] == "failed"
    assert failed["transfer"]["dial_status"] == "BUSY"
    assert await subcentre.wait() == 0
    again = await gw.wait_event(
        "call.connected", call_id=call_id, where=lambda d: d["agent_channel"] != connected["agent_channel"]
    )
    assert again["agent_id"] == "1001"
    assert again["answered_at"] == connected["answered_at"]  # the KPIs count the first answer
    await scene.ami.action("Hangup", Channel=again["agent_channel"])
    ended = await gw.wait_event("call.ended", call_id=call_id)
    assert ended["outcome"] == "answered"
    assert await citizen.wait() == 0


async def consulting_the_12333_expert(scene: Scene) -> tuple[Sipp, dict, str]:
    await scene.agent_logged_in()
    citizen, connected = await scene.answered_call()
    await register_seat(scene.sipp, scene.ami, "3001")
    call_id = connected["call_id"]
    reply = await scene.gw.ok("POST", f"/calls/{call_id}/expert", {"expert": "12333"}, who="1001")
    assert reply["state"] == "consulting"
    consulting = await scene.gw.wait_event("call.consulting", call_id=call_id)
    assert consulting["expert_label"] == "人社 12333"
    expert = await scene.ami.wait_for(
        "DialEnd", DialStatus="ANSWER", where=lambda m: m.get("DestChannel", "").startswith("PJSIP/3001-")
    )
    await scene.ami.wait_for("MusicOnHoldStart", Channel=connected["citizen_channel"])
    return citizen, connected, expert["DestChannel"]


async def test_warm_transfer_to_the_expert_completes(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    citizen, connected, expert_channel = await consulting_the_12333_expert(scene)
    call_id = connected["call_id"]
    await gw.ok("POST", f"/calls/{call_id}/expert/complete", who="1001")
    transferred = await gw.wait_event("call.transferred", call_id=call_id)
    assert (transferred["transfer"]["kind"], transferred["transfer"]["target"]) == ("warm", "12333")
    await wait_bridged_together(ami, connected["citizen_channel"], "PJSIP/3001-")
    await ami.action("Hangup", Channel=expert_channel)
    ended = await gw.wait_event("call.ended", call_id=call_id)
    assert ended["outcome"] == "transferred"
    assert await citizen.wait() == 0


async def test_warm_transfer_cancelled_brings_the_agent_back_to_the_citizen(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    _citizen, connected, expert_channel = await consulting_the_12333_expert(scene)
    call_id = connected["call_id"]
    await gw.ok("POST", f"/calls/{call_id}/expert/cancel", who="1001")
    await ami.wait_for("Hangup", Channel=expert_channel)
    cancelled = await gw.wait_event("call.transfer_cancelled", call_id=call_id)
    assert cancelled["state"] == "connected"
    assert (
        await wait_bridged_together(ami, connected["citizen_channel"], "PJSIP/1001-")
        == connected["agent_channel"]
    )
    assert (await gw.ok("GET", f"/calls/{call_id}"))["state"] == "connected"
    assert ami.named("AttendedTransfer", Result="Success") == []
    # The agent can consult again: the call is back in a state that allows it.
    await ami.action("Hangup", Channel=connected["citizen_channel"])
    await gw.wait_event("call.ended", call_id=call_id)


# ---- 三方通话, 110 -------------------------------------------------------------------------------------


async def conference_members(ami: Ami, room: str) -> list[str]:
    return [
        m["Channel"]
        for m in await ami.send("ConfbridgeList", Conference=room)
        if m.get("Event") == "ConfbridgeList"
    ]


async def test_three_way_call_with_110_goes_on_after_the_agent_leaves(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in()
    citizen, connected = await scene.answered_call()
    call_id = connected["call_id"]
    police = await scene.sipp.trunk_far_end("police110")

    reply = await gw.ok("POST", f"/calls/{call_id}/conference", {"party": "110"}, who="1001")
    room = reply["room"]
    assert room == re.sub(r"\D", "", call_id)
    joined = [
        await gw.wait_event("call.conference_joined", call_id=call_id, role=role)
        for role in ("citizen", "agent", "third_party")
    ]
    assert joined[2]["channel"].startswith("Local/110@hotline-police")
    assert (await gw.ok("GET", f"/calls/{call_id}"))["state"] == "conference"

    await gw.ok("POST", f"/calls/{call_id}/conference/leave", who="1001")
    left = await gw.wait_event("call.conference_left", call_id=call_id, role="agent")
    assert left["agent_channel"] is None
    # The room's member list catches up with ConfbridgeLeave a moment later.
    for _ in range(50):
        members = await conference_members(ami, room)
        if connected["agent_channel"] not in members:
            break
        await asyncio.sleep(0.1)
    assert sorted(members) == sorted([connected["citizen_channel"], joined[2]["channel"]])
    live = await gw.ok("GET", f"/calls/{call_id}")
    assert (live["state"], live["live"]) == ("conference", True)
    # With the agent gone there is nobody to leave again: refused with the reason.
    refused = await gw.refused(409, "POST", f"/calls/{call_id}/conference/leave", who="1001")
    assert refused["error_id"] == "call-state"

    await ami.action("Hangup", Channel=connected["citizen_channel"])
    await ami.action("Hangup", Channel=joined[2]["channel"])
    await gw.wait_event("call.ended", call_id=call_id)
    assert await police.wait() == 0
    assert f"X-Hotline-Call-Id:{call_id}" in police.log()
    assert await citizen.wait() == 0


async def test_a_call_from_110_carries_its_incident_id_onto_the_call(scene: Scene) -> None:
    gw = scene.gw
    await scene.agent_logged_in()
    police = await scene.sipp.run(
        "police-caller",
        "police_call.xml",
        "-s",
        "12345",
        "-key",
        "incident",
        "JJ20261122-0042",
        ip=TRUNK_IPS["police110"],
    )
    incoming = await gw.wait_event("call.police_incoming")
    call_id = incoming["call_id"]
    assert (incoming["incident_id"], incoming["call_kind"]) == ("JJ20261122-0042", "police")
    arrival = await gw.wait_event("handoff.police_incoming", call_id=call_id)
    assert arrival["incident_id"] == "JJ20261122-0042"
    connected = await gw.wait_event("call.connected", call_id=call_id)
    assert connected["incident_id"] == "JJ20261122-0042"
    await scene.ami.action("Hangup", Channel=connected["agent_channel"])
    await gw.wait_event("call.ended", call_id=call_id)
    assert await police.wait() == 0
    await gw.settle()
    stored = await gw.ok("GET", f"/calls/{call_id}")
    assert (stored["incident_id"], stored["call_kind"]) == ("JJ20261122-0042", "police")
    handoffs = (await gw.ok("GET", "/calls/handoffs"))["handoffs"]
    assert [(h["direction"], h["call_id"], h["incident_id"]) for h in handoffs] == [
        ("from_110", call_id, "JJ20261122-0042")
    ]


async def test_one_key_transfer_to_110_delivers_the_signed_handoff_record_to_110(
    module_pbx: Pbx, tmp_path: Path
) -> None:
    receiver = await Receiver("").start()
    ami = await Ami.connect(module_pbx.ami_port, "gateway", module_pbx.ami_secret)
    sipp = SippRunner(module_pbx, tmp_path / "sipp")
    try:
        # Short timer ticks: the sweep stamps delivered_at soon after 110 acknowledges.
        async with running_gateway(module_pbx, tmp_path / "gateway", timer_interval=0.3) as gw:
            scene = Scene(module_pbx, gw, ami, sipp)
            endpoint = await gw.ok(
                "POST",
                "/webhooks/endpoints",
                {
                    "id": "police-110",
                    "owner": "police-110",
                    "url": receiver.url,
                    "events": ["handoff.police"],
                    "generate_secret": True,
                },
            )
            receiver.secret = endpoint["secret"]
            await scene.agent_logged_in()
            citizen, connected = await scene.answered_call()
            call_id = connected["call_id"]
            police = await sipp.trunk_far_end("police110")

            incomplete = await gw.refused(
                422, "POST", f"/calls/{call_id}/police", {"summary": "有人打架"}, who="1001"
            )
            assert incomplete["error_id"] == "validation-failed" and "location" in incomplete["message"]
            record = {
                "summary": "市民报称小区内有人持械斗殴",
                "location": "城关镇幸福路12号",
                "urgency": "high",
            }
            reply = await gw.ok("POST", f"/calls/{call_id}/police", record, who="1001")
            handoff = reply["handoff"]
            assert (handoff["call_id"], handoff["agent_id"], handoff["location"]) == (
                call_id,
                "1001",
                record["location"],
            )
            transferred = await gw.wait_event("call.transferred", call_id=call_id)
            assert transferred["transfer"]["kind"] == "police"
            await wait_bridged_together(ami, connected["citizen_channel"], "PJSIP/police110-")

            await gw.wait_until(lambda: receiver.accepted, what="the handoff delivered to 110")
            (delivery,) = receiver.received
            assert delivery.signature_ok and delivery.event == "handoff.police"
            assert delivery.body["owner"] == "police-110"
            assert delivery.body["data"]["id"] == handoff["id"]
            assert delivery.body["data"]["summary"] == record["summary"]
            assert delivery.body["data"]["recording"].endswith(f"{call_id}.wav")

            async def undelivered() -> list:
                return (await gw.ok("GET", "/calls/handoffs?undelivered=1"))["handoffs"]

            for _ in range(50):
                if not await undelivered():
                    break
                await asyncio.sleep(0.1)
            assert await undelivered() == []
            (stored,) = (await gw.ok("GET", "/calls/handoffs"))["handoffs"]
            assert stored["delivered_at"] is not None

            await ami.action("Hangup", Channel=connected["citizen_channel"])
            await gw.wait_event("call.ended", call_id=call_id)
            assert await police.wait() == 0
            assert f"X-Hotline-Call-Id:{call_id}" in police.log()
            assert await citizen.wait() == 0
            await reset_pbx(ami)
    finally:
        await sipp.stop_all()
        await ami.close()
        await receiver.close()


# ---- refusals and idempotency ----------------------------------------------------------------------


async def test_operations_on_a_call_that_ended_are_refused_with_the_reason(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in()
    _citizen, connected = await scene.answered_call()
    call_id = connected["call_id"]
    # Not consulting: nothing to complete.
    early = await gw.refused(409, "POST", f"/calls/{call_id}/expert/complete", who="1001")
    assert (early["error_id"], early["details"]["state"]) == ("call-state", "connected")
    await ami.action("Hangup", Channel=connected["citizen_channel"])
    await gw.wait_event("call.ended", call_id=call_id)
    for path, body in [
        ("transfer", {"target": "county-subcentre"}),
        ("expert", {"expert": "12333"}),
        ("conference", {"party": "110"}),
        ("police", {"summary": "斗殴", "location": "幸福路"}),
    ]:
        refused = await gw.refused(409, "POST", f"/calls/{call_id}/{path}", body, who="1001")
        assert (refused["error_id"], refused["details"]["state"]) == ("call-state", "ended"), path
        assert "ended" in refused["message"]
    assert ami.named("BlindTransfer") == [] and ami.named("AttendedTransfer") == []


async def test_the_same_idempotency_key_twice_sends_one_ami_action(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in()
    _citizen, connected = await scene.answered_call()
    call_id = connected["call_id"]
    subcentre = await scene.sipp.trunk_far_end("subcentre")
    path, body = f"/calls/{call_id}/transfer", {"target": "county-subcentre"}
    first = await gw.ok("POST", path, body, who="1001", key="transfer-1")
    # The same console retrying (the HTTP layer replays), and a supervisor's console with the same key
    # (the operation itself returns the first result): neither sends a second BlindTransfer.
    assert await gw.ok("POST", path, body, who="1001", key="transfer-1") == first
    assert await gw.ok("POST", path, body, who="admin", key="transfer-1") == first
    await gw.wait_event("call.transferred", call_id=call_id)
    await asyncio.sleep(0.5)
    assert len(ami.named("BlindTransfer")) == 1
    assert len(gw.named("call.transfer_requested", call_id=call_id)) == 1
    # A new key is a new request: refused now, since the agent is no longer on the call.
    again = await gw.refused(409, "POST", path, body, who="1001", key="transfer-2")
    assert again["error_id"] == "call-state"
    await ami.action("Hangup", Channel=connected["citizen_channel"])
    assert await subcentre.wait() == 0


# ---- spy -----------------------------------------------------------------------------------------------


# ---- hold, resume, hang up -----------------------------------------------------------------------------


async def held_call(scene: Scene, seat: str = "1001") -> tuple[Sipp, dict]:
    """An answered call the agent has put on hold from the console: the citizen hears hotline-hold's music."""
    citizen, connected = await scene.answered_call(seat)
    call_id = connected["call_id"]
    await asyncio.sleep(1)  # the agent says a few words first
    assert (await scene.gw.ok("POST", f"/calls/{call_id}/hold", who=seat))["state"] == "holding"
    held = await scene.gw.wait_event("call.held", call_id=call_id)
    assert (held["state"], held["holds"]) == ("held", 1)
    await scene.ami.wait_for("MusicOnHoldStart", Channel=connected["citizen_channel"], Context="hotline-hold")
    return citizen, connected


async def test_hold_resume_and_hang_up_from_the_console(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in()
    citizen, connected = await held_call(scene)
    call_id, citizen_leg, agent_leg = connected["call_id"], connected["citizen_channel"], connected["agent_channel"]
    live = await channels(ami)
    assert (live[citizen_leg]["Application"], live[citizen_leg]["BridgeId"]) == ("MusicOnHold", "")
    assert (live[agent_leg]["Application"], live[agent_leg]["BridgeId"]) == ("Wait", "")  # the phone stays up
    assert (await gw.ok("GET", f"/calls/{call_id}"))["state"] == "held"

    await asyncio.sleep(2.5)
    await gw.ok("POST", f"/calls/{call_id}/resume", who="1001")
    resumed = await gw.wait_event("call.resumed", call_id=call_id)
    assert 2 <= resumed["on_hold_seconds"] <= 5
    assert await wait_bridged_together(ami, citizen_leg, "PJSIP/1001-") == agent_leg
    refused = await gw.refused(409, "POST", f"/calls/{call_id}/resume", who="1001")
    assert refused["details"]["state"] == "connected"

    await asyncio.sleep(1)
    await gw.ok("POST", f"/calls/{call_id}/hangup", who="1001")
    ended = await gw.wait_event("call.ended", call_id=call_id)
    assert await citizen.wait() == 0
    # Asterisk reports no AgentComplete once the call left the queue's bridge: the gateway completes the agent.
    (completed,) = gw.named("call.agent_completed", call_id=call_id)
    assert completed["agent_interface"] == "PJSIP/1001"
    await gw.settle()
    stored = await gw.ok("GET", f"/calls/{call_id}")
    assert (stored["holds"], stored["on_hold_seconds"], stored["outcome"]) == (1, ended["on_hold_seconds"], "answered")
    call_seconds = (ended["ended_at"] - connected["answered_at"]).total_seconds()
    assert 1 <= stored["talk_seconds"] <= call_seconds - stored["on_hold_seconds"] + 1
    (kpi,) = (await gw.ok("GET", "/calls/kpi?queue=hotline"))["queues"]
    assert (kpi["answered"], kpi["held_calls"]) == (1, 1)

    # One recording for the whole call; the music was muted out of it (MixMonitorMute), the agent's voice not.
    agent_side = Path(recording_legs(stored["recording"])["agent"])
    assert await recording_seconds(agent_side) >= call_seconds - 1
    assert longest_silence(agent_side) >= 2.0
    assert longest_silence(agent_side) < await recording_seconds(agent_side) - 1


async def test_the_agent_phone_dropping_on_hold_puts_the_citizen_back_at_the_head_of_the_queue(
    scene: Scene,
) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in("1001")
    citizen, connected = await held_call(scene)
    call_id = connected["call_id"]
    await gw.ok("POST", "/agents/1001/logout", who="1001")
    await scene.agent_logged_in("1002")

    await ami.action("Hangup", Channel=connected["agent_channel"])  # the agent's phone drops
    requeued = await gw.wait_event("call.hold_requeued", call_id=call_id)
    assert requeued["reason"] == "agent-gone"
    second = await gw.wait_event("call.connected", call_id=call_id, agent_interface="PJSIP/1002")
    assert second["answered_at"] == connected["answered_at"]  # the first answer is the one the KPIs count
    assert await wait_bridged_together(ami, connected["citizen_channel"], "PJSIP/1002-")

    await ami.action("Hangup", Channel=second["agent_channel"])
    await gw.wait_event("call.ended", call_id=call_id)
    assert await citizen.wait() == 0
    await gw.settle()
    (kpi,) = (await gw.ok("GET", "/calls/kpi?queue=hotline"))["queues"]
    assert (kpi["offered"], kpi["answered"], kpi["abandoned"]) == (1, 1, 0)


async def test_a_citizen_hanging_up_on_hold_frees_the_agent_phone_at_once(scene: Scene) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in()
    citizen, connected = await held_call(scene)
    await ami.action("Hangup", Channel=connected["citizen_channel"])
    await ami.wait_for("Hangup", Channel=connected["agent_channel"], within=5)  # not after the hold limit
    await gw.wait_event("call.ended", call_id=connected["call_id"])
    assert await citizen.wait() == 0


@pytest.mark.parametrize(("mode", "options"), [("listen", "qE"), ("whisper", "qwE"), ("barge", "qBE")])
async def test_supervisor_spies_on_an_agent_through_the_api(scene: Scene, mode: str, options: str) -> None:
    gw, ami = scene.gw, scene.ami
    await scene.agent_logged_in()
    _citizen, connected = await scene.answered_call()
    await register_seat(scene.sipp, ami, "2001")
    reply = await gw.ok("POST", "/agents/1001/spy", {"supervisor": "2001", "mode": mode})
    assert reply["target"] == connected["agent_channel"]
    spy = await ami.wait_for("ChanSpyStart")
    assert spy["SpyeeChannel"] == connected["agent_channel"]
    assert spy["SpyerChannel"].startswith("PJSIP/2001-")
    rows = {
        m["Channel"]: m for m in await ami.send("CoreShowChannels") if m.get("Event") == "CoreShowChannel"
    }
    assert rows[spy["SpyerChannel"]]["ApplicationData"] == f"{connected['agent_channel']},{options}"
    # The supervisor's leg is not a citizen call on the consoles.
    assert [c["call_id"] for c in (await gw.ok("GET", "/calls"))["calls"]] == [connected["call_id"]]
    # Only supervisors spy.
    assert await gw.refused(403, "POST", "/agents/1001/spy", {"supervisor": "2001", "mode": mode}, who="1001")
    await ami.action("Hangup", Channel=connected["agent_channel"])
    await ami.wait_for("ChanSpyStop")
    await gw.wait_event("call.ended", call_id=connected["call_id"])
