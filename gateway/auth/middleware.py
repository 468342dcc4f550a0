"""Bearer-token authentication for /api/, with failed attempts rate-limited per client address (a valid
token is always accepted)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

from gateway.auth.tokens import TokenStore
from gateway.errors import HotlineError, Unauthenticated
from gateway.http.api import ACTOR_KEY, API_PREFIX
from gateway.http.errors import Handler

TOKENS = web.AppKey("tokens", TokenStore)


class TooManyFailures(HotlineError):
    status = 429
    default_error_id = "too-many-failed-authentications"


class FailedAuthLimiter:
    """After ``limit`` failures within ``window`` seconds an address is refused until its oldest
    failure ages out. Per instance, in memory: enough to stop guessing, cheap, forgets on restart."""

    def __init__(self, limit: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        now = self.clock()
        q = self._failures.setdefault(address, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        if not q:
            del self._failures[address]
        return q

    def blocked_for(self, address: str) -> float:
        q = self._recent(address)
        return self.window - (self.clock() - q[0]) if len(q) >= self.limit else 0.0

    def failed(self, address: str) -> None:
        self._recent(address)
        self._failures.setdefault(address, deque()).append(self.clock())


LIMITER = web.AppKey("auth_limiter", FailedAuthLimiter)

# Outside /api/v1 but not for everyone: the probe's details and the metrics describe the installation
# (PBX address, error texts, request volumes). /healthz stays public.
OPERATOR_PATHS = frozenset({"/readyz", "/metrics"})
OPERATOR_SCOPE = "ops"


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[ACTOR_KEY] = None
    if not request.path.startswith(API_PREFIX) and request.path not in OPERATOR_PATHS:
        return await handler(request)
    header = request.headers.get("Authorization")
    if header is None:
        return await handler(request)  # public endpoints answer; the others say 401 themselves
    scheme, _, token = header.partition(" ")
    actor = await request.app[TOKENS].verify(token.strip()) if scheme.lower() == "bearer" else None
    if actor is None:
        # Only failures count and only failures are refused: a whole centre behind one NAT address must
        # not be locked out by one mistyped or stale token (tokens are 256-bit: guessing is not the risk).
        limiter = request.app[LIMITER]
        address = request.remote or "unknown"
        wait = limiter.blocked_for(address)
        if wait > 0:
            raise TooManyFailures(f"too many failed authentications from {address}; try again in {wait:.0f} s",
                                  retry_after=round(wait))
        limiter.failed(address)
        raise Unauthenticated("the API token is invalid or revoked", error_id="invalid-token")
    request[ACTOR_KEY] = actor
    return await handler(request)
