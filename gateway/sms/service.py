"""Outbound SMS through the durable outbox, and replies received from the provider.

Other capabilities call ``queue_sms`` (or ``Sms.queue``, which also wakes the worker after the commit)
inside their own transaction. Replies are stored in ``sms_inbound`` and announced on the bus as
``sms.received`` (data: ``inbound_id``, ``from_number``, ``text``); the consumer (the survey module)
marks a reply handled with ``mark_processed`` and can sweep ``unprocessed`` ones after a restart, since
the bus is in-process and forgets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.bus import EventBus
from gateway.db.base import utcnow
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.phone import to_e164
from gateway.sms.models import SmsInbound, SmsMessage, SmsOutboxEntry
from gateway.sms.providers import SmsProvider, SmsSendError
from gateway.webhooks.outbox import DEAD, PENDING, OutboxWorker, Outcome, new_id, replay

MAX_TEXT = 500  # a long SMS is split by the carrier; this only catches mistakes (a whole document)


async def queue_sms(
    session: AsyncSession, to: str, text: str, *, purpose: str, ref: str | None = None,
    region: str = "CN", now: datetime | None = None,
) -> str:
    """Queue one message in the caller's transaction; returns its id (also the provider's message id)."""
    if not text.strip():
        raise InvalidInput("an SMS needs some text", error_id="empty-sms")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"an SMS is at most {MAX_TEXT} characters", error_id="sms-too-long")
    now = now or utcnow()
    message_id = new_id()
    session.add(SmsMessage(id=message_id, to_number=to_e164(to, region), text=text, purpose=purpose, ref=ref,
                           status=PENDING, attempts=0, next_attempt_at=now, created_at=now))
    await session.flush()
    return message_id


class SmsSender:
    """The outbox's ``deliver``: hands the message to the configured provider."""

    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    async def __call__(self, message: SmsMessage) -> Outcome:
        try:
            receipt = await self.provider.send(message.to_number, message.text, message_id=message.id)
        except SmsSendError as exc:
            return Outcome.failed(str(exc), permanent=exc.permanent, last_status=exc.status)
        return Outcome.done(provider_message_id=receipt.provider_message_id, last_status=None)


class Sms:
    """What the application holds (``app[SMS]``)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bus: EventBus, *, region: str = "CN",
                 worker: OutboxWorker | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.bus = bus
        self.region = region
        self.worker = worker
        self.clock = clock

    async def queue(self, session: AsyncSession, to: str, text: str, *, purpose: str,
                    ref: str | None = None) -> str:
        message_id = await queue_sms(session, to, text, purpose=purpose, ref=ref, region=self.region,
                                     now=self.clock())
        if self.worker is not None:
            event.listen(session.sync_session, "after_commit", lambda _s: self._nudge(), once=True)
        return message_id

    def _nudge(self) -> None:
        if self.worker is not None:
            self.worker.nudge()

    # -- outbound -------------------------------------------------------------------------------

    async def messages(self, *, status: str | None = None, purpose: str | None = None, ref: str | None = None,
                       to: str | None = None, limit: int = 100) -> list[SmsMessage]:
        query = select(SmsMessage).order_by(SmsMessage.created_at.desc(), SmsMessage.id)
        if status is not None:
            query = query.where(SmsMessage.status == status)
        if purpose is not None:
            query = query.where(SmsMessage.purpose == purpose)
        if ref is not None:
            query = query.where(SmsMessage.ref == ref)
        if to is not None:
            query = query.where(SmsMessage.to_number == to_e164(to, self.region))
        async with self.sessions() as session:
            return list(await session.scalars(query.limit(limit)))

    async def message(self, message_id: str) -> SmsMessage:
        async with self.sessions() as session:
            found = await session.get(SmsMessage, message_id)
        if found is None:
            raise NotFound(f"no SMS message {message_id}", error_id="sms-message-not-found")
        return found

    async def replay(self, message_id: str, actor: str) -> SmsMessage:
        found = await self.message(message_id)
        if found.status != DEAD:
            raise Conflict(f"message {message_id} is {found.status}; only dead messages are replayed",
                           error_id="sms-message-not-dead")
        async with self.sessions() as session, session.begin():
            await replay(session, SmsMessage, [message_id], actor=actor, now=self.clock())
        self._nudge()
        return await self.message(message_id)

    async def outbox(self, *, to: str | None = None, limit: int = 100) -> list[SmsOutboxEntry]:
        query = select(SmsOutboxEntry).order_by(SmsOutboxEntry.id.desc())
        if to is not None:
            query = query.where(SmsOutboxEntry.to_number == to_e164(to, self.region))
        async with self.sessions() as session:
            return list(await session.scalars(query.limit(limit)))

    # -- inbound --------------------------------------------------------------------------------

    async def receive(self, provider_id: str, from_number: str, text: str, *, to_number: str | None = None,
                      received_at: datetime | None = None) -> tuple[SmsInbound, bool]:
        """Store a reply once per provider id and announce it. Returns (row, newly stored)."""
        now = self.clock()
        row = SmsInbound(provider_id=provider_id, from_number=to_e164(from_number, self.region),
                         to_number=to_number, text=text, received_at=received_at or now, created_at=now)
        existing = await self._inbound_by_provider_id(provider_id)
        if existing is not None:
            return existing, False
        try:
            async with self.sessions() as session, session.begin():
                session.add(row)
        except IntegrityError:  # the provider retried concurrently: the other request stored it
            existing = await self._inbound_by_provider_id(provider_id)
            if existing is None:
                raise
            return existing, False
        self.bus.publish("sms.received", inbound_id=row.id, from_number=row.from_number, text=row.text)
        return row, True

    async def _inbound_by_provider_id(self, provider_id: str) -> SmsInbound | None:
        async with self.sessions() as session:
            return await session.scalar(select(SmsInbound).where(SmsInbound.provider_id == provider_id))

    async def inbound(self, *, from_number: str | None = None, unprocessed: bool = False,
                      limit: int = 100) -> list[SmsInbound]:
        query = select(SmsInbound).order_by(SmsInbound.id.desc())
        if from_number is not None:
            query = query.where(SmsInbound.from_number == to_e164(from_number, self.region))
        if unprocessed:
            query = query.where(SmsInbound.processed_at.is_(None))
        async with self.sessions() as session:
            return list(await session.scalars(query.limit(limit)))

    async def mark_processed(self, session: AsyncSession, inbound_id: int) -> None:
        """The consumer handled this reply (in its own transaction, with its own changes)."""
        await session.execute(update(SmsInbound).where(SmsInbound.id == inbound_id)
                              .values(processed_at=self.clock()))
