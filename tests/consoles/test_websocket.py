"""The console websocket at the protocol level: sign-in by first message, filtered events with sequence
numbers, catch-up after a reconnect (or a resync when that is impossible), and slow pages dropped
without holding up the bus."""

from __future__ import annotations

import pytest
from aiohttp import WSMsgType

from gateway.auth.middleware import TOKENS
from gateway.consoles import ws as ws_module
from gateway.consoles.hub import SLOW_CONSUMER
from gateway.consoles.keys import HUB
from tests.consoles.support import Gateway
from tests.fakes import scenarios


async def closed_with(gateway: Gateway, hello: object) -> tuple[int | None, str]:
    ws = await gateway.client.ws_connect("/api/v1/ws")
    if hello is not None:
        await ws.send_json(hello)
    message = await ws.receive()
    assert message.type == WSMsgType.CLOSE
    return ws.close_code, str(message.extra)


async def test_the_token_comes_in_the_first_message_and_units_get_no_stream(gateway: Gateway) -> None:
    assert (await closed_with(gateway, {"type": "hello", "token": "hl_nope_nope"}))[0] == 4401
    code, reason = await closed_with(gateway, {"type": "hello", "token": gateway.tokens["water"]})
    assert code == 4403 and "unit" in reason
    assert (await closed_with(gateway, {"type": "subscribe"}))[0] == 4400


async def test_a_page_that_says_nothing_is_closed(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_module, "HELLO_TIMEOUT", 0.1)
    assert (await closed_with(gateway, None))[0] == 4400


async def test_each_page_gets_its_own_calls_in_full_and_others_as_queue_counts(gateway: Gateway) -> None:
    agent, other, supervisor = [await gateway.socket(w) for w in ("agent", "other_agent", "supervisor")]
    await gateway.fake.emit(*scenarios.answered_call("1795346000.10", citizen="13800000001", agent="1001"))
    await gateway.settle()
    mine = [e for e in await agent.drain() if e["kind"].startswith("call.")]
    assert "call.connected" in [e["kind"] for e in mine]
    connected = next(e for e in mine if e["kind"] == "call.connected")
    assert connected["data"]["caller"] == "13800000001" and "board" not in connected
    theirs = [e for e in await other.drain() if e["kind"].startswith("call.")]
    assert theirs and all(e["board"] and "caller" not in e["data"] for e in theirs)
    seen = await supervisor.drain()
    assert [e["seq"] for e in seen] == sorted(e["seq"] for e in seen)  # increasing
    assert len(seen) >= len(mine)


async def test_a_reconnecting_page_gets_what_it_missed_in_order(gateway: Gateway) -> None:
    page = await gateway.socket("agent")
    gateway.publish("agent.state", agent_id="a1001", state="available", interface="PJSIP/1001")
    await page.next()
    epoch, last = page.welcome["epoch"], page.last_seq
    await page.close()
    gateway.publish("agent.state", agent_id="a1001", state="paused", interface="PJSIP/1001")
    gateway.publish("draft.updated", call_key="someone-elses-call", draft={})  # not this agent's
    gateway.publish("agent.state", agent_id="a1001", state="available", interface="PJSIP/1001")
    again = await gateway.socket("agent", epoch=epoch, last_seq=last)
    assert again.welcome["replay"] == 2 and "resync" not in again.welcome
    missed = [await again.next(), await again.next()]
    assert [e["data"]["state"] for e in missed] == ["paused", "available"]
    assert missed[0]["seq"] < missed[1]["seq"] <= again.welcome["seq"]
    gateway.publish("agent.state", agent_id="a1001", state="wrap_up", interface="PJSIP/1001")
    live = await again.next()
    assert live["seq"] > again.welcome["seq"] and live["data"]["state"] == "wrap_up"


async def test_a_page_that_cannot_catch_up_is_told_to_resync(gateway: Gateway) -> None:
    hub = gateway.app[HUB]
    stale = await gateway.socket("supervisor", epoch="another-run", last_seq=3)
    assert stale.welcome["resync"] is True
    page = await gateway.socket("supervisor")
    last = page.welcome["seq"]
    for i in range(hub.ring.maxlen + 1):  # more than the ring holds
        gateway.publish("agent.state", agent_id="a1001", state="available", n=i)
    await page.close()
    behind = await gateway.socket("supervisor", epoch=hub.epoch, last_seq=last)
    assert behind.welcome["resync"] is True


async def test_a_slow_page_is_dropped_and_nobody_else_waits(gateway: Gateway) -> None:
    hub = gateway.app[HUB]
    hub.queue_size = 5
    slow = await gateway.socket("supervisor")
    hub.queue_size = 1000
    fine = await gateway.socket("supervisor")
    # A burst in one go: the slow page's queue (5) overflows before its writer can send anything.
    for i in range(20):
        gateway.publish("agent.state", agent_id="a1001", state="available", n=i)
    message = await slow.ws.receive()
    while message.type == WSMsgType.TEXT:
        message = await slow.ws.receive()
    assert slow.ws.close_code == SLOW_CONSUMER
    assert [e["data"]["n"] for e in await fine.drain()] == list(range(20))
    catch_up = await gateway.socket("supervisor", epoch=hub.epoch, last_seq=slow.welcome["seq"])
    assert catch_up.welcome["replay"] == 20


async def test_an_open_page_is_closed_soon_after_its_token_is_revoked(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_module, "TOKEN_RECHECK", 0.1)
    kept, revoked = await gateway.socket("agent"), await gateway.socket("other_agent")
    token_id = gateway.tokens["other_agent"].split("_")[1]
    await gateway.app[TOKENS].revoke(token_id)
    message = await revoked.ws.receive(timeout=3)
    assert (message.type, revoked.ws.close_code) == (WSMsgType.CLOSE, 4401)
    assert "revoked" in str(message.extra)
    gateway.publish("agent.state", agent_id="a1001", state="available", interface="PJSIP/1001")
    assert (await kept.next())["kind"] == "agent.state"  # the other page is untouched


async def test_a_hello_nested_too_deep_is_refused_as_bad_json(gateway: Gateway) -> None:
    ws = await gateway.client.ws_connect("/api/v1/ws")
    await ws.send_str("[" * 5000 + "]" * 5000)
    message = await ws.receive()
    assert (message.type, ws.close_code) == (WSMsgType.CLOSE, 4400)


async def test_failed_sign_ins_never_lock_out_a_valid_token_from_the_same_address(gateway: Gateway) -> None:
    for _ in range(12):
        await closed_with(gateway, {"type": "hello", "token": "hl_nope_nope"})
    assert (await closed_with(gateway, {"type": "hello", "token": "hl_nope_nope"}))[0] == 4429
    page = await gateway.socket("agent")
    assert page.welcome["type"] == "welcome"
    await page.ws.close()
