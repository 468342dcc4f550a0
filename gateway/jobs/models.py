"""How far each durable job has got (``job_cursors``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db.base import Base


class JobCursor(Base):
    __tablename__ = "job_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), default=0)
    updated_at: Mapped[datetime]


async def lock_cursor(session: AsyncSession, name: str, now: datetime) -> JobCursor:
    """The job's cursor, locked for this transaction (PostgreSQL: FOR UPDATE, so two instances take turns;
    SQLite has one writer anyway). Created at 0 the first time."""
    cursor = await session.scalar(select(JobCursor).where(JobCursor.name == name).with_for_update())
    if cursor is None:
        # Two first runs at once (two instances, or the CLI draining beside the timer) both find no row:
        # insert-or-nothing, then lock whichever row won.
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(insert(JobCursor).values(name=name, position=0, updated_at=now)
                              .on_conflict_do_nothing(index_elements=["name"]))
        cursor = await session.scalar(select(JobCursor).where(JobCursor.name == name).with_for_update()
                                      .execution_options(populate_existing=True))
    assert cursor is not None
    return cursor
