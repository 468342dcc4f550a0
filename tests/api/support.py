"""A real gateway on a loopback port with tokens for an agent, an admin and three units."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.auth.middleware import TOKENS
from gateway.config import load_settings
from gateway.tickets.appkeys import TICKETS
from tests.tickets.support import FakeClock


@dataclass
class Api:
    client: TestClient[Any, Any]
    tokens: dict[str, str]
    clock: FakeClock

    @property
    def app(self) -> Any:
        return self.client.server.app

    async def call(self, who: str, method: str, path: str, json: Any = None, **kw: Any) -> ClientResponse:
        headers = dict(kw.pop("headers", {}))
        if who:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return await self.client.request(method, "/api/v1" + path, json=json, headers=headers, **kw)

    async def ok(self, who: str, method: str, path: str, json: Any = None, status: int = 200, **kw: Any) -> Any:
        resp = await self.call(who, method, path, json, **kw)
        body = await resp.json()
        assert resp.status == status, body
        return body


@asynccontextmanager
async def running_gateway(tmp_path: Path, clock: FakeClock, policy: str = "qingyang",
                          **settings: Any) -> AsyncIterator[Api]:
    settings.setdefault("timer_interval", 3600)  # tests run the clock-driven sweeps themselves
    app = create_app(load_settings(data_dir=tmp_path, policy=policy, **settings), clock=clock)
    async with TestClient(TestServer(app)) as client:
        store = app[TOKENS]
        tokens = {}
        for name, kind, subject in [("agent", "agent", "a1001"), ("admin", "admin", "reviewer"),
                                    ("water", "unit", "water"), ("roads", "unit", "roads"),
                                    ("power", "unit", "power")]:
            _, tokens[name] = await store.create(kind, subject)
        for unit_id, name in [("water", "市水务局"), ("roads", "市住建局"), ("power", "国网供电公司")]:
            await app[TICKETS].add_unit(unit_id, name)
        yield Api(client, tokens, clock)


async def operator_headers(app: Any) -> dict[str, str]:
    """What a monitoring system sends to /readyz (for its details) and /metrics: an admin token with the
    "ops" scope only."""
    _, token = await app[TOKENS].create("admin", "monitoring", ["ops"])
    return {"Authorization": f"Bearer {token}"}
