"""A real HTTP receiver on a loopback port, as a unit's system or the 110 platform would run one.

It checks every request's signature with the secret it shares with us, and answers with whatever status
the test sets (200 when up, 503 when "down"); ``close()`` takes the port away entirely.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)


@dataclass
class Received:
    delivery_id: str
    event: str
    body: dict[str, Any]
    signature_ok: bool
    answered: int
    headers: dict[str, str]


class Receiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.status = 200
        self.delay = 0.0  # seconds before answering
        self.received: list[Received] = []
        self.arrived = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self, port: int = 0) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        ok = verify_signature(self.secret, request.headers.get(TIMESTAMP_HEADER), raw,
                              request.headers.get(SIGNATURE_HEADER))
        self.arrived.set()  # a request is in flight (it may still be waiting out ``delay``)
        if self.delay:
            with contextlib.suppress(TimeoutError):  # closing the receiver ends the wait
                await asyncio.wait_for(self._closing.wait(), self.delay)
        status = self.status if ok else 401
        self.received.append(Received(request.headers.get(DELIVERY_HEADER, ""), request.headers.get(EVENT_HEADER, ""),
                                      json.loads(raw), ok, status, dict(request.headers)))
        return web.Response(status=status, text="ok" if status < 300 else "no")

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.answered < 300]
