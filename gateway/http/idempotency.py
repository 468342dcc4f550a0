"""``Idempotency-Key`` on every POST: a retried request returns the first result and changes nothing twice.

The key is scoped to the caller (token), so two units cannot collide. Requests without a verified token
(HMAC-signed channel and SMS callbacks) get no record: the middleware cannot know who sent them before
their handler checks the signature, and a record keyed by nobody would let anyone claim a key first and
have their 401 replayed to the real sender. Those endpoints deduplicate by their own message ids, after
the signature check.

Exactly once: the key's row, everything the handler writes (tickets, audit rows, webhook outbox rows) and
the stored response commit in ONE transaction (``Sessions.request_transaction``, gateway/db/unit_of_work.py).
A crash before that commit leaves nothing, so the retry runs the request; a crash after it leaves
everything, so the retry gets the stored response (``Idempotent-Replayed: true``), even if the first answer
never reached the client. A concurrent duplicate's insert of the same key waits on the first request's
uncommitted row (PostgreSQL's unique index; SQLite's single writer) and then replays its answer, so no
claim can ever be taken over while its effect may be committed. Domain events are published only after the
commit. A 5xx or an unexpected failure rolls the whole request back (the key stays free for a retry).
Reusing a key with a different body is refused with 422. Effects outside the database (an AMI action, an
SMS sent, a peer called) cannot join the transaction: a crash between them and the commit can repeat them.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import String, Text, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from gateway.appkeys import BUS
from gateway.db.base import Base, utcnow
from gateway.db.unit_of_work import Sessions
from gateway.errors import Conflict, InvalidInput, Unprocessable
from gateway.http.api import ACTOR_KEY, API_PREFIX
from gateway.http.errors import Handler, as_hotline_error, error_response

HEADER = "Idempotency-Key"
# Visible ASCII only: the key is stored and compared as text, and a header byte that is not UTF-8
# would otherwise reach the database as a lone surrogate (a 500).
KEY_PATTERN = re.compile(r"[!-~]{1,128}")
KEEP = timedelta(days=2)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # token id
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # method + path + body
    status: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


SESSIONS_FOR_IDEMPOTENCY = web.AppKey("idempotency_sessions", Sessions)


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or not request.path.startswith(API_PREFIX):
        return await handler(request)
    actor = request.get(ACTOR_KEY)
    if actor is None or not actor.token_id:
        # No verified caller (no token, a signed provider request): no record, so a forged or anonymous try
        # is never replayed to anyone, and a route that needs a token answers its 401.
        return await handler(request)
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidInput("Idempotency-Key must be 1 to 128 visible ASCII characters",
                           error_id="bad-idempotency-key")
    scope = actor.token_id
    body = await request.read()
    fingerprint = hashlib.sha256(b"%s %s\n" % (request.method.encode(), request.path_qs.encode()) + body).hexdigest()
    sessions = request.app[SESSIONS_FOR_IDEMPOTENCY]
    for _ in range(3):  # a first request that fails and rolls back frees its key: this one runs it then
        # Claim first, look second: a new key (nearly every request) costs no read of its own; a taken one
        # fails the insert and is replayed from the stored row.
        try:
            return await _run_once(request, handler, sessions, scope, key, fingerprint)
        except _AlreadyClaimed:
            replay = await _stored(sessions, scope, key, fingerprint)
            if replay is not None:
                return replay
    raise Conflict("the first request with this Idempotency-Key is still running",
                   error_id="request-in-progress")


class _AlreadyClaimed(Exception):
    """Another request committed (or is committing) this key first: replay its answer."""


async def _run_once(request: web.Request, handler: Handler, sessions: Sessions, scope: str, key: str,
                    fingerprint: str) -> web.StreamResponse:
    bus = request.app[BUS]
    with bus.holding() as events:
        try:
            async with sessions.request_transaction() as session:
                record = IdempotencyRecord(scope=scope, key=key, fingerprint=fingerprint, created_at=utcnow())
                session.add(record)
                try:  # inserted first: a concurrent duplicate waits here, not after running its own effect
                    await session.flush()
                except IntegrityError:
                    raise _AlreadyClaimed from None
                response = await _answer(request, handler)
                if isinstance(response, web.Response):
                    record.status = response.status
                    record.body = response.text if response.body is not None else ""
                    record.content_type = response.content_type
                else:  # a stream has no body to store: keep its effects, not the key
                    await session.delete(record)
                stored = await bus.store_held(session, events)  # outbox rows commit with the effect
        except _ServerError as failed:  # rolled back: nothing happened, the key is free
            return failed.response
    bus.deliver(events, stored)
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's response, with a 4xx error turned into its response (stored and replayed like any
    answer); a 5xx or a bug propagates so the transaction rolls back."""
    try:
        response = await handler(request)
    except Exception as exc:
        error = as_hotline_error(exc)
        if error is None or error.status >= 500:
            raise
        return error_response(error.status, error.error_id, error.message, **error.details)
    if response.status >= 500:
        raise _ServerError(response)
    return response


class _ServerError(Exception):
    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


async def _stored(sessions: Sessions, scope: str, key: str, fingerprint: str) -> web.Response | None:
    async with sessions() as session:
        row = await session.get(IdempotencyRecord, (scope, key))
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise Unprocessable("this Idempotency-Key was used for a different request",
                                error_id="idempotency-key-reused")
        if row.status is None:  # a claim left by an older gateway version: its outcome is unknown
            raise Conflict("the first request with this Idempotency-Key is still running",
                           error_id="request-in-progress")
        response = web.Response(status=row.status, text=row.body or "", content_type=row.content_type)
        response.headers["Idempotent-Replayed"] = "true"
        return response


async def forget_old_idempotency_records(sessions: Sessions) -> int:
    """Timer job (not per request: that was a commit of its own on every keyed POST)."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
