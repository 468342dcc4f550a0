"""``setup(app)``: the intake routes, and the reply hook once tickets and webhooks exist."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.appkeys import CLOCK, SETTINGS
from gateway.channels import http
from gateway.channels.keys import CHANNELS, Channels
from gateway.channels.service import ChannelIntake, ChannelReplies, ChannelSecrets
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.duplicates import TicketDuplicates
from gateway.understanding.shared import UNDERSTANDING
from gateway.webhooks.keys import WEBHOOKS


def setup(app: web.Application) -> None:
    http.setup(app)
    app.cleanup_ctx.append(channels_context)


async def channels_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    tickets = app[TICKETS]
    secrets = ChannelSecrets(settings.channels.secrets_dir or settings.data_dir / "secrets" / "channels")
    duplicates = TicketDuplicates(tickets, app.get(UNDERSTANDING))
    app[CHANNELS] = Channels(ChannelIntake(tickets, duplicates, app[CLOCK]), secrets)
    hook = ChannelReplies(app[WEBHOOKS], settings.channels.reply_channels)
    tickets.hooks.append(hook)
    yield
    tickets.hooks.remove(hook)
