"""Console operations through the HTTP API, against the fake AMI server: the AMI actions sent, the call
state checks (409), the 503 when Asterisk is away, idempotency keys, persistence and the bus events."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from gateway.calls.model import conference_room
from gateway.calls.models import AgentStateChange
from tests.calls.conftest import Env, answered
from tests.fakes import scenarios


async def test_readyz_reports_the_pbx_link_and_operations_answer_503_without_it(env: Env) -> None:
    ready = await env.client.get("/readyz")
    assert (await ready.json())["checks"]["pbx"] == "ok"
    call_id = await answered(env)
    await env.fake.stop()
    await asyncio.sleep(0.2)
    ready = await env.client.get("/readyz")
    body = await ready.json()
    assert (ready.status, body["status"]) == (200, "degraded")  # tickets and units keep working
    assert body["checks"]["pbx"].startswith("PBX link down")
    refused = await env.post(f"/api/v1/calls/{call_id}/transfer", {"target": "county-subcentre"}, status=503)
    assert refused["error_id"] == "asterisk-unavailable"
    assert (await env.client.get("/healthz")).status == 200  # the rest of the gateway still serves


async def test_the_recording_the_dialplan_started_is_announced_once_and_no_mixmonitor_is_sent(env: Env) -> None:
    # The dialplan records the citizen's leg before the queue (hotline-record): the AMI MixMonitor action
    # would need the AMI `system` class, which also runs shell commands, so the gateway never sends it.
    call_id = await answered(env)
    call = await (await env.client.get(f"/api/v1/calls/{call_id}")).json()
    assert call["recording"] == scenarios.recording_of(call_id)
    assert call["state"] == "connected"
    announced = [e.data for e in env.published if e.kind == "call.recording"]
    assert [e["recording"] for e in announced] == [scenarios.recording_of(call_id)]
    assert env.fake.actions("MixMonitor") == []


async def test_one_key_blind_transfer_is_idempotent_and_then_refused_by_state(env: Env) -> None:
    call_id = await answered(env)
    first = await env.post(f"/api/v1/calls/{call_id}/transfer", {"target": "county-subcentre"}, key="t-1")
    again = await env.post(f"/api/v1/calls/{call_id}/transfer", {"target": "county-subcentre"}, key="t-1")
    assert (
        first
        == again
        == {"call_id": call_id, "transfer": "blind", "target": "county-subcentre", "number": "8001"}
    )
    (action,) = env.fake.actions("BlindTransfer")
    assert action["Channel"] == scenarios.agent_channel(call_id, "1001")
    assert (action["Context"], action["Exten"]) == ("hotline-transfer", "8001")

    await env.fake.emit(*scenarios.blind_transfer(call_id, agent="1001", exten="8001"))
    await env.settle()
    assert "call.transferred" in env.kinds()
    refused = await env.post(f"/api/v1/calls/{call_id}/transfer", {"target": "12315"}, key="t-2", status=409)
    assert refused["error_id"] == "call-state"
    assert "the call is transferred" in refused["message"]
    unknown = await env.post(f"/api/v1/calls/{call_id}/transfer", {"target": "nowhere"}, status=400)
    assert unknown["error_id"] == "unknown-transfer-target"


async def test_a_queued_call_cannot_be_transferred_yet(env: Env) -> None:
    await env.fake.emit(*scenarios.queued_call("1795346100.1"))
    await env.settle()
    refused = await env.post("/api/v1/calls/1795346100.1/transfer", {"target": "12315"}, status=409)
    assert refused["details"]["state"] == "queued"
    missing = await env.post("/api/v1/calls/404.1/transfer", {"target": "12315"}, status=404)
    assert missing["error_id"] == "no-such-call"


async def test_warm_transfer_to_an_expert_consults_then_cancels_or_completes(env: Env) -> None:
    call_id = await answered(env)
    consulting = await env.post(f"/api/v1/calls/{call_id}/expert", {"expert": "12333"}, key="x")
    assert consulting["state"] == "consulting"
    (atxfer,) = env.fake.actions("Atxfer")
    assert atxfer["Channel"] == scenarios.agent_channel(call_id, "1001")
    assert (atxfer["Context"], atxfer["Exten"]) == ("hotline-expert", "12333")
    shown = next(e for e in env.published if e.kind == "call.consulting")
    assert shown.data["expert"] == "12333" and shown.data["call_id"] == call_id  # the expert's screen gets it

    await env.post(f"/api/v1/calls/{call_id}/expert/cancel")
    (cancel,) = env.fake.actions("CancelAtxfer")
    assert cancel["Channel"] == atxfer["Channel"]
    await env.post(f"/api/v1/calls/{call_id}/expert/complete")
    (hangup,) = env.fake.actions("Hangup")
    assert hangup["Channel"] == atxfer["Channel"]
    busy = await env.post(f"/api/v1/calls/{call_id}/transfer", {"target": "12315"}, status=409)
    assert "consulting" in busy["message"]


async def test_three_way_call_with_110_and_the_agent_leaving(env: Env) -> None:
    call_id = await answered(env)
    started = await env.post(f"/api/v1/calls/{call_id}/conference", {"party": "110"}, key="c-1")
    room = conference_room(call_id)
    assert started["room"] == room
    (redirect,) = env.fake.actions("Redirect")
    assert redirect["Channel"] == scenarios.citizen_channel(call_id)
    assert redirect["ExtraChannel"] == scenarios.agent_channel(call_id, "1001")
    assert (redirect["Context"], redirect["Exten"]) == ("hotline-conference", room)
    (originate,) = env.fake.actions("Originate")
    assert originate["Channel"] == "Local/110@hotline-police"
    assert (originate["Context"], originate["Exten"]) == ("hotline-conference", room)

    await env.fake.emit(
        *scenarios.three_way(call_id, agent="1001", third="110", room=room, third_id=originate["ChannelId"])[
            :-2
        ]
    )
    await env.settle()
    await env.post(f"/api/v1/calls/{call_id}/conference/leave")
    (kick,) = env.fake.actions("ConfbridgeKick")
    assert (kick["Conference"], kick["Channel"]) == (room, scenarios.agent_channel(call_id, "1001"))
    await env.fake.emit(
        *scenarios.three_way(call_id, agent="1001", third="110", room=room, third_id=originate["ChannelId"])[
            -2:
        ]
    )
    await env.settle()
    call = await (await env.client.get(f"/api/v1/calls/{call_id}")).json()
    assert call["state"] == "conference" and call["live"] is True
    assert call["recording"] == scenarios.recording_of(call_id)  # MixMonitor stays on the citizen's leg
    assert [e.kind for e in env.published].count("call.recording") == 1


async def test_one_key_transfer_to_110_stores_and_publishes_the_handoff_record(env: Env) -> None:
    call_id = await answered(env)
    incomplete = await env.post(f"/api/v1/calls/{call_id}/police", {"summary": "打架"}, status=422)
    assert incomplete["error_id"] == "validation-failed"
    assert incomplete["details"]["problems"] == [{"field": "location", "problem": "Field required"}]
    record = {"summary": "小区内有人持刀争吵", "location": "楚雄市鹿城镇某小区3栋", "urgency": "high"}
    result = await env.post(f"/api/v1/calls/{call_id}/police", record, key="p-1")
    (action,) = env.fake.actions("BlindTransfer")
    assert (action["Context"], action["Exten"]) == ("hotline-police", "110")
    handoff = result["handoff"]
    assert handoff["summary"] == record["summary"] and handoff["caller"] == "13800000001"
    assert handoff["actor"] == "agent-1001"
    published = next(e for e in env.published if e.kind == "handoff.police")
    assert published.data["id"] == handoff["id"]
    listed = await (await env.client.get("/api/v1/calls/handoffs?undelivered=1")).json()
    assert [h["id"] for h in listed["handoffs"]] == [handoff["id"]]
    again = await env.post(f"/api/v1/calls/{call_id}/police", record, key="p-1")
    assert again == result and len(env.fake.actions("BlindTransfer")) == 1


async def test_a_call_from_the_110_trunk_keeps_its_incident_id(env: Env) -> None:
    await env.fake.emit(*scenarios.police_entry("1795346200.5", "JJ20261122-0042"))
    await env.settle()
    arrival = next(e for e in env.published if e.kind == "handoff.police_incoming")
    assert arrival.data["incident_id"] == "JJ20261122-0042"
    call = await (await env.client.get("/api/v1/calls/1795346200.5")).json()
    assert (call["call_kind"], call["incident_id"]) == ("police", "JJ20261122-0042")
    await env.client.put("/api/v1/calls/1795346200.5/ticket", json={"ticket_id": "T-1"})
    await env.fake.emit(scenarios.hangup("PJSIP/police-00000005", "1795346200.5", "1795346200.5"))
    await env.settle()
    stored = await (await env.client.get("/api/v1/calls/1795346200.5")).json()
    assert stored["live"] is False
    assert (stored["incident_id"], stored["ticket_id"], stored["outcome"]) == (
        "JJ20261122-0042",
        "T-1",
        "abandoned" if stored["abandoned"] else "unanswered",
    )


async def test_supervisor_spy_and_outbound_calls(env: Env) -> None:
    await env.client.put("/api/v1/agents/1001", json={"name": "李娜"})
    await env.post("/api/v1/agents/1001/login")
    call_id = await answered(env)
    spied = await env.post("/api/v1/agents/1001/spy", {"supervisor": "1090", "mode": "whisper"})
    assert spied["target"] == scenarios.agent_channel(call_id, "1001")
    (originate,) = env.fake.actions("Originate")
    assert (originate["Channel"], originate["Context"], originate["Exten"]) == (
        "PJSIP/1090",
        "hotline-spy",
        "whisper",
    )
    assert originate["Variable"] == f"HOTLINE_SPY_TARGET={spied['target']}"
    bad = await env.post("/api/v1/agents/1001/spy", {"supervisor": "1090", "mode": "steal"}, status=422)
    assert (bad["error_id"], bad["details"]["problems"][0]["field"]) == ("validation-failed", "mode")

    callback = await env.post(
        "/api/v1/calls/outbound",
        {"kind": "callback", "number": "13800000009", "agent_id": "1001", "ticket_id": "T-9"},
        status=202,
    )
    sent = env.fake.actions("Originate")[-1]
    assert (sent["Channel"], sent["Context"], sent["Exten"]) == (
        "PJSIP/1001",
        "hotline-callback",
        "13800000009",
    )
    assert sent["ChannelId"] == callback["call_id"]


async def test_agent_login_pause_with_reason_ready_and_logout(env: Env) -> None:
    await env.client.put("/api/v1/agents/1001", json={"name": "李娜", "queues": ["hotline", "vip"]})
    agent = await env.post("/api/v1/agents/1001/login")
    assert agent["state"] == "available"
    added = env.fake.actions("QueueAdd")
    assert [(a["Queue"], a["Interface"], a["MemberName"]) for a in added] == [
        ("hotline", "PJSIP/1001", "李娜"),
        ("vip", "PJSIP/1001", "李娜"),
    ]
    paused = await env.post("/api/v1/agents/1001/pause", {"reason": "培训"})
    assert (paused["state"], paused["pause_reason"]) == ("paused", "培训")
    assert env.fake.actions("QueuePause")[-1]["Reason"] == "培训"
    await env.post("/api/v1/agents/1001/pause", {"reason": " "}, status=422)
    assert (await env.post("/api/v1/agents/1001/ready"))["state"] == "available"
    await env.client.put("/api/v1/agents/1001/queues", json={"queues": ["hotline"]})
    assert env.fake.actions("QueueRemove")[-1]["Queue"] == "vip"
    assert (await env.post("/api/v1/agents/1001/logout"))["state"] == "logged_out"
    assert [m for m in env.fake.queue_members if m["Location"] == "PJSIP/1001"] == []
    assert [e.data["state"] for e in env.published if e.kind == "agent.state"] == [
        "available",
        "paused",
        "available",
        "available",
        "logged_out",
    ]
    # Kept as history too: staffed seats per half hour are counted from it (gateway/forecast).
    async with env.svc.agents.sessions() as session:
        history = (await session.execute(select(AgentStateChange.state, AgentStateChange.pause_reason)
                                         .where(AgentStateChange.agent_id == "1001")
                                         .order_by(AgentStateChange.id))).all()
    assert [tuple(h) for h in history] == [("available", None), ("paused", "培训"), ("available", None),
                                           ("logged_out", None)]


async def test_wrap_up_after_a_queue_call_then_available_again(env: Env) -> None:
    await env.client.put("/api/v1/agents/1001", json={"name": "李娜"})
    await env.post("/api/v1/agents/1001/login")
    call_id = await answered(env)
    await env.fake.emit(*scenarios.agent_completes(call_id, agent="1001"))
    await env.settle()
    agent = await (await env.client.get("/api/v1/agents/1001")).json()
    assert (agent["state"], agent["pause_reason"]) == ("wrap_up", "wrapup")
    await asyncio.sleep(0.4)
    agent = await (await env.client.get("/api/v1/agents/1001")).json()
    assert agent["state"] == "available"
    assert [p["Paused"] for p in env.fake.actions("QueuePause")] == ["true", "false"]


async def test_a_keyed_operation_retried_after_a_restart_gets_its_first_outcome_not_a_second_action(
    env: Env,
) -> None:
    call_id = await answered(env)
    first = await env.post(f"/api/v1/calls/{call_id}/transfer", {"target": "county-subcentre"}, key="t-9")
    env.svc.operations._results.clear()  # what a restarted (or another) gateway process remembers: nothing
    again = await env.post(f"/api/v1/calls/{call_id}/transfer", {"target": "county-subcentre"}, key="t-9")
    assert again == first
    assert len(env.fake.actions("BlindTransfer")) == 1


async def test_reconnect_mid_call_resyncs_and_ends_what_ended_meanwhile(env: Env) -> None:
    kept = await answered(env, "1795346300.10", agent="1001")
    gone = await answered(env, "1795346300.20", agent="1002")
    env.fake.channels = [
        scenarios.core_show_channel(scenarios.citizen_channel(kept), kept, kept, bridge=f"bridge-{kept}")
    ]
    env.fake.drop_all()
    await asyncio.sleep(0.3)
    await env.svc.ami.wait_connected(5)
    await env.settle()
    assert env.svc.pipeline.resyncs == 2
    assert env.svc.model.get(kept) is not None
    assert env.svc.model.get(gone) is None
    ended = next(e for e in env.published if e.kind == "call.ended")
    assert (ended.data["call_id"], ended.data["end_reason"]) == (gone, "ended while the gateway was away")


async def test_asterisk_restart_reinstates_logged_in_and_paused_agents(env: Env) -> None:
    for agent_id in ("1001", "1002", "1003"):
        await env.client.put(f"/api/v1/agents/{agent_id}", json={"name": agent_id})
    await env.post("/api/v1/agents/1001/login")
    await env.post("/api/v1/agents/1002/login")
    await env.post("/api/v1/agents/1002/pause", {"reason": "午餐"})
    env.fake.received.clear()
    env.fake.restart()  # Asterisk restarted: dynamic members are gone
    await asyncio.sleep(0.3)
    await env.svc.ami.wait_connected(5)
    await env.settle()
    added = {a["Interface"]: a for a in env.fake.actions("QueueAdd")}
    assert set(added) == {"PJSIP/1001", "PJSIP/1002"}
    assert added["PJSIP/1001"]["Paused"] == "false"
    assert (added["PJSIP/1002"]["Paused"], added["PJSIP/1002"]["Reason"]) == ("true", "午餐")
    members = {m["Location"]: m for m in env.fake.queue_members}
    assert members["PJSIP/1002"]["PausedReason"] == "午餐"
