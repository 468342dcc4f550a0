"""What a channel sent with a ticket: its own message id (intake is idempotent on it), the fields only
that channel has (openid, mailbox, board post id …) and where the reply goes back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base


class ChannelMessage(Base):
    __tablename__ = "channel_messages"
    __table_args__ = (UniqueConstraint("channel", "message_id", name="uq_channel_messages_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(128))
    ticket_number: Mapped[str] = mapped_column(String(20), index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reply_to: Mapped[str | None] = mapped_column(String(300))
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # 并案 candidates at intake
    received_at: Mapped[datetime]
