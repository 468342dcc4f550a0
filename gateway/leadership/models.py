"""The lease row: one per Asterisk (``scope``), held by one gateway instance for one term at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base


class LeaderLease(Base):
    __tablename__ = "leader_leases"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)  # which Asterisk ("ami:host:port")
    # The fencing token: +1 each time the lease changes hands or is taken again after it lapsed.
    term: Mapped[int] = mapped_column(BigInteger, default=0)
    holder: Mapped[str | None] = mapped_column(String(200))  # instance id
    url: Mapped[str | None] = mapped_column(String(500))  # the holder's internal base URL (forwarding)
    expires_at: Mapped[datetime]  # by the database's clock on PostgreSQL
    acquired_at: Mapped[datetime | None]
