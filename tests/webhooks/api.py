"""Helpers for tests that drive the running gateway over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from gateway.http.api import ACTOR_KEY, RequestActor

ADMIN = {"X-Test-Actor": "admin:root"}


@web.middleware
async def actor_from_header(request: web.Request,
                            handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Stands in for the API-token middleware: ``X-Test-Actor: kind:id`` becomes ``request[ACTOR_KEY]``."""
    if "X-Test-Actor" in request.headers:
        kind, _, actor_id = request.headers["X-Test-Actor"].partition(":")
        request[ACTOR_KEY] = RequestActor(kind=kind, id=actor_id, scopes=frozenset({"*"}))
    return await handler(request)


async def eventually(check: Callable[[], Awaitable[Any]]) -> Any:
    """Poll ``check`` (an API read) until it answers something truthy: the worker runs in the background."""
    for _ in range(500):
        if found := await check():
            return found
        await asyncio.sleep(0.02)
    pytest.fail("the worker did not get there within 10 s")
