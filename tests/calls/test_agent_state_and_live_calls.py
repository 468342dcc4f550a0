"""What an agent is doing comes from Asterisk (issue 15): a member whose phone rings is ``ringing``, one on
a call is ``on_call`` with the call's id (API and wallboard), then ``wrap_up`` for the configured time.
Live call objects carry every field a stored call has; a resync makes up neither a queue-join time nor a
recording for a call still in the voice entry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gateway.consoles.boards import wallboard
from tests.calls.conftest import Env
from tests.fakes import scenarios

CALL = "1795347000.10"


def member_status(agent: str, status: str, in_call: str = "0") -> dict[str, str]:
    """Asterisk's QueueMemberStatus as a device state changes (Status 6 ringing, 3 busy, 1 not in use)."""
    return {"Event": "QueueMemberStatus", "Queue": "hotline", "MemberName": f"Agent {agent}",
            "Interface": f"PJSIP/{agent}", "StateInterface": f"PJSIP/{agent}", "Membership": "dynamic",
            "Status": status, "InCall": in_call, "Paused": "0", "CallsTaken": "0"}


async def agent(env: Env, agent_id: str = "1001") -> dict[str, object]:
    return await (await env.client.get(f"/api/v1/agents/{agent_id}")).json()


def last_published(env: Env) -> tuple[str, str | None]:
    state = [e.data for e in env.published if e.kind == "agent.state"][-1]
    return state["state"], state["call_id"]


async def logged_in(env: Env, agent_id: str = "1001") -> None:
    await env.client.put(f"/api/v1/agents/{agent_id}", json={"name": "李娜"})
    await env.post(f"/api/v1/agents/{agent_id}/login")


async def test_ringing_then_on_call_with_the_call_id_then_wrap_up_then_available(env: Env) -> None:
    await logged_in(env)
    events = scenarios.answered_call(CALL, agent="1001")
    called = next(i for i, e in enumerate(events) if e["Event"] == "AgentCalled")
    await env.fake.emit(*events[: called + 1], member_status("1001", "6"))
    await env.settle()
    ringing = await agent(env)
    assert (ringing["state"], ringing["call_id"], ringing["login_state"]) == ("ringing", CALL, "available")
    assert last_published(env) == ("ringing", CALL)  # the consoles are told as the phone changes

    await env.fake.emit(*events[called + 1 :], member_status("1001", "3", in_call="1"))
    await env.settle()
    talking = await agent(env)
    assert (talking["state"], talking["call_id"], talking["login_state"]) == ("on_call", CALL, "available")
    board = await wallboard(env.svc, datetime.now(UTC), "Asia/Shanghai", 15)
    (row,) = [a for a in board["agents"] if a["agent_id"] == "1001"]
    assert (row["state"], row["call_id"]) == ("on_call", CALL)
    assert board["agents_by_state"] == {"on_call": 1}
    assert last_published(env) == ("on_call", CALL)

    await env.fake.emit(*scenarios.agent_completes(CALL, agent="1001"), member_status("1001", "1"))
    await env.settle()
    after = await agent(env)
    assert (after["state"], after["call_id"], after["pause_reason"]) == ("wrap_up", None, "wrapup")
    await asyncio.sleep(0.4)  # wrapup_seconds = 0.3 in this environment
    assert (await agent(env))["state"] == "available"


async def test_a_busy_device_is_on_call_even_without_a_queue_call(env: Env) -> None:
    # The seat dialled out from its own phone: Asterisk's device state is the truth.
    await logged_in(env)
    await env.fake.emit(member_status("1001", "3"))
    await env.settle()
    seat = await agent(env)
    assert (seat["state"], seat["call_id"]) == ("on_call", None)


async def test_a_logged_out_agent_is_logged_out_whatever_the_phone_does(env: Env) -> None:
    await env.client.put("/api/v1/agents/1002", json={"name": "王刚"})
    await env.fake.emit(member_status("1002", "3"))
    await env.settle()
    assert (await agent(env, "1002"))["state"] == "logged_out"


async def test_a_live_call_carries_every_field_of_the_stored_call(env: Env) -> None:
    await logged_in(env)
    await env.fake.emit(*scenarios.answered_call(CALL, agent="1001"))
    await env.settle()
    live = await (await env.client.get(f"/api/v1/calls/{CALL}")).json()
    listed = (await (await env.client.get("/api/v1/calls")).json())["calls"]
    assert live["live"] is True and live["agent_id"] == "1001"
    assert [c["agent_id"] for c in listed] == ["1001"]

    await env.fake.emit(*scenarios.agent_completes(CALL, agent="1001"))
    await env.settle()
    stored = await (await env.client.get(f"/api/v1/calls/{CALL}")).json()
    assert stored["live"] is False and stored["agent_id"] == "1001"
    assert set(stored) - {"id"} <= set(live), set(stored) - set(live)  # "id" is call_id


async def test_a_resync_leaves_the_queue_join_unknown_and_records_nothing_in_the_voice_entry(env: Env) -> None:
    queued, entering = "1795347000.30", "1795347000.40"
    env.fake.channels = [
        scenarios.core_show_channel(scenarios.citizen_channel(queued), queued, queued, application="Queue"),
        scenarios.core_show_channel(scenarios.citizen_channel(entering), entering, entering, application="AGI"),
    ]
    env.fake.drop_all()
    await asyncio.sleep(0.3)
    await env.svc.ami.wait_connected(5)
    await env.settle()
    waiting, in_entry = env.svc.model.get(queued), env.svc.model.get(entering)
    assert waiting is not None and in_entry is not None
    assert (waiting.state, waiting.queued_at) == ("queued", None)
    assert (in_entry.queue, in_entry.queued_at, in_entry.recording) == (None, None, None)
    assert env.fake.actions("MixMonitor") == []
    assert not [e for e in env.published if e.kind == "call.recording"]
