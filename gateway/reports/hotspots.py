"""Hot issues (热点) and early warnings (预警): many citizens reporting the same matter in the same place in
a short time (汉滨 Art. 20(4)) raise ONE warning for the cluster — to the supervisor board (bus event
``hotspot.warning`` and the ``hotspot_warnings`` table) and to the responsible unit (signed webhook) —
however many more tickets then join it.

Off the write path and durable: creating a ticket writes nothing for hot issues. A batched worker
(``BatchWorker``, every few seconds) reads the tickets it has not read yet, works out each one's matter and
place in a thread (the shared understanding pipeline), and in ONE transaction writes a ``ticket_matters``
row per ticket, folds it into its cluster, queues the unit's webhook and advances its ``job_cursors`` row.
A crash or an outage rolls that transaction back and the next tick does it again; a ticket already read
(its row exists) is never counted twice, even by a second instance. Windows are judged by when the
tickets were created, so a backlog read after an outage clusters as it would have live.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.bus import EventBus
from gateway.jobs.models import JobCursor, lock_cursor
from gateway.jobs.worker import BatchWorker
from gateway.reports.models import HotspotWarning, TicketMatter
from gateway.reports.topics import Reading, read_ticket
from gateway.tickets.models import Ticket
from gateway.tickets.views import Audience, visible_numbers
from gateway.understanding.shared import SharedUnderstanding
from gateway.webhooks.service import Webhooks

log = logging.getLogger(__name__)

JOB = "hotspots"
BATCH = 25
# The cursor only passes tickets created this long ago: a ticket transaction still open behind a higher,
# already committed id would otherwise be skipped. Younger tickets are found by "no ticket_matters row".
SETTLED = timedelta(minutes=2)
LIVE = ("open", "acknowledged")


class HotspotWatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], bus: EventBus, webhooks: Webhooks | None,
                 clock: Callable[[], datetime], *, window: timedelta, threshold: int,
                 understanding: SharedUnderstanding, interval: float = 3.0, batch: int = BATCH) -> None:
        self.sessions = sessions
        self.bus = bus
        self.webhooks = webhooks
        self.clock = clock
        self.window = window
        self.threshold = threshold
        self.understanding = understanding
        self.batch = batch
        # Reading a ticket is CPU (LAC, classifier: ~5–10 ms): a burst of new tickets is read at no more
        # than a third of the process's time, the rest stays with the requests that make them.
        self.worker = BatchWorker(JOB, self.step, interval=interval, duty=1 / 3)

    def start(self) -> None:
        self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()

    async def drain(self) -> int:
        """Read every ticket not read yet, now (tests, and the CLI). Returns how many were handled."""
        return await self.worker.run_until_idle()

    # ---- one batch ----------------------------------------------------------------------------------

    async def step(self) -> int:
        return await self.fold_new_tickets() + await self.assign_units()

    async def fold_new_tickets(self) -> int:
        async with self.sessions() as session:
            position = await session.scalar(select(JobCursor.position).where(JobCursor.name == JOB)) or 0
            rows = (await session.execute(
                select(Ticket.id, Ticket.number, Ticket.created_at, Ticket.channel, Ticket.category,
                       Ticket.title, Ticket.content, Ticket.location, Ticket.elements, Ticket.confidential,
                       Ticket.lead_unit_id)
                .where(Ticket.id > position, ~exists().where(TicketMatter.ticket_id == Ticket.id))
                .order_by(Ticket.id).limit(self.batch))).all()
        if not rows:
            return 0
        understander = await self.understanding.get()
        read = partial(_read_all, understander, rows)
        readings = await asyncio.get_running_loop().run_in_executor(None, read)  # CPU: off the event loop
        raised: list[HotspotWarning] = []
        now = self.clock()
        async with self.sessions() as session, session.begin():
            cursor = await lock_cursor(session, JOB, now)
            taken = set(await session.scalars(select(TicketMatter.ticket_id).where(
                TicketMatter.ticket_id.in_([r.id for r in rows]))))  # another instance read them meanwhile
            for row, reading in zip(rows, readings, strict=True):
                if row.id in taken:
                    continue
                member = TicketMatter(
                    ticket_id=row.id, number=row.number, created_at=row.created_at,
                    matter_code=reading.matter_code, matter_name=reading.matter_name,
                    place_level=reading.place_level, place_name=reading.place_name,
                    place_label=reading.place_label, place_full=reading.place_full,
                    clustered=reading.key is not None and row.channel != "upper_platform")  # the parent counts its own
                session.add(member)
                await session.flush()
                if member.clustered:
                    warning = await self._fold(session, member, row, reading, now)
                    if warning is not None:
                        raised.append(warning)
            cursor.position = await _settled_position(session, cursor.position, now - SETTLED)
            cursor.updated_at = now
        for warning in raised:
            self.bus.publish("hotspot.warning", id=warning.id, category=warning.category, place=warning.place,
                             name=warning.summary, matter=warning.matter_code, count=warning.count,
                             unit=warning.unit_id, summary=warning.summary)
            log.info("hotspot warning %d: %s, %d tickets", warning.id, warning.key, warning.count)
        return len(rows)

    async def _fold(self, session: AsyncSession, member: TicketMatter, row: Row[Any], reading: Reading,
                    now: datetime) -> HotspotWarning | None:
        """Count the ticket in its cluster; the warning it raised, if it is the one that made it hot."""
        since = member.created_at - self.window
        # Counted and aggregated in SQL: a hot issue can gather hundreds of tickets, and loading them all
        # for every new one made the worker quadratic in the cluster's size.
        in_cluster = (TicketMatter.matter_code == member.matter_code, TicketMatter.place_level == member.place_level,
                      TicketMatter.place_name == member.place_name, TicketMatter.clustered.is_(True),
                      TicketMatter.created_at >= since, TicketMatter.created_at <= member.created_at)
        size = await session.scalar(select(func.count()).select_from(TicketMatter).where(*in_cluster))
        if (size or 0) < self.threshold:
            return None
        key = reading.key
        warning = await session.scalar(select(HotspotWarning).where(
            HotspotWarning.key == key, HotspotWarning.status.in_(LIVE), HotspotWarning.last_at >= since)
            .order_by(HotspotWarning.id.desc()).limit(1))
        raised = warning is None
        if warning is None:
            tickets = {t.id: t for t in await session.execute(select(
                Ticket.id, Ticket.confidential, Ticket.lead_unit_id, Ticket.dispatched_at).where(
                Ticket.id.in_(select(TicketMatter.ticket_id).where(*in_cluster))))}
            public = any(not t.confidential for t in tickets.values())
            warning = HotspotWarning(
                key=key, matter_code=member.matter_code, name=reading.name, category=row.category,
                place=member.place_full, summary=reading.name if public else "", tickets=[], count=0,
                unit_id=_first_unit(tickets.values()), status="open",
                first_at=await session.scalar(select(func.min(TicketMatter.created_at)).where(*in_cluster)),
                last_at=member.created_at, created_at=now)
            session.add(warning)
            await session.flush()
        elif not warning.summary and not row.confidential:  # its first ticket that may be summarised
            warning.summary = warning.name or ""
        joining = list(await session.scalars(select(TicketMatter).where(  # a row joins one warning, once
            *in_cluster, TicketMatter.warning_id.is_(None))))
        for m in joining:
            m.warning_id = warning.id
        warning.count += len(joining)
        warning.last_at = max(warning.last_at, member.created_at)
        if raised and warning.unit_id:
            await self._notify_unit(session, warning)
        return warning if raised else None

    async def assign_units(self) -> int:
        """A warning raised before any of its tickets was dispatched reaches the unit at the first dispatch
        (read from the tickets, so a dispatch during an outage is not missed)."""
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(
                select(HotspotWarning, Ticket.lead_unit_id)
                .join(TicketMatter, TicketMatter.warning_id == HotspotWarning.id)
                .join(Ticket, Ticket.id == TicketMatter.ticket_id)
                .where(HotspotWarning.status == "open", HotspotWarning.unit_id.is_(None),
                       Ticket.lead_unit_id.is_not(None))
                .order_by(HotspotWarning.id, Ticket.dispatched_at))).all()
            assigned = 0
            for warning, unit in rows:
                if warning.unit_id is None:
                    warning.unit_id = unit
                    await self._notify_unit(session, warning)
                    assigned += 1
        return assigned

    async def _notify_unit(self, session: AsyncSession, warning: HotspotWarning) -> None:
        warning.unit_notified_at = self.clock()
        if self.webhooks is None or warning.unit_id is None:
            return
        # The unit hears of its own tickets in the cluster only: the others' numbers are not its business.
        members = (await members_of(session, [warning]))[warning.id]
        own = await visible_numbers(session, Audience("unit", warning.unit_id), members)
        await self.webhooks.enqueue(session, warning.unit_id, "hotspot.warning", {
            "warning": warning.id, "category": warning.category, "place": warning.place,
            "matter": warning.matter_code, "count": warning.count, "summary": warning.summary,
            "tickets": own, "first_at": warning.first_at}, event_id=f"hotspot:{warning.id}")

    async def acknowledge(self, warning_id: int) -> HotspotWarning | None:
        async with self.sessions() as session, session.begin():
            warning = await session.get(HotspotWarning, warning_id)
            if warning is not None:
                warning.status = "acknowledged"
            return warning


async def members_of(session: AsyncSession, warnings: Sequence[HotspotWarning]) -> dict[int, list[str]]:
    """Each warning's ticket numbers: its ticket_matters rows (and the list older warnings stored)."""
    found: dict[int, list[str]] = {w.id: list(w.tickets or []) for w in warnings}
    if found:
        for warning_id, number in await session.execute(
                select(TicketMatter.warning_id, TicketMatter.number)
                .where(TicketMatter.warning_id.in_(list(found))).order_by(TicketMatter.number)):
            if warning_id is not None:
                found[warning_id].append(number)
    return {k: sorted(set(v)) for k, v in found.items()}


def _read_all(understander: Any, rows: Iterable[Row[Any]]) -> list[Reading]:
    return [read_ticket(understander, content=r.content, title=r.title, location=r.location, elements=r.elements)
            for r in rows]


async def _settled_position(session: AsyncSession, position: int, settled_before: datetime) -> int:
    """The highest ticket id up to which every ticket is read and no transaction can still be adding one."""
    settled = await session.scalar(select(func.max(Ticket.id)).where(
        Ticket.id > position, Ticket.created_at < settled_before))
    if settled is None:
        return position
    unread = await session.scalar(select(func.min(Ticket.id)).where(
        Ticket.id > position, Ticket.id <= settled, ~exists().where(TicketMatter.ticket_id == Ticket.id)))
    return settled if unread is None else max(position, unread - 1)


def _first_unit(tickets: Iterable[Any]) -> str | None:
    dispatched = sorted((t for t in tickets if t.lead_unit_id), key=lambda t: t.dispatched_at)
    return dispatched[0].lead_unit_id if dispatched else None
