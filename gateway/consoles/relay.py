"""Console events between gateway instances that share one PostgreSQL (ARCHITECTURE.md: several
instances, each driving its own Asterisk; the store is shared, and so is what the consoles show).

Every console event published on this instance's bus is written to ``console_events``: those of a request
that runs in one transaction (``Idempotency-Key``, gateway/http/idempotency.py) in that transaction itself,
an outbox (``store``, with one ``NOTIFY hotline_console`` delivered at its commit: no commit of their own);
the others (the PBX's, timers') by one writer task in batches, each batch one transaction ending in NOTIFY.
Every instance LISTENs on that channel and feeds the rows of the *other* instances into its hub, where they
get local sequence numbers like any local event: a supervisor's page sees the whole centre, an agent's page
the ticket a unit answered through another instance, whichever instance the page is connected to.

- Exactly once, in order: each row carries its transaction id, and the reader takes the rows of the
  transactions below the database's current snapshot xmin (all finished) that it has not taken yet.
  A transaction still writing can never add a row below that mark later, whatever ids it got, which a
  plain "id > last id" read cannot promise with several writers. A long-open transaction elsewhere in the
  database holds the mark back: that delays the relay, it loses nothing.
- A missed notification (the listening connection dropped) costs latency, not events: the reader also reads
  every ``relay_poll_interval`` seconds and listens again on a fresh connection.
- ``transcript.partial`` stays local: several a second per call, and only for the agent on the call, whose
  page is on the instance that drives the call.
- The bus is never made to wait: the writer's queue is bounded and drops (counted, logged) when the
  database cannot keep up.
- SQLite means one instance: no relay. Rows older than ``relay_keep_minutes`` are pruned by a timer job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, delete, insert, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.bus import DomainEvent
from gateway.config import ConsoleSettings
from gateway.consoles.audience import FORWARDED
from gateway.consoles.hub import EventHub
from gateway.consoles.models import ConsoleEventRow
from gateway.db.base import utcnow
from gateway.http.jsonio import dumps

log = logging.getLogger(__name__)

CHANNEL = "hotline_console"
LOCAL_ONLY = ("transcript.partial",)
QUEUE_SIZE = 10_000
BATCH = 500
Row = ConsoleEventRow
# PostgreSQL 13+: the writing transaction's id, and the oldest transaction still running (everything below
# it has finished). As bigint: xid8 has no arithmetic or comparison with parameters in asyncpg.
CURRENT_TXID = literal_column("pg_current_xact_id()::text::bigint", BigInteger())
SNAPSHOT_XMIN = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger())


class ConsoleRelay:
    def __init__(self, engine: AsyncEngine, hub: EventHub, settings: ConsoleSettings) -> None:
        self.engine = engine
        self.hub = hub
        self.settings = settings
        self.origin = secrets.token_hex(8)  # this process; a restarted instance is a new origin
        self.outbox: asyncio.Queue[DomainEvent] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.mark = 0  # transactions below this were read (or began before we started)
        self.written = self.received = self.dropped = 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ---- out: this instance's events ------------------------------------------------------------------

    @staticmethod
    def forwarded(event: DomainEvent) -> bool:
        return event.kind.startswith(FORWARDED) and not event.kind.startswith(LOCAL_ONLY)

    def _row(self, event: DomainEvent) -> dict[str, Any]:
        return {"origin": self.origin, "kind": event.kind, "at": event.at, "data": dumps(event.data)}

    async def store(self, session: Any, events: list[DomainEvent]) -> list[DomainEvent]:
        """Outbox (``EventBus.add_outbox``): a request's console events go into the request's own transaction,
        with one NOTIFY, delivered by PostgreSQL at that commit: no commit of their own."""
        chosen = [event for event in events if self.forwarded(event)]
        if chosen:
            await session.execute(insert(Row).values(txid=CURRENT_TXID), [self._row(e) for e in chosen])
            await session.execute(text(f"NOTIFY {CHANNEL}"))
            self.written += len(chosen)
        return chosen

    def on_event(self, event: DomainEvent) -> None:
        """Bus subscriber (synchronous, never blocks) for events published outside a request transaction
        (the PBX's, timers'): written by the writer task in batches, one commit and NOTIFY per batch."""
        if not self.forwarded(event):
            return
        try:
            self.outbox.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("console relay is behind: %d events not sent to other instances", self.dropped)

    async def _write(self) -> None:
        while True:
            batch = [await self.outbox.get()]
            while len(batch) < BATCH and not self.outbox.empty():
                batch.append(self.outbox.get_nowait())
            rows = [self._row(e) for e in batch]
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(insert(Row).values(txid=CURRENT_TXID), rows)
                    await conn.execute(text(f"NOTIFY {CHANNEL}"))
                self.written += len(rows)
            except Exception:  # the database is away: these events stay local; the pages still have them
                self.dropped += len(rows)
                log.warning("console relay could not write %d events", len(rows), exc_info=True)
                await asyncio.sleep(1)
            finally:
                for _ in batch:
                    self.outbox.task_done()

    # ---- in: the other instances' events ---------------------------------------------------------------

    async def _listen(self) -> None:
        """Hold a connection that LISTENs; on any failure, listen again on a fresh one."""
        while True:
            try:
                async with self.engine.connect() as conn:
                    raw = (await conn.get_raw_connection()).driver_connection
                    assert raw is not None
                    await raw.add_listener(CHANNEL, lambda *_args: self._wake.set())
                    self._wake.set()  # read what was written while we were not listening
                    await self._until_closed(raw)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("console relay lost its LISTEN connection; listening again", exc_info=True)
            await asyncio.sleep(1)

    @staticmethod
    async def _until_closed(raw: Any) -> None:
        closed = asyncio.Event()
        raw.add_termination_listener(lambda *_args: closed.set())
        while not closed.is_set() and not raw.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closed.wait(), 10)

    async def _read(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.relay_poll_interval)
            self._wake.clear()
            try:
                async with self.engine.connect() as conn:
                    await self.apply_new(conn)
            except Exception:
                log.warning("console relay could not read", exc_info=True)
                await asyncio.sleep(1)

    async def apply_new(self, conn: AsyncConnection) -> int:
        """Feed the rows other instances committed since we last looked into the hub; returns how many.
        Straight into the hub, not onto the bus: this instance's tickets, webhooks and metrics must not act
        on another instance's events a second time (and this relay must not send them back out)."""
        mark = int(await conn.scalar(select(SNAPSHOT_XMIN)) or 0)
        if mark <= self.mark:
            return 0
        rows = (
            await conn.execute(
                select(Row.origin, Row.kind, Row.at, Row.data)
                .where(Row.txid >= self.mark, Row.txid < mark, Row.origin != self.origin)
                .order_by(Row.txid, Row.id)
            )
        ).all()
        self.mark = mark
        for row in rows:
            self.hub.on_event(DomainEvent(row.kind, json.loads(row.data), row.at))
        self.received += len(rows)
        return len(rows)

    # ---- life ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        async with self.engine.connect() as conn:
            self.mark = int(await conn.scalar(select(SNAPSHOT_XMIN)) or 0)
        self._tasks = [
            asyncio.create_task(self._write(), name="console-relay-write"),
            asyncio.create_task(self._listen(), name="console-relay-listen"),
            asyncio.create_task(self._read(), name="console-relay-read"),
        ]

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):  # what is already queued still reaches the other instances
                await self.outbox.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def prune(self, now: datetime | None = None) -> int:
        """Timer job: drop rows every instance has long read."""
        cutoff = (now or utcnow()) - timedelta(minutes=self.settings.relay_keep_minutes)
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(Row).where(Row.at < cutoff))
        return int(result.rowcount or 0)
