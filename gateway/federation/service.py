"""What the application holds for federation (``app[FEDERATION]``): children, upward returns, catch-up,
and the backlog both ways."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.errors import Conflict, InvalidInput
from gateway.federation.models import ChildPlatform, MirroredTicket, PushRow, Receipt
from gateway.federation.push import UPWARD_RETURN, Platform, queue_report, queue_upto
from gateway.federation.receiver import Receiver
from gateway.federation.transfers import CallTransfers
from gateway.tickets.lifecycle import Status
from gateway.tickets.models import Ticket, TicketEvent, Unit
from gateway.tickets.schemas import ActorRef, Channel
from gateway.tickets.service import TicketService
from gateway.webhooks.outbox import DEAD, OutboxWorker, new_id, replay
from gateway.webhooks.secrets import SecretStore

log = logging.getLogger(__name__)


class PeerTokens(SecretStore):
    """Tokens we present to child platforms: env HOTLINE_FEDERATION_TOKEN__<CHILD> or a file per child."""

    @staticmethod
    def env_name(endpoint_id: str) -> str:
        return "HOTLINE_FEDERATION_TOKEN__" + endpoint_id.upper().replace("-", "_")


class Federation:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tickets: TicketService, platform: Platform,
                 receiver: Receiver, clock: Callable[[], datetime], worker: OutboxWorker | None = None) -> None:
        self.sessions = sessions
        self.tickets = tickets
        self.platform = platform
        self.receiver = receiver
        self.clock = clock
        self.worker = worker
        self._tasks: set[asyncio.Task[Any]] = set()
        self._caught_up_once = False
        self.transfers: CallTransfers | None = None  # 一键转接 with the ticket (set by wiring)

    def nudge(self) -> None:
        if self.worker is not None:
            self.worker.nudge()

    def soon(self, job: Callable[[], Any]) -> None:
        """Run a coroutine job in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(job())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ---- children ---------------------------------------------------------------------------------

    async def add_child(self, child_id: str, name: str, url: str, level: str, region: str | None) -> ChildPlatform:
        """Register a lower-level platform; it becomes a unit too, so tickets are dispatched to it."""
        async with self.sessions() as session, session.begin():
            if await session.get(ChildPlatform, child_id) is not None:
                raise Conflict(f"child platform {child_id} exists", error_id="child-platform-exists")
            if await session.get(Unit, child_id) is None:
                session.add(Unit(id=child_id, name=name, region=region, active=True, created_at=self.clock()))
            child = ChildPlatform(id=child_id, name=name, url=url, level=level, region=region, active=True,
                                  created_at=self.clock())
            session.add(child)
        await self.platform.load_children(self.sessions)
        return child

    async def children(self) -> list[ChildPlatform]:
        async with self.sessions() as session:
            return list(await session.scalars(select(ChildPlatform).order_by(ChildPlatform.id)))

    # ---- child side: return a parent's ticket upward -------------------------------------------------

    async def return_upward(self, number: str, actor: ActorRef, reason: str, basis: str,
                            suggestion: str | None) -> Ticket:
        """退回上级: not ours (out of our territory or remit). Filed with the parent, which reviews it; the
        local ticket is withdrawn when the parent approves."""
        ticket = await self.tickets.get(number)
        if ticket.channel != Channel.UPPER_PLATFORM.value or not ticket.external_ref:
            raise InvalidInput("only tickets dispatched by the upper platform can be returned to it",
                               error_id="not-an-upper-platform-ticket")
        if Status(ticket.status) not in (Status.NEW, Status.ACCEPTED):
            raise Conflict(f"ticket {number} is {ticket.status}: recall it from the local unit first",
                           error_id="ticket-in-local-handling", current_status=ticket.status)
        if not reason.strip() or not basis.strip():
            raise InvalidInput("a return upward needs a reason and its basis", error_id="reason-required")
        return await self.tickets.link(number, actor, UPWARD_RETURN, new_id(),
                                       {"reason": reason, "basis": basis, "suggestion": suggestion})

    # ---- queueing what no hook saw -----------------------------------------------------------------

    async def queue_created(self, number: str) -> None:
        """``create`` runs no hook: queue the intake for the parent as soon as it is committed."""
        if not self.platform.parent_url:
            return
        async with self.sessions() as session, session.begin():
            ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket is not None:
                await queue_upto(session, self.platform.parent_id or "", ticket, 1, now=self.clock())
        self.nudge()

    async def catch_up(self, limit: int = 200) -> int:
        """Timer job: queue for the parent any event not yet queued (e.g. a crash between a create and
        its queueing). Returns how many tickets it caught up."""
        parent = self.platform.parent_id
        if not self.platform.parent_url or parent is None:
            return 0
        async with self.sessions() as session:
            queued = (select(PushRow.ticket_number, func.max(PushRow.seq).label("seq"))
                      .where(PushRow.peer == parent).group_by(PushRow.ticket_number).subquery())
            latest = (select(TicketEvent.ticket_id, func.max(TicketEvent.seq).label("seq"))
                      .group_by(TicketEvent.ticket_id).subquery())
            query = (select(Ticket.number, latest.c.seq).join(latest, latest.c.ticket_id == Ticket.id)
                     .outerjoin(queued, queued.c.ticket_number == Ticket.number)
                     .where(latest.c.seq > func.coalesce(queued.c.seq, 0)).limit(limit))
            if self._caught_up_once:  # after the first full pass, only what changed lately can be missing
                query = query.where(Ticket.updated_at >= self.clock() - timedelta(days=1))
            rows = (await session.execute(query)).all()
        self._caught_up_once = len(rows) < limit
        for number, seq in rows:
            async with self.sessions() as session, session.begin():
                ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
                assert ticket is not None
                await queue_upto(session, parent, ticket, seq, now=self.clock())
        if rows:
            self.nudge()
        return len(rows)

    async def push_report(self, document: dict[str, Any]) -> bool:
        """Queue a periodic report for the parent. False when we have no parent."""
        if not self.platform.parent_url or self.platform.parent_id is None:
            return False
        async with self.sessions() as session, session.begin():
            await queue_report(session, self.platform.parent_id, {"origin": self.platform.id, **document},
                               self.clock())
        self.nudge()
        return True

    # ---- visibility ----------------------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """The backlog both ways: what we still owe each peer, what each peer last told us it owes us."""
        async with self.sessions() as session:
            out = (await session.execute(
                select(PushRow.peer, PushRow.status, func.count(), func.min(PushRow.created_at))
                .group_by(PushRow.peer, PushRow.status))).all()
            inbound = (await session.execute(
                select(Receipt.peer, Receipt.status, func.count()).group_by(Receipt.peer, Receipt.status))).all()
            mirrored = dict((await session.execute(
                select(MirroredTicket.peer, func.count()).group_by(MirroredTicket.peer))).all())
        peers: dict[str, dict[str, Any]] = {}

        def peer(name: str) -> dict[str, Any]:
            role = "parent" if name == self.platform.parent_id else "child" if name in self.platform.children \
                else "unknown"
            return peers.setdefault(name, {"peer": name, "role": role, "outbound": {}, "backlog": 0,
                                           "oldest_waiting_at": None, "inbound": {}, "peer_reported": None,
                                           "mirrored_tickets": mirrored.get(name, 0)})

        for name, status, count, oldest in out:
            p = peer(name)
            p["outbound"][status] = count
            if status in ("pending", "retrying"):
                p["backlog"] += count
                p["oldest_waiting_at"] = min(filter(None, [p["oldest_waiting_at"], oldest]), default=None)
        for name, status, count in inbound:
            peer(name)["inbound"][status] = count
        for name, seen in self.receiver.seen.items():
            peer(name)["peer_reported"] = seen
        for known in [self.platform.parent_id, *self.platform.children]:
            if known:
                peer(known)
        return {"platform": {"id": self.platform.id, "level": self.platform.level,
                             "parent": self.platform.parent_id, "parent_url": self.platform.parent_url},
                "peers": sorted(peers.values(), key=lambda p: p["peer"])}

    async def replay_dead(self, actor: str) -> list[str]:
        async with self.sessions() as session, session.begin():
            dead = list(await session.scalars(select(PushRow.id).where(PushRow.status == DEAD)))
            ids = await replay(session, PushRow, dead, actor=actor, now=self.clock())
        self.nudge()
        return ids
