"""Federation tables: child platforms, the ordered push outbox, receipts, links and mirrored data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow
from gateway.webhooks.outbox import OutboxColumns


class ChildPlatform(Base):
    """A lower-level platform; it is also a unit here (``id`` = its unit id = its platform id), so the
    ordinary dispatch sends tickets to it."""

    __tablename__ = "federation_children"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2000))
    region: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushRow(OutboxColumns, Base):
    """One message for one peer (the parent, or a child): a ticket event or a report.

    Ticket events carry ``prev_seq``, the seq of the previous event of that ticket sent to the same peer,
    so the receiver can refuse a gap and the stream stays ordered per ticket whatever the retries do.
    """

    __tablename__ = "federation_outbox"
    __table_args__ = (
        UniqueConstraint("peer", "ticket_number", "seq", name="uq_federation_outbox_event"),
        Index("ix_federation_outbox_due", "status", "next_attempt_at"),
    )
    DONE_STATUS = "delivered"

    peer: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "event" | "report" | "call_transfer"
    ticket_number: Mapped[str | None] = mapped_column(String(20))
    seq: Mapped[int | None] = mapped_column(Integer)
    prev_seq: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_status: Mapped[int | None] = mapped_column(Integer)


class Receipt(Base):
    """An event received from a peer, once: (peer, ticket, seq) is unique. Applied after receipt, in
    order, by ``Receiver.apply_pending`` (so a crash between the two loses nothing)."""

    __tablename__ = "federation_receipts"
    __table_args__ = (UniqueConstraint("peer", "ticket_number", "seq", name="uq_federation_receipts_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    peer: Mapped[str] = mapped_column(String(64), index=True)
    ticket_number: Mapped[str] = mapped_column(String(20))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    # received | applying (claimed by one instance; applied_at = the claim's time) | applied | failed
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    applied_at: Mapped[datetime | None]


class Stream(Base):
    """The last seq received per (peer, ticket): the next event must name it as its ``prev_seq``."""

    __tablename__ = "federation_streams"

    peer: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class Link(Base):
    """A ticket the parent dispatched to us (the child): our local ticket and the parent's deadlines."""

    __tablename__ = "federation_links"
    __table_args__ = (UniqueConstraint("peer", "remote_number", "remote_seq", name="uq_federation_links_dispatch"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    peer: Mapped[str] = mapped_column(String(64))
    remote_number: Mapped[str] = mapped_column(String(20), index=True)
    remote_seq: Mapped[int] = mapped_column(Integer)  # the parent's dispatch event
    local_number: Mapped[str] = mapped_column(String(20), index=True)
    sign_by: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    max_due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MirroredTicket(Base):
    """A child's ticket as its latest pushed event described it (the parent's copy of the child's data)."""

    __tablename__ = "federation_mirror"

    peer: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class PeerReport(Base):
    """A periodic report a child pushed up."""

    __tablename__ = "federation_reports"
    __table_args__ = (UniqueConstraint("peer", "period", "start", "unit", name="uq_federation_reports_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    peer: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(16))
    start: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, Asia/Shanghai
    unit: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]


class HandedOverCall(Base):
    """A call a peer platform one-key-transferred to us, with its ticket: stored once per (peer, call),
    then applied (a local ticket made from the sender's) and matched to the arriving call."""

    __tablename__ = "federation_call_transfers"
    __table_args__ = (UniqueConstraint("peer", "remote_call_id", name="uq_federation_call_transfers_call"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    peer: Mapped[str] = mapped_column(String(64))
    remote_call_id: Mapped[str] = mapped_column(String(64), index=True)
    remote_number: Mapped[str] = mapped_column(String(20))  # the sender's ticket number
    caller_number: Mapped[str | None] = mapped_column(String(40), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)  # received|applying|applied|failed
    claimed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    local_number: Mapped[str | None] = mapped_column(String(20))  # the ticket made here
    call_id: Mapped[str | None] = mapped_column(String(64))  # our call it was matched to
    matched_at: Mapped[datetime | None]
