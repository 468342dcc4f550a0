"""Hot-issue warnings (热点预警) and the periodic reports generated on a schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base


class TicketMatter(Base):
    """What a ticket is about and where, as the hot-issue worker read it (one row per ticket, written by
    the worker, never on the ticket's write path). Its members' ``warning_id`` is a warning's ticket list."""

    __tablename__ = "ticket_matters"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]  # the ticket's: windows are judged by when citizens called
    matter_code: Mapped[str] = mapped_column(String(32))
    matter_name: Mapped[str] = mapped_column(String(64))
    place_level: Mapped[str | None] = mapped_column(String(16))  # building | community | road | township
    place_name: Mapped[str | None] = mapped_column(String(100))  # at that level: 阳光花园, 幸福路, 梅溪镇
    place_label: Mapped[str | None] = mapped_column(String(200))  # as an analyst writes it: 梅溪镇幸福路
    place_full: Mapped[str | None] = mapped_column(String(300))  # with the county: territories match on it
    clustered: Mapped[bool] = mapped_column(Boolean, default=True)  # False: counted in topics, no hot issue
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("hotspot_warnings.id"), index=True)

    __table_args__ = (Index("ix_ticket_matters_cluster", "matter_code", "place_name", "created_at"),
                      Index("ix_ticket_matters_created_at", "created_at"))


class HotspotWarning(Base):
    """One warning per cluster (a matter in a place within the window): later tickets raise its count only."""

    __tablename__ = "hotspot_warnings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))  # matter@level:place (before: category + place + words)
    matter_code: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(300))  # 阳光花园 供水
    category: Mapped[str] = mapped_column(String(32))
    place: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    tickets: Mapped[list[str]] = mapped_column(JSON, default=list)  # warnings made before ticket_matters only
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
