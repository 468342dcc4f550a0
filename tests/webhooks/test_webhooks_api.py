"""The admin API: endpoints with secrets kept out of the database, dead letters listed and replayed; the
running gateway's worker sends, retries and dead-letters on its own."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import SESSIONS
from gateway.config import load_settings
from gateway.webhooks.keys import WEBHOOKS
from tests.webhooks.api import ADMIN, actor_from_header, eventually
from tests.webhooks.receiver import Receiver


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    settings = load_settings(data_dir=tmp_path, webhooks={
        "secrets_dir": tmp_path / "secrets", "poll_interval": 0.05, "timeout": 2,
        "retry": {"max_attempts": 3, "initial_delay": 0.01, "max_delay": 0.05, "jitter": 0},
    })
    app = create_app(settings)
    app.middlewares.append(actor_from_header)
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_the_api_is_for_administrators(client: TestClient[web.Request, web.Application]) -> None:
    anonymous = await client.get("/api/v1/webhooks/endpoints")
    assert anonymous.status == 401
    unit = await client.get("/api/v1/webhooks/deliveries", headers={"X-Test-Actor": "unit:water"})
    refused = await unit.json()
    assert (unit.status, refused["error_id"]) == (403, "wrong-token-kind")
    assert refused["message"] == "this needs an admin token; yours is a unit token"


async def test_an_endpoint_needs_a_secret_outside_the_database(
        client: TestClient[web.Request, web.Application], tmp_path: Path) -> None:
    body = {"id": "police-110", "owner": "police-110", "url": "http://127.0.0.1:9/handoff",
            "events": ["call.police_handoff"]}
    missing = await client.post("/api/v1/webhooks/endpoints", json=body, headers=ADMIN)
    assert (missing.status, (await missing.json())["error_id"]) == (422, "webhook-secret-missing")
    assert "HOTLINE_WEBHOOK_SECRET__POLICE_110" in (await missing.json())["message"]

    created = await client.post("/api/v1/webhooks/endpoints", json={**body, "generate_secret": True}, headers=ADMIN)
    answer = await created.json()
    assert created.status == 201
    secret_file = tmp_path / "secrets" / "police-110"
    assert secret_file.read_text().strip() == answer["secret"]
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    listed = await (await client.get("/api/v1/webhooks/endpoints", headers=ADMIN)).json()
    assert listed["endpoints"][0]["id"] == "police-110"
    assert "secret" not in listed["endpoints"][0], "a secret is shown once, at creation"

    again = await client.post("/api/v1/webhooks/endpoints", json=body, headers=ADMIN)
    assert (again.status, (await again.json())["error_id"]) == (409, "webhook-endpoint-exists")
    bad_id = await client.post("/api/v1/webhooks/endpoints", json={**body, "id": "../etc"}, headers=ADMIN)
    assert (bad_id.status, (await bad_id.json())["error_id"]) == (400, "invalid-endpoint-id")

    disabled = await client.patch("/api/v1/webhooks/endpoints/police-110", json={"active": False}, headers=ADMIN)
    assert (await disabled.json())["active"] is False


async def test_a_down_receiver_gets_retries_then_a_dead_letter_then_a_replay_delivers(
        client: TestClient[web.Request, web.Application]) -> None:
    receiver = await Receiver(secret="").start()
    try:
        created = await client.post("/api/v1/webhooks/endpoints", headers=ADMIN, json={
            "id": "water-main", "owner": "water", "url": receiver.url, "generate_secret": True})
        receiver.secret = (await created.json())["secret"]
        receiver.status = 503

        # What the ticket service does: the webhook is written in the same transaction as the change.
        app = client.app
        async with app[SESSIONS]() as session, session.begin():
            [delivery_id] = await app[WEBHOOKS].enqueue(session, "water", "ticket.warning.red",
                                                        {"number": "20261122001", "level": "red"})

        async def dead_letters() -> list[dict[str, Any]]:
            resp = await client.get("/api/v1/webhooks/deliveries?status=dead&endpoint=water-main", headers=ADMIN)
            return list((await resp.json())["deliveries"])

        [dead] = await eventually(dead_letters)
        assert (dead["id"], dead["attempts"], dead["last_status"]) == (delivery_id, 3, 503)
        assert [r.answered for r in receiver.received] == [503, 503, 503]
        assert all(r.signature_ok for r in receiver.received)

        not_dead = await client.post("/api/v1/webhooks/deliveries/nonesuch/replay", headers=ADMIN)
        assert (not_dead.status, (await not_dead.json())["error_id"]) == (404, "webhook-delivery-not-found")

        receiver.status = 200
        replayed = await client.post("/api/v1/webhooks/endpoints/water-main/replay", headers=ADMIN)
        assert (await replayed.json())["replayed"] == [delivery_id]

        async def delivered() -> dict[str, Any] | None:
            found = await (await client.get(f"/api/v1/webhooks/deliveries/{delivery_id}", headers=ADMIN)).json()
            return found if found["status"] == "delivered" else None

        done = await eventually(delivered)
        assert (done["attempts"], done["replay_count"], done["last_replayed_by"]) == (1, 1, "root")
        assert receiver.received[-1].signature_ok and receiver.received[-1].answered == 200
        assert receiver.received[-1].body["data"] == {"number": "20261122001", "level": "red"}

        again = await client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/replay", headers=ADMIN)
        assert (again.status, (await again.json())["error_id"]) == (409, "webhook-delivery-not-dead")
    finally:
        await receiver.close()
