"""Pushing ticket events to peers: queued in the transition's transaction, sent in order per ticket.

Queueing: a ticket-service hook writes one outbox row per event for each peer that should hear of it —
the parent (every event of every ticket: full data upward) and a child platform (events of tickets it
holds). A row names the previous row of the same ticket for the same peer (``prev_seq``), so the chain is
complete even for events that ran no hook (``create``): the hook first queues whatever is missing.

Sending: the generic durable outbox worker picks rows; for a row it sends that ticket's whole waiting
prefix in seq order, so the receiver (which refuses gaps) always gets a contiguous run, and a run that
was stored but never acknowledged (sender down mid-push) comes back as ``duplicate`` — nothing doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.federation.models import ChildPlatform, PushRow
from gateway.federation.wire import EventAck, event_document
from gateway.http.jsonio import dumps
from gateway.tickets.lifecycle import Action
from gateway.tickets.models import Ticket, TicketEvent, TicketLink
from gateway.tickets.service import Change
from gateway.webhooks.outbox import DEAD, PENDING, WAITING, Outcome, new_id

log = logging.getLogger(__name__)

UPWARD_RETURN = "upward-return"  # the TicketLink kind a child uses to return a ticket to its parent
CALL_TRANSFER = "call-transfer"  # the TicketLink kind naming the platform a call (and its ticket) went to
# Outbox rows that are a single document (not a ticket's event stream) → the receiver's endpoint.
SINGLE_MESSAGES = {"report": "reports", "call_transfer": "call-transfers"}


class Platform:
    """Who we are and whom we talk to. ``children`` maps a child platform id to its base URL."""

    def __init__(self, platform_id: str, level: str, parent_id: str | None, parent_url: str | None) -> None:
        self.id = platform_id
        self.level = level
        self.parent_id = parent_id
        self.parent_url = parent_url.rstrip("/") if parent_url else None
        self.children: dict[str, str] = {}

    async def load_children(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session:
            rows = await session.scalars(select(ChildPlatform).where(ChildPlatform.active))
            self.children = {c.id: c.url.rstrip("/") for c in rows}

    def url_of(self, peer: str) -> str | None:
        return self.parent_url if peer == self.parent_id else self.children.get(peer)


async def queue_upto(session: AsyncSession, peer: str, ticket: Ticket, upto: int, *,
                     start_at: int | None = None, now: datetime) -> int:
    """Queue for ``peer`` every event of ``ticket`` after the last one queued, up to seq ``upto``.
    ``start_at``: where a new stream begins (a child hears of a ticket from its dispatch on)."""
    last = await session.scalar(select(func.max(PushRow.seq)).where(
        PushRow.peer == peer, PushRow.ticket_number == ticket.number))
    lower = last if last is not None else (start_at - 1 if start_at else 0)
    events = list(await session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.seq > lower, TicketEvent.seq <= upto)
        .order_by(TicketEvent.seq)))
    prev = last
    for e in events:
        command = None
        if e.action == Action.LINK.value and (e.data or {}).get("kind") == UPWARD_RETURN:
            link = await session.scalar(select(TicketLink).where(
                TicketLink.ticket_id == ticket.id, TicketLink.kind == UPWARD_RETURN,
                TicketLink.ref == e.data.get("ref")))
            command = dict(link.meta) if link is not None else None
        doc = event_document(e, ticket, prev, command)
        session.add(PushRow(id=new_id(), peer=peer, kind="event", ticket_number=ticket.number, seq=e.seq,
                            prev_seq=prev, payload=_json(doc), status=PENDING, attempts=0,
                            next_attempt_at=now, created_at=now))
        prev = e.seq
    return len(events)


def _json(doc: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(dumps(doc))  # datetimes → ISO 8601 now, so a bad payload fails the transaction


class PushHook:
    """The ticket-service hook: queue this transition for the parent and for child platforms holding it."""

    def __init__(self, platform: Platform, clock: Callable[[], datetime], on_queued: Callable[[], None]) -> None:
        self.platform = platform
        self.clock = clock
        self.on_queued = on_queued

    def peers_for(self, session: AsyncSession, ticket: Ticket, change: Change) -> tuple[list[str], list[str]]:
        """(children that hold the ticket now or lost it in this very transition, the parent if any)."""
        children = []
        for a in ticket.assignments:
            if a.unit_id in self.platform.children and (a.active or a in session.dirty or a in session.new):
                children.append(a.unit_id)
        # Units that lost the ticket in this transition (a return approved, a withdrawal) hear of it too.
        for unit in [change.data.get("returned_by"), *change.data.get("notified_units", [])]:
            if unit in self.platform.children:
                children.append(unit)
        parent = self.platform.parent_id
        return list(dict.fromkeys(children)), [parent] if parent and self.platform.parent_url else []

    async def __call__(self, session: AsyncSession, ticket: Ticket, action: Action, change: Change,
                       seq: int) -> None:
        children, parent = self.peers_for(session, ticket, change)  # before any query: autoflush clears "dirty"
        now = self.clock()
        queued = 0
        for child in children:
            queued += await queue_upto(session, child, ticket, seq, start_at=seq, now=now)
        for peer in parent:
            queued += await queue_upto(session, peer, ticket, seq, now=now)
        if queued:
            from sqlalchemy import event

            event.listen(session.sync_session, "after_commit", lambda _s: self.on_queued(), once=True)


async def queue_call_transfer(session: AsyncSession, peer: str, ticket_number: str, document: dict[str, Any],
                              now: datetime) -> None:
    session.add(PushRow(id=new_id(), peer=peer, kind="call_transfer", ticket_number=ticket_number,
                        payload=_json(document), status=PENDING, attempts=0, next_attempt_at=now, created_at=now))


async def queue_report(session: AsyncSession, peer: str, document: dict[str, Any], now: datetime) -> None:
    session.add(PushRow(id=new_id(), peer=peer, kind="report", payload=_json(document), status=PENDING,
                        attempts=0, next_attempt_at=now, created_at=now))


class PushSender:
    """The outbox's ``deliver``: POST the row's ticket prefix (or report) to the peer, with its token."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession,
                 platform: Platform, token_for: Callable[[str], str | None], timeout: float,
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.http = http
        self.platform = platform
        self.token_for = token_for
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.clock = clock

    async def __call__(self, row: PushRow) -> Outcome:
        base = self.platform.url_of(row.peer)
        token = self.token_for(row.peer)
        if base is None:
            return Outcome.failed(f"no URL for peer {row.peer}: not our parent nor an active child")
        if token is None:
            return Outcome.failed(f"no peer token for {row.peer}")
        if row.kind in SINGLE_MESSAGES:  # one document, no per-ticket order to keep
            status, body = await self._post(f"{base}/api/v1/federation/{SINGLE_MESSAGES[row.kind]}", row.payload,
                                            token)
            return Outcome.done(last_status=status) if status in (200, 201) else \
                Outcome.failed(f"HTTP {status} from {row.peer}: {body[:300]!r}", last_status=status)
        prefix = await self._prefix(row)
        batch = {"origin": self.platform.id, "level": self.platform.level,
                 "backlog": await backlog_of(self.sessions, row.peer), "events": [r.payload for r in prefix]}
        status, body = await self._post(f"{base}/api/v1/federation/events", batch, token)
        if status != 200:
            return Outcome.failed(f"HTTP {status} from {row.peer}: {body[:300]!r}", last_status=status)
        ack = EventAck.model_validate_json(body)
        received = {r.seq for r in ack.results if r.ticket == row.ticket_number and r.result != "gap"}
        others = [r.id for r in prefix if r.seq in received and r.id != row.id]
        if others:  # acknowledged already: no need to send them again
            async with self.sessions() as session, session.begin():
                await session.execute(update(PushRow).where(
                    PushRow.id.in_(others), PushRow.status.in_(WAITING), PushRow.locked_by.is_(None))
                    .values(status=PushRow.DONE_STATUS, completed_at=self.clock(), last_status=status)
                    .execution_options(synchronize_session=False))
        if row.seq in received:
            return Outcome.done(last_status=status)
        gap = next((r for r in ack.results if r.result == "gap"), None)
        return Outcome.failed(f"{row.peer} expects prev_seq {gap.expected_prev_seq if gap else '?'} for ticket "
                              f"{row.ticket_number}", last_status=status)

    async def _prefix(self, row: PushRow) -> list[PushRow]:
        async with self.sessions() as session:
            earlier = await session.scalars(select(PushRow).where(
                PushRow.peer == row.peer, PushRow.ticket_number == row.ticket_number,
                PushRow.seq < row.seq, PushRow.status.in_((*WAITING, DEAD))).order_by(PushRow.seq))
            return [*earlier, row]

    async def _post(self, url: str, document: dict[str, Any], token: str) -> tuple[int | None, str]:
        try:
            async with self.http.post(url, data=dumps(document).encode(), timeout=self.timeout,
                                      headers={"Authorization": f"Bearer {token}",
                                               "Content-Type": "application/json"}) as resp:
                return resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{exc.__class__.__name__}: {exc}"


async def backlog_of(sessions: async_sessionmaker[AsyncSession], peer: str | None = None) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(PushRow).where(PushRow.status.in_(WAITING))
        if peer is not None:
            query = query.where(PushRow.peer == peer)
        return int(await session.scalar(query) or 0)
