"""Creating, checking and revoking API tokens. A token reads ``hl_<id>_<secret>``.

Verification is in memory (issue 17: no database round trip, no commit per request): a verified token's
hash maps to its principal for ``CACHE_TTL`` seconds. A revocation drops it at once on the instance that
revoked it, and on the others through ``NOTIFY hotline_tokens`` (PostgreSQL, sent in the revoking
transaction; ``listen_for_revocations``); the TTL is the safety net for a missed notification and for a
revocation made by another process on SQLite, well inside the README's 30 s promise. ``last_used_at`` is
kept in memory and written in one batch by the timer job ``token-last-used`` (``flush_last_used``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth.models import ApiToken
from gateway.db.base import utcnow
from gateway.errors import InvalidInput, NotFound
from gateway.http.api import RequestActor

log = logging.getLogger(__name__)

CACHE_TTL = 5.0  # seconds a verified token is trusted without looking at the database again
CACHE_MAX = 10_000  # distinct live tokens kept; past that the cache starts afresh (tokens are few)
CHANNEL = "hotline_tokens"  # PostgreSQL NOTIFY channel; the payload is the revoked token's id

KINDS = ("agent", "unit", "admin", "peer")
SCOPES = ("tickets", "reviews", "stats", "kb", "calls", "surveys", "webhooks", "sms", "federation", "ops", "*")
DEFAULT_SCOPES = {
    "agent": ["tickets", "kb", "calls", "stats"],
    "unit": ["tickets", "kb", "stats"],
    "admin": ["*"],
    "peer": ["federation"],
}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, ttl: float = CACHE_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions = sessions
        self.ttl, self.clock = ttl, clock
        self._cache: dict[str, tuple[float, RequestActor]] = {}  # sha256(token) -> (verified at, principal)
        self._used: dict[str, datetime] = {}  # token id -> last use not yet written

    async def create(self, kind: str, subject: str, scopes: Sequence[str] | None = None, *,
                     label: str = "", territory: str | None = None) -> tuple[ApiToken, str]:
        """Returns the row and the full token, which is shown once and never stored."""
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", error_id="bad-token-kind")
        chosen = list(scopes) if scopes else DEFAULT_SCOPES[kind]
        unknown = set(chosen) - set(SCOPES)
        if unknown:
            raise InvalidInput(f"unknown scope(s): {', '.join(sorted(unknown))}; known: {', '.join(SCOPES)}",
                               error_id="bad-scope")
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        row = ApiToken(id=token_id, secret_hash=_hash(secret), kind=kind, subject=subject, scopes=chosen,
                       territory=territory, label=label, created_at=utcnow())
        async with self.sessions() as session, session.begin():
            session.add(row)
        return row, f"hl_{token_id}_{secret}"

    async def verify(self, token: str) -> RequestActor | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "hl":
            return None
        _, token_id, secret = parts
        key = _hash(token)
        cached = self._cache.get(key)
        now = self.clock()
        if cached is not None and now - cached[0] < self.ttl:
            self._used[token_id] = utcnow()
            return cached[1]
        async with self.sessions() as session:  # a read: no transaction of its own to commit
            row = await session.get(ApiToken, token_id)
            if row is None or row.revoked_at is not None:
                self._cache.pop(key, None)
                return None
            if not hmac.compare_digest(row.secret_hash, _hash(secret)):
                return None
            actor = RequestActor(kind=row.kind, id=row.subject, scopes=frozenset(row.scopes), token_id=row.id,
                                 territory=row.territory)
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[key] = (now, actor)
        self._used[token_id] = utcnow()
        return actor

    def forget(self, token_id: str) -> None:
        """Stop trusting a cached token at once (it was revoked here or on another instance)."""
        for key in [k for k, (_, actor) in self._cache.items() if actor.token_id == token_id]:
            del self._cache[key]

    async def flush_last_used(self) -> int:
        """Timer job: write the tokens' last uses in one transaction (instead of one commit per request)."""
        used, self._used = self._used, {}
        if not used:
            return 0
        async with self.sessions() as session, session.begin():
            for token_id, at in used.items():
                await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))
        return len(used)

    async def revoke(self, token_id: str, at: datetime | None = None) -> ApiToken:
        async with self.sessions() as session, session.begin():
            row = await session.get(ApiToken, token_id)
            if row is None:
                raise NotFound(f"no token {token_id}", error_id="token-not-found")
            row.revoked_at = row.revoked_at or at or utcnow()
            if session.get_bind().dialect.name == "postgresql":  # delivered at commit, to every instance
                await session.execute(text("SELECT pg_notify(:channel, :id)"), {"channel": CHANNEL, "id": token_id})
        self.forget(token_id)
        return row

    async def listen_for_revocations(self, engine: Any) -> None:
        """PostgreSQL: forget tokens revoked by any instance (or the CLI) as soon as it commits. Runs until
        cancelled; a dropped connection is replaced (the TTL covers what was missed meanwhile)."""
        while True:
            try:
                async with engine.connect() as conn:
                    raw = (await conn.get_raw_connection()).driver_connection
                    await raw.add_listener(CHANNEL, lambda *args: self.forget(str(args[-1])))
                    await _until_closed(raw)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("token revocation listener lost its connection; listening again", exc_info=True)
            await asyncio.sleep(1)

    async def list(self, include_revoked: bool = False) -> list[ApiToken]:
        async with self.sessions() as session:
            query = select(ApiToken).order_by(ApiToken.created_at)
            if not include_revoked:
                query = query.where(ApiToken.revoked_at.is_(None))
            return list(await session.scalars(query))


async def _until_closed(raw: Any) -> None:
    closed = asyncio.Event()
    raw.add_termination_listener(lambda *_args: closed.set())
    while not closed.is_set() and not raw.is_closed():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closed.wait(), 10)
