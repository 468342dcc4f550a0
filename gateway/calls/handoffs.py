"""12345→110 handoff records travel to the 110 platform through the webhook outbox.

The record is queued for the endpoints of owner ``police-110`` in the same transaction that stores it, so
a stored record is never lost on the way. A timer sweep then (a) stamps ``delivered_at`` once 110 has
acknowledged the delivery and (b) queues records no endpoint took when they were made (the 110 endpoint
was configured later): the webhook event id makes queuing the same record twice a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.calls.models import PoliceHandoff
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.service import Webhooks

log = logging.getLogger(__name__)

POLICE_OWNER = "police-110"
HANDOFF_EVENT = "handoff.police"
SWEEP_BATCH = 200

WebhooksLookup = Callable[[], Webhooks | None]


def webhook_event_id(handoff_id: int) -> str:
    return f"police-handoff:{handoff_id}"


def handoff_payload(row: PoliceHandoff) -> dict[str, Any]:
    return {"id": row.id, "direction": row.direction, **row.record}


async def enqueue_handoff(session: AsyncSession, webhooks: Webhooks | None, row: PoliceHandoff) -> list[str]:
    """Queue the record for 110 inside the caller's transaction (``row`` must be flushed: it needs its id)."""
    if webhooks is None:
        return []
    return await webhooks.enqueue(
        session, POLICE_OWNER, HANDOFF_EVENT, handoff_payload(row), event_id=webhook_event_id(row.id)
    )


async def sweep_police_handoffs(
    sessions: async_sessionmaker[AsyncSession], webhooks: WebhooksLookup
) -> dict[str, int]:
    """Timer job: stamp delivered records, queue records that were never queued. Returns the counts."""
    delivered = queued = 0
    async with sessions.begin() as session:
        rows = (
            await session.scalars(
                select(PoliceHandoff)
                .where(PoliceHandoff.direction == "to_110", PoliceHandoff.delivered_at.is_(None))
                .order_by(PoliceHandoff.id)
                .limit(SWEEP_BATCH)
            )
        ).all()
        for row in rows:
            done_at = await session.scalar(
                select(func.min(WebhookDelivery.completed_at)).where(
                    WebhookDelivery.event_id == webhook_event_id(row.id),
                    WebhookDelivery.status == WebhookDelivery.DONE_STATUS,
                )
            )
            if done_at is not None:
                row.delivered_at = done_at
                delivered += 1
            elif await enqueue_handoff(session, webhooks(), row):
                queued += 1
    if queued:
        log.info("queued %d 12345→110 handoff record(s) for %s", queued, POLICE_OWNER)
    return {"delivered": delivered, "queued": queued}
