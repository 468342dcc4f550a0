"""The websocket hub: every console event gets the next sequence number, goes into a bounded ring (for
pages that reconnect) and into each connected page's own bounded queue.

The bus calls ``on_event`` synchronously, so nothing here waits: a page whose queue is full is cut off
(close code ``SLOW_CONSUMER``) and catches up from the ring when it reconnects; the bus, and every other
page, never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.bus import DomainEvent
from gateway.consoles.audience import FORWARDED, Audience, Router, Viewer
from gateway.consoles.desk import CallDesk

log = logging.getLogger(__name__)

SLOW_CONSUMER = 4008  # close code: the page read too slowly and missed events; reconnect to catch up
ALERTS_KEPT = 50


@dataclass(frozen=True, slots=True)
class Envelope:
    seq: int
    kind: str
    at: datetime
    data: dict[str, Any]
    audience: Audience

    def message_for(self, viewer: Viewer) -> dict[str, Any] | None:
        data = viewer.sees(self.audience, self.data)
        if data is None:
            return None
        message = {"type": "event", "seq": self.seq, "kind": self.kind, "at": self.at, "data": data}
        if data is not self.data:
            message["board"] = True  # the redacted board form (a queue count, not the viewer's own call)
        return message


class Subscription:
    """One page's place in the hub: a bounded queue the page's writer task drains."""

    def __init__(self, viewer: Viewer, size: int) -> None:
        self.viewer = viewer
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=size)
        self.dropped = asyncio.Event()  # set when the queue overflowed: the page must reconnect

    def offer(self, envelope: Envelope) -> None:
        if self.dropped.is_set():
            return
        message = envelope.message_for(self.viewer)
        if message is None:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped.set()


class EventHub:
    def __init__(self, *, ring_size: int = 5000, queue_size: int = 1000) -> None:
        # A new epoch per process: sequence numbers of another run mean nothing here.
        self.epoch = secrets.token_hex(6)
        self.seq = 0
        self.ring: deque[Envelope] = deque(maxlen=ring_size)
        self.queue_size = queue_size
        self.router = Router()
        self.desk = CallDesk()
        self.alerts: deque[dict[str, Any]] = deque(maxlen=ALERTS_KEPT)
        self.subscriptions: set[Subscription] = set()
        self.sockets: set[Any] = set()  # open websockets, closed when the gateway stops

    # ---- in: the bus ----------------------------------------------------------------------------

    def on_event(self, event: DomainEvent) -> None:
        if not event.kind.startswith(FORWARDED):
            return
        self.desk.apply(event.kind, event.data)
        audience = self.router.route(event.kind, event.data)
        self.seq += 1
        envelope = Envelope(self.seq, event.kind, event.at, event.data, audience)
        self.ring.append(envelope)
        if event.kind == "hotspot.warning":
            self.alerts.appendleft({"seq": self.seq, "at": event.at, **event.data})
        for subscription in list(self.subscriptions):
            subscription.offer(envelope)

    def learn_agents(self, agents: Iterable[dict[str, Any]]) -> None:
        for agent in agents:
            self.router.learn_agent(agent.get("agent_id"), agent.get("interface"))

    # ---- out: pages -----------------------------------------------------------------------------

    def subscribe(self, viewer: Viewer, epoch: str | None, last_seq: int | None
                  ) -> tuple[Subscription, list[dict[str, Any]] | None]:
        """Register a page; returns its subscription and what it missed since ``last_seq`` (None: it
        cannot catch up from the ring and must refetch its state). Synchronous, so no event can slip
        between the replay and the live queue."""
        subscription = Subscription(viewer, self.queue_size)
        self.subscriptions.add(subscription)
        return subscription, self.missed(viewer, epoch, last_seq)

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)

    def missed(self, viewer: Viewer, epoch: str | None, last_seq: int | None) -> list[dict[str, Any]] | None:
        if last_seq is None:
            return []  # a fresh page loads its state through the API
        if epoch != self.epoch or last_seq > self.seq:
            return None  # the gateway restarted since: its numbers start again
        oldest = self.ring[0].seq if self.ring else self.seq + 1
        if last_seq < oldest - 1:
            return None  # some of what it missed has left the ring
        replay = (envelope.message_for(viewer) for envelope in self.ring if envelope.seq > last_seq)
        return [message for message in replay if message is not None]
