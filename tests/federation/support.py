"""Two or three real gateways on loopback ports, each with its own data directory, wired as platforms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.auth.middleware import TOKENS
from gateway.config import load_settings
from gateway.tickets.appkeys import TICKETS
from tests.api.support import Api
from tests.tickets.support import FakeClock

FAST = {"poll_interval": 0.02, "retry": {"initial_delay": 0.05, "max_delay": 0.2, "jitter": 0}}


async def eventually(check: Callable[[], Awaitable[Any]], what: str, within: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy (federation is asynchronous by design)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}; last value {value!r}")
        await asyncio.sleep(0.03)


@asynccontextmanager
async def running_gateway(data_dir: Path, clock: FakeClock, policy: str = "qingyang", port: int | None = None,
                          units: tuple[tuple[str, str], ...] = (("water", "水务局"),), **settings: Any
                          ) -> AsyncIterator[Api]:
    """Like tests.api.support's, but restartable on the same data directory (and port)."""
    settings.setdefault("timer_interval", 3600)  # tests run the clock-driven sweeps themselves
    app = create_app(load_settings(data_dir=data_dir, policy=policy, **settings), clock=clock)
    async with TestClient(TestServer(app, port=port) if port else TestServer(app)) as client:
        tokens = {}
        for name, kind, subject in [("agent", "agent", "a1001"), ("admin", "admin", "reviewer"),
                                    *((unit, "unit", unit) for unit, _ in units)]:
            _, tokens[name] = await app[TOKENS].create(kind, subject)
        known = {u["id"] for u in (await (await client.get("/api/v1/units", headers={
            "Authorization": f"Bearer {tokens['admin']}"})).json())["items"]}
        for unit_id, name in units:
            if unit_id not in known:
                await app[TICKETS].add_unit(unit_id, name)
        yield Api(client, tokens, clock)


@dataclass
class Platforms:
    city: Api
    district: Api
    stack: AsyncExitStack  # closing it stops the district
    district_token: str  # the peer token the city issued to the district (to restart it)


async def start_district(tmp_path: Path, clock: FakeClock, city: Api, parent_token: str,
                         port: int | None = None, **settings: Any) -> tuple[Api, AsyncExitStack]:
    """``settings``: more of the district's settings (e.g. ``ami``, ``calls``)."""
    stack = AsyncExitStack()
    extra = {"port": port} if port else {}
    district = await stack.enter_async_context(running_gateway(
        tmp_path / "district", clock, policy="hanbin", federation={
            "platform_id": "hanbin", "level": "district", "parent_id": "ankang",
            "parent_url": str(city.client.make_url("")), "parent_token": parent_token, **FAST},
        units=(("water", "汉滨区水利局"),), **extra, **settings))
    return district, stack


@asynccontextmanager
async def city_and_district(tmp_path: Path, clock: FakeClock, city_settings: dict[str, Any] | None = None,
                            district_settings: dict[str, Any] | None = None) -> AsyncIterator[Platforms]:
    """安康 city platform with 汉滨 district as its child; 汉滨 has its own unit ``water``.
    ``city_settings``/``district_settings``: more settings (the city's ``federation`` ones are merged)."""
    more = dict(city_settings or {})
    async with running_gateway(tmp_path / "city", clock, policy="national", federation={
            "platform_id": "ankang", "level": "city", **FAST, **more.pop("federation", {})},
            units=(("water", "市水务局"), ("roads", "市住建局")), **more) as city:
        _, to_city = await city.app[TOKENS].create("peer", "hanbin")
        district, stack = await start_district(tmp_path, clock, city, to_city, **(district_settings or {}))
        async with stack:
            _, to_district = await district.app[TOKENS].create("peer", "ankang")
            secrets = tmp_path / "city" / "secrets" / "federation"
            secrets.mkdir(parents=True)
            (secrets / "hanbin").write_text(to_district)
            await city.ok("admin", "POST", "/federation/children", {
                "id": "hanbin", "name": "汉滨区12345平台", "level": "district",
                "url": str(district.client.make_url("")), "region": "汉滨区"}, status=201)
            yield Platforms(city, district, stack, to_city)
