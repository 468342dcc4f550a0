"""Hot-issue warnings (热点预警) and the periodic reports generated on a schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base


class HotspotWarning(Base):
    """One warning per cluster of similar tickets: later tickets of the cluster raise its count only."""

    __tablename__ = "hotspot_warnings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))  # category + place + matter words
    category: Mapped[str] = mapped_column(String(32))
    place: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    tickets: Mapped[list[str]] = mapped_column(JSON, default=list)
    count: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | acknowledged
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    created_at: Mapped[datetime]
    unit_notified_at: Mapped[datetime | None]


class StoredReport(Base):
    __tablename__ = "periodic_reports"
    __table_args__ = (UniqueConstraint("period", "start", "unit", name="uq_periodic_reports_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(16))  # week | month | quarter | year
    start: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, Asia/Shanghai
    unit: Mapped[str] = mapped_column(String(64), default="")  # "" = the whole platform
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    generated_at: Mapped[datetime]
