"""Outbound webhooks: enqueue in the caller's transaction, sign and send from the worker, manage endpoints.

Other capabilities call ``enqueue`` (or ``Webhooks.enqueue``, which also wakes the worker after the
commit) with the session of the transaction that changed the ticket, so the change and its webhook
commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.errors import Conflict, NotFound, Unprocessable
from gateway.http.jsonio import dumps
from gateway.webhooks.models import WebhookDelivery, WebhookEndpoint
from gateway.webhooks.outbox import DEAD, PENDING, OutboxWorker, Outcome, new_id, replay
from gateway.webhooks.secrets import SecretStore, check_endpoint_id
from gateway.webhooks.signing import ATTEMPT_HEADER, DELIVERY_HEADER, EVENT_HEADER, signature_headers

USER_AGENT = "hotline12345-webhooks/1"


async def enqueue(
    session: AsyncSession,
    owner: str,
    kind: str,
    payload: dict[str, Any],
    *,
    event_id: str | None = None,
    stream: str | None = None,
    seq: int | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Queue ``kind`` for every active endpoint of ``owner`` that subscribes to it; returns delivery ids.

    Runs inside the caller's transaction and commits with it. With ``event_id``, an event already queued
    for an endpoint is not queued again. With ``stream`` and ``seq`` (a ticket's number and its event
    sequence number, assigned in this same transaction), each endpoint gets the stream's events one at a
    time in ``seq`` order, and the envelope carries both.
    """
    if (stream is None) != (seq is None):
        raise ValueError("stream and seq go together")
    now = now or utcnow()
    # Normalise through the API's JSON encoder now (datetimes → ISO 8601), so a payload that cannot be
    # sent fails the caller's transaction rather than the delivery.
    data = json.loads(dumps(payload))
    endpoints = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.owner == owner, WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.id)
    )
    ids: list[str] = []
    for endpoint in endpoints:
        if not endpoint.accepts(kind):
            continue
        if event_id is not None and await session.scalar(
            select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id,
                                             WebhookDelivery.event_id == event_id)
        ):
            continue
        delivery_id = new_id()
        session.add(WebhookDelivery(
            id=delivery_id, endpoint_id=endpoint.id, event_kind=kind, event_id=event_id or delivery_id,
            payload=data, status=PENDING, attempts=0, next_attempt_at=now, created_at=now,
            stream=stream, stream_seq=seq,
        ))
        ids.append(delivery_id)
    await session.flush()
    return ids


def render_body(delivery: WebhookDelivery, owner: str) -> bytes:
    """The JSON document a receiver gets: the same bytes on every attempt of a delivery."""
    envelope: dict[str, Any] = {
        "delivery_id": delivery.id,
        "event": delivery.event_kind,
        "event_id": delivery.event_id,
        "owner": owner,
        "created_at": delivery.created_at,
        "data": delivery.payload,
    }
    if delivery.stream is not None:  # the receiver's order: seq rises by one per event of the ticket
        envelope.update(ticket=delivery.stream, seq=delivery.stream_seq)
    return dumps(envelope).encode("utf-8")


class WebhookSender:
    """The outbox's ``deliver``: one signed POST; 2xx means delivered, anything else is retried."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession,
                 secrets: SecretStore, timeout: float) -> None:
        self.sessions = sessions
        self.http = http
        self.secrets = secrets
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def __call__(self, delivery: WebhookDelivery) -> Outcome:
        async with self.sessions() as session:
            endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is None or not endpoint.active:
            # Dead at once, visible; replayable after the endpoint is enabled again.
            return Outcome.failed(f"endpoint {delivery.endpoint_id} is disabled", permanent=True)
        secret = self.secrets.get(endpoint.id)
        if secret is None:
            return Outcome.failed(f"no signing secret for endpoint {endpoint.id} "
                                  f"(set {SecretStore.env_name(endpoint.id)} or a file in the secrets directory)")
        body = render_body(delivery, endpoint.owner)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: delivery.event_kind,
            DELIVERY_HEADER: delivery.id,
            ATTEMPT_HEADER: str(delivery.attempts + 1),
            # Signed with the wall clock, whatever clock schedules the retries: the receiver checks it
            # against its own.
            **signature_headers(secret, body),
        }
        try:
            async with self.http.post(endpoint.url, data=body, headers=headers, timeout=self.timeout,
                                      allow_redirects=False) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Outcome.failed(f"{exc.__class__.__name__}: {exc}".rstrip(": "), last_status=None)
        if 200 <= status < 300:
            return Outcome.done(last_status=status)
        return Outcome.failed(f"HTTP {status} from receiver", last_status=status)


class Webhooks:
    """What the application holds (``app[WEBHOOKS]``): enqueue that wakes the worker, and admin operations."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], secrets: SecretStore,
                 worker: OutboxWorker | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.secrets = secrets
        self.worker = worker
        self.clock = clock

    async def enqueue(self, session: AsyncSession, owner: str, kind: str, payload: dict[str, Any],
                      *, event_id: str | None = None, stream: str | None = None,
                      seq: int | None = None) -> list[str]:
        ids = await enqueue(session, owner, kind, payload, event_id=event_id, stream=stream, seq=seq,
                            now=self.clock())
        if ids and self.worker is not None:
            event.listen(session.sync_session, "after_commit", lambda _s: self._nudge(), once=True)
        return ids

    def _nudge(self) -> None:
        if self.worker is not None:
            self.worker.nudge()

    # -- endpoints ------------------------------------------------------------------------------

    async def endpoints(self, owner: str | None = None) -> list[WebhookEndpoint]:
        async with self.sessions() as session:
            query = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
            if owner is not None:
                query = query.where(WebhookEndpoint.owner == owner)
            return list(await session.scalars(query))

    async def create_endpoint(self, endpoint_id: str, owner: str, url: str, events: list[str],
                              description: str | None = None, generate_secret: bool = False
                              ) -> tuple[WebhookEndpoint, str | None]:
        """Add a subscriber. Returns the endpoint and, when generated, its new secret (shown only once)."""
        check_endpoint_id(endpoint_id)
        async with self.sessions() as session, session.begin():
            if await session.get(WebhookEndpoint, endpoint_id) is not None:
                raise Conflict(f"endpoint {endpoint_id} exists", error_id="webhook-endpoint-exists")
            secret = self.secrets.generate(endpoint_id) if generate_secret else None
            if secret is None and self.secrets.get(endpoint_id) is None:
                raise Unprocessable(
                    f"no signing secret for endpoint {endpoint_id}: set {SecretStore.env_name(endpoint_id)}, "
                    f"put a file named {endpoint_id} in {self.secrets.directory}, or ask for generate_secret",
                    error_id="webhook-secret-missing")
            now = self.clock()
            endpoint = WebhookEndpoint(id=endpoint_id, owner=owner, url=url, events=events or ["*"],
                                       description=description, active=True, created_at=now, updated_at=now)
            session.add(endpoint)
        return endpoint, secret

    async def update_endpoint(self, endpoint_id: str, **changes: Any) -> WebhookEndpoint:
        async with self.sessions() as session, session.begin():
            endpoint = await self._endpoint(session, endpoint_id)
            for name, value in changes.items():
                if value is not None:
                    setattr(endpoint, name, value)
            endpoint.updated_at = self.clock()
        return endpoint

    # -- deliveries -----------------------------------------------------------------------------

    async def deliveries(self, *, status: str | None = None, endpoint_id: str | None = None,
                         limit: int = 100) -> list[WebhookDelivery]:
        async with self.sessions() as session:
            query = select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
            if status is not None:
                query = query.where(WebhookDelivery.status == status)
            if endpoint_id is not None:
                query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
            return list(await session.scalars(query.limit(limit)))

    async def delivery(self, delivery_id: str) -> WebhookDelivery:
        async with self.sessions() as session:
            found = await session.get(WebhookDelivery, delivery_id)
        if found is None:
            raise NotFound(f"no webhook delivery {delivery_id}", error_id="webhook-delivery-not-found")
        return found

    async def replay_delivery(self, delivery_id: str, actor: str) -> WebhookDelivery:
        found = await self.delivery(delivery_id)
        if found.status != DEAD:
            raise Conflict(f"delivery {delivery_id} is {found.status}; only dead deliveries are replayed",
                           error_id="webhook-delivery-not-dead")
        async with self.sessions() as session, session.begin():
            await replay(session, WebhookDelivery, [delivery_id], actor=actor, now=self.clock())
        self._nudge()
        return await self.delivery(delivery_id)

    async def replay_endpoint(self, endpoint_id: str, actor: str) -> list[str]:
        """Replay every dead delivery of an endpoint; returns their ids."""
        async with self.sessions() as session, session.begin():
            await self._endpoint(session, endpoint_id)
            dead = await session.scalars(select(WebhookDelivery.id).where(
                WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == DEAD))
            ids = await replay(session, WebhookDelivery, list(dead), actor=actor, now=self.clock())
        if ids:
            self._nudge()
        return ids

    @staticmethod
    async def _endpoint(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}", error_id="webhook-endpoint-not-found")
        return endpoint
