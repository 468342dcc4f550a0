"""A fake carrier / cloud SMS gateway on a loopback port: records each request, answers as told."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class CarrierRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class FakeCarrier:
    def __init__(self) -> None:
        self.requests: list[CarrierRequest] = []
        self.status = 200
        self.answer: Any = {"code": "OK", "msgid": "C-1"}
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str = "/sms/send") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> FakeCarrier:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(CarrierRequest(request.method, request.path, dict(request.query),
                                            dict(request.headers), await request.read()))
        return web.json_response(self.answer, status=self.status)
