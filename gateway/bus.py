"""In-process domain events: one publish, many subscribers (websocket hub, webhooks, statistics).

Subscribers are plain callables that must not block; slow work belongs in the subscriber's own task
fed by a bounded queue. A subscriber that raises is logged and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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

    def subscribe(self, prefix: str, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every event whose kind starts with ``prefix`` ("" = all). Returns an unsubscribe."""
        entry = (prefix, subscriber)
        self._subscribers.append(entry)
        return lambda: self._subscribers.remove(entry)

    def publish(self, kind: str, **data: Any) -> DomainEvent:
        event = DomainEvent(kind, data)
        for prefix, subscriber in list(self._subscribers):
            if kind.startswith(prefix):
                try:
                    subscriber(event)
                except Exception:
                    log.exception("event subscriber failed on %s", kind)
        return event
