"""Tables of the ticket core: units, tickets, assignments, pending requests, links and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db.base import Base, utcnow


class Unit(Base):
    """A handling unit (承办单位): a bureau, township, utility, or a child platform."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # stable slug, e.g. "city-water"
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketCounter(Base):
    """Per-day sequence for human ticket numbers (digits only: callers key them in by DTMF)."""

    __tablename__ = "ticket_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD, Asia/Shanghai
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(32), index=True)
    policy_id: Mapped[str] = mapped_column(String(32))

    # What and who
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    provincial: Mapped[bool] = mapped_column(Boolean, default=False)  # 省平台派发 (own limits in some packs)
    title: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[str] = mapped_column(Text)
    elements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # 时间/地点/人物/事件
    location: Mapped[str | None] = mapped_column(String(300))
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164
    caller_name: Mapped[str | None] = mapped_column(String(100))
    caller_address: Mapped[str | None] = mapped_column(String(300))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)  # caller asked for 保密
    disclose_caller: Mapped[bool] = mapped_column(Boolean, default=False)  # caller allows units to see who
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)  # e.g. a 110 incident id

    # Decisions
    rejection_reason: Mapped[str | None] = mapped_column(String(64))
    guidance: Mapped[str | None] = mapped_column(Text)
    lead_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    resolved_on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    satisfaction: Mapped[str | None] = mapped_column(String(32))  # level slug
    satisfaction_excluded: Mapped[str | None] = mapped_column(String(64))  # exclusion code, if any

    # The SLA clock (all aware UTC; computed with the policy pack's working-time calendar)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    accepted_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)
    clock_started_at: Mapped[datetime | None]
    sign_by: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    deemed_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    max_due_at: Mapped[datetime | None]
    first_feedback_by: Mapped[datetime | None]  # emergencies
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    supervise_level: Mapped[int] = mapped_column(Integer, default=0)  # 0 none, 1 催办, 2 督办
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Title, content and place as overlapping character pairs, for the text index (textindex.py).
    search_text: Mapped[str | None] = mapped_column(Text)

    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="ticket", order_by="Assignment.id", lazy="selectin"
    )

    # Optimistic locking: an UPDATE whose version no longer matches touches no row → StaleDataError.
    __mapper_args__ = {"version_id_col": version}
    # The workspace's worklists and search (tickets_0002).
    __table_args__ = (
        Index("ix_tickets_status_due_at", "status", "due_at"),
        Index("ix_tickets_status_sign_by", "status", "sign_by"),
        Index("ix_tickets_lead_unit_status", "lead_unit_id", "status"),
        Index("ix_tickets_channel_created_at", "channel", "created_at"),
        Index("ix_tickets_supervise_level", "supervise_level"),
        Index("ix_tickets_caller_number_created_at", "caller_number", "created_at"),
    )


class Assignment(Base):
    """One unit's part in a ticket: the lead (主办) or an assisting unit (协办), per dispatch round."""

    __tablename__ = "ticket_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "lead" | "assisting"
    round: Mapped[int] = mapped_column(Integer, default=1)  # 1 + number of reopen/re-dispatch rounds
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    dispatched_at: Mapped[datetime]
    sign_by: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    deemed_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_reason: Mapped[str | None] = mapped_column(String(32))  # returned / reopened / withdrawn

    ticket: Mapped[Ticket] = relationship(back_populates="assignments")


class TicketRequest(Base):
    """A unit's request awaiting the platform's review: 退单, 延期 or 终结办理."""

    __tablename__ = "ticket_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "return" | "extension" | "termination"
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    requested_at: Mapped[datetime]
    review_by: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    basis: Mapped[str | None] = mapped_column(Text)  # 依据 (returns) or evidence (terminations)
    suggestion: Mapped[str | None] = mapped_column(Text)  # 转送建议 for returns
    working_days: Mapped[int | None] = mapped_column(Integer)  # extensions
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    resume_status: Mapped[str | None] = mapped_column(String(32))  # state to go back to if rejected
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_ticket_requests_kind_status", "kind", "status"),)


class TicketLink(Base):
    """A call, recording, transcript, draft or external record attached to a ticket."""

    __tablename__ = "ticket_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # call | recording | transcript | draft | incident
    ref: Mapped[str] = mapped_column(String(300))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("ticket_id", "kind", "ref", name="uq_ticket_links_ref"),)


class TicketEvent(Base):
    """The audit trail: one row per transition, written in the same transaction as the change."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 … per ticket (= the ticket version after it)
    action: Mapped[str] = mapped_column(String(32), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("ticket_id", "seq", name="uq_ticket_events_seq"),)
