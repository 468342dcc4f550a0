"""Issue 3's whole loop over real HTTP: a unit works a ticket through signed webhooks and the API; the
citizen is surveyed by SMS and answers "2" (closed), "4" (reopened) or nothing (satisfied by default)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.timers import TIMERS
from gateway.webhooks.signing import signature_headers, verify_signature
from tests.api.support import Api, running_gateway
from tests.tickets.support import FakeClock

INBOUND_SECRET = "provider-shared-secret"
CITIZEN = "+8613800138000"


class Receiver:
    """A unit's webhook endpoint: checks every signature, keeps what it accepted."""

    def __init__(self) -> None:
        self.secret = ""
        self.events: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.app = web.Application()
        self.app.router.add_post("/hook", self.hook)

    async def hook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        ok = verify_signature(self.secret, request.headers["X-Hotline-Timestamp"], raw,
                              request.headers["X-Hotline-Signature"])
        if not ok:
            self.bad_signatures += 1
            return web.Response(status=401)
        self.events.append(json.loads(raw))
        return web.Response(status=204)

    async def wait_for(self, event: str, ticket: str) -> dict[str, Any]:
        for _ in range(500):
            for e in self.events:
                if (e["event"], e["data"]["ticket"]) == (event, ticket):
                    return e
            await asyncio.sleep(0.02)
        pytest.fail(f"no {event} webhook for {ticket}; got {[(e['event'], e['data']['ticket']) for e in self.events]}")


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    server = TestServer(r.app)
    await server.start_server()
    yield r, str(server.make_url("/hook"))
    await server.close()


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock, receiver: tuple[Receiver, str]) -> AsyncIterator[Api]:
    fast = {"poll_interval": 0.02, "retry": {"initial_delay": 0.05, "jitter": 0}}
    async with running_gateway(tmp_path, clock, webhooks=fast,
                               sms={**fast, "inbound": {"secret": INBOUND_SECRET}}) as api:
        r, url = receiver
        endpoint = await api.ok("admin", "POST", "/webhooks/endpoints",
                                {"id": "water-hook", "owner": "water", "url": url, "generate_secret": True},
                                status=201)
        r.secret = endpoint["secret"]
        yield api


async def replied_and_reviewed(api: Api, receiver: Receiver) -> str:
    number = (await api.ok("agent", "POST", "/tickets", {
        "category": "投诉", "content": "幸福路路灯坏了", "caller_number": "13800138000"}, status=201))["number"]
    await api.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await api.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})
    dispatched = await receiver.wait_for("ticket.dispatched", number)
    assert "caller" not in json.dumps(dispatched)  # units get no caller identity in webhooks
    await api.ok("water", "POST", f"/tickets/{number}/sign")
    await api.ok("water", "POST", f"/tickets/{number}/extension", {"working_days": 1, "reason": "协调供电"},
                 status=201)
    await api.ok("admin", "POST", f"/tickets/{number}/extension/review", {"approve": True, "note": "同意"})
    await receiver.wait_for("ticket.extension.approved", number)
    await api.ok("water", "POST", f"/tickets/{number}/reply", {"text": "已更换灯头"})
    t = await api.ok("admin", "POST", f"/tickets/{number}/reply/review", {"approve": True, "note": "ok"})
    assert t["status"] == "surveying"
    return str(number)


async def survey_text(api: Api, number: str) -> str:
    for _ in range(500):
        await api.app[TIMERS].run_once()
        messages = (await api.ok("admin", "GET", "/sms/outbox", params={"to": CITIZEN}))["messages"]
        for m in messages:
            if number in m["text"]:
                return str(m["text"])
        await asyncio.sleep(0.02)
    pytest.fail(f"no survey SMS for {number}")


async def citizen_texts(api: Api, text: str) -> None:
    raw = json.dumps({"id": uuid.uuid4().hex, "from": "13800138000", "text": text}).encode()
    headers = {"Content-Type": "application/json", **signature_headers(INBOUND_SECRET, raw)}
    resp = await api.client.post("/api/v1/sms/inbound", data=raw, headers=headers)
    assert resp.status == 201, await resp.text()
    await api.app[TIMERS].run_once()


async def test_reply_2_closes(api: Api, receiver: tuple[Receiver, str]) -> None:
    number = await replied_and_reviewed(api, receiver[0])
    text = await survey_text(api, number)
    assert "1非常满意" in text and "5非常不满意" in text
    await citizen_texts(api, "2")
    ticket = await api.ok("agent", "GET", f"/tickets/{number}")
    assert (ticket["status"], ticket["satisfaction"]) == ("closed", "satisfied")
    assert receiver[0].bad_signatures == 0


async def test_reply_4_reopens_and_the_unit_is_told(api: Api, receiver: tuple[Receiver, str]) -> None:
    number = await replied_and_reviewed(api, receiver[0])
    await survey_text(api, number)
    await citizen_texts(api, "４ 路灯还是不亮")
    ticket = await api.ok("agent", "GET", f"/tickets/{number}")
    assert (ticket["status"], ticket["reopen_count"]) == ("dispatched", 1)
    await receiver[0].wait_for("ticket.reopened", number)


async def test_no_reply_is_satisfied_after_the_window(api: Api, receiver: tuple[Receiver, str],
                                                      clock: FakeClock) -> None:
    number = await replied_and_reviewed(api, receiver[0])
    await survey_text(api, number)
    clock.advance(hours=23)
    await api.app[TIMERS].run_once()
    assert (await api.ok("agent", "GET", f"/tickets/{number}"))["status"] == "surveying"
    clock.advance(hours=1, seconds=1)
    await api.app[TIMERS].run_once()
    ticket = await api.ok("agent", "GET", f"/tickets/{number}")
    assert (ticket["status"], ticket["satisfaction"]) == ("closed", "satisfied")


async def test_a_forged_reply_changes_nothing(api: Api, receiver: tuple[Receiver, str]) -> None:
    number = await replied_and_reviewed(api, receiver[0])
    await survey_text(api, number)
    raw = json.dumps({"id": "x1", "from": "13800138000", "text": "5"}).encode()
    resp = await api.client.post("/api/v1/sms/inbound", data=raw, headers={
        "Content-Type": "application/json", **signature_headers("wrong-secret", raw)})
    assert resp.status == 401
    await api.app[TIMERS].run_once()
    assert (await api.ok("agent", "GET", f"/tickets/{number}"))["status"] == "surveying"
