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

    async def reachable(self) -> bool:
        """One probe answers every call for ``health_ttl`` seconds: under load, hundreds of callers
        must not each queue a SELECT 1 behind the writes (and time out into a false alarm)."""
        loop = asyncio.get_running_loop()
        if self._probe is None or (self._probe.done() and loop.time() - self._probe_at > self.health_ttl):
            self._probe_at = loop.time()
            self._probe = loop.create_task(self._ping())
        return await asyncio.shield(self._probe)

    async def _ping(self) -> bool:
        try:
            async with asyncio.timeout(self.read_timeout), self.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # any driver error or timeout means "cannot reach the store"
            return False
        return True

    # ---- writes (run through the RetryQueue, never on the caller's time) ---------------------------

    async def save_session(self, values: dict[str, Any]) -> int:
        async with self.sessions() as session, session.begin():
            row = IvrSession(**values)
            session.add(row)
        return row.id

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

    async def repeat_counts(self, caller: str, since: datetime) -> tuple[int, int]:
        """(earlier voice-entry calls, tickets opened for this number) since ``since``. Emergencies
        never count: the rule is never applied to them."""
        async with asyncio.timeout(self.read_timeout), self.sessions() as session:
            calls = await session.scalar(select(func.count(IvrSession.id)).where(
                IvrSession.caller == caller, IvrSession.script == "voice-entry",
                IvrSession.started_at >= since, IvrSession.emergency.is_(None)))
            tickets = await session.scalar(select(func.count(Ticket.id)).where(
                Ticket.caller_number == caller, Ticket.created_at >= since))
        return int(calls or 0), int(tickets or 0)

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
