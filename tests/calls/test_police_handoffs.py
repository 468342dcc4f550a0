"""12345→110 handoff records reach the 110 platform through the webhook outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.calls.handoffs import enqueue_handoff, sweep_police_handoffs
from gateway.calls.models import PoliceHandoff
from gateway.db import session_factory, utcnow
from gateway.webhooks.models import WebhookDelivery, WebhookEndpoint
from gateway.webhooks.secrets import SecretStore
from gateway.webhooks.service import Webhooks


async def test_a_record_is_queued_once_for_110_and_stamped_when_110_acknowledged(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    webhooks = Webhooks(sessions, SecretStore(tmp_path))
    async with sessions.begin() as session:
        row = PoliceHandoff(
            direction="to_110", call_id="1795346000.10", record={"summary": "斗殴", "location": "幸福路"}
        )
        session.add(row)
        await session.flush()
        # No 110 endpoint yet: nothing to queue, the record waits.
        assert await enqueue_handoff(session, webhooks, row) == []
    async with sessions.begin() as session:
        session.add(
            WebhookEndpoint(
                id="police-110", owner="police-110", url="http://110.example/hooks", events=["handoff.police"]
            )
        )

    assert await sweep_police_handoffs(sessions, lambda: webhooks) == {"delivered": 0, "queued": 1}
    assert await sweep_police_handoffs(sessions, lambda: webhooks) == {"delivered": 0, "queued": 0}
    async with sessions.begin() as session:
        delivery = (await session.scalars(select(WebhookDelivery))).one()
        assert (delivery.event_kind, delivery.payload["id"], delivery.payload["summary"]) == (
            "handoff.police",
            row.id,
            "斗殴",
        )
        delivery.status, delivery.completed_at = "delivered", utcnow()
        acknowledged = delivery.completed_at

    assert await sweep_police_handoffs(sessions, lambda: webhooks) == {"delivered": 1, "queued": 0}
    async with sessions() as session:
        stored = await session.get(PoliceHandoff, row.id)
        assert stored is not None and stored.delivered_at == acknowledged
