"""The consoles' one table: console events on their way to the other instances (relay.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base


class ConsoleEventRow(Base):
    __tablename__ = "console_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    txid: Mapped[int] = mapped_column(BigInteger(), index=True)  # the writing transaction (PostgreSQL xid8)
    origin: Mapped[str] = mapped_column(String(32))  # the instance that published it
    kind: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
    data: Mapped[str] = mapped_column(Text)  # JSON as the pages get it (datetimes in ISO 8601)
