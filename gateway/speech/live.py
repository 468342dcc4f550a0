"""The live path: an AudioSocket server that streams each call's audio into a recognizer and publishes
what it hears.

Per connection two tasks share a bounded buffer:
- the reader takes frames off the socket and never waits for anything else, so Asterisk is never
  back-pressured and a hang-up or a stall is noticed at once;
- the decoder takes the buffered audio in chunks of ≥ 100 ms, decodes them in the pool's thread and
  publishes ``transcript.partial`` / ``transcript.final``; finals feed the draft (``draft.updated``).
When the decoder falls behind, the buffer drops its *oldest* audio (counted): live text for a call
that is already late is worth less than keeping the socket moving. The full call is transcribed again
from the recording after hang-up anyway.

Over the recognizer cap (or without a model) the call is still read to its end, without live text,
and ``on_no_live_text(call_key, reason)`` queues it for post-call transcription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.speech import audiosocket as wire
from gateway.speech import metrics
from gateway.speech.engine import DecodingStream, RecognizerPool, Utterance

log = logging.getLogger(__name__)

Publish = Callable[..., Any]  # EventBus.publish(kind, **data)
DraftMaker = Callable[[str, str], Awaitable[dict[str, Any] | None]]  # (call_key, text) → draft
# Decode 100–200 ms at a time: fewer thread hops than per 20 ms frame, and small enough that Vosk sees
# each endpoint (it reports at most one per AcceptWaveform call).
MIN_CHUNK_FRAMES = 5
MAX_CHUNK_FRAMES = 10
MAX_CONNECTIONS = 512  # live AudioSocket streams; more is not a PBX at work


@dataclass
class LiveSession:
    call_uuid: uuid.UUID
    key_for: Callable[[uuid.UUID], str] = str
    finals: list[Utterance] = field(default_factory=list)
    audio_frames: int = 0
    no_live_text: str | None = None  # why, while the stream's call is not known yet (nothing stored)
    _call_key: str | None = None

    @property
    def call_key(self) -> str:
        """The call's linkedid once the gateway knows which call this stream is. Looked up again until
        then: the dialplan's stream may connect before the AMI event that names its call is applied."""
        if self._call_key is None:
            key = self.key_for(self.call_uuid)
            if key != str(self.call_uuid):
                self._call_key = key
            return key
        return self._call_key

    @property
    def text(self) -> str:
        return " ".join(u.text for u in self.finals if u.text)


class LiveSpeechServer:
    def __init__(
        self,
        publish: Publish,
        *,
        buffer_seconds: float = 2.0,
        stall_timeout: float = 10.0,
        call_key_for: Callable[[uuid.UUID], str] = str,
        make_draft: DraftMaker | None = None,
        on_no_live_text: Callable[[str, str], None] | None = None,
        on_finished: Callable[[LiveSession], Awaitable[None]] | None = None,
        is_known: Callable[[uuid.UUID], bool] = lambda _uuid: True,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        """``is_known``: whether a stream's UUID belongs to a call the gateway knows (registered with
        ``expect`` or bound from the dialplan's HOTLINE_SPEECH_ID). Only those are stored: anyone can
        connect to the port and send a UUID, and must not be able to write rows by doing so."""
        self.pool: RecognizerPool | None = None  # set once the model has loaded
        self._publish = publish
        self._buffer_frames = max(MIN_CHUNK_FRAMES, int(buffer_seconds * 50))
        self._stall_timeout = stall_timeout
        self._call_key_for = call_key_for
        self._make_draft = make_draft
        self._on_no_live_text = on_no_live_text
        self._on_finished = on_finished
        self._is_known = is_known
        self._max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._handle, host, port)
        bound = self._server.sockets[0].getsockname()
        log.info("AudioSocket server listening on %s:%d", bound[0], bound[1])
        return bound[0], bound[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    # --- one connection -----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._handlers) >= self._max_connections:
            metrics.STREAM_ENDS.labels("too_many_streams").inc()
            log.warning("AudioSocket connection refused: %d streams open", len(self._handlers))
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve(reader)
        except asyncio.CancelledError:
            metrics.STREAM_ENDS.labels("shutdown").inc()
            raise
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader) -> None:
        try:
            first = await asyncio.wait_for(wire.read_frame(reader), self._stall_timeout)
            if first is None:
                metrics.STREAM_ENDS.labels("eof").inc()
                return
            call_uuid = wire.parse_uuid(first)
        except (wire.ProtocolError, TimeoutError, ConnectionError) as exc:
            reason = "stall" if isinstance(exc, TimeoutError) else "protocol_error"
            metrics.STREAM_ENDS.labels(reason).inc()
            log.warning("AudioSocket stream refused before its UUID: %s", exc or reason)
            return
        session = LiveSession(call_uuid, self._call_key_for)
        stream = await self.pool.try_open() if self.pool is not None else None
        if stream is None:
            self._no_live_text(session, "no_model" if self.pool is None else "over_capacity")
            await self._read_frames(reader, session, on_audio=None)
            return
        metrics.STREAMS.labels("decoded").inc()
        metrics.LIVE_STREAMS.inc()
        try:
            await self._decode_live(reader, session, stream)
        finally:
            metrics.LIVE_STREAMS.dec()
            stream.close()

    def _no_live_text(self, session: LiveSession, reason: str) -> None:
        metrics.STREAMS.labels(reason).inc()
        log.info(
            "call %s goes on without live text (%s); queued for post-call transcription",
            session.call_key,
            reason,
        )
        self._publish("transcript.unavailable", call_key=session.call_key, reason=reason)
        session.no_live_text = reason
        self._store_no_live_text(session)

    def _store_no_live_text(self, session: LiveSession) -> None:
        """Queue the call for post-call transcription once it is known (the stream may connect before
        the event that names its call); a stream that never becomes known leaves nothing behind."""
        if session.no_live_text is None or not self._is_known(session.call_uuid):
            return
        reason, session.no_live_text = session.no_live_text, None
        if self._on_no_live_text is not None:
            self._on_no_live_text(session.call_key, reason)

    async def _decode_live(
        self, reader: asyncio.StreamReader, session: LiveSession, stream: DecodingStream
    ) -> None:
        buffer: deque[bytes] = deque()
        ready = asyncio.Event()
        ended = False

        def on_audio(pcm: bytes) -> None:
            if decoder.done():
                return  # the recognizer failed: read on, drop the audio (the recording has it)
            if len(buffer) >= self._buffer_frames:
                buffer.popleft()
                metrics.DROPPED_AUDIO.inc()
            buffer.append(pcm)
            if len(buffer) >= MIN_CHUNK_FRAMES:
                ready.set()

        async def decode() -> None:
            drafts = _DraftUpdater(self, session)
            last_partial = ""
            while True:
                await ready.wait()
                ready.clear()
                while buffer:
                    chunk = b"".join(buffer.popleft() for _ in range(min(len(buffer), MAX_CHUNK_FRAMES)))
                    result = await stream.feed(chunk)
                    if result.final:
                        self._publish_final(session, result, drafts)
                        last_partial = ""
                    elif result.text and result.text != last_partial:
                        last_partial = result.text
                        self._publish("transcript.partial", call_key=session.call_key, text=result.text)
                    if not ended and len(buffer) < MIN_CHUNK_FRAMES:
                        break
                if ended and not buffer:
                    break
            self._publish_final(session, await stream.finish(), drafts)
            await drafts.wait()

        decoder = asyncio.create_task(decode(), name=f"decode-{session.call_key}")
        try:
            await self._read_frames(reader, session, on_audio)
        finally:
            ended = True
            ready.set()
            try:
                # Let the decoder finish the audio it has; a cancelled handler cancels it too.
                await asyncio.shield(decoder)
            except asyncio.CancelledError:
                decoder.cancel()
                raise
            except Exception:
                metrics.STREAM_ENDS.labels("recognizer_error").inc()
                log.exception("call %s: the recognizer failed; live text stopped", session.call_key)
        self._publish(
            "transcript.ended",
            call_key=session.call_key,
            text=session.text,
            audio_seconds=round(stream.audio_seconds, 3),
            decode_seconds=round(stream.decode_seconds, 3),
        )
        if self._on_finished is not None and self._is_known(session.call_uuid):
            await self._on_finished(session)

    def _publish_final(self, session: LiveSession, result: Utterance, drafts: _DraftUpdater) -> None:
        if not result.text:
            return
        session.finals.append(result)
        self._publish("transcript.final", call_key=session.call_key, **result.as_dict())
        drafts.request()

    async def _read_frames(
        self, reader: asyncio.StreamReader, session: LiveSession, on_audio: Callable[[bytes], None] | None
    ) -> None:
        """Read until hang-up, end of stream, a stall or a broken frame; never waits on decoding."""
        try:
            await self._read_until_end(reader, session, on_audio)
        finally:
            self._store_no_live_text(session)

    async def _read_until_end(
        self, reader: asyncio.StreamReader, session: LiveSession, on_audio: Callable[[bytes], None] | None
    ) -> None:
        unsupported = 0
        while True:
            if session.no_live_text is not None:
                self._store_no_live_text(session)
            try:
                # A deadline, not wait_for: wait_for wraps every 20 ms frame in a task of its own.
                async with asyncio.timeout(self._stall_timeout):
                    frame = await wire.read_frame(reader)
            except TimeoutError:
                metrics.STREAM_ENDS.labels("stall").inc()
                log.warning(
                    "call %s: no audio for %.0f s, ending its stream", session.call_key, self._stall_timeout
                )
                return
            except wire.ProtocolError as exc:
                metrics.STREAM_ENDS.labels("protocol_error").inc()
                log.warning("call %s: %s", session.call_key, exc)
                return
            except ConnectionError:
                metrics.STREAM_ENDS.labels("eof").inc()
                return
            if frame is None:
                metrics.STREAM_ENDS.labels("eof").inc()  # hung up without a hang-up frame
                return
            if frame.kind == wire.KIND_HANGUP:
                metrics.STREAM_ENDS.labels("hangup").inc()
                return
            if frame.kind == wire.KIND_ERROR:
                metrics.STREAM_ENDS.labels("peer_error").inc()
                log.warning("call %s: Asterisk sent error %s", session.call_key, frame.payload.hex())
                return
            if frame.kind != wire.KIND_AUDIO:
                # Newer Asterisk can send other sample rates as other kinds: not 8 kHz, not for us.
                metrics.BAD_FRAMES.labels("unsupported_kind").inc()
                unsupported += 1
                if unsupported == 50 and session.audio_frames == 0 and on_audio is not None:
                    self._no_live_text(session, "unsupported_format")
                    on_audio = None
                continue
            pcm = frame.payload
            if len(pcm) % 2:
                metrics.BAD_FRAMES.labels("odd_length").inc()  # half a sample: keep the whole ones
                pcm = pcm[:-1]
            if not pcm:
                continue
            session.audio_frames += 1
            if on_audio is not None:
                on_audio(pcm)


class _DraftUpdater:
    """Rebuilds the call's draft after each final result, one build at a time, latest text wins."""

    def __init__(self, server: LiveSpeechServer, session: LiveSession) -> None:
        self._server = server
        self._session = session
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def request(self) -> None:
        if self._server._make_draft is None:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._server._make_draft is not None
        while True:
            self._again = False
            text = self._session.text
            try:
                draft = await self._server._make_draft(self._session.call_key, text)
            except Exception:
                log.exception("draft extraction failed for call %s", self._session.call_key)
                draft = None
            if draft is not None:
                self._server._publish("draft.updated", call_key=self._session.call_key, draft=draft)
            if not self._again:
                return

    async def wait(self) -> None:
        if self._task is not None:
            await self._task
