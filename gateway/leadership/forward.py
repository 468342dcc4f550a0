"""Call control on a standby: forwarded to the leader, with the caller's own token and Idempotency-Key.

Why forward rather than refuse: a load balancer (or an agent's bookmarked URL) reaches either instance,
and the consoles then work on both without knowing which leads. The forward happens *before* the
idempotency middleware, so the standby neither claims the key nor stores an answer: the leader alone
records the request (one transaction with its effect), and a resend to either instance replays it.
When no live leader is known (the failover gap, a few seconds) the answer is 503 ``not-leader`` with
``Retry-After``: the consoles resend with the same Idempotency-Key until the new leader answers, so an
action requested during a failover runs exactly once. A forward that fails after it was sent (the leader
died mid-request) is also a 503 ``not-leader``; the resend with the same key then gets the stored answer
if the leader committed it (effects outside the database, an AMI action, see the README's caveat).
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from gateway.http.errors import Handler
from gateway.leadership.errors import RETRY_AFTER, NotLeader
from gateway.leadership.keys import LEADERSHIP

log = logging.getLogger(__name__)

FORWARDED_BY = "X-Hotline-Forwarded-By"
CLIENT = web.AppKey("leadership_client", aiohttp.ClientSession)
# What only the leader can answer: AMI actions and the live call model (calls, seats, the wallboard).
LEADER_PREFIXES = (
    "/api/v1/calls",
    "/api/v1/agents",
    "/api/v1/console/wallboard",
    "/api/v1/console/calls/",
    "/api/v1/console/systems",
)
PASSED_REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Accept", "Accept-Language")
PASSED_RESPONSE_HEADERS = ("Content-Type", "Retry-After", "Idempotent-Replayed", "Allow")


def leader_only(path: str) -> bool:
    return any(path == p or path.startswith(p if p.endswith("/") else p + "/") for p in LEADER_PREFIXES)


@web.middleware
async def leader_forwarding(request: web.Request, handler: Handler) -> web.StreamResponse:
    leadership = request.app.get(LEADERSHIP)
    if leadership is None or not leader_only(request.path):
        return await handler(request)
    if leadership.is_leader:
        if not leadership.in_control:  # elected a moment ago: the calls are known once the resync is done
            raise NotLeader("this instance has just taken over and is resyncing with Asterisk", retry_after=RETRY_AFTER)
        return await handler(request)
    if request.headers.get(FORWARDED_BY):
        # Two instances each believing the other leads: refuse rather than bounce the request around.
        raise NotLeader(leadership.check() or "not the leader", retry_after=RETRY_AFTER)
    url = leadership.leader_url()
    if url is None:
        raise NotLeader(
            f"{leadership.check()}; no leader is reachable yet (a failover takes a few seconds)",
            retry_after=RETRY_AFTER,
        )
    headers = {name: request.headers[name] for name in PASSED_REQUEST_HEADERS if name in request.headers}
    headers[FORWARDED_BY] = leadership.instance
    body = await request.read()
    try:
        async with request.app[CLIENT].request(
            request.method, url.rstrip("/") + request.path_qs, headers=headers, data=body or None, allow_redirects=False
        ) as answer:
            payload = await answer.read()
            response = web.Response(status=answer.status, body=payload)
            for name in PASSED_RESPONSE_HEADERS:
                if name in answer.headers:
                    response.headers[name] = answer.headers[name]
            return response
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning(
            "forwarding %s %s to the leader at %s failed: %s", request.method, request.path, url, exc.__class__.__name__
        )
        raise NotLeader(
            "the leader did not answer (it may be failing over); resend with the same Idempotency-Key",
            retry_after=RETRY_AFTER,
        ) from None
