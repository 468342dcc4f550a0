"""Tables of quality inspection: one inspection per call, its findings, and the supervisors' verdicts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class QaInspection(Base):
    """The latest inspection of a call. Its absence (or an older transcript) is the durable trigger:
    the sweep inspects every finished call whose newest post-call transcript has not been inspected."""

    __tablename__ = "qa_inspections"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transcript_id: Mapped[int] = mapped_column(Integer)  # the post-call transcript inspected
    ticket_number: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    call_started_at: Mapped[datetime] = mapped_column(index=True)
    score: Mapped[float] = mapped_column(Float)
    findings: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[bool] = mapped_column(Boolean, index=True)
    rules_source: Mapped[str] = mapped_column(String(300))
    inspected_at: Mapped[datetime] = mapped_column(default=utcnow)


class QaFinding(Base):
    __tablename__ = "qa_findings"
    __table_args__ = (UniqueConstraint("call_id", "key", name="uq_qa_findings_call_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(80))  # check@start: the same finding on a re-run
    check: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    start_seconds: Mapped[float | None] = mapped_column(Float)  # where the evidence is in the recording
    end_seconds: Mapped[float | None] = mapped_column(Float)
    current: Mapped[bool] = mapped_column(Boolean, default=True)  # False: a re-run no longer finds it
    # Supervisor's verdict, kept for calibrating the rules: confirmed | dismissed.
    verdict: Mapped[str | None] = mapped_column(String(16), index=True)
    reviewer: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
