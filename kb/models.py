"""Knowledge-base tables.

``kb_entries`` holds the published content of each entry (one row per entry, kept after expiry or
retirement for audit). Every content change is a row of ``kb_changes`` (a unit's submission, reviewed by
the platform) and, once approved, a numbered snapshot in ``kb_entry_versions``. ``kb_search_terms`` is
the search index: one row per (segmented term, entry), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base, utcnow


class KbEntry(Base):
    __tablename__ = "kb_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    basis_document: Mapped[str] = mapped_column(Text)
    basis_article: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(64), index=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    effective_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    # "published" (shown while in force) or "retired" (withdrawn by review; kept for audit).
    status: Mapped[str] = mapped_column(String(16), default="published")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The write's number in ``kb_revision`` order: search indexes load what is newer than they hold.
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", index=True)

    __table_args__ = (Index("ix_kb_entries_status_expires", "status", "expires_at"),)


class KbRevision(Base):
    """One row counting writes to entries. A writing transaction takes the next value (and holds the
    row until it commits), so revisions become visible in order and an index that has seen revision
    R has seen every write up to R."""

    __tablename__ = "kb_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class KbEntryVersion(Base):
    __tablename__ = "kb_entry_versions"

    entry_id: Mapped[str] = mapped_column(ForeignKey("kb_entries.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    changed_by: Mapped[str] = mapped_column(String(128))
    change_id: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbChange(Base):
    """A submitted creation, update or retirement, waiting for (or past) the platform's review."""

    __tablename__ = "kb_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # create | update | retire
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    base_version: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    question_id: Mapped[int | None] = mapped_column(Integer)
    # pending | approved | rejected
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    submitted_by: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str] = mapped_column(Text, default="")


class KbSearchTerm(Base):
    __tablename__ = "kb_search_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("kb_entries.id", ondelete="CASCADE"), primary_key=True, index=True)
    weight: Mapped[float] = mapped_column(Float)


# Search reads (term → weight, entry) from this index alone, best weight first: scoring needs no table
# lookups, and a one-term query stops after the entries it needs (kb/search.py).
Index("ix_kb_search_terms_ranked", KbSearchTerm.term, KbSearchTerm.weight.desc(), KbSearchTerm.entry_id)


class KbQuestion(Base):
    """知识提问: the platform asks a unit a question it must answer within the pack's limit."""

    __tablename__ = "kb_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[str] = mapped_column(String(128))
    asked_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | answered
    answer_change_id: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None]


class KbReminder(Base):
    """A reminder to a unit; (kind, subject, level) is unique so a periodic scan never repeats one."""

    __tablename__ = "kb_reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # entry-expiring | entry-stale | question-overdue
    subject_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(32))  # e.g. "yellow", "red", or the expiry/version it is about
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "subject_id", "level", name="uq_kb_reminders_subject"),)
