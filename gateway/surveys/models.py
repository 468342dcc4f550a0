from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class Survey(Base):
    """One 回访 of one handling round of a ticket, by SMS or by voice (DTMF)."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    ticket_number: Mapped[str] = mapped_column(String(20), index=True)
    round: Mapped[int] = mapped_column(Integer)  # the ticket's reopen_count when surveyed
    channel: Mapped[str] = mapped_column(String(16))  # sms | voice | none (no number to reach)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # pending → answered | defaulted (no reply = satisfied) | expired (no reply, no default) | cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    clarification_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None]
    level: Mapped[str | None] = mapped_column(String(32))
    raw_reply: Mapped[str | None] = mapped_column(Text)
    unit_at_fault: Mapped[bool | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # closed | reopened

    __table_args__ = (UniqueConstraint("ticket_id", "round", name="uq_surveys_ticket_round"),)
