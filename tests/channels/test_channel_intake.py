"""Signed intake per channel kind; channel fields kept; a web ticket and a phone call about the same matter
are surfaced as 并案 candidates and the agent merges them; replies go back on the channel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.appkeys import BUS
from gateway.bus import DomainEvent
from gateway.webhooks.signing import signature_headers, verify_signature
from tests.api.support import Api, running_gateway
from tests.tickets.support import FakeClock

WEB_SECRET = "web-portal-shared-secret"
FAST = {"poll_interval": 0.02, "retry": {"initial_delay": 0.05, "jitter": 0}}


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    monkeypatch.setenv("HOTLINE_CHANNEL_SECRET__WEB", WEB_SECRET)
    async with running_gateway(tmp_path, clock, webhooks=FAST) as api:
        yield api


async def post_signed(api: Api, kind: str, body: dict[str, Any], secret: str = WEB_SECRET) -> Any:
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **signature_headers(secret, raw)}
    return await api.client.post(f"/api/v1/channels/{kind}/tickets", data=raw, headers=headers)


def web_message(message_id: str = "portal-7731", **overrides: Any) -> dict[str, Any]:
    body = {"message_id": message_id, "category": "投诉", "content": "幸福路23号的路灯坏了好几天，晚上很黑",
            "location": "城关镇幸福路23号", "caller_number": "13800138000", "caller_name": "张先生",
            "fields": {"account": "zhang@portal", "ip": "203.0.113.5"}, "reply_to": "portal-user-991"}
    body.update(overrides)
    return body


async def test_web_ticket_and_phone_call_about_one_matter_are_candidates_and_the_agent_merges(api: Api) -> None:
    seen: list[DomainEvent] = []
    api.app[BUS].subscribe("ticket.duplicate_candidates", seen.append)
    phone = (await api.ok("agent", "POST", "/tickets", {
        "category": "投诉", "content": "幸福路23号路灯坏了，晚上黑", "location": "城关镇幸福路23号",
        "caller_number": "13800138000"}, status=201))["number"]

    resp = await post_signed(api, "web", web_message())
    assert resp.status == 201, await resp.text()
    taken = await resp.json()
    web_number = taken["ticket"]
    assert [c["ticket"] for c in taken["candidates"]] == [phone]
    assert taken["candidates"][0]["reason"] == "same-caller"
    assert [e.data["candidates"] for e in seen] == [[phone]]

    ticket = await api.ok("agent", "GET", f"/tickets/{web_number}")
    assert (ticket["channel"], ticket["status"]) == ("web", "new")  # same rules as a phone ticket from here
    details = await api.ok("agent", "GET", f"/channels/tickets/{web_number}")
    assert details["message"]["fields"] == {"account": "zhang@portal", "ip": "203.0.113.5"}
    assert [c["ticket"] for c in details["candidates"]] == [phone]
    # The phone ticket sees the web one too.
    assert [c["ticket"] for c in (await api.ok("agent", "GET", f"/channels/tickets/{phone}"))["candidates"]] \
        == [web_number]

    merged = await api.ok("agent", "POST", f"/tickets/{web_number}/merge",
                          {"into": phone, "reason": "同一诉求人同一事项"})
    assert merged["status"] == "merged"


async def test_a_retried_message_makes_no_second_ticket(api: Api) -> None:
    first = await (await post_signed(api, "web", web_message("portal-1"))).json()
    again = await post_signed(api, "web", web_message("portal-1"))
    assert again.status == 200
    assert (await again.json())["ticket"] == first["ticket"]
    assert len((await api.ok("agent", "GET", "/tickets"))["items"]) == 1


async def test_unsigned_wrongly_signed_or_unknown_channels_are_refused(api: Api) -> None:
    assert (await post_signed(api, "web", web_message(), secret="guess")).status == 401
    raw = json.dumps(web_message()).encode()
    assert (await api.client.post("/api/v1/channels/web/tickets", data=raw)).status == 401
    assert (await post_signed(api, "wechat", web_message())).status == 401  # no secret configured for it
    assert (await post_signed(api, "fax", web_message())).status == 404
    bad = await post_signed(api, "web", web_message(content=""))
    assert bad.status == 422
    assert (await api.ok("agent", "GET", "/tickets"))["items"] == []


async def test_the_reply_goes_back_on_the_channel_it_came_from(api: Api) -> None:
    received: list[dict[str, Any]] = []
    secret: dict[str, str] = {}

    async def adapter(request: web.Request) -> web.Response:
        raw = await request.read()
        assert verify_signature(secret["value"], request.headers["X-Hotline-Timestamp"], raw,
                                request.headers["X-Hotline-Signature"])
        received.append(json.loads(raw))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/reply", adapter)
    server = TestServer(app)
    await server.start_server()
    try:
        endpoint = await api.ok("admin", "POST", "/webhooks/endpoints", {
            "id": "portal-adapter", "owner": "channel-web", "url": str(server.make_url("/reply")),
            "events": ["channel.reply"], "generate_secret": True}, status=201)
        secret["value"] = endpoint["secret"]
        number = (await (await post_signed(api, "web", web_message())).json())["ticket"]
        await api.ok("agent", "POST", f"/tickets/{number}/resolve", {"answer": "已通知城管修复路灯"})
        for _ in range(300):
            if received:
                break
            await asyncio.sleep(0.02)
        [delivery] = received
        assert delivery["event"] == "channel.reply"
        assert delivery["data"]["reply_to"] == "portal-user-991"
        assert delivery["data"]["message_id"] == "portal-7731"
        assert delivery["data"]["reply"] == "已通知城管修复路灯"
    finally:
        await server.close()


async def test_a_forged_request_cannot_claim_the_real_senders_idempotency_key(api: Api) -> None:
    raw = json.dumps(web_message("portal-idem"), ensure_ascii=False).encode()
    forged = {"Content-Type": "application/json", "Idempotency-Key": "k-1",
              **signature_headers("not-the-secret", raw)}
    first = await api.client.post("/api/v1/channels/web/tickets", data=raw, headers=forged)
    assert first.status == 401
    real = {"Content-Type": "application/json", "Idempotency-Key": "k-1", **signature_headers(WEB_SECRET, raw)}
    second = await api.client.post("/api/v1/channels/web/tickets", data=raw, headers=real)
    assert second.status == 201, await second.text()
    assert "Idempotent-Replayed" not in second.headers


async def test_nan_in_channel_fields_is_refused_and_stores_nothing(api: Api) -> None:
    raw = json.dumps(web_message("portal-nan", fields={"score": float("nan")})).encode()
    assert b"NaN" in raw
    resp = await api.client.post("/api/v1/channels/web/tickets", data=raw,
                                 headers={"Content-Type": "application/json", **signature_headers(WEB_SECRET, raw)})
    assert (resp.status, (await resp.json())["error_id"]) == (400, "invalid-json")
    listing = await api.ok("agent", "GET", "/tickets")
    assert listing["items"] == []
