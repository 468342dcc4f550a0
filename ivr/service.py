"""The FastAGI server of the voice entry, wired from the gateway's shared objects.

Routes (``AGI(agi://${HOTLINE_AGI}/<script>)`` in asterisk_conf/extensions.conf):
``voice-entry`` (hotline-entry) and ``survey`` (hotline-survey; ``voice-survey`` is an alias).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from aiohttp import web

from gateway.appkeys import BUS, CALENDAR, CLOCK, READINESS, SESSIONS
from gateway.bus import EventBus
from gateway.config import IvrSettings, Settings
from gateway.errors import ConfigError
from gateway.listening import bind_errors
from gateway.policies import PolicyPack
from gateway.tickets.appkeys import TICKETS
from gateway.workcalendar import WorkCalendar
from ivr.agi import AgiChannel, AgiServer
from ivr.emergency import EmergencyWords
from ivr.entry import voice_entry
from ivr.flow import Flow, load_flow
from ivr.machine import IvrDeps
from ivr.ports import (
    DescriptionText,
    NoDescriptionText,
    QueueStatus,
    Speaker,
    SurveyAnswers,
    UnknownQueueStatus,
)
from ivr.prompts import (
    EspeakSpeaker,
    PromptCatalogue,
    fixed_ids,
    greeting_over_budget,
    load_texts,
    render_all,
)
from ivr.recent import RecentCalls
from ivr.retry import RetryQueue
from ivr.store import IvrStore
from ivr.survey import voice_survey

log = logging.getLogger(__name__)

# Replaceable by other capabilities before start-up (AMI queue state, live ASR text).
QUEUE_STATUS = web.AppKey("ivr_queue_status", QueueStatus)
DESCRIPTION_TEXT = web.AppKey("ivr_description_text", DescriptionText)


def emergency_words(flow: Flow, pack: PolicyPack) -> EmergencyWords:
    pack_words = pack.emergency_linkage.words if flow.emergency.use_pack_words else {}
    return EmergencyWords(pack_words, flow.emergency.words)


def required_prompts(flow: Flow, pack: PolicyPack) -> set[str]:
    services = sorted(set(pack.emergency_linkage.words) | set(flow.emergency.words)
                      | set(flow.emergency.keys.values()))
    return flow.prompt_ids(services) | fixed_ids()


class IvrService:
    """The server plus what it needs; ``start`` fails (ConfigError) before listening if a prompt is missing."""

    def __init__(self, deps: IvrDeps, *, host: str, port: int) -> None:
        self.deps = deps
        self.server = AgiServer(self.routes(), host=host, port=port)

    def routes(self) -> dict[str, Callable[[AgiChannel], Awaitable[None]]]:
        survey = partial(voice_survey, deps=self.deps)
        return {"voice-entry": partial(voice_entry, deps=self.deps), "survey": survey, "voice-survey": survey}

    async def start(self, required: set[str]) -> None:
        self.deps.prompts.require(required)
        await self.load_recent_calls()
        with bind_errors("the FastAGI voice entry", self.server.host, self.server.port, "ivr.port",
                         " (and the dialplan's HOTLINE_AGI to match), or set ivr.enabled = false"):
            await self.server.start()

    async def load_recent_calls(self) -> None:
        """Seed the repeat-caller index from the table; without it the rule starts from zero."""
        deps = self.deps
        since = deps.clock() - deps.recent_calls.window
        try:
            deps.recent_calls.load(await deps.store.recent_calls(since))
        except Exception as exc:  # a store away at start-up must not keep the voice entry down
            log.warning("repeat-caller index starts empty: %s", exc)

    async def stop(self) -> None:
        await self.server.stop()
        await self.deps.retry.drain()
        await self.deps.store.close()

    async def probe(self) -> str | None:
        if self.server._server is None or not self.server._server.is_serving():
            return "FastAGI server not listening"
        return None


def build_deps(*, flow: Flow, pack: PolicyPack, prompts: PromptCatalogue, store: IvrStore,
               bus: EventBus, clock: Callable[..., object], calendar: WorkCalendar | None = None,
               queue_status: QueueStatus | None = None, description_text: DescriptionText | None = None,
               speaker: Speaker | None = None, surveys: SurveyAnswers | None = None,
               retry: RetryQueue | None = None) -> IvrDeps:
    return IvrDeps(
        flow=flow, prompts=prompts, store=store, retry=retry or RetryQueue(),
        queue_status=queue_status or UnknownQueueStatus(),
        description_text=description_text or NoDescriptionText(),
        speaker=speaker or EspeakSpeaker(prompts), surveys=surveys,
        emergency_words=emergency_words(flow, pack),
        emergency_category=pack.emergency_linkage.ticket_category.value,
        calendar=calendar, bus=bus, clock=clock,  # type: ignore[arg-type]
        recent_calls=RecentCalls(timedelta(minutes=flow.repeat.window_minutes), clock),  # type: ignore[arg-type]
    )


def sounds_dir(settings: IvrSettings, data_dir: Path) -> Path:
    return settings.sounds_dir or data_dir / "ivr" / "sounds" / "zh"


async def prepare_sounds(settings: IvrSettings, data_dir: Path) -> PromptCatalogue:
    """Development convenience: with no sounds_dir configured, missing prompts are rendered (in a
    thread) into the data directory. A configured sounds_dir is only checked, never written."""
    directory = sounds_dir(settings, data_dir)
    if settings.sounds_dir is None:
        try:
            rendered = await asyncio.to_thread(render_all, load_texts(), directory)
        except ConfigError as exc:
            log.warning("IVR prompts not rendered: %s", exc.message)
        else:
            if rendered:
                log.info("rendered %d development prompts into %s", len(rendered), directory)
    return PromptCatalogue(directory, asterisk_dir=settings.asterisk_sounds_dir)


IVR = web.AppKey("ivr", IvrService)
CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def ivr_context(settings: Settings, pack: PolicyPack) -> CleanupContext:
    """Check what can be checked before anything starts (like a policy pack: a broken flow file or a
    missing recorded prompt stops start-up with its message), and return the cleanup_ctx that runs
    the server after the database and tickets."""
    flow = load_flow(settings.ivr.flow_file)
    required = required_prompts(flow, pack)
    if settings.ivr.sounds_dir is not None:
        PromptCatalogue(settings.ivr.sounds_dir).require(required)

    async def ivr_server(app: web.Application) -> AsyncIterator[None]:
        from gateway.surveys.service import SURVEYS

        catalogue = await prepare_sounds(settings.ivr, settings.data_dir)
        if warning := greeting_over_budget(catalogue, flow.entry.greeting, flow.entry.greeting_budget_seconds):
            log.warning("%s", warning)
        tickets = app[TICKETS]
        deps = build_deps(
            flow=flow, pack=pack, prompts=catalogue, bus=app[BUS], clock=app[CLOCK], calendar=app[CALENDAR],
            store=IvrStore(app[SESSIONS], tickets, clock=app[CLOCK]),
            queue_status=app.get(QUEUE_STATUS), description_text=app.get(DESCRIPTION_TEXT),
            surveys=app[SURVEYS],
        )
        service = IvrService(deps, host=settings.ivr.host, port=settings.ivr.port)
        await service.start(required)
        app[IVR] = service
        app[READINESS]["ivr"] = service.probe
        yield
        await service.stop()

    return ivr_server

