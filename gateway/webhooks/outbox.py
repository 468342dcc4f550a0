"""A durable outbox: rows written in the caller's transaction, sent later by a worker, retried, dead-lettered.

Webhook deliveries and outbound SMS both use it. A row is ``pending`` when written, ``retrying`` after a
failed attempt, then done (``delivered`` / ``sent``) or ``dead`` once the attempts are used up or the
failure is permanent. A dead row stays visible and can be replayed (→ ``pending``, attempts reset).

Several workers (one per gateway instance) share the table safely: a worker *claims* due rows by
setting a lease (``locked_until`` + ``locked_by``) in one short UPDATE — on PostgreSQL the candidate
rows are picked ``FOR UPDATE SKIP LOCKED`` so workers never wait on each other; SQLite has a single
writer, so the UPDATE is atomic by itself. The send happens outside any transaction. A worker that dies
mid-send leaves a lease that expires, and another worker sends again: delivery is at-least-once, which
is why receivers get a stable delivery id to deduplicate on.

A table may order its rows (``in_turn``): a row is claimed only once every earlier row of its stream is
done, so at most one row per stream is in flight across all workers — the check is part of the claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import tenacity
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Integer, String, Text, and_, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from gateway.config import RetrySettings
from gateway.db.base import utcnow

log = logging.getLogger(__name__)

PENDING = "pending"
RETRYING = "retrying"
DEAD = "dead"
WAITING = (PENDING, RETRYING)

Clock = Callable[[], datetime]


class OutboxColumns:
    """Columns every outbox table has. The table sets ``DONE_STATUS`` ("delivered", "sent")."""

    DONE_STATUS: ClassVar[str]

    @classmethod
    def in_turn(cls) -> Any:
        """A condition a due row must also meet to be claimed (ordered outboxes: its turn has come)."""
        return true()

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex, also the receiver's dedup key
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]  # when it was delivered / sent
    replay_count: Mapped[int] = mapped_column(Integer, default=0)
    last_replayed_at: Mapped[datetime | None]
    last_replayed_by: Mapped[str | None] = mapped_column(String(64))


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to. ``updates`` are extra columns to store (e.g. last HTTP status)."""

    ok: bool
    error: str | None = None
    permanent: bool = False  # no point retrying: dead at once
    updates: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def done(cls, **updates: Any) -> Outcome:
        return cls(True, updates=updates)

    @classmethod
    def failed(cls, error: str, *, permanent: bool = False, **updates: Any) -> Outcome:
        return cls(False, error=error[:2000], permanent=permanent, updates=updates)


class RetryPolicy:
    """How long to wait after the n-th failed attempt: tenacity's exponential backoff with jitter."""

    def __init__(self, settings: RetrySettings) -> None:
        self.max_attempts = settings.max_attempts
        # initial, 2×initial, 4×initial … up to max_delay, plus up to ``jitter`` seconds so that the
        # deliveries failed by one outage do not all come back in the same second.
        self._wait = (tenacity.wait_exponential(multiplier=settings.initial_delay, max=settings.max_delay)
                      + tenacity.wait_random(0, settings.jitter))

    def delay(self, failed_attempts: int) -> timedelta:
        # tenacity's wait strategies only read attempt_number from the call state.
        state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = failed_attempts
        return timedelta(seconds=self._wait(state))


class OutboxMetrics:
    """Attempt outcomes and backlog of one outbox, registered on the registry the app exposes."""

    def __init__(self, registry: CollectorRegistry, prefix: str, subject: str) -> None:
        self.attempts = Counter(f"{prefix}_attempts", f"{subject} attempts by outcome (done, failed, dead)",
                                ["outcome"], registry=registry)
        self.backlog = Gauge(f"{prefix}_backlog", f"{subject} waiting to be sent (pending or retrying)",
                             registry=registry)


Deliver = Callable[[Any], Awaitable[Outcome]]


class OutboxWorker:
    """Sends the due rows of one outbox table with ``deliver`` and records each outcome.

    ``run_once`` does one claim-send-record round (tests drive it directly with a fake clock);
    ``start``/``stop`` run it in a loop that sleeps ``poll_interval`` when idle or until ``nudge``.
    """

    def __init__(
        self,
        name: str,
        model: type[OutboxColumns],
        sessions: async_sessionmaker[AsyncSession],
        deliver: Deliver,
        policy: RetryPolicy,
        *,
        clock: Clock = utcnow,
        batch_size: int = 20,
        lease: float = 60.0,
        poll_interval: float = 2.0,
        metrics: OutboxMetrics | None = None,
    ) -> None:
        self.name = name
        self.model: Any = model  # a mapped class; Any keeps the column expressions readable
        self.sessions = sessions
        self.deliver = deliver
        self.policy = policy
        self.clock = clock
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease)
        self.poll_interval = poll_interval
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def nudge(self) -> None:
        """New rows were committed: look now rather than at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim the due rows, attempt each, record the outcomes. Returns how many were attempted."""
        token = new_id()
        rows = await self._claim(token)
        if rows:
            await asyncio.gather(*(self._attempt(row, token) for row in rows))
        if self.metrics is not None:
            await self._measure_backlog()
        return len(rows)

    async def run(self) -> None:
        while not self._stopping:
            try:
                busy = await self.run_once()
            except Exception:  # the database may be briefly unreachable; the worker must outlive it
                log.exception("%s outbox: round failed; retrying after %.1fs", self.name, self.poll_interval)
                busy = 0
            if busy or self._stopping:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name=f"{self.name}-outbox")

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the round in flight (so its outcomes are recorded), then stop; cancel after ``grace``.

        A cancelled round leaves leases behind: those rows go out again once the lease expires.
        """
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    # -- the three steps ------------------------------------------------------------------------

    def _due(self, now: datetime) -> Any:
        m = self.model
        return and_(m.status.in_(WAITING), m.next_attempt_at <= now,
                    or_(m.locked_until.is_(None), m.locked_until < now), m.in_turn())

    async def _claim(self, token: str) -> list[Any]:
        m = self.model
        now = self.clock()
        async with self.sessions() as session, session.begin():
            candidates = (select(m.id).where(self._due(now))
                          .order_by(m.next_attempt_at, m.id).limit(self.batch_size))
            if session.get_bind().dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            # The due condition is repeated outside the sub-select: PostgreSQL re-checks it on a row
            # another worker claimed meanwhile, so such a row drops out instead of being claimed twice.
            claimed = await session.scalars(
                update(m).where(m.id.in_(candidates), self._due(now))
                .values(locked_until=now + self.lease, locked_by=token)
                .returning(m.id)
                .execution_options(synchronize_session=False)
            )
            ids = list(claimed)
            if not ids:
                return []
            rows = await session.scalars(select(m).where(m.id.in_(ids), m.locked_by == token))
            return sorted(rows, key=lambda r: (r.next_attempt_at, r.id))

    async def _attempt(self, row: Any, token: str) -> None:
        try:
            outcome = await self.deliver(row)
        except Exception as exc:  # a bug in deliver must not kill the worker: record it on the row, loudly
            log.exception("%s outbox: delivering %s raised", self.name, row.id)
            outcome = Outcome.failed(f"{exc.__class__.__name__}: {exc}")
        await self._record(row, token, outcome)

    async def _record(self, row: Any, token: str, outcome: Outcome) -> None:
        m = self.model
        now = self.clock()
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "locked_until": None, "locked_by": None,
                                  **outcome.updates}
        if outcome.ok:
            values.update(status=m.DONE_STATUS, completed_at=now)
            label = "done"
        else:
            values["last_error"] = outcome.error
            if outcome.permanent or attempts >= self.policy.max_attempts:
                values["status"] = DEAD
                label = "dead"
                log.warning("%s outbox: %s is dead after %d attempt(s): %s", self.name, row.id, attempts,
                            outcome.error)
            else:
                values.update(status=RETRYING, next_attempt_at=now + self.policy.delay(attempts))
                label = "failed"
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(m).where(m.id == row.id, m.locked_by == token).values(**values)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            log.warning("%s outbox: lease on %s expired before its outcome was recorded", self.name, row.id)
        if self.metrics is not None:
            self.metrics.attempts.labels(label).inc()

    async def _measure_backlog(self) -> None:
        assert self.metrics is not None
        async with self.sessions() as session:
            waiting = await session.scalar(select(func.count()).select_from(self.model)
                                           .where(self.model.status.in_(WAITING)))
        self.metrics.backlog.set(waiting or 0)


async def replay(
    session: AsyncSession, model: type[OutboxColumns], ids: Iterable[str], *, actor: str, now: datetime
) -> list[str]:
    """Put dead rows back in the queue (attempts reset, replay recorded). Returns the ids replayed."""
    m: Any = model
    wanted = list(ids)
    if not wanted:
        return []
    result = await session.scalars(
        update(m).where(m.id.in_(wanted), m.status == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=now, locked_until=None, locked_by=None,
                replay_count=m.replay_count + 1, last_replayed_at=now, last_replayed_by=actor)
        .returning(m.id)
        .execution_options(synchronize_session=False)
    )
    return list(result)
