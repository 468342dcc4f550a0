"""In-process domain events: one publish, many subscribers (websocket hub, webhooks, statistics).

Subscribers are plain callables that must not block; slow work belongs in the subscriber's own task
fed by a bounded queue. A subscriber that raises is logged and does not stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.db.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DomainEvent:
    kind: str  # e.g. "ticket.dispatched", "call.connected", "draft.updated"
    data: dict[str, Any]
    at: datetime = field(default_factory=utcnow)


Subscriber = Callable[[DomainEvent], None]
# Writes some of a request's held events into that request's own transaction (the session given) and returns
# those it wrote: an outbox, so they become visible elsewhere exactly when the request commits.
OutboxWriter = Callable[[Any, list[DomainEvent]], Awaitable[Collection[DomainEvent]]]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []
        self._outboxes: list[tuple[OutboxWriter, Subscriber]] = []
        # Per bus (not a module global): the task holding back its events, and the events held.
        self._held: ContextVar[tuple[asyncio.Task[object] | None, list[DomainEvent]] | None] = ContextVar(
            f"bus_held_{id(self)}", default=None)

    def subscribe(self, prefix: str, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every event whose kind starts with ``prefix`` ("" = all). Returns an unsubscribe."""
        entry = (prefix, subscriber)
        self._subscribers.append(entry)
        return lambda: self._subscribers.remove(entry)

    def add_outbox(self, write: OutboxWriter, subscriber: Subscriber) -> Callable[[], None]:
        """``write`` stores a request's events in the request's transaction (``store_held``); ``subscriber``
        (subscribed to everything here) then gets only the events that went no such way: those published
        outside a request transaction. Returns an unsubscribe."""
        entry = (write, subscriber)
        self._outboxes.append(entry)
        unsubscribe = self.subscribe("", subscriber)

        def remove() -> None:
            self._outboxes.remove(entry)
            unsubscribe()
        return remove

    async def store_held(self, session: Any, events: list[DomainEvent]) -> set[int]:
        """Inside the request's transaction, before its commit: let every outbox write its events. Returns
        the ids of the events written (pass them to ``deliver``)."""
        stored: set[int] = set()
        for write, _subscriber in list(self._outboxes):
            stored.update(id(event) for event in await write(session, events))
        return stored

    @contextlib.contextmanager
    def holding(self) -> Iterator[list[DomainEvent]]:
        """Keep back what the current task publishes inside the block (a request whose writes are not yet
        committed must not announce them: a subscriber would look for rows that may never exist). The
        caller passes the list to ``deliver`` after the commit, or drops it after a rollback."""
        held: list[DomainEvent] = []
        token = self._held.set((_current_task(), held))
        try:
            yield held
        finally:
            self._held.reset(token)

    def deliver(self, events: list[DomainEvent], stored: Collection[int] = ()) -> None:
        """Publish events held until their commit; those in ``stored`` (ids) skip the outboxes' own
        subscribers, which already have them in the committed transaction."""
        skip = {subscriber for _write, subscriber in self._outboxes} if stored else set()
        for event in events:
            self._dispatch(event, skip if id(event) in stored else ())

    def publish(self, kind: str, **data: Any) -> DomainEvent:
        event = DomainEvent(kind, data)
        held = self._held.get()
        if held is not None and held[0] is _current_task():
            held[1].append(event)
        else:
            self._dispatch(event)
        return event

    def _dispatch(self, event: DomainEvent, skip: Collection[Subscriber] = ()) -> None:
        kind = event.kind
        for prefix, subscriber in list(self._subscribers):
            if kind.startswith(prefix) and subscriber not in skip:
                try:
                    subscriber(event)
                except Exception:
                    log.exception("event subscriber failed on %s", kind)


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # published from plain synchronous code with no loop running
        return None
