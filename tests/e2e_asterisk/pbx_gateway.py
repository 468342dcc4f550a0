"""The gateway itself, on loopback, driving a real Asterisk: what the agent and supervisor consoles do.

``running_gateway(pbx, tmp_path)`` builds the app with ``create_app`` (AMI pointed at the test Asterisk
with the gateway user's secret, the calls settings matching asterisk_conf/, the IVR off unless ``ivr=`` turns
it on), serves it on a
loopback port, and hands out API tokens: ``admin`` (a supervisor) and one agent token per seat. Every
domain event the gateway publishes is kept, so tests can wait for "call.connected" and read its data.

``AmiLink`` is a TCP relay between the gateway and Asterisk's AMI port: cutting it takes the PBX link
down (as a failed network or a half-open socket would) while Asterisk and its calls go on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from pbx_harness import Pbx

from gateway.app import create_app
from gateway.appkeys import BUS
from gateway.auth.middleware import TOKENS
from gateway.bus import DomainEvent
from gateway.calls.service import CALLS, CallsService
from gateway.config import load_settings

AGENT_SEATS = ("1001", "1002")
TRANSFER_TARGETS = {"county-subcentre": "8001", "supervisors": "2000", "12315": "12315"}


@dataclass
class Gateway:
    client: TestClient[Any, Any]
    tokens: dict[str, str]
    events: list[DomainEvent] = field(default_factory=list)

    @property
    def app(self) -> Any:
        return self.client.server.app

    @property
    def svc(self) -> CallsService:
        return self.app[CALLS]

    async def request(
        self, method: str, path: str, body: Any = None, *, who: str = "admin", key: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        resp = await self.client.request(method, "/api/v1" + path, json=body, headers=headers)
        return resp.status, await resp.json()

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        status, data = await self.request(method, path, body, **kw)
        assert status in (200, 201, 202), (status, data)
        return data

    async def refused(
        self, status: int, method: str, path: str, body: Any = None, **kw: Any
    ) -> dict[str, Any]:
        got, data = await self.request(method, path, body, **kw)
        assert got == status, (got, data)
        return data

    def named(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [
            e.data
            for e in self.events
            if e.kind == kind and all(e.data.get(k) == v for k, v in match.items())
        ]

    async def wait_event(
        self,
        kind: str,
        within: float = 15,
        where: Callable[[dict[str, Any]], bool] | None = None,
        **match: Any,
    ) -> dict[str, Any]:
        """The first event (already published or still to come) of ``kind`` whose data match."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            for data in self.named(kind, **match):
                if where is None or where(data):
                    return data
            if asyncio.get_running_loop().time() > deadline:
                seen = sorted({e.kind for e in self.events})
                raise AssertionError(f"no {kind} {match} within {within} s; seen: {seen}")
            await asyncio.sleep(0.05)

    async def wait_until(self, check: Callable[[], Any], within: float = 15, what: str = "") -> Any:
        deadline = asyncio.get_running_loop().time() + within
        while not (result := check()):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not within {within} s: {what or check}")
            await asyncio.sleep(0.05)
        return result

    async def settle(self) -> None:
        """Let the recorder write what the pipeline has published so far."""
        await self.svc.pipeline.settle()
        await self.svc.recorder.drain()


@asynccontextmanager
async def running_gateway(
    pbx: Pbx, data_dir: Path, *, ami_port: int | None = None, **settings: Any
) -> AsyncIterator[Gateway]:
    ami = {
        "port": ami_port or pbx.ami_port,
        "secret": pbx.ami_secret,
        "action_timeout": 3.0,
        "ping_interval": 1.0,
        "reconnect_delay": 0.2,
        "reconnect_max_delay": 1.0,
    }
    calls = {
        "recording_dir": str(pbx.recordings / "hotline"),
        "wrapup_seconds": 0,
        "transfer_targets": TRANSFER_TARGETS,
    }
    app = create_app(
        load_settings(
            data_dir=data_dir,
            ami=ami | settings.pop("ami", {}),
            calls=calls | settings.pop("calls", {}),
            ivr={"enabled": False} | settings.pop("ivr", {}),
            webhooks={"poll_interval": 0.2},
            **settings,
        )
    )
    events: list[DomainEvent] = []
    app[BUS].subscribe("", events.append)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        store = app[TOKENS]
        tokens = {"admin": (await store.create("admin", "supervisor"))[1]}
        for seat in AGENT_SEATS:
            tokens[seat] = (await store.create("agent", seat))[1]
        gateway = Gateway(client, tokens, events)
        await gateway.svc.ami.wait_connected(10)
        await gateway.wait_event("pbx.resynced")
        yield gateway


class AmiLink:
    """A loopback TCP relay to Asterisk's AMI port that a test can cut and restore."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()
        self.up = True

    async def start(self) -> AmiLink:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._pipes |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._pipes.discard(writer)
            writer.close()

    def cut(self) -> None:
        """Drop every relayed connection and refuse new ones until ``restore``."""
        self.up = False
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()


async def reset_pbx(ami: Any, within: float = 10) -> None:
    """Leave the shared Asterisk as the next test expects it: no channels, no dynamic queue members.

    ``ami`` is the raw test client (pbx_ami.Ami): the clean-up must not depend on the code under test."""
    for row in await ami.send("QueueStatus"):
        if row.get("Event") == "QueueMember" and row.get("Membership") == "dynamic":
            await ami.send("QueueRemove", Queue=row["Queue"], Interface=row["Location"])
    deadline = asyncio.get_running_loop().time() + within
    while True:
        live = [
            m["Channel"] for m in await ami.send("CoreShowChannels") if m.get("Event") == "CoreShowChannel"
        ]
        if not live:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"channels left behind: {live}")
        for channel in live:
            await ami.send("Hangup", Channel=channel)
        await asyncio.sleep(0.2)
