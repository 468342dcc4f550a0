"""The speech capability as the gateway runs it: model loading, the AudioSocket server, the post-call
worker and draft building, started and stopped by ``speech_context`` (an aiohttp cleanup_ctx).

Live ASR is on only when ``[speech] model_path`` is set. The model loads in a thread after start-up
(seconds): until then, and for good if it is refused, calls go on without live text and readiness
"asr" says why.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from gateway.appkeys import BUS, READINESS, SESSIONS, SETTINGS, SWITCHED_OFF
from gateway.bus import EventBus
from gateway.config import SpeechSettings
from gateway.listening import bind_errors
from gateway.speech import store
from gateway.speech.audiosocket import AUDIO_RATE
from gateway.speech.calls_link import CallSpeechLink
from gateway.speech.drafts import DraftBuilder, HotspotDetector, OpenTicketLookup
from gateway.speech.engine import Engine, RecognizerPool, load_vosk
from gateway.speech.extract import Draft, Segmenter
from gateway.speech.lexicon import Lexicon, ResponsibilityList
from gateway.speech.live import LiveSession, LiveSpeechServer
from gateway.speech.modelfiles import ModelError
from gateway.speech.postcall import PostCallWorker

if TYPE_CHECKING:
    from gateway.understanding.pipeline import Understander

log = logging.getLogger(__name__)

# The UUID Asterisk sends names the stream, not the call. The gateway asks for a UUID per call when it
# starts the tap (``expect``) and maps it back; a UUID it never issued keeps its own text as call key.
AUDIOSOCKET_NAMESPACE = uuid.UUID("5f1c3a0e-12a4-4f5b-9345-123451234512")


def audiosocket_uuid(call_key: str, leg: str = "citizen") -> uuid.UUID:
    """The UUID to pass to AudioSocket() for a call (Asterisk linkedid) and leg; stable across restarts."""
    return uuid.uuid5(AUDIOSOCKET_NAMESPACE, f"{call_key}/{leg}")


class SpeechService:
    def __init__(
        self,
        settings: SpeechSettings,
        bus: EventBus,
        sessions: store.Sessions,
        *,
        lexicon: Lexicon | None = None,
        lookup: OpenTicketLookup | None = None,
        engine_loader: Callable[[Path], Engine] | None = None,
        understander_loader: Callable[[], Understander] | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.sessions = sessions
        self.pool: RecognizerPool | None = None
        self.problem: str | None = "ASR model loading"
        self._loader = engine_loader or (
            lambda path: load_vosk(path, audio_rate=AUDIO_RATE, expected_rate=settings.model_sample_rate)
        )
        self._uuids: OrderedDict[uuid.UUID, str] = OrderedDict()
        # Text work (segmentation, pinyin) gets its own thread so it never queues behind Vosk.
        self._text_executor = ThreadPoolExecutor(1, thread_name_prefix="speech-text")
        self._lexicon = lexicon
        self._lookup = lookup
        self._understander_loader = understander_loader
        self._unsubscribe: list[Callable[[], None]] = []
        self.drafts: DraftBuilder | None = None
        self.server = LiveSpeechServer(
            bus.publish,
            buffer_seconds=settings.buffer_seconds,
            stall_timeout=settings.stall_timeout,
            call_key_for=self.call_key_for,
            make_draft=self._make_draft,
            on_no_live_text=self._no_live_text,
            on_finished=self._save_live,
            is_known=self.knows,
        )
        self.postcall = PostCallWorker(sessions, bus.publish, pool=lambda: self.pool, make_draft=self._make_draft)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.address: tuple[str, int] | None = None

    # --- what other capabilities call ----------------------------------------------------------

    def expect(self, call_key: str, leg: str = "citizen") -> uuid.UUID:
        """Register a call before its tap starts; pass the UUID to AudioSocket() in the Originate."""
        call_uuid = audiosocket_uuid(call_key, leg)
        self._remember(call_uuid, call_key)
        return call_uuid

    def bind(self, speech_id: str, call_key: str) -> None:
        """A stream the dialplan started with a UUID of its own (HOTLINE_SPEECH_ID) belongs to this call:
        its events carry ``call_key`` (the linkedid) from now on."""
        try:
            call_uuid = uuid.UUID(speech_id)
        except ValueError:
            log.warning("call %s: HOTLINE_SPEECH_ID %r is not a UUID", call_key, speech_id)
            return
        self._remember(call_uuid, call_key)

    def _remember(self, call_uuid: uuid.UUID, call_key: str) -> None:
        self._uuids[call_uuid] = call_key
        while len(self._uuids) > 10_000:  # bounded: forget the oldest calls
            self._uuids.popitem(last=False)

    def knows(self, call_uuid: uuid.UUID) -> bool:
        return call_uuid in self._uuids

    def call_key_for(self, call_uuid: uuid.UUID) -> str:
        return self._uuids.get(call_uuid, str(call_uuid))

    async def transcribe_after_call(self, call_key: str, legs: dict[str, Path | str]) -> int:
        """Queue a finished call's recordings, e.g. {"citizen": r.wav, "agent": t.wav}; the job id."""
        return await self.postcall.submit(call_key, legs)

    async def draft(self, text: str, *, call_key: str, caller: str | None = None) -> Draft:
        if self.drafts is None:
            raise ModelError("draft extraction is not ready yet", error_id="speech-not-ready")
        return await self.drafts.build(text, call_key=call_key, caller=caller)

    # --- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        with bind_errors("AudioSocket (live speech)", self.settings.host, self.settings.port, "speech.port",
                         " (and the dialplan's HOTLINE_AUDIOSOCKET to match)"):
            self.address = await self.server.start(self.settings.host, self.settings.port)
        self.postcall.start()
        self._spawn(self._load())

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.stop()
        await self.postcall.stop()
        if self.pool is not None:
            await asyncio.to_thread(self.pool.shutdown)
        self._text_executor.shutdown(wait=False, cancel_futures=True)

    async def readiness(self) -> str | None:
        return self.problem

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            lexicon = self._lexicon
            if lexicon is None:
                lexicon = await loop.run_in_executor(self._text_executor, Lexicon.load)
            duties = await loop.run_in_executor(
                self._text_executor, ResponsibilityList.load, self.settings.responsibility_list
            )
            segmenter = await loop.run_in_executor(self._text_executor, Segmenter)
            self.drafts = DraftBuilder(
                lexicon=lexicon,
                duties=duties,
                segmenter=segmenter,
                executor=self._text_executor,
                lookup=self._lookup,
                hotspots=HotspotDetector(),
                on_hotspot=self._hotspot,
            )
            if self._understander_loader is not None:
                self._spawn(self._load_understanding(self._understander_loader))
            assert self.settings.model_path is not None
            engine = await asyncio.to_thread(self._loader, self.settings.model_path)
        except ModelError as exc:
            self.problem = exc.message
            log.error("live ASR is off: %s", exc.message)
            return
        self.pool = RecognizerPool(engine, self.settings.max_streams, sample_rate=AUDIO_RATE)
        self.server.pool = self.pool
        self.problem = None
        self.postcall.wake()
        log.info("ASR model ready (%s), up to %d live streams", self.settings.model_path, self.settings.max_streams)

    async def _load_understanding(self, loader: Callable[[], Understander]) -> None:
        """The trained pipeline (LAC, the classifier — trained on first use) loads beside the word-list
        drafts, in the text thread; once ready the drafts carry its fields. Failing leaves the word lists."""
        loop = asyncio.get_running_loop()
        try:
            understander = await loop.run_in_executor(self._text_executor, loader)
        except Exception:
            log.exception("understanding pipeline unavailable; drafts from the word lists only")
            return
        if self.drafts is not None:
            self.drafts.understander = understander
            log.info("understanding pipeline ready: model %s", understander.model.meta.get("trained_at"))
        await self.refresh_returns(understander)
        # Each approved 退单 lowers that unit for that matter and place in the next suggestions.
        self._unsubscribe.append(
            self.bus.subscribe("ticket.approve_return", lambda _event: self._spawn(self.refresh_returns(understander)))
        )

    async def refresh_returns(self, understander: Understander) -> None:
        """The approved 退单 counts from the ticket store; the places are read in the text thread."""
        from gateway.understanding.history import approved_returns, by_township

        loop = asyncio.get_running_loop()
        try:
            async with self.sessions() as session:
                rows = await approved_returns(session)
            counts = await loop.run_in_executor(self._text_executor, by_township, rows, understander.township_of)
        except Exception:  # the feedback is an improvement; drafts go on without it
            log.exception("could not read approved returns for the dispatch suggestion")
            return
        understander.returns = counts

    async def _make_draft(self, call_key: str, text: str) -> dict[str, Any] | None:
        if self.drafts is None or not text.strip():
            return None
        return (await self.drafts.build(text, call_key=call_key)).as_dict()

    def _hotspot(self, call_keys: list[str], draft: Draft) -> None:
        self.bus.publish(
            "hotspot.warning",
            call_keys=call_keys,
            category=draft.category.value,
            place=draft.place.value.get("text") if draft.place else None,
            unit=draft.unit.value if draft.unit else None,
        )

    def _no_live_text(self, call_key: str, reason: str) -> None:
        self._spawn(store.note_missing_live_text(self.sessions, call_key, reason))

    async def _save_live(self, session: LiveSession) -> None:
        if session.finals:
            segments = [{"speaker": "citizen", **u.as_dict()} for u in session.finals]
            await store.save_transcript(self.sessions, call_key=session.call_key, source="live", segments=segments)


SPEECH = web.AppKey("speech", SpeechService)


async def speech_context(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: runs after the database context (it needs SESSIONS)."""
    settings = app[SETTINGS].speech
    if settings.model_path is None:
        log.info("live ASR off: no [speech] model_path configured")
        app[SWITCHED_OFF]["asr"] = "no [speech] model_path configured (live transcription and drafts are off)"
        yield
        return
    from gateway.tickets.appkeys import TICKETS
    from gateway.tickets.duplicates import TicketDuplicates
    from gateway.understanding.shared import UNDERSTANDING, SharedUnderstanding

    hotline = app[SETTINGS]
    # One pipeline per process, shared with hot issues and 并案 candidates.
    understanding = app.get(UNDERSTANDING) or SharedUnderstanding.for_deployment(hotline.data_dir, hotline.timezone)
    lookup = TicketDuplicates(app[TICKETS], understanding=understanding) if TICKETS in app else None
    service = SpeechService(
        settings,
        app[BUS],
        app[SESSIONS],
        lookup=lookup,
        understander_loader=understanding.load,
    )
    await service.start()
    app[SPEECH] = service
    app[READINESS]["asr"] = service.readiness
    link = CallSpeechLink(service, lambda: app.get(TICKETS))
    unsubscribe = app[BUS].subscribe("", link.on_event)
    yield
    unsubscribe()
    await link.close()
    await service.stop()
