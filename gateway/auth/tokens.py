"""Creating, checking and revoking API tokens. A token reads ``hl_<id>_<secret>``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.auth.models import ApiToken
from gateway.db.base import utcnow
from gateway.errors import InvalidInput, NotFound
from gateway.http.api import RequestActor

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
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

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
        async with self.sessions() as session, session.begin():
            row = await session.get(ApiToken, token_id)
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.secret_hash, _hash(secret)):
                return None
            now = utcnow()
            if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
                row.last_used_at = now  # coarse, so busy tokens don't write on every request
        return RequestActor(kind=row.kind, id=row.subject, scopes=frozenset(row.scopes), token_id=row.id,
                            territory=row.territory)

    async def revoke(self, token_id: str, at: datetime | None = None) -> ApiToken:
        async with self.sessions() as session, session.begin():
            row = await session.get(ApiToken, token_id)
            if row is None:
                raise NotFound(f"no token {token_id}", error_id="token-not-found")
            row.revoked_at = row.revoked_at or at or utcnow()
        return row

    async def list(self, include_revoked: bool = False) -> list[ApiToken]:
        async with self.sessions() as session:
            query = select(ApiToken).order_by(ApiToken.created_at)
            if not include_revoked:
                query = query.where(ApiToken.revoked_at.is_(None))
            return list(await session.scalars(query))
