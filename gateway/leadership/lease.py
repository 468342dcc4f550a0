"""LeaseStore: claim, renew and release the leadership lease of one scope in the shared database.

Why a lease row and not a PostgreSQL advisory lock: an advisory lock lives in one database session, so a
pooled connection that drops (or a PgBouncer in transaction mode) loses it silently, and it carries no
number that grows with each new holder. The row gives exactly that number, ``term``, the fencing token
the leader writes into its AMI ActionIDs and checks before every action; its expiry is taken from the
database's own clock (``clock_timestamp()``), so instances need no synchronised clocks; and the same
code runs (and is unit-tested) on SQLite.

Safety argument: the leader sends a renewal at local time ``t0`` and the database stamps
``expires_at = db_now + lease`` with ``db_now`` later than ``t0``. The leader only acts until
``t0 + lease - margin`` (monotonic clock), which ends before ``expires_at`` passes in the database, and
only after that can another instance's claim succeed. So two leaders never act at the same time, as long
as the clocks' *rates* agree within the margin (they do; no clock *sync* is needed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.leadership.models import LeaderLease

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds (or last held) the lease, as this claim saw it."""

    instance: str | None
    term: int
    url: str | None
    expires_at: datetime
    live: bool  # not expired when read


@dataclass(frozen=True, slots=True)
class Claim:
    term: int | None  # ours when we hold the lease now, else None
    holder: Holder


class LeaseStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        lease_seconds: float,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock`` replaces the database's clock (tests); by default PostgreSQL's ``clock_timestamp()``
        and, on SQLite (one host, one instance), this host's."""
        self.sessions = sessions
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock

    async def claim(self, scope: str, instance: str, url: str | None, term: int | None) -> Claim:
        """Renew our lease (we hold ``term`` and it has not lapsed) or take a lapsed one with a new term;
        otherwise leave it to its live holder. One transaction; the row is locked while we decide."""
        async with self.sessions.begin() as session:
            now = await self._now(session)
            await self._ensure_row(session, scope)
            row = (await session.scalars(select(LeaderLease).where(LeaderLease.scope == scope).with_for_update())).one()
            live = row.expires_at > now
            if live and row.holder == instance and term is not None and row.term == term:
                row.expires_at, row.url = now + self.lease, url
            elif not live:
                row.term, row.holder, row.url = row.term + 1, instance, url
                row.expires_at, row.acquired_at = now + self.lease, now
            else:
                return Claim(None, Holder(row.holder, row.term, row.url, row.expires_at, live=True))
            return Claim(row.term, Holder(instance, row.term, url, row.expires_at, live=True))

    async def release(self, scope: str, instance: str, term: int) -> bool:
        """Give the lease up at once (clean shutdown): a standby's next claim takes it. Only our own term."""
        async with self.sessions.begin() as session:
            now = await self._now(session)
            row = (
                await session.scalars(select(LeaderLease).where(LeaderLease.scope == scope).with_for_update())
            ).one_or_none()
            if row is None or row.holder != instance or row.term != term:
                return False
            row.expires_at = min(row.expires_at, now)
            return True

    async def current(self, scope: str) -> Holder | None:
        async with self.sessions() as session:
            now = await self._now(session)
            row = await session.get(LeaderLease, scope)
            if row is None:
                return None
            return Holder(row.holder, row.term, row.url, row.expires_at, live=row.expires_at > now)

    async def _now(self, session: AsyncSession) -> datetime:
        if self.clock is not None:
            return self.clock()
        if _on_postgres(session):
            value = await session.scalar(text("SELECT clock_timestamp()"))
            assert isinstance(value, datetime)
            return value.astimezone(UTC)
        return datetime.now(UTC)

    async def _ensure_row(self, session: AsyncSession, scope: str) -> None:
        values = {"scope": scope, "term": 0, "holder": None, "url": None, "expires_at": EPOCH}
        insert = postgresql.insert if _on_postgres(session) else sqlite.insert
        await session.execute(insert(LeaderLease).values(**values).on_conflict_do_nothing(index_elements=["scope"]))


def _on_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"
