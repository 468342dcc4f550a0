"""The benchmarks' load generator drives a server from another process, the way clients on other machines
would, and stops at the first error answer."""

from __future__ import annotations

import pytest
from aiohttp import web

from gateway.http.loadgen import Call, drive


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]


async def test_every_call_is_made_once_from_another_process() -> None:
    seen: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body["n"])
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/x", handler)
    runner, base = await _serve(app)
    try:
        latencies, elapsed = await drive([Call("POST", f"{base}/x", json={"n": i}) for i in range(50)], 4)
    finally:
        await runner.cleanup()
    assert sorted(seen) == list(range(50))
    assert len(latencies) == 50 and elapsed > 0


async def test_an_error_answer_stops_the_run() -> None:
    async def handler(_request: web.Request) -> web.Response:
        return web.json_response({"error_id": "nope"}, status=422)

    app = web.Application()
    app.router.add_get("/x", handler)
    runner, base = await _serve(app)
    try:
        with pytest.raises(RuntimeError, match="422"):
            await drive([Call("GET", f"{base}/x")], 1)
    finally:
        await runner.cleanup()
