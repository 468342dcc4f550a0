"""Tables of the speech capability: transcripts (live and post-call) and the post-call job queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class Transcript(Base):
    __tablename__ = "speech_transcripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_key: Mapped[str] = mapped_column(String(64), index=True)  # the call's Asterisk linkedid
    ticket_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # "live" | "post_call"
    text: Mapped[str] = mapped_column(Text, default="")
    # [{"speaker": "citizen"|"agent", "start", "end", "text", "confidence", "words": [...]}], by start
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostCallJob(Base):
    """A call to transcribe from its recordings. Rows are the queue: nothing waits in memory."""

    __tablename__ = "speech_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_key: Mapped[str] = mapped_column(String(64), index=True)
    # "awaiting_recordings" (live text was missed; recordings come at hang-up) → "pending" → "done"|"failed"
    status: Mapped[str] = mapped_column(String(24), index=True)
    reason: Mapped[str] = mapped_column(String(32), default="")  # why: over_capacity, no_model, hangup …
    legs: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)  # speaker → WAV path
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    transcript_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
