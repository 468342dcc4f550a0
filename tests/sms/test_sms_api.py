"""Over the running gateway's HTTP API: what the outbox provider "sent" can be read back by number; replies
come in signed by the provider, are stored once, and are announced on the bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import BUS, SESSIONS
from gateway.bus import DomainEvent
from gateway.config import load_settings
from gateway.sms.keys import SMS
from gateway.webhooks.signing import signature_headers
from tests.webhooks.api import ADMIN, actor_from_header, eventually

INBOUND_SECRET = "shared-with-the-sms-provider"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Client]:
    monkeypatch.setenv("HOTLINE_SMS__INBOUND__SECRET", INBOUND_SECRET)
    app = create_app(load_settings(data_dir=tmp_path, sms={"poll_interval": 0.05}))
    app.middlewares.append(actor_from_header)
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_sent_messages_can_be_read_back_from_the_outbox_by_number(client: Client) -> None:
    app = client.app
    async with app[SESSIONS]() as session, session.begin():
        await app[SMS].queue(session, "13800138000", "【12345热线】请评价工单20261122001", purpose="survey",
                             ref="20261122001")
        await app[SMS].queue(session, "+86 139 0000 0000", "另一位市民", purpose="survey", ref="20261122002")

    async def outbox_for_first_caller() -> list[dict[str, Any]]:
        resp = await client.get("/api/v1/sms/outbox?to=13800138000", headers=ADMIN)
        return list((await resp.json())["messages"])

    [entry] = await eventually(outbox_for_first_caller)
    assert (entry["to"], entry["text"]) == ("+8613800138000", "【12345热线】请评价工单20261122001")
    async def sent_message() -> list[dict[str, Any]]:  # the sender marks it sent in the background too
        listed = await (await client.get("/api/v1/sms/messages?purpose=survey&ref=20261122001", headers=ADMIN)).json()
        return [m for m in listed["messages"] if m["status"] == "sent"]

    [message] = await eventually(sent_message)
    assert (message["id"], message["status"]) == (entry["message_id"], "sent")
    assert (await client.get("/api/v1/sms/outbox")).status == 401


def signed(body: dict[str, Any], secret: str = INBOUND_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw, {"Content-Type": "application/json", **signature_headers(secret, raw)}


async def test_a_signed_reply_is_stored_once_and_announced(client: Client) -> None:
    events: list[DomainEvent] = []
    client.app[BUS].subscribe("sms.", events.append)
    raw, headers = signed({"id": "prov-981", "from": "13800138000", "text": "1", "to": "1069012345"})

    first = await client.post("/api/v1/sms/inbound", data=raw, headers=headers)
    again = await client.post("/api/v1/sms/inbound", data=raw, headers=headers)  # the provider retried

    assert first.status == 201
    stored = await first.json()
    assert again.status == 200
    assert await again.json() == {"id": stored["id"], "duplicate": True}
    assert [(e.kind, e.data) for e in events] == [
        ("sms.received", {"inbound_id": stored["id"], "from_number": "+8613800138000", "text": "1"})]
    # Listed whether or not the survey module has read it yet (the timer it nudges may already have: a
    # clean-clone CI run caught it processed before this request).
    listed = await (await client.get("/api/v1/sms/inbound", headers=ADMIN)).json()
    assert [(m["provider_id"], m["from"], m["text"]) for m in listed["messages"]] == [
        ("prov-981", "+8613800138000", "1")]


@pytest.mark.parametrize("tamper", ["wrong secret", "changed body", "no signature"])
async def test_an_unsigned_or_forged_reply_is_refused(client: Client, tamper: str) -> None:
    events: list[DomainEvent] = []
    client.app[BUS].subscribe("sms.", events.append)
    raw, headers = signed({"id": "prov-1", "from": "13800138000", "text": "5"},
                          secret="guess" if tamper == "wrong secret" else INBOUND_SECRET)
    if tamper == "changed body":
        raw = raw.replace(b'"5"', b'"1"')
    if tamper == "no signature":
        del headers["X-Hotline-Signature"]

    resp = await client.post("/api/v1/sms/inbound", data=raw, headers=headers)

    assert (resp.status, (await resp.json())["error_id"]) == (401, "bad-signature")
    assert events == []
    assert (await (await client.get("/api/v1/sms/inbound", headers=ADMIN)).json())["messages"] == []


async def test_a_signed_but_malformed_reply_says_what_is_wrong(client: Client) -> None:
    raw, headers = signed({"id": "prov-2", "text": "1"})
    resp = await client.post("/api/v1/sms/inbound", data=raw, headers=headers)
    assert (resp.status, (await resp.json())["error_id"]) == (422, "validation-failed")


async def test_inbound_is_off_until_a_secret_is_configured(tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path))
    async with TestClient(TestServer(app)) as c:
        raw, headers = signed({"id": "p", "from": "13800138000", "text": "1"})
        resp = await c.post("/api/v1/sms/inbound", data=raw, headers=headers)
        assert (resp.status, (await resp.json())["error_id"]) == (503, "sms-inbound-not-configured")


async def test_a_reply_the_survey_module_has_read_leaves_the_unprocessed_list_but_stays_listed(
        client: Client) -> None:
    raw, headers = signed({"id": "prov-982", "from": "13800138001", "text": "2", "to": "1069012345"})
    assert (await client.post("/api/v1/sms/inbound", data=raw, headers=headers)).status == 201

    async def unprocessed() -> list[str]:
        listed = await (await client.get("/api/v1/sms/inbound?unprocessed=1", headers=ADMIN)).json()
        return [m["provider_id"] for m in listed["messages"]]

    for _ in range(100):  # the survey module reads it when the timer it nudged runs
        if not await unprocessed():
            break
        await asyncio.sleep(0.05)
    assert await unprocessed() == []
    everything = await (await client.get("/api/v1/sms/inbound", headers=ADMIN)).json()
    [message] = everything["messages"]
    assert message["provider_id"] == "prov-982" and message["processed_at"] is not None
