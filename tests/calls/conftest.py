"""Fixtures for the call-control tests: a fake AMI server, an AmiClient connected to it, and a whole gateway
(``env``) driven through its HTTP API against the fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import BUS
from gateway.bus import DomainEvent
from gateway.calls.ami import AmiClient
from gateway.calls.service import CALLS, CallsService
from gateway.config import AmiSettings, load_settings
from gateway.http.api import ACTOR_KEY, RequestActor
from tests.fakes import scenarios
from tests.fakes.fake_ami import FakeAmi


def fast_ami_settings(port: int, **overrides: object) -> AmiSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "action_timeout": 0.5,
        "ping_interval": 0.3,
        "reconnect_delay": 0.05,
        "reconnect_max_delay": 0.2,
    }
    return AmiSettings.model_validate({**values, **overrides})


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def ami(fake_ami: FakeAmi) -> AsyncIterator[AmiClient]:
    client = AmiClient(fast_ami_settings(fake_ami.port), secret=fake_ami.secret)
    client.start()
    await client.wait_connected(5)
    yield client
    await client.close()


@dataclass
class Env:
    client: TestClient[Any, Any]
    fake: FakeAmi
    svc: CallsService
    published: list[DomainEvent]

    async def settle(self) -> None:
        """Let the pipeline consume what the fake sent, run side tasks and write to the database."""
        for _ in range(3):
            await asyncio.sleep(0.05)
            for _ in range(200):
                if self.svc.ami.events.empty():
                    break
                await asyncio.sleep(0.01)
            await self.svc.pipeline.settle()
        await self.svc.recorder.drain()

    def kinds(self) -> list[str]:
        return [e.kind for e in self.published]

    async def post(
        self, path: str, body: dict[str, Any] | None = None, key: str | None = None, status: int = 200
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        resp = await self.client.post(path, json=body or {}, headers=headers)
        data = await resp.json()
        assert resp.status == status, data
        return data


@web.middleware
async def actor_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    # Stands in for the token middleware: a supervisor's token (may do everything here).
    request[ACTOR_KEY] = RequestActor(kind="admin", id="agent-1001", scopes=frozenset({"*"}))
    return await handler(request)


@pytest.fixture
async def env(tmp_path: Path, fake_ami: FakeAmi) -> AsyncIterator[Env]:
    settings = load_settings(
        data_dir=tmp_path,
        ami={
            "port": fake_ami.port,
            "secret": fake_ami.secret,
            "action_timeout": 0.5,
            "ping_interval": 0.3,
            "reconnect_delay": 0.05,
            "reconnect_max_delay": 0.2,
        },
        calls={"recording_dir": str(tmp_path / "rec"), "wrapup_seconds": 0.3},
    )
    app = create_app(settings)
    app.middlewares.append(actor_middleware)
    published: list[DomainEvent] = []
    async with TestClient(TestServer(app)) as client:
        app[BUS].subscribe("", published.append)
        svc = app[CALLS]
        await svc.ami.wait_connected(5)
        env = Env(client, fake_ami, svc, published)
        await env.settle()
        yield env


async def answered(env: Env, call_id: str = "1795346000.10", agent: str = "1001") -> str:
    await env.fake.emit(*scenarios.answered_call(call_id, citizen="13800000001", agent=agent))
    await env.settle()
    return call_id
