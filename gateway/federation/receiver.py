"""Receiving a peer's events: store each once and in order, then act on them.

Receipt and action are two steps. ``receive`` stores the events (unique per peer, ticket and seq; a gap in
a ticket's chain is refused) and answers the sender. ``apply_pending`` then works through the stored
events in receipt order — on start-up, after each batch and on the timer — so an event stored just before
a crash is still acted on, and acting is never skipped because the sender gave up.

What acting means depends on the direction:
- from our parent: a ``dispatch`` to us creates a local ticket (channel ``upper_platform``, the parent's
  number as ``external_ref``) and later events of that ticket steer it: an approved return withdraws it,
  an approved or rejected extension decides the local request, a rejected reply or a reopen reopens it,
  the survey result closes it. The parent's deadlines are kept on the link and bound the local ones.
- from a child: everything is mirrored (the child's data, for reports); on a ticket we dispatched to it,
  its ``accept`` signs ours, its approved reply replies to ours, its extension request and its
  ``upward-return`` link file those requests with us.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from gateway.errors import HotlineError
from gateway.federation.models import Link, MirroredTicket, PeerReport, Receipt, Stream
from gateway.federation.push import UPWARD_RETURN, Platform
from gateway.federation.wire import EventBatch, EventResult, ReportPush, WireEvent
from gateway.tickets.lifecycle import Actor, Status
from gateway.tickets.schemas import ActorRef, Channel, NewTicket, SatisfactionLevel
from gateway.tickets.service import TicketService

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)  # a claim older than this belongs to an instance that died mid-apply


class Receiver:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tickets: TicketService, platform: Platform,
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.tickets = tickets
        self.platform = platform
        self.clock = clock
        self.seen: dict[str, dict[str, Any]] = {}  # peer → last batch's time and reported backlog
        self._applying = asyncio.Lock()

    # ---- step 1: receipt ------------------------------------------------------------------------------

    async def receive(self, peer: str, batch: EventBatch) -> list[EventResult]:
        now = self.clock()
        self.seen[peer] = {"at": now, "backlog": batch.backlog, "level": batch.level}
        results = []
        async with self.sessions() as session, session.begin():
            for ev in batch.events:
                results.append(await self._store(session, peer, ev, now))
        return results

    async def _store(self, session: AsyncSession, peer: str, ev: WireEvent, now: datetime) -> EventResult:
        if await session.scalar(select(Receipt.id).where(
                Receipt.peer == peer, Receipt.ticket_number == ev.ticket, Receipt.seq == ev.seq)):
            return EventResult(ticket=ev.ticket, seq=ev.seq, result="duplicate")
        stream = await session.get(Stream, (peer, ev.ticket))
        last = stream.last_seq if stream else None
        if ev.prev_seq != last:
            return EventResult(ticket=ev.ticket, seq=ev.seq, result="gap", expected_prev_seq=last)
        session.add(Receipt(peer=peer, ticket_number=ev.ticket, seq=ev.seq, action=ev.action,
                            event=ev.model_dump(mode="json"), received_at=now, status="received"))
        if stream is None:
            session.add(Stream(peer=peer, ticket_number=ev.ticket, last_seq=ev.seq, updated_at=now))
        else:
            stream.last_seq, stream.updated_at = ev.seq, now
        await session.flush()
        return EventResult(ticket=ev.ticket, seq=ev.seq, result="stored")

    async def receive_report(self, peer: str, push: ReportPush) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.scalar(select(PeerReport).where(
                PeerReport.peer == peer, PeerReport.period == push.period, PeerReport.start == push.start,
                PeerReport.unit == push.unit))
            if row is None:
                session.add(PeerReport(peer=peer, period=push.period, start=push.start, unit=push.unit,
                                       data=push.report, received_at=self.clock()))
            else:  # a regenerated report replaces the earlier one
                row.data, row.received_at = push.report, self.clock()

    # ---- step 2: acting -------------------------------------------------------------------------------

    async def apply_pending(self) -> int:
        """Act on every stored event not yet acted on, in receipt order. Returns how many were handled.

        Several gateway instances may run this at once: each event is claimed in the database first (see
        ``_claim``), so only one instance acts on it, and an event waits while an earlier one of the same
        ticket is still being applied elsewhere."""
        done = 0
        async with self._applying:
            while True:
                async with self.sessions() as session:
                    rows = list(await session.scalars(select(Receipt).where(self._claimable())
                                                      .order_by(Receipt.id).limit(100)))
                claimed = 0
                for row in rows:
                    if not await self._claim(row.id):
                        continue  # another instance has it, or has an earlier event of its ticket
                    claimed += 1
                    status, error = "applied", None
                    try:
                        await self._apply(row.peer, WireEvent.model_validate(row.event))
                    except HotlineError as exc:  # the state here forbids it: kept visible, not retried
                        status, error = "failed", f"{exc.error_id}: {exc.message}"
                        log.warning("federation: %s event %s#%d not applied: %s", row.peer, row.ticket_number,
                                    row.seq, error)
                    async with self.sessions() as session, session.begin():
                        await session.execute(update(Receipt).where(Receipt.id == row.id,
                                                                    Receipt.status == "applying")
                                              .values(status=status, error=error, applied_at=self.clock())
                                              .execution_options(synchronize_session=False))
                    done += 1
                if not claimed:  # nothing left, or all of it in other instances' hands
                    return done

    def _claimable(self) -> Any:
        """Stored and not applied, or claimed by an instance that has not finished within the lease (it
        died): while ``applying``, ``applied_at`` holds the claim's time."""
        return or_(Receipt.status == "received",
                   and_(Receipt.status == "applying", Receipt.applied_at < self.clock() - CLAIM_LEASE))

    async def _claim(self, receipt_id: int) -> bool:
        """UPDATE … WHERE the old state still holds: of several instances exactly one gets rowcount 1.
        An event of a ticket whose earlier event is not yet applied is not claimed (order per ticket)."""
        earlier = aliased(Receipt)
        blocked = select(earlier.id).where(earlier.peer == Receipt.peer,
                                           earlier.ticket_number == Receipt.ticket_number,
                                           earlier.id < Receipt.id,
                                           earlier.status.in_(("received", "applying"))).exists()
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(Receipt).where(Receipt.id == receipt_id, self._claimable(), ~blocked)
                .values(status="applying", applied_at=self.clock()).execution_options(synchronize_session=False))
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _apply(self, peer: str, ev: WireEvent) -> None:
        if peer == self.platform.parent_id:
            await self._from_parent(peer, ev)
        elif peer in self.platform.children:
            await self._from_child(peer, ev)

    # -- from the parent --

    async def _from_parent(self, peer: str, ev: WireEvent) -> None:
        snap = ev.snapshot
        link = await self._link(peer, snap.number)
        me = self.platform.id
        if ev.action == "dispatch" and snap.lead_unit == me:
            if link is None or Status((await self.tickets.get(link.local_number)).status).is_final:
                link = await self._create_local(peer, ev)
        if link is None:
            return
        await self._remember_deadlines(link.id, ev)
        local = link.local_number
        upper = ActorRef(Actor.ADMIN, f"upper:{peer}")
        note = ev.reason or f"上级平台 {peer} 工单 {snap.number}: {ev.action}"
        status = Status((await self.tickets.get(local)).status)
        match ev.action:
            case "approve_return" if ev.data.get("returned_by") == me and not status.is_final:
                await self.tickets.withdraw(local, upper, f"已退回上级平台: {note}")
            case "approve_extension" | "reject_extension" if status in (Status.DISPATCHED, Status.SIGNED):
                if await self._pending_extension(local):
                    await self.tickets.review_extension(local, upper, ev.action == "approve_extension", note)
            case "reject_reply" if status in (Status.SURVEYING, Status.CLOSED):
                await self.tickets.reopen(local, upper, f"上级平台退回答复: {note}")
            case "reopen" | "record_survey" if ev.data.get("reopened") or ev.action == "reopen":
                if status in (Status.SURVEYING, Status.CLOSED) and snap.lead_unit == me:
                    await self.tickets.reopen(local, upper, f"上级平台重办: {note}")
            case "record_survey" | "close" if status == Status.SURVEYING:
                level = SatisfactionLevel(snap.satisfaction) if snap.satisfaction else None
                if level is None:
                    await self.tickets.close(local, upper, note)
                else:
                    await self.tickets.record_survey(local, upper, level, unit_at_fault=False,
                                                     exclusion=None, by_default=False)
            case "withdraw" | "merge" if not status.is_final and status not in (Status.REPLIED, Status.SURVEYING):
                await self.tickets.withdraw(local, upper, f"上级平台{ev.action}: {note}")
            case "supervise" if status in (Status.DISPATCHED, Status.SIGNED, Status.RETURN_REQUESTED,
                                           Status.REPLIED, Status.TERMINATION_REQUESTED):
                await self.tickets.supervise(local, upper, int(ev.data.get("level") or 1), note)

    async def _create_local(self, peer: str, ev: WireEvent) -> Link:
        snap = ev.snapshot
        data = NewTicket(channel=Channel.UPPER_PLATFORM, category=snap.category, urgent=snap.urgent,
                         provincial=snap.provincial, title=snap.title, content=snap.content,
                         elements=snap.elements, location=snap.location, caller_number=snap.caller.number,
                         caller_name=snap.caller.name, caller_address=snap.caller.address,
                         confidential=snap.confidential, disclose_caller=snap.disclose_caller,
                         external_ref=snap.number)
        ticket = await self.tickets.create(data, ActorRef(Actor.SYSTEM, f"upper:{peer}"))
        async with self.sessions() as session, session.begin():
            link = Link(peer=peer, remote_number=snap.number, remote_seq=ev.seq, local_number=ticket.number,
                        sign_by=snap.sign_by, due_at=snap.due_at, max_due_at=snap.max_due_at,
                        created_at=self.clock())
            session.add(link)
        return link

    async def _link(self, peer: str, remote: str) -> Link | None:
        async with self.sessions() as session:
            return await session.scalar(select(Link).where(Link.peer == peer, Link.remote_number == remote)
                                        .order_by(Link.id.desc()).limit(1))

    async def _remember_deadlines(self, link_id: int, ev: WireEvent) -> None:
        async with self.sessions() as session, session.begin():
            link = await session.get(Link, link_id)
            assert link is not None
            link.sign_by, link.due_at, link.max_due_at = ev.snapshot.sign_by, ev.snapshot.due_at, \
                ev.snapshot.max_due_at

    async def _pending_extension(self, local: str) -> bool:
        return bool(await self.tickets.requests(local, status="pending"))

    # -- from a child --

    async def _from_child(self, peer: str, ev: WireEvent) -> None:
        await self._mirror(peer, ev)
        snap = ev.snapshot
        if snap.channel != Channel.UPPER_PLATFORM.value or not snap.external_ref:
            return
        ours = snap.external_ref
        child = ActorRef(Actor.UNIT, peer)
        match ev.action:
            case "accept":
                await self.tickets.sign(ours, child)
            case "approve_reply" if snap.reply is not None:
                await self.tickets.reply(ours, child, snap.reply.text, snap.reply.attachments)
            case "request_extension":
                await self.tickets.request_extension(ours, child, int(ev.data["working_days"]),
                                                     ev.reason or "下级平台申请延期")
            case "link" if ev.data.get("kind") == UPWARD_RETURN and ev.command:
                await self.tickets.request_return(ours, child, ev.command["reason"], ev.command["basis"],
                                                  ev.command.get("suggestion"))

    async def _mirror(self, peer: str, ev: WireEvent) -> None:
        snap = ev.snapshot
        now = self.clock()
        async with self.sessions() as session, session.begin():
            row = await session.get(MirroredTicket, (peer, snap.number))
            values = {"last_seq": ev.seq, "status": snap.status, "channel": snap.channel,
                      "category": snap.category, "satisfaction": snap.satisfaction,
                      "created_at": snap.created_at, "snapshot": snap.model_dump(mode="json"), "updated_at": now}
            if row is None:
                session.add(MirroredTicket(peer=peer, number=snap.number, **values))
            elif ev.seq > row.last_seq:
                for key, value in values.items():
                    setattr(row, key, value)
