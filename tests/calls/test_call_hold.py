"""Hold, resume and hang up from the console, through the HTTP API against the fake AMI server: the AMI
actions sent, the state the call model takes from Asterisk's events, and what the gateway does when a hold
goes wrong (the agent's leg drops, the citizen hangs up)."""

from __future__ import annotations

from gateway.calls.model import conference_room
from tests.calls.conftest import Env, answered
from tests.fakes import scenarios
from tests.fakes.fake_ami import Reply


async def call_state(env: Env, call_id: str) -> dict:
    return await (await env.client.get(f"/api/v1/calls/{call_id}")).json()


async def held(env: Env, call_id: str) -> None:
    await env.post(f"/api/v1/calls/{call_id}/hold")
    await env.fake.emit(*scenarios.hold(call_id))
    await env.settle()


async def test_hold_redirects_both_legs_and_keeps_the_music_out_of_the_recording(env: Env) -> None:
    call_id = await answered(env)
    reply = await env.post(f"/api/v1/calls/{call_id}/hold", key="h-1")
    assert reply == {"call_id": call_id, "state": "holding"}
    (redirect,) = env.fake.actions("Redirect")
    assert (redirect["Channel"], redirect["Context"], redirect["Exten"]) == (
        scenarios.citizen_channel(call_id), "hotline-hold", "s"
    )
    assert (redirect["ExtraChannel"], redirect["ExtraContext"], redirect["ExtraExten"]) == (
        scenarios.agent_channel(call_id, "1001"), "hotline-hold", "agent"
    )
    # The state follows Asterisk, not the request: still connected until the music starts.
    assert (await call_state(env, call_id))["state"] == "connected"

    await env.fake.emit(*scenarios.hold(call_id))
    await env.settle()
    call = await call_state(env, call_id)
    assert (call["state"], call["holds"]) == ("held", 1)
    assert "call.held" in env.kinds()
    (mute,) = env.fake.actions("MixMonitorMute")
    assert (mute["Channel"], mute["Direction"], mute["State"]) == (scenarios.citizen_channel(call_id), "write", "1")
    # The same key again is the same hold, not a second Redirect.
    assert await env.post(f"/api/v1/calls/{call_id}/hold", key="h-1") == reply
    assert len(env.fake.actions("Redirect")) == 1


async def test_resume_marks_the_citizen_and_bridges_the_two_legs_again(env: Env) -> None:
    call_id = await answered(env)
    await held(env, call_id)
    reply = await env.post(f"/api/v1/calls/{call_id}/resume")
    assert reply == {"call_id": call_id, "state": "resuming"}
    (mark,) = env.fake.actions("Setvar")
    assert (mark["Channel"], mark["Variable"], mark["Value"]) == (
        scenarios.citizen_channel(call_id), "HOTLINE_HOLD", "resumed"
    )
    (bridge,) = env.fake.actions("Bridge")
    assert (bridge["Channel1"], bridge["Channel2"]) == (
        scenarios.citizen_channel(call_id), scenarios.agent_channel(call_id, "1001")
    )
    await env.fake.emit(*scenarios.resume(call_id))
    await env.settle()
    call = await call_state(env, call_id)
    assert call["state"] == "connected"
    assert [m["State"] for m in env.fake.actions("MixMonitorMute")] == ["1", "0"]
    assert env.kinds().count("call.resumed") == 1


async def test_a_refused_bridge_leaves_the_citizen_on_hold_to_be_requeued_if_nobody_comes(env: Env) -> None:
    call_id = await answered(env)
    await held(env, call_id)

    def refuse(session: object, action: dict) -> Reply:
        return Reply({"Response": "Error", "Message": "Channel2 does not exist: PJSIP/1001-0000000b"})

    env.fake.on("Bridge", refuse)
    refused = await env.post(f"/api/v1/calls/{call_id}/resume", status=409)
    assert "Channel2 does not exist" in refused["message"]
    assert [a["Value"] for a in env.fake.actions("Setvar")] == ["resumed", "held"]
    assert (await call_state(env, call_id))["state"] == "held"


async def test_hold_and_resume_are_refused_in_the_wrong_state_with_the_reason(env: Env) -> None:
    await env.fake.emit(*scenarios.queued_call("1795346100.1"))
    await env.settle()
    queued = await env.post("/api/v1/calls/1795346100.1/hold", status=409)
    assert (queued["error_id"], queued["details"]["state"], queued["details"]["allowed"]) == (
        "call-state", "queued", ["connected"]
    )
    call_id = await answered(env)
    not_held = await env.post(f"/api/v1/calls/{call_id}/resume", status=409)
    assert "it must be held" in not_held["message"]
    await env.fake.emit(*scenarios.agent_completes(call_id))
    await env.settle()
    ended = await env.post(f"/api/v1/calls/{call_id}/hangup", status=409)
    assert (ended["error_id"], ended["details"]["state"]) == ("call-state", "ended")
    assert env.fake.actions("Redirect") == env.fake.actions("Bridge") == env.fake.actions("Hangup") == []


async def test_hang_up_ends_the_citizen_leg_and_on_hold_the_waiting_agent_leg_too(env: Env) -> None:
    call_id = await answered(env)
    await env.post(f"/api/v1/calls/{call_id}/hangup")
    (hangup,) = env.fake.actions("Hangup")
    assert (hangup["Channel"], hangup["Cause"]) == (scenarios.citizen_channel(call_id), "16")

    other = await answered(env, "1795346000.20", agent="1002")
    await held(env, other)
    await env.post(f"/api/v1/calls/{other}/hangup")
    assert [h["Channel"] for h in env.fake.actions("Hangup")][1:] == [
        scenarios.citizen_channel(other), scenarios.agent_channel(other, "1002")
    ]


async def test_hang_up_in_a_three_way_call_ends_it_for_everyone(env: Env) -> None:
    call_id = await answered(env)
    room = conference_room(call_id)
    await env.post(f"/api/v1/calls/{call_id}/conference", {"party": "110"})
    await env.fake.emit(*scenarios.three_way(call_id, agent="1001", third="110", room=room)[:-2])
    await env.settle()
    await env.post(f"/api/v1/calls/{call_id}/hangup")
    (kick,) = env.fake.actions("ConfbridgeKick")
    assert (kick["Conference"], kick["Channel"]) == (room, "all")


async def test_the_agent_leg_dropping_on_hold_sends_the_citizen_back_to_the_queue(env: Env) -> None:
    await env.client.put("/api/v1/agents/1001", json={"name": "李娜"})
    await env.post("/api/v1/agents/1001/login")
    call_id = await answered(env)
    await held(env, call_id)
    await env.fake.emit(scenarios.hangup(scenarios.agent_channel(call_id, "1001"), "1795346000.11", call_id))
    await env.settle()
    requeue = env.fake.actions("Redirect")[-1]
    assert (requeue["Channel"], requeue["Context"], requeue["Exten"]) == (
        scenarios.citizen_channel(call_id), "hotline-hold", "requeue"
    )
    agent = await (await env.client.get("/api/v1/agents/1001")).json()
    assert agent["state"] == "wrap_up"  # the agent's part of the call is over

    await env.fake.emit(*scenarios.hold_requeued(call_id))
    await env.settle()
    call = await call_state(env, call_id)
    assert call["state"] == "queued"
    assert env.fake.actions("MixMonitorMute")[-1]["State"] == "0"


async def test_a_citizen_hanging_up_on_hold_frees_the_agent_at_once(env: Env) -> None:
    call_id = await answered(env)
    await held(env, call_id)
    await env.fake.emit(scenarios.hangup(scenarios.citizen_channel(call_id), call_id, call_id))
    await env.settle()
    (hangup,) = env.fake.actions("Hangup")
    assert hangup["Channel"] == scenarios.agent_channel(call_id, "1001")


async def test_hold_time_and_count_are_stored_and_reported_by_queue(env: Env) -> None:
    call_id = await answered(env)
    await held(env, call_id)
    await env.fake.emit(*scenarios.resume(call_id))
    await env.fake.emit(scenarios.hangup(scenarios.agent_channel(call_id, "1001"), "1795346000.11", call_id))
    await env.fake.emit(scenarios.hangup(scenarios.citizen_channel(call_id), call_id, call_id))
    await env.settle()
    stored = await call_state(env, call_id)
    assert (stored["live"], stored["holds"], stored["outcome"]) == (False, 1, "answered")
    assert stored["on_hold_seconds"] >= 0 and stored["talk_seconds"] is not None
    (kpi,) = (await (await env.client.get("/api/v1/calls/kpi")).json())["queues"]
    assert (kpi["held_calls"], kpi["answered"]) == (1, 1)
    assert kpi["avg_on_hold_seconds"] is not None
