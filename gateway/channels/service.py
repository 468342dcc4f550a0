"""Intake from the other channels: one ticket per channel message, the channel's own fields kept,
并案 candidates surfaced (merging stays the agent's decision: two citizens may well report one matter
separately and both deserve an answer), and the reviewed reply sent back through the channel's adapter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.channels.models import ChannelMessage
from gateway.errors import Conflict
from gateway.tickets.duplicates import TicketDuplicates
from gateway.tickets.lifecycle import Action, Actor
from gateway.tickets.models import Ticket
from gateway.tickets.schemas import ActorRef, Channel, NewTicket
from gateway.tickets.service import Change, TicketService
from gateway.webhooks.secrets import SecretStore
from gateway.webhooks.service import Webhooks

# The channels that have a signed intake endpoint (phone, SMS, 110 and upper platforms come in elsewhere).
INTAKE_CHANNELS = (Channel.WEB, Channel.WECHAT, Channel.MAIL, Channel.APP, Channel.NATIONAL_PLATFORM,
                   Channel.LEADER_BOARD)


class ChannelSecrets(SecretStore):
    """Per-channel HMAC secrets: env HOTLINE_CHANNEL_SECRET__<KIND> or a file named after the kind."""

    @staticmethod
    def env_name(endpoint_id: str) -> str:
        return "HOTLINE_CHANNEL_SECRET__" + endpoint_id.upper().replace("-", "_")


class ChannelTicket(NewTicket):
    """What a channel adapter posts. ``channel`` comes from the URL; the rest is a ticket plus the channel's
    message id (intake is idempotent on it), its own fields and where the reply goes."""

    message_id: str = Field(min_length=1, max_length=128, description="the channel's id for this message")
    fields: dict[str, Any] = Field(default_factory=dict, description="channel-specific: openid, mailbox, "
                                                                      "board post id, national case number …")
    reply_to: str | None = Field(default=None, max_length=300, description="address the reply goes back to")


def candidates_of(found: list[Any], own: str) -> list[dict[str, Any]]:
    return [{"ticket": c.ticket_id, "reason": c.reason, "score": round(c.score, 1), "summary": c.summary,
             "reasons": list(c.reasons)}
            for c in found if c.ticket_id != own]


class ChannelIntake:
    def __init__(self, tickets: TicketService, duplicates: TicketDuplicates,
                 clock: Callable[[], datetime]) -> None:
        self.tickets = tickets
        self.sessions = tickets.sessions
        self.duplicates = duplicates
        self.clock = clock

    async def receive(self, channel: Channel, body: ChannelTicket) -> tuple[ChannelMessage, bool]:
        """Returns the message (with its ticket) and whether it was new. A repeated message id returns
        the first one's ticket: adapters retry, citizens don't get two tickets."""
        async with self.sessions() as session:
            found = await self._message(session, channel, body.message_id)
        if found is not None and found.ticket_number:
            return found, False
        if found is None:  # claim the message id first, so two concurrent deliveries make one ticket
            try:
                async with self.sessions() as session, session.begin():
                    session.add(ChannelMessage(channel=channel.value, message_id=body.message_id, ticket_number="",
                                               fields=body.fields, reply_to=body.reply_to, received_at=self.clock()))
            except IntegrityError:
                raise Conflict("this message is being taken in right now; retry shortly",
                               error_id="channel-message-in-progress") from None
        data = NewTicket(**{**body.model_dump(exclude={"message_id", "fields", "reply_to", "channel"}),
                            "channel": channel})
        ticket = await self.tickets.create(data, ActorRef(Actor.SYSTEM, f"channel:{channel.value}"))
        candidates = candidates_of(
            await self.duplicates.similar(ticket.caller_number, ticket.location, ticket.content), ticket.number)
        async with self.sessions() as session, session.begin():
            row = await self._message(session, channel, body.message_id)
            assert row is not None
            row.ticket_number, row.candidates = ticket.number, candidates
        if candidates:
            self.tickets.bus.publish("ticket.duplicate_candidates", number=ticket.number, channel=channel.value,
                                     candidates=[c["ticket"] for c in candidates])
        return row, True

    async def details(self, number: str) -> dict[str, Any]:
        """The channel's fields for a ticket (any channel) and its 并案 candidates as of now."""
        ticket = await self.tickets.get(number)
        async with self.sessions() as session:
            message = await session.scalar(select(ChannelMessage).where(ChannelMessage.ticket_number == number))
        found = await self.duplicates.similar(ticket.caller_number, ticket.location, ticket.content)
        return {"ticket": number, "channel": ticket.channel,
                "message": None if message is None else {
                    "message_id": message.message_id, "fields": message.fields, "reply_to": message.reply_to,
                    "received_at": message.received_at, "candidates_at_intake": message.candidates},
                "candidates": candidates_of(found, number)}

    @staticmethod
    async def _message(session: AsyncSession, channel: Channel, message_id: str) -> ChannelMessage | None:
        return await session.scalar(select(ChannelMessage).where(
            ChannelMessage.channel == channel.value, ChannelMessage.message_id == message_id))


REPLY_ACTIONS = {Action.APPROVE_REPLY, Action.RESOLVE_ON_CALL}


class ChannelReplies:
    """Ticket hook: a reviewed reply (or an on-the-spot answer) goes back on the channel it came from,
    as a signed webhook to the channel adapter (owner ``channel-<kind>``), in the same transaction."""

    def __init__(self, webhooks: Webhooks, reply_channels: list[str]) -> None:
        self.webhooks = webhooks
        self.reply_channels = set(reply_channels)

    async def __call__(self, session: AsyncSession, ticket: Ticket, action: Action, change: Change,
                       seq: int) -> None:
        if action not in REPLY_ACTIONS or ticket.channel not in self.reply_channels:
            return
        message = await session.scalar(select(ChannelMessage).where(ChannelMessage.ticket_number == ticket.number))
        if message is None:
            return
        await self.webhooks.enqueue(session, f"channel-{ticket.channel}", "channel.reply", {
            "channel": ticket.channel, "message_id": message.message_id, "reply_to": message.reply_to,
            "fields": message.fields, "ticket": ticket.number, "reply": ticket.reply_text,
            "attachments": ticket.reply_attachments or [], "resolved_on_call": ticket.resolved_on_call,
        }, event_id=f"{ticket.number}:{seq}")
