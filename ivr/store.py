"""The voice entry's reads and writes: sessions, callback tasks, repeat-caller decisions, tickets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.errors import NotFound
from gateway.tickets.models import Ticket
from gateway.tickets.schemas import SYSTEM, Channel, NewTicket
from gateway.tickets.service import TicketService
from ivr.batch import Batch
from ivr.models import CallbackTask, IvrSession, RepeatDecision


class IvrStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tickets: TicketService, *,
                 clock: Callable[[], datetime] = utcnow, read_timeout: float = 1.0,
                 health_ttl: float = 2.0) -> None:
        self.sessions = sessions
        self.tickets = tickets
        self.clock = clock
        self.read_timeout = read_timeout
        self.health_ttl = health_ttl
        self._probe: asyncio.Task[bool] | None = None
        self._probe_at = 0.0
        self._healthy: bool | None = None  # the last probe's answer; None before the first one
        self._session_batch = Batch(self._save_sessions)

    async def reachable(self) -> bool:
        """The last probe's answer, at once: a probe older than ``health_ttl`` seconds is refreshed in
        the background. Under load, callers must not each wait for a SELECT 1 queued behind the
        writes; only a call before the first probe has answered waits for it (bounded)."""
        loop = asyncio.get_running_loop()
        if self._probe is None or (self._probe.done() and loop.time() - self._probe_at > self.health_ttl):
            self._probe_at = loop.time()
            self._probe = loop.create_task(self._ping())
        if self._healthy is None:
            return await asyncio.shield(self._probe)
        return self._healthy

    async def _ping(self) -> bool:
        try:
            async with asyncio.timeout(self.read_timeout), self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # any driver error or timeout means "cannot reach the store"
            self._healthy = False
        else:
            self._healthy = True
        return self._healthy

    async def close(self) -> None:
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)

    # ---- writes (run through the RetryQueue, never on the caller's time) ---------------------------

    async def save_session(self, values: dict[str, Any]) -> int:
        """Sessions ending together are written together: one transaction per batch, not per call,
        so a burst of hang-ups holds the (on SQLite, single) connection for a few milliseconds."""
        return await self._session_batch.add(values)

    async def _save_sessions(self, batch: list[dict[str, Any]]) -> list[int]:
        async with self.sessions() as session, session.begin():
            rows = [IvrSession(**values) for values in batch]
            session.add_all(rows)
        return [row.id for row in rows]

    async def create_callback(self, *, number: str, caller: str | None, linkedid: str | None,
                              reason: str, requested_at: datetime) -> int:
        async with self.sessions() as session, session.begin():
            task = CallbackTask(number=number, caller=caller, linkedid=linkedid, reason=reason,
                                requested_at=requested_at, updated_at=requested_at, status="pending")
            session.add(task)
        return task.id

    async def log_repeat(self, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            session.add(RepeatDecision(**values))

    async def log_emergency(self, *, service: str, caller: str | None, linkedid: str | None,
                            trigger: str, description: str | None, category: str) -> str:
        """The transfer on a ticket: phone channel, urgent, the pack's category, what was said."""
        heard = f"；来电人陈述：{description}" if description else ""
        ticket = await self.tickets.create(NewTicket(
            channel=Channel.PHONE, category=category, urgent=True, title=f"紧急转接{service}",
            content=f"紧急转接{service}（{trigger}）{heard}", caller_number=caller), SYSTEM)
        if linkedid:
            await self.tickets.link(ticket.number, SYSTEM, "call", linkedid, {"emergency": service})
        return ticket.number

    # ---- reads on the caller's time (bounded by read_timeout) --------------------------------------

    async def tickets_opened(self, caller: str, since: datetime) -> int:
        """Tickets filed for this number since ``since`` (a caller bringing a new matter)."""
        async with asyncio.timeout(self.read_timeout), self.sessions() as session:
            tickets = await session.scalar(select(func.count(Ticket.id)).where(
                Ticket.caller_number == caller, Ticket.created_at >= since))
        return int(tickets or 0)

    # ---- start-up ------------------------------------------------------------------------------------

    async def recent_calls(self, since: datetime) -> list[tuple[str, datetime]]:
        """(caller, started_at) of the voice-entry calls since ``since`` that the repeat rule counts
        (emergencies never do): seeds ``RecentCalls`` when the server starts."""
        async with self.sessions() as session:
            rows = await session.execute(select(IvrSession.caller, IvrSession.started_at).where(
                IvrSession.script == "voice-entry", IvrSession.started_at >= since,
                IvrSession.emergency.is_(None), IvrSession.caller.is_not(None)))
            return [(caller, started_at) for caller, started_at in rows if caller is not None]

    async def ticket(self, number: str) -> Ticket | None:
        async with asyncio.timeout(self.read_timeout):
            try:
                return await self.tickets.get(number)
            except NotFound:
                return None

    async def callbacks(self, status: str = "pending") -> list[CallbackTask]:
        """For the call-control layer: callback tasks waiting to be dialled, oldest first."""
        async with self.sessions() as session:
            rows = await session.scalars(select(CallbackTask).where(CallbackTask.status == status)
                                         .order_by(CallbackTask.requested_at))
            return list(rows)
