"""Tables of the voice entry: one row per IVR session, callback tasks, repeat-caller decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class IvrSession(Base):
    """What happened on one AGI session: who called, the path through the flow, what they said."""

    __tablename__ = "ivr_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    script: Mapped[str] = mapped_column(String(32))  # voice-entry | survey
    caller: Mapped[str | None] = mapped_column(String(32))  # E.164 when valid, else as Asterisk gave it
    linkedid: Mapped[str | None] = mapped_column(String(64), index=True)  # the call (AMI Linkedid)
    uniqueid: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime]
    path: Mapped[list[str]] = mapped_column(JSON, default=list)  # states visited, in order
    description_file: Mapped[str | None] = mapped_column(String(300))  # as Asterisk wrote it
    description_text: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32), index=True)  # queue | emergency | callback | hangup …
    queue: Mapped[str | None] = mapped_column(String(64))
    emergency: Mapped[str | None] = mapped_column(String(8))  # 110 / 119 / 120 / 122
    ticket_number: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_ivr_sessions_caller_started", "caller", "started_at"),)


class CallbackTask(Base):
    """A caller asked to be called back (overflow). The call-control layer dials it later."""

    __tablename__ = "ivr_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32))  # confirmed by DTMF: the caller id or keyed digits
    caller: Mapped[str | None] = mapped_column(String(32))  # who asked (may differ from number)
    linkedid: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))  # no-agents | long-wait | queue-full | store-unreachable
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|dialling|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class RepeatDecision(Base):
    """庆阳 第三十三条 / 汉滨 第二十八条: every decision of the repeat-caller rule, kept for review."""

    __tablename__ = "ivr_repeat_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    caller: Mapped[str] = mapped_column(String(32), index=True)
    linkedid: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
    calls_in_window: Mapped[int] = mapped_column(Integer)  # this call included
    tickets_in_window: Mapped[int] = mapped_column(Integer)  # new matters the caller brought
    window_minutes: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))  # limited | whitelisted | new-matter
    queue: Mapped[str | None] = mapped_column(String(64))  # where the call went
