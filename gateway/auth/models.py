from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class ApiToken(Base):
    """Only a SHA-256 of the secret part is stored: a leaked database yields no usable token.
    (The secret is 32 random bytes, so a fast hash is enough; no password stretching is needed.)"""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public part, shown in lists
    secret_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # agent | unit | admin | peer
    subject: Mapped[str] = mapped_column(String(64), index=True)  # agent id, unit id, admin name, peer id
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    territory: Mapped[str | None] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
