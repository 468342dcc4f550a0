"""Tables of the calls capability: calls (one row per Linkedid), agents (state of record), 110 handoffs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class CallRecord(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # Asterisk Linkedid
    kind: Mapped[str] = mapped_column(String(16), default="citizen")
    direction: Mapped[str] = mapped_column(String(8), default="inbound")
    state: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(128), default="")
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent_interface: Mapped[str | None] = mapped_column(String(128))
    incident_id: Mapped[str | None] = mapped_column(String(64), index=True)  # 110 incident
    ticket_id: Mapped[str | None] = mapped_column(String(64), index=True)  # no FK: tickets is separate
    recording: Mapped[str | None] = mapped_column(String(512))
    started_at: Mapped[datetime] = mapped_column(index=True)
    queued_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    hold_seconds: Mapped[int | None] = mapped_column(Integer)  # the wait in the queue (Asterisk's HoldTime)
    ring_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)  # holds excluded
    on_hold_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # console holds
    holds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_text: Mapped[str | None] = mapped_column(String(64))
    end_reason: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(String(16))  # answered | abandoned | transferred | unanswered
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgentRecord(Base):
    """The agent state of record: Asterisk is made to match it after every reconnect or restart."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. the extension "1001"
    name: Mapped[str] = mapped_column(String(128), default="")
    interface: Mapped[str] = mapped_column(String(128), unique=True)  # PJSIP/1001
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)  # skills = queues served
    state: Mapped[str] = mapped_column(String(16), default="logged_out")  # logged_out|available|paused|wrapup
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    state_since: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgentStateChange(Base):
    """Every recorded state an agent entered, kept so that staffed seats (logged in, not paused) can be
    counted per half hour after the fact (gateway/forecast). Written with the ``agents`` row it mirrors."""

    __tablename__ = "agent_state_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))  # as AgentRecord.state
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)


class PoliceHandoff(Base):
    """A 12345→110 handoff record (or a 110→12345 arrival), kept for delivery and audit."""

    __tablename__ = "police_handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(8))  # to_110 | from_110
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    ticket_id: Mapped[str | None] = mapped_column(String(64))
    incident_id: Mapped[str | None] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]  # set by the webhook delivery once 110 acknowledged it


class CallActionResult(Base):
    """The outcome of a call operation sent with an idempotency key (transfer, hold, originate …), kept in
    the database so that a retry after a gateway restart gets the first outcome instead of a second action."""

    __tablename__ = "call_action_results"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # operation:target:Idempotency-Key
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
