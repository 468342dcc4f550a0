"""Hot issues (热点) and early warnings (预警): many citizens reporting the same thing in a short time
(汉滨 Art. 20(4)) raise ONE warning for the cluster — to the supervisor board (bus event
``hotspot.warning`` and the ``hotspot_warnings`` table) and to the responsible unit (signed webhook) —
however many more tickets then join it.

Similarity reuses the speech drafts' sliding-window detector (rapidfuzz token-set ratio over category +
place + matter words). The window is rebuilt from the database at start, so a restart forgets nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.bus import DomainEvent, EventBus
from gateway.reports.models import HotspotWarning
from gateway.reports.topics import cluster_key, matter_words
from gateway.speech.drafts import HotspotDetector
from gateway.speech.extract import Segmenter
from gateway.tickets.models import Ticket
from gateway.tickets.views import Audience, summary_texts, visible_numbers
from gateway.webhooks.service import Webhooks

log = logging.getLogger(__name__)

SUMMARY_WORDS = 8


class HotspotWatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], bus: EventBus, webhooks: Webhooks | None,
                 clock: Callable[[], datetime], *, window: timedelta, threshold: int, similarity: float,
                 segmenter: Segmenter | None = None) -> None:
        self.sessions = sessions
        self.bus = bus
        self.webhooks = webhooks
        self.clock = clock
        self.window = window
        self.threshold = threshold
        self.similarity = similarity
        self.detector = HotspotDetector(window=window, threshold=threshold, similarity=similarity, clock=clock)
        self._segmenter = segmenter
        self._lock = asyncio.Lock()  # one observation at a time: two racing tickets must not make two warnings
        self._tasks: set[asyncio.Task[Any]] = set()

    async def segmenter(self) -> Segmenter:
        if self._segmenter is None:  # loading the dictionary is CPU work: off the event loop
            self._segmenter = await asyncio.get_running_loop().run_in_executor(None, Segmenter)
        return self._segmenter

    async def summary_of(self, members: list[Ticket]) -> str:
        """What the cluster is about, in words: the commonest matter words of its non-confidential tickets
        — never a ticket's raw text (names, numbers, addresses) and never a confidential one's words."""
        seg = await self.segmenter()
        texts = summary_texts(members)

        def count() -> Counter[str]:  # CPU work: off the event loop
            counter: Counter[str] = Counter()
            for text in texts:
                counter.update(matter_words(seg, text, limit=6))
            return counter

        words = await asyncio.get_running_loop().run_in_executor(None, count)
        return "、".join(word for word, _ in words.most_common(SUMMARY_WORDS))

    async def key_of(self, t: Ticket) -> str:
        seg = await self.segmenter()
        words = await asyncio.get_running_loop().run_in_executor(None, matter_words, seg, t.content)
        return cluster_key(t.category, t.location, words)

    # ---- wiring -------------------------------------------------------------------------------------

    def on_event(self, event: DomainEvent) -> None:
        if event.kind == "ticket.created":
            self._spawn(self.observe(event.data["number"]))
        elif event.kind == "ticket.dispatch" and event.data.get("lead_unit"):
            self._spawn(self.assign_unit(event.data["number"], event.data["lead_unit"]))

    def _spawn(self, job: Any) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def warm_up(self) -> None:
        """Feed the window with the tickets of the last ``window`` (after a restart)."""
        since = self.clock() - self.window
        async with self.sessions() as session:
            recent = list(await session.scalars(select(Ticket).where(Ticket.created_at >= since)
                                                .order_by(Ticket.created_at)))
        for t in recent:
            self.detector.observe(t.number, await self.key_of(t))

    # ---- clustering ---------------------------------------------------------------------------------

    async def observe(self, number: str) -> HotspotWarning | None:
        """Count a new ticket; returns the warning it belongs to, if its cluster is hot."""
        async with self.sessions() as session:
            ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
        if ticket is None or ticket.channel == "upper_platform":  # the parent counts its own tickets
            return None
        key = await self.key_of(ticket)
        async with self._lock:
            similar = self.detector.observe(number, key)
            if len(similar) < self.threshold:
                return None
            return await self._raise_or_join(ticket, key, similar)

    async def _raise_or_join(self, ticket: Ticket, key: str, similar: list[str]) -> HotspotWarning:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            open_ = list(await session.scalars(select(HotspotWarning).where(
                HotspotWarning.status.in_(("open", "acknowledged")), HotspotWarning.last_at >= now - self.window)))
            warning = next((w for w in open_ if set(w.tickets) & set(similar)
                            or fuzz.token_set_ratio(w.key, key) >= self.similarity), None)
            if warning is not None:  # the cluster already has its warning: count, don't warn again
                warning.tickets = sorted(set(warning.tickets) | set(similar))
                warning.count, warning.last_at = len(warning.tickets), now
                return warning
            members = list(await session.scalars(select(Ticket).where(Ticket.number.in_(similar))))
            warning = HotspotWarning(
                key=key, category=ticket.category, place=ticket.location, summary=await self.summary_of(members),
                tickets=sorted(similar), count=len(similar), unit_id=_likely_unit(members), status="open",
                first_at=min(t.created_at for t in members), last_at=now, created_at=now)
            session.add(warning)
            await session.flush()
            if warning.unit_id:
                await self._notify_unit(session, warning)
        self.bus.publish("hotspot.warning", id=warning.id, category=warning.category, place=warning.place,
                         count=warning.count, unit=warning.unit_id, summary=warning.summary)
        log.info("hotspot warning %d: %d similar tickets (%s)", warning.id, warning.count, key)
        return warning

    async def assign_unit(self, number: str, unit: str) -> None:
        """A warning raised before any of its tickets was dispatched reaches the unit at the first dispatch."""
        async with self._lock, self.sessions() as session, session.begin():
            for warning in await session.scalars(select(HotspotWarning).where(
                    HotspotWarning.status == "open", HotspotWarning.unit_id.is_(None))):
                if number in warning.tickets:
                    warning.unit_id = unit
                    await self._notify_unit(session, warning)

    async def _notify_unit(self, session: AsyncSession, warning: HotspotWarning) -> None:
        warning.unit_notified_at = self.clock()
        if self.webhooks is None or warning.unit_id is None:
            return
        # The unit hears of its own tickets in the cluster only: the others' numbers are not its business.
        own = await visible_numbers(session, Audience("unit", warning.unit_id), warning.tickets)
        await self.webhooks.enqueue(session, warning.unit_id, "hotspot.warning", {
            "warning": warning.id, "category": warning.category, "place": warning.place,
            "count": warning.count, "summary": warning.summary, "tickets": own,
            "first_at": warning.first_at}, event_id=f"hotspot:{warning.id}")

    async def acknowledge(self, warning_id: int) -> HotspotWarning | None:
        async with self.sessions() as session, session.begin():
            warning = await session.get(HotspotWarning, warning_id)
            if warning is not None:
                warning.status = "acknowledged"
            return warning


def _likely_unit(members: list[Ticket]) -> str | None:
    units = Counter(t.lead_unit_id for t in members if t.lead_unit_id)
    return units.most_common(1)[0][0] if units else None
