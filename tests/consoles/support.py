"""A real gateway on a loopback port, driven by a fake AMI server, with tokens for an agent, an expert
seat, a supervisor and a unit; plus a websocket client speaking the console protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import BUS
from gateway.auth.middleware import TOKENS
from gateway.calls.service import CALLS, CallsService
from gateway.config import load_settings
from gateway.consoles.keys import HUB
from gateway.tickets.appkeys import TICKETS
from tests.fakes.fake_ami import FakeAmi

UNITS = [("water", "县自来水公司"), ("housing", "县住房和城乡建设局"), ("power", "国网县供电公司")]
SEATS = [("a1001", "PJSIP/1001", "张敏"), ("a1002", "PJSIP/1002", "李强")]


@dataclass
class Gateway:
    client: TestClient[Any, Any]
    fake: FakeAmi | None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        return self.client.server.app

    @property
    def calls(self) -> CallsService:
        return self.app[CALLS]

    @property
    def url(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")

    def publish(self, kind: str, **data: Any) -> None:
        self.app[BUS].publish(kind, **data)

    async def ok(self, who: str, method: str, path: str, json: Any = None, status: int = 200, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        resp = await self.client.request(method, "/api/v1" + path, json=json, headers=headers, **kw)
        body = await resp.json()
        assert resp.status == status, body
        return body

    async def settle(self) -> None:
        """Let the call pipeline consume what the fake AMI sent and write it to the database."""
        calls = self.calls
        for _ in range(3):
            await asyncio.sleep(0.05)
            for _ in range(200):
                if calls.ami.events.empty():
                    break
                await asyncio.sleep(0.01)
            await calls.pipeline.settle()
        await calls.recorder.drain()

    async def socket(self, who: str, **hello: Any) -> Page:
        ws = await self.client.ws_connect("/api/v1/ws")
        await ws.send_json({"type": "hello", "token": self.tokens[who], **hello})
        page = Page(ws)
        page.welcome = await page.next("welcome")
        return page


@dataclass
class Page:
    """One console page's websocket, as the browser's LiveSocket uses it."""

    ws: ClientWebSocketResponse
    welcome: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    async def next(self, type_: str = "event", within: float = 3.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                message = await self.ws.receive()
                if message.type != WSMsgType.TEXT:
                    raise AssertionError(f"socket ended: {message.type} {message.data} {message.extra}")
                body = message.json()
                if body["type"] == "event":
                    self.events.append(body)
                if body["type"] == type_:
                    return dict(body)

    async def drain(self, within: float = 0.3) -> list[dict[str, Any]]:
        """Every event that arrives within ``within`` seconds."""
        got = []
        try:
            while True:
                got.append(await self.next(within=within))
        except TimeoutError:
            return got

    @property
    def last_seq(self) -> int:
        return max([self.welcome["seq"], *(e["seq"] for e in self.events)])

    async def close(self) -> None:
        await self.ws.close()


@asynccontextmanager
async def running_gateway(tmp_path: Path, fake: FakeAmi | None, *, clock: Any = None, policy: str = "national",
                          seed: bool = True, **settings: Any) -> AsyncIterator[Gateway]:
    """A gateway with its tokens; ``seed`` adds the units and seats (False: a second instance on a database
    the first one seeded)."""
    ami: dict[str, Any] = {"enabled": False}
    if fake is not None:
        ami = {"port": fake.port, "secret": fake.secret, "action_timeout": 0.5, "ping_interval": 0.3,
               "reconnect_delay": 0.05, "reconnect_max_delay": 0.2}
    settings.setdefault("timer_interval", 3600)  # no clock-driven sweeps during a test
    config = load_settings(data_dir=tmp_path, policy=policy, ami=ami,
                           calls={"recording_dir": str(tmp_path / "rec"), "wrapup_seconds": 0}, **settings)
    app = create_app(config, clock=clock) if clock is not None else create_app(config)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        gateway = Gateway(client, fake)
        store = app[TOKENS]
        for name, kind, subject in [("agent", "agent", "a1001"), ("other_agent", "agent", "a1002"),
                                    ("expert", "agent", "e2001"), ("supervisor", "admin", "banzhang"),
                                    ("water", "unit", "water")]:
            _, gateway.tokens[name] = await store.create(kind, subject)
        for unit_id, name in UNITS if seed else ():
            await app[TICKETS].add_unit(unit_id, name)
        for agent_id, interface, name in SEATS if seed else ():
            await app[CALLS].agents.register(agent_id, name=name, interface=interface)
        app[HUB].learn_agents(await app[CALLS].agents.all())
        if fake is not None:
            await app[CALLS].ami.wait_connected(5)
            await gateway.settle()
        yield gateway


def transcript_events(gateway: Gateway, call_id: str, lines: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """transcript.final events as the speech service publishes them (gateway/speech/live.py)."""
    out, start = [], 0.0
    for line in lines:
        end = start + len(line) * 0.25
        out.append(("transcript.final", {"call_key": call_id, "text": line, "start": start, "end": end,
                                         "confidence": 0.9, "words": []}))
        start = end
    return out


def at(hour: int, minute: int = 0) -> datetime:
    from tests.tickets.support import SH

    return datetime(2026, 11, 16, hour, minute, tzinfo=SH)
