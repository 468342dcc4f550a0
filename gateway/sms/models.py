"""Outbound SMS (durable, retried), the development outbox, and replies received from citizens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow
from gateway.webhooks.outbox import OutboxColumns


class SmsMessage(OutboxColumns, Base):
    """One message to send; ``id`` goes to the provider as our message id (its dedup key)."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_due", "status", "next_attempt_at"),)
    DONE_STATUS = "sent"

    to_number: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    text: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32), index=True)  # e.g. "survey", "notice"
    ref: Mapped[str | None] = mapped_column(String(100), index=True)  # e.g. the survey id
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    last_status: Mapped[int | None] = mapped_column(Integer)  # HTTP status of the last attempt, if any


class SmsOutboxEntry(Base):
    """What the development provider "sent": read back through GET /api/v1/sms/outbox."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(32), unique=True)  # a resend is stored once
    to_number: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsInbound(Base):
    """A reply as the provider forwarded it; the survey module parses it and sets ``processed_at``."""

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(String(100), unique=True)  # a provider retry is stored once
    from_number: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    to_number: Mapped[str | None] = mapped_column(String(32))  # our number / sub-port, when given
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]  # as the provider says (else our arrival time)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(index=True)
