"""One row per stored file: where it is (a random name under the data dir) and what it is called."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class TicketAttachment(Base):
    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random; never from the upload
    name: Mapped[str] = mapped_column(String(200))  # the uploaded name, sanitised: for display only
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploader_kind: Mapped[str] = mapped_column(String(16))
    uploader_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
