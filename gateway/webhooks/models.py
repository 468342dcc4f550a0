"""Webhook subscribers (a unit, or a named peer such as "police-110") and the durable deliveries to them."""

from __future__ import annotations

import fnmatch
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ColumnElement, ForeignKey, Index, Integer, String, UniqueConstraint, exists, or_
from sqlalchemy.orm import Mapped, aliased, mapped_column

from gateway.db.base import Base, utcnow
from gateway.webhooks.outbox import OutboxColumns


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug; names the signing secret too
    # Whose events: a unit id ("water") or a named peer ("police-110", "parent-platform"). Not a foreign
    # key, since peers are not units.
    owner: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Event kinds delivered here, as shell patterns: ["ticket.dispatched", "ticket.warning.*"]; ["*"] = all.
    events: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["*"])
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def accepts(self, kind: str) -> bool:
        return any(fnmatch.fnmatchcase(kind, pattern) for pattern in self.events)


class WebhookDelivery(OutboxColumns, Base):
    """One event for one endpoint; ``id`` goes out as ``X-Hotline-Delivery`` (the receiver's dedup key)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_stream", "endpoint_id", "stream", "stream_seq"),
    )
    DONE_STATUS = "delivered"

    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event_kind: Mapped[str] = mapped_column(String(64), index=True)
    # The caller's id for the event (e.g. "ticket:12:event:7"): enqueuing it twice sends it once.
    event_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_status: Mapped[int | None] = mapped_column(Integer)  # HTTP status of the last attempt
    # Ordered delivery: the events of one stream (a ticket's number) go to an endpoint one after the other,
    # in ``stream_seq`` order (the ticket's event sequence number). None: no order to keep.
    stream: Mapped[str | None] = mapped_column(String(64))
    stream_seq: Mapped[int | None] = mapped_column(Integer)

    @classmethod
    def in_turn(cls) -> ColumnElement[bool]:
        """True for a delivery no earlier delivery of its (endpoint, stream) is still owed before: not yet
        delivered — pending, retrying, being sent by any instance, or dead (a dead event blocks its stream
        until it is replayed, rather than letting a later event overtake it)."""
        earlier = aliased(cls)
        return or_(cls.stream.is_(None), ~exists().where(
            earlier.endpoint_id == cls.endpoint_id, earlier.stream == cls.stream,
            earlier.stream_seq < cls.stream_seq, earlier.status != cls.DONE_STATUS))
