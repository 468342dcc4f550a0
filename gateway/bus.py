"""In-process domain events: one publish, many subscribers (websocket hub, webhooks, statistics).

Subscribers are plain callables that must not block; slow work belongs in the subscriber's own task
fed by a bounded queue. A subscriber that raises is logged and does not stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
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


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []
        # Per bus (not a module global): the task holding back its events, and the events held.
        self._held: ContextVar[tuple[asyncio.Task[object] | None, list[DomainEvent]] | None] = ContextVar(
            f"bus_held_{id(self)}", default=None)

    def subscribe(self, prefix: str, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every event whose kind starts with ``prefix`` ("" = all). Returns an unsubscribe."""
        entry = (prefix, subscriber)
        self._subscribers.append(entry)
        return lambda: self._subscribers.remove(entry)

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

    def deliver(self, events: list[DomainEvent]) -> None:
        for event in events:
            self._dispatch(event)

    def publish(self, kind: str, **data: Any) -> DomainEvent:
        event = DomainEvent(kind, data)
        held = self._held.get()
        if held is not None and held[0] is _current_task():
            held[1].append(event)
        else:
            self._dispatch(event)
        return event

    def _dispatch(self, event: DomainEvent) -> None:
        kind = event.kind
        for prefix, subscriber in list(self._subscribers):
            if kind.startswith(prefix):
                try:
                    subscriber(event)
                except Exception:
                    log.exception("event subscriber failed on %s", kind)


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # published from plain synchronous code with no loop running
        return None
