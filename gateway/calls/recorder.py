"""Writes call summaries to the ``calls`` table from its own task, one transaction per batch.

The pipeline waits for the batch it saved (``drain``) before announcing it, so what was announced is
stored; a failed write is kept and retried (merged with newer summaries), never dropped: a call that ended
during a database outage is stored once the database is back."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.calls.models import CallRecord
from gateway.http.errors import database_unavailable

log = logging.getLogger(__name__)

COLUMNS = (
    "call_kind",
    "direction",
    "state",
    "queue",
    "caller",
    "caller_name",
    "agent_id",
    "agent_interface",
    "incident_id",
    "ticket_id",
    "recording",
    "started_at",
    "queued_at",
    "answered_at",
    "ended_at",
    "hold_seconds",
    "ring_seconds",
    "talk_seconds",
    "on_hold_seconds",
    "holds",
    "abandoned",
    "hangup_cause",
    "hangup_text",
    "end_reason",
    "outcome",
    "transfers",
)


def _json_safe(transfers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in t.items()} for t in transfers]


RETRY_FIRST, RETRY_MAX = 0.2, 5.0  # seconds between attempts while the database fails (doubling)


class CallRecorder:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.written = 0
        self.healthy = True  # False while writes fail: the pipeline then announces without waiting

    def save(self, summary: dict[str, Any]) -> None:
        self.queue.put_nowait(summary)

    async def drain(self) -> None:
        """Wait until everything saved so far is in the database (pipeline, tests, shutdown)."""
        await self.queue.join()

    async def open_calls(self) -> dict[str, dict[str, Any]]:
        """The calls the database still holds as not ended (as summaries, by call id): what a previous run of
        the gateway believed was up. The resync compares them with Asterisk's channels."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(CallRecord).where(CallRecord.ended_at.is_(None), CallRecord.state != "ended")
            )
            return {
                row.id: {
                    "call_id": row.id,
                    "updated_at": row.updated_at,
                    **{column: getattr(row, "kind" if column == "call_kind" else column) for column in COLUMNS},
                }
                for row in rows
            }

    async def run(self) -> None:
        pending: dict[str, dict[str, Any]] = {}  # by call id: the newest summary wins
        taken, delay = 0, RETRY_FIRST
        while True:
            if not pending:
                first = await self.queue.get()
                pending[first["call_id"]] = first
                taken = 1
            while not self.queue.empty():
                summary = self.queue.get_nowait()
                pending[summary["call_id"]] = summary
                taken += 1
            try:
                await self._write(pending)
            except Exception as exc:  # the recorder must not die, nor lose a summary to an outage
                if database_unavailable(exc):
                    log.warning("could not save %d call summaries (%s); retrying in %.1f s", len(pending), exc, delay)
                    self.healthy = False
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
                    continue
                await self._write_each(pending)  # not an outage: one bad summary must not block the others
            pending.clear()
            self.healthy, delay = True, RETRY_FIRST
            for _ in range(taken):
                self.queue.task_done()
            taken = 0

    async def _write_each(self, pending: dict[str, dict[str, Any]]) -> None:
        for call_id, summary in pending.items():
            try:
                await self._write({call_id: summary})
            except Exception:
                log.exception("could not save the summary of call %s: dropped", call_id)

    async def _write(self, latest: dict[str, dict[str, Any]]) -> None:
        async with self.sessions.begin() as session:
            found = await session.scalars(select(CallRecord).where(CallRecord.id.in_(list(latest))))
            rows = {row.id: row for row in found}  # one query for the batch, not one per call
            for call_id, summary in latest.items():
                row = rows.get(call_id)
                if row is None:
                    row = CallRecord(id=call_id)
                    session.add(row)
                for column in COLUMNS:
                    value = summary.get(column)
                    column = "kind" if column == "call_kind" else column
                    if column == "transfers":
                        value = _json_safe(value or [])
                    elif column == "abandoned":
                        value = bool(value)
                    elif column in ("caller", "caller_name"):
                        value = value or ""
                    if column == "ticket_id" and value is None:
                        continue  # a ticket linked through the API is never unlinked by a later event
                    setattr(row, column, value)
        self.written += len(latest)
