"""The place picker's division list answers at once: it does not wait for the understanding model (whose
first load trains it, seconds of CPU)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import load_settings
from gateway.understanding.shared import UNDERSTANDING
from tests.webhooks.api import ADMIN, actor_from_header

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    app = create_app(load_settings(data_dir=tmp_path))
    app.middlewares.append(actor_from_header)
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_the_county_divisions_come_without_loading_the_understanding_model(client: Client) -> None:
    response = await client.get("/api/v1/places/divisions", headers=ADMIN)
    assert response.status == 200
    body = await response.json()
    assert (body["city"], body["county"]) == ("湖州市", "安吉县")
    towns = {t["name"]: t["communities"] for t in body["townships"]}
    assert "孝丰镇" in towns and "杭垓村" in towns["杭垓镇"]
    assert client.app[UNDERSTANDING].loaded is None  # nothing was trained or loaded for it
