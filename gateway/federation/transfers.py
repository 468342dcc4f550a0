"""一键转接 between platforms: the ticket follows the call.

Sending: when an agent blind-transfers a call to a target configured as a federated platform
(``federation.transfer_platforms``), the ticket linked to that call is queued for that platform (a
``call_transfer`` outbox row, sent by the durable federation worker) and our ticket records where it went
(a ``call-transfer`` link). A call with no linked ticket hands nothing over: the call's draft stays
here, and the receiving agent takes the call like any other (the choice is documented in README.md).

Receiving: the document is stored once per (peer, call id), then applied — a local phone ticket made from
the sender's, linked ``call-transfer`` → ``<peer>:<call id>`` so a re-apply finds it instead of making a
second one — and matched to the arriving call: by the sender's call id, which the dialplan reads from the
``X-Hotline-Call-Id`` SIP header into ``HOTLINE_REMOTE_CALL_ID`` (``Call.remote_call_id``), or by the
caller's number within ``transfer_match_minutes``. Whichever comes first, the ticket or the call, the
other one completes the match. Each step claims its row in the database first (an UPDATE guarded by the
old state), so with several gateway instances only one of them acts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.errors import HotlineError, InvalidInput
from gateway.federation.models import HandedOverCall
from gateway.federation.push import CALL_TRANSFER, Platform, queue_call_transfer
from gateway.federation.wire import CallTransfer, snapshot
from gateway.phone import caller_e164
from gateway.tickets.lifecycle import Actor
from gateway.tickets.models import Ticket, TicketLink
from gateway.tickets.schemas import ActorRef, Channel, NewTicket
from gateway.tickets.service import TicketService

if TYPE_CHECKING:
    from gateway.calls.service import CallsService

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)  # an instance that claimed a row and died: another takes it after this


class CallTransfers:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tickets: TicketService, platform: Platform,
                 clock: Callable[[], datetime], targets: dict[str, str], match_window: timedelta,
                 calls: Callable[[], CallsService | None], nudge: Callable[[], None]) -> None:
        self.sessions = sessions
        self.tickets = tickets
        self.platform = platform
        self.clock = clock
        self.targets = targets  # transfer target name → platform id
        self.match_window = match_window
        self.calls = calls  # looked up late: the calls capability may be absent (no PBX on this deployment)
        self.nudge = nudge

    # ---- sending --------------------------------------------------------------------------------------

    async def hand_over(self, call: dict[str, Any]) -> bool:
        """On ``call.transfer_requested``: queue the call's ticket for the platform the call goes to.
        False when there is nothing to hand over (not a platform, or no ticket linked)."""
        peer = self.targets.get(str(call.get("target")))
        if peer is None:
            return False
        if self.platform.url_of(peer) is None:
            log.warning("transfer target %s names platform %s, which is neither our parent nor an active child",
                        call.get("target"), peer)
            return False
        number = call.get("ticket_id")
        if not number:
            log.info("call %s transferred to %s with no ticket linked: nothing to hand over", call["call_id"], peer)
            return False
        agent = ActorRef(Actor.AGENT, call.get("actor"))
        try:  # our ticket says where the call went (a repeat is a no-op)
            await self.tickets.link(number, agent, CALL_TRANSFER, call["call_id"],
                                    {"platform": peer, "target": call["target"]})
        except HotlineError as exc:
            log.warning("call %s: ticket %s not handed over to %s: %s", call["call_id"], number, peer, exc.message)
            return False
        now = self.clock()
        async with self.sessions() as session, session.begin():
            ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
            assert ticket is not None
            document = CallTransfer.model_validate({
                "origin": self.platform.id, "call_id": call["call_id"], "caller_number": call.get("caller") or None,
                "target": call["target"], "at": now, "actor": {"kind": agent.kind.value, "id": agent.id},
                "ticket": snapshot(ticket)})
            await queue_call_transfer(session, peer, number, document.model_dump(mode="json"), now)
        self.nudge()
        return True

    # ---- receiving ------------------------------------------------------------------------------------

    async def receive(self, peer: str, document: CallTransfer) -> str:
        """Store once per (peer, call id): ``stored`` or ``duplicate``."""
        try:
            async with self.sessions() as session, session.begin():
                if await session.scalar(select(HandedOverCall.id).where(
                        HandedOverCall.peer == peer, HandedOverCall.remote_call_id == document.call_id)):
                    return "duplicate"
                session.add(HandedOverCall(
                    peer=peer, remote_call_id=document.call_id, remote_number=document.ticket.number,
                    caller_number=comparable(document.caller_number or document.ticket.caller.number),
                    document=document.model_dump(mode="json"), received_at=self.clock(), status="received"))
        except IntegrityError:  # another instance stored it meanwhile
            return "duplicate"
        return "stored"

    async def apply_pending(self) -> int:
        """Make the local ticket of every stored transfer not yet applied, and match it to its call."""
        done = 0
        async with self.sessions() as session:
            ids = list(await session.scalars(select(HandedOverCall.id).where(self._claimable())
                                             .order_by(HandedOverCall.id).limit(100)))
        for row_id in ids:
            if not await self._claim(row_id):
                continue  # another instance has it
            async with self.sessions() as session:
                row = await session.get(HandedOverCall, row_id)
                assert row is not None
            status, error, local = "applied", None, None
            try:
                local = await self._local_ticket(row.peer, CallTransfer.model_validate(row.document))
            except HotlineError as exc:  # e.g. a category our pack lacks: kept visible, not retried
                status, error = "failed", f"{exc.error_id}: {exc.message}"
                log.warning("federation: call transfer %s from %s not applied: %s", row.remote_call_id, row.peer,
                            error)
            async with self.sessions() as session, session.begin():
                await session.execute(update(HandedOverCall).where(
                    HandedOverCall.id == row_id, HandedOverCall.status == "applying")
                    .values(status=status, error=error, local_number=local)
                    .execution_options(synchronize_session=False))
            done += 1
            if local is not None:
                await self._match_live_call(row.remote_call_id, row.caller_number)
        return done

    def _claimable(self) -> Any:
        stale = self.clock() - CLAIM_LEASE
        return or_(HandedOverCall.status == "received",
                   and_(HandedOverCall.status == "applying", HandedOverCall.claimed_at < stale))

    async def _claim(self, row_id: int) -> bool:
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(HandedOverCall).where(HandedOverCall.id == row_id, self._claimable())
                .values(status="applying", claimed_at=self.clock()).execution_options(synchronize_session=False))
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _local_ticket(self, peer: str, doc: CallTransfer) -> str:
        ref = f"{peer}:{doc.call_id}"
        async with self.sessions() as session:  # made before a crash, not marked applied: use it
            existing = await session.scalar(select(Ticket.number).join(TicketLink, TicketLink.ticket_id == Ticket.id)
                                            .where(TicketLink.kind == CALL_TRANSFER, TicketLink.ref == ref))
        if existing:
            return existing
        snap = doc.ticket
        # A phone ticket of ours (the citizen called; we handle it), not upper_platform work: nothing was
        # dispatched to us, so none of the dispatch protocol applies. external_ref keeps the sender's number.
        data = NewTicket(channel=Channel.PHONE, category=snap.category, urgent=snap.urgent,
                         provincial=snap.provincial, title=snap.title, content=snap.content,
                         elements=snap.elements, location=snap.location,
                         caller_number=snap.caller.number or doc.caller_number, caller_name=snap.caller.name,
                         caller_address=snap.caller.address, confidential=snap.confidential,
                         disclose_caller=snap.disclose_caller, external_ref=snap.number)
        actor = ActorRef(Actor.SYSTEM, f"platform:{peer}")
        ticket = await self.tickets.create(data, actor)
        await self.tickets.link(ticket.number, actor, CALL_TRANSFER, ref,
                                {"platform": peer, "call_id": doc.call_id, "ticket": snap.number,
                                 "target": doc.target, "agent": doc.actor.id})
        return ticket.number

    # ---- matching the arriving call -------------------------------------------------------------------

    async def on_call(self, call: dict[str, Any]) -> str | None:
        """On ``call.offered`` / ``call.connected``: link a handed-over ticket waiting for this call.
        Returns the ticket number linked, if any."""
        if call.get("ticket_id") or call.get("direction") != "inbound":
            return None
        remote, caller = call.get("remote_call_id"), comparable(call.get("caller"))
        async with self.sessions() as session:
            waiting = select(HandedOverCall).where(HandedOverCall.status == "applied",
                                                   HandedOverCall.call_id.is_(None))
            row = None
            if remote:
                row = await session.scalar(waiting.where(HandedOverCall.remote_call_id == remote).limit(1))
            if row is None and caller:
                row = await session.scalar(waiting.where(
                    HandedOverCall.caller_number == caller,
                    HandedOverCall.received_at >= self.clock() - self.match_window)
                    .order_by(HandedOverCall.id.desc()).limit(1))
        if row is None or row.local_number is None:
            return None
        return await self._link(row.id, row.local_number, str(call["call_id"]))

    async def _match_live_call(self, remote_call_id: str, caller: str | None) -> None:
        """The ticket arrived after its call: look for the call among the live ones."""
        calls = self.calls()
        if calls is None:
            return
        live = [c for c in calls.model.calls.values() if c.ticket_id is None and c.direction == "inbound"]
        call = next((c for c in live if c.remote_call_id == remote_call_id), None) or \
            next((c for c in live if caller and not c.remote_call_id and comparable(c.caller) == caller), None)
        if call is not None:
            await self.on_call(call.summary())

    async def _link(self, row_id: int, local_number: str, call_id: str) -> str | None:
        async with self.sessions() as session, session.begin():  # claim: one instance links, once
            result = await session.execute(
                update(HandedOverCall).where(HandedOverCall.id == row_id, HandedOverCall.call_id.is_(None))
                .values(call_id=call_id, matched_at=self.clock()).execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
        await self.tickets.link(local_number, ActorRef(Actor.SYSTEM, "federation"), "call", call_id)
        calls = self.calls()
        if calls is not None:
            await calls.operations.link_ticket(call_id, local_number)
        log.info("call %s matched to ticket %s handed over with it", call_id, local_number)
        return local_number


def comparable(number: str | None) -> str | None:
    """Caller ids as E.164, as tickets store them ("13800138000" and "+8613800138000" are one caller);
    what is no valid number is compared as it is."""
    try:
        return caller_e164(number)
    except InvalidInput:
        return number.strip() if number else None
