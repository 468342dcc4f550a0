"""Quality inspection of every finished call (智能质检): see README.md."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web


def setup(app: web.Application) -> None:
    from gateway.quality import http

    http.setup(app)
    app.cleanup_ctx.append(quality_context)


async def quality_context(app: web.Application) -> AsyncIterator[None]:
    from gateway.appkeys import BUS, CLOCK, SESSIONS, SETTINGS, SWITCHED_OFF
    from gateway.quality.keys import QUALITY
    from gateway.quality.mentions import MentionFinder
    from gateway.quality.rules import Rules
    from gateway.quality.service import QualityService
    from gateway.timers import TIMERS
    from gateway.understanding.shared import UNDERSTANDING

    settings = app[SETTINGS]
    conf = settings.quality
    shared = app[UNDERSTANDING]

    def tools() -> tuple[object, object]:  # blocking, from the inspector's worker thread
        understander = shared.load()
        return understander.tagger, understander.places

    mentions = MentionFinder(settings.timezone, tools=tools)
    service = app[QUALITY] = QualityService(app[SESSIONS], Rules.load(conf.rules_file), mentions, app[CLOCK],
                                            batch=conf.batch)
    if not conf.enabled:
        app[SWITCHED_OFF]["quality"] = "quality.enabled = false"
        yield
        return
    timers = app[TIMERS]
    timers.add("qa-inspect", service.sweep, leader_only=True)  # one inspector per Asterisk
    unsubscribe = app[BUS].subscribe("transcript.ready", lambda _e: timers.nudge())
    yield
    unsubscribe()
