from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.channels.service import ChannelIntake, ChannelSecrets


@dataclass
class Channels:
    service: ChannelIntake
    secrets: ChannelSecrets


CHANNELS = web.AppKey("channels", Channels)
