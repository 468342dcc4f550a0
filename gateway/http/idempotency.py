"""``Idempotency-Key`` on every POST: a retried request returns the first result and changes nothing twice.

The key is scoped to the caller (token), so two units cannot collide. Requests without a verified token
(HMAC-signed channel and SMS callbacks) get no record: the middleware cannot know who sent them before
their handler checks the signature, and a record keyed by nobody would let anyone claim a key first and
have their 401 replayed to the real sender. Those endpoints deduplicate by their own message ids, after
the signature check. The first request claims the key
with a row before the handler runs (a concurrent duplicate gets 409 ``request-in-progress``); its
response (2xx/4xx) is stored and replayed with ``Idempotent-Replayed: true``. A 5xx releases the key so
the client may retry. Reusing a key with a different body is refused with 422.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import String, Text, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow
from gateway.errors import Conflict, InvalidInput, Unprocessable
from gateway.http.api import ACTOR_KEY, API_PREFIX
from gateway.http.errors import Handler, as_hotline_error, error_response

HEADER = "Idempotency-Key"
# Visible ASCII only: the key is stored and compared as text, and a header byte that is not UTF-8
# would otherwise reach the database as a lone surrogate (a 500).
KEY_PATTERN = re.compile(r"[!-~]{1,128}")
STALE_CLAIM = timedelta(minutes=2)  # a claim left by a crashed request may be taken over after this
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


SESSIONS_FOR_IDEMPOTENCY = web.AppKey("idempotency_sessions", async_sessionmaker[AsyncSession])


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

    replay = await _claim(sessions, scope, key, fingerprint)
    if replay is not None:
        return replay
    try:
        response = await handler(request)
    except Exception as exc:
        error = as_hotline_error(exc)
        if error is None or error.status >= 500:
            await _release(sessions, scope, key)
            raise
        response = error_response(error.status, error.error_id, error.message, **error.details)
        await _store(sessions, scope, key, response)
        return response
    if response.status >= 500 or not isinstance(response, web.Response):
        await _release(sessions, scope, key)
    else:
        await _store(sessions, scope, key, response)
    return response


async def _claim(sessions: async_sessionmaker[AsyncSession], scope: str, key: str,
                 fingerprint: str) -> web.Response | None:
    now = utcnow()
    try:
        async with sessions() as session, session.begin():
            await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - KEEP))
            session.add(IdempotencyRecord(scope=scope, key=key, fingerprint=fingerprint, created_at=now))
        return None
    except IntegrityError:
        pass
    async with sessions() as session, session.begin():
        row = await session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key).with_for_update())
        if row is None:  # released meanwhile
            session.add(IdempotencyRecord(scope=scope, key=key, fingerprint=fingerprint, created_at=now))
            return None
        if row.fingerprint != fingerprint:
            raise Unprocessable("this Idempotency-Key was used for a different request",
                                error_id="idempotency-key-reused")
        if row.status is None:
            if now - row.created_at < STALE_CLAIM:
                raise Conflict("the first request with this Idempotency-Key is still running",
                               error_id="request-in-progress")
            row.created_at = now  # take over a claim abandoned by a crash
            return None
        response = web.Response(status=row.status, text=row.body or "", content_type=row.content_type)
        response.headers["Idempotent-Replayed"] = "true"
        return response


async def _store(sessions: async_sessionmaker[AsyncSession], scope: str, key: str, response: web.Response) -> None:
    async with sessions() as session, session.begin():
        row = await session.get(IdempotencyRecord, (scope, key))
        if row is not None:
            row.status = response.status
            row.body = response.text if response.body is not None else ""
            row.content_type = response.content_type


async def _release(sessions: async_sessionmaker[AsyncSession], scope: str, key: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key))
