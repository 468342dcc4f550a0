"""The AudioSocket server: one stream per call UUID, live text on the bus, bounded everything."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.bus import DomainEvent, EventBus
from gateway.speech import audiosocket as wire
from gateway.speech.engine import RecognizerPool
from gateway.speech.live import LiveSpeechServer

from .fakes import FakeEngine, silence, stream_bytes, tone


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Harness:
    def __init__(self, engine: FakeEngine | None, max_streams: int = 2, **kwargs: Any) -> None:
        self.bus = EventBus()
        self.events: list[DomainEvent] = []
        self.bus.subscribe("", self.events.append)
        self.queued: list[tuple[str, str]] = []
        self.pool = RecognizerPool(engine, max_streams) if engine is not None else None
        self.server = LiveSpeechServer(
            self.bus.publish, on_no_live_text=lambda k, r: self.queued.append((k, r)), **kwargs
        )
        self.server.pool = self.pool
        self.port = 0

    def kinds(self, call_key: str) -> list[str]:
        return [e.kind for e in self.events if e.data.get("call_key") == call_key]

    async def wait_for(self, kind: str, call_key: str, within: float = 5.0) -> DomainEvent:
        async with asyncio.timeout(within):
            while True:
                for e in self.events:
                    if e.kind == kind and e.data.get("call_key") == call_key:
                        return e
                await asyncio.sleep(0.01)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def send(self, data: bytes, *, close: bool = True) -> asyncio.StreamWriter:
        _, writer = await self.connect()
        writer.write(data)
        await writer.drain()
        if close:
            writer.close()
        return writer


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness(FakeEngine())
    _, h.port = await h.server.start("127.0.0.1", 0)
    yield h
    await h.server.stop()
    assert h.pool is not None
    h.pool.shutdown()


async def test_a_call_gets_partial_and_final_text_then_ended(harness: Harness) -> None:
    call = uuid.uuid4()
    audio = tone(0.6) + silence(0.5) + tone(0.4) + silence(0.5)
    await harness.send(stream_bytes(call, audio))
    ended = await harness.wait_for("transcript.ended", str(call))
    finals = [e.data for e in harness.events if e.kind == "transcript.final"]
    assert [f["text"] for f in finals] == ["utterance1", "utterance2"]
    assert finals[0]["start"] == pytest.approx(0.0, abs=0.03)
    assert finals[0]["confidence"] == pytest.approx(0.9)
    assert "transcript.partial" in harness.kinds(str(call))
    assert ended.data["text"] == "utterance1 utterance2"
    assert ended.data["audio_seconds"] == pytest.approx(2.0, abs=0.01)
    assert harness.pool is not None and harness.pool.in_use == 0


async def test_hangup_mid_speech_still_flushes_the_last_words(harness: Harness) -> None:
    call = uuid.uuid4()
    before = metric("hotline_speech_stream_ends_total", reason="eof")
    await harness.send(stream_bytes(call, tone(0.5), hangup=False))  # socket closes, no hang-up frame
    ended = await harness.wait_for("transcript.ended", str(call))
    assert ended.data["text"] == "utterance1"
    assert metric("hotline_speech_stream_ends_total", reason="eof") == before + 1


async def test_over_the_cap_the_call_goes_on_without_live_text_and_is_queued() -> None:
    gate = threading.Event()
    h = Harness(FakeEngine(gate), max_streams=1)
    _, h.port = await h.server.start("127.0.0.1", 0)
    try:
        before = metric("hotline_speech_streams_total", outcome="over_capacity")
        first, second = uuid.uuid4(), uuid.uuid4()
        w1 = await h.send(stream_bytes(first, tone(0.2), hangup=False), close=False)
        async with asyncio.timeout(5):
            while h.pool is not None and h.pool.in_use < 1:  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.01)
        await h.send(stream_bytes(second, tone(1.0)))
        unavailable = await h.wait_for("transcript.unavailable", str(second))
        assert unavailable.data["reason"] == "over_capacity"
        assert h.queued == [(str(second), "over_capacity")]
        assert metric("hotline_speech_streams_total", outcome="over_capacity") == before + 1
        gate.set()
        w1.write(wire.encode(wire.KIND_HANGUP))
        w1.close()
        await h.wait_for("transcript.ended", str(first))
    finally:
        gate.set()
        await h.server.stop()
        assert h.pool is not None
        h.pool.shutdown()


async def test_a_stalled_recognizer_never_blocks_the_socket_reader() -> None:
    """The decoder is stuck; the reader still takes every frame, drops the oldest beyond the
    buffer (counted) and sees the hang-up at once."""
    gate = threading.Event()
    h = Harness(FakeEngine(gate), buffer_seconds=0.5)
    _, h.port = await h.server.start("127.0.0.1", 0)
    try:
        before = metric("hotline_speech_dropped_audio_frames_total")
        hangups = metric("hotline_speech_stream_ends_total", reason="hangup")
        call = uuid.uuid4()
        await h.send(stream_bytes(call, tone(3.0)))  # 150 frames into a 25-frame buffer
        async with asyncio.timeout(5):
            while metric("hotline_speech_stream_ends_total", reason="hangup") == hangups:  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.01)
        assert metric("hotline_speech_dropped_audio_frames_total") - before >= 150 - 25 - 10
        gate.set()
        await h.wait_for("transcript.ended", str(call))
    finally:
        gate.set()
        await h.server.stop()
        assert h.pool is not None
        h.pool.shutdown()


async def test_a_socket_that_stalls_is_ended_and_its_text_kept() -> None:
    h = Harness(FakeEngine(), stall_timeout=0.3)
    _, h.port = await h.server.start("127.0.0.1", 0)
    try:
        before = metric("hotline_speech_stream_ends_total", reason="stall")
        call = uuid.uuid4()
        writer = await h.send(stream_bytes(call, tone(0.5), hangup=False), close=False)
        ended = await h.wait_for("transcript.ended", str(call))
        assert ended.data["text"] == "utterance1"
        assert metric("hotline_speech_stream_ends_total", reason="stall") == before + 1
        writer.close()
    finally:
        await h.server.stop()
        assert h.pool is not None
        h.pool.shutdown()


async def test_a_truncated_frame_ends_the_stream_with_what_was_heard(harness: Harness) -> None:
    call = uuid.uuid4()
    before = metric("hotline_speech_stream_ends_total", reason="protocol_error")
    data = stream_bytes(call, tone(0.5), hangup=False) + b"\x10\x01\x40" + b"\x00" * 10
    await harness.send(data)
    ended = await harness.wait_for("transcript.ended", str(call))
    assert ended.data["text"] == "utterance1"
    assert metric("hotline_speech_stream_ends_total", reason="protocol_error") == before + 1


async def test_odd_length_audio_and_unknown_kinds_are_counted_not_fatal(harness: Harness) -> None:
    call = uuid.uuid4()
    odd = metric("hotline_speech_bad_frames_total", reason="odd_length")
    unknown = metric("hotline_speech_bad_frames_total", reason="unsupported_kind")
    pcm = tone(0.5)
    data = (
        wire.uuid_frame(call)
        + wire.encode(wire.KIND_AUDIO, pcm[:321])
        + wire.encode(0x12, b"\x00" * 640)
        + b"".join(wire.audio_frames(pcm[320:]))
        + wire.encode(wire.KIND_HANGUP)
    )
    await harness.send(data)
    ended = await harness.wait_for("transcript.ended", str(call))
    assert ended.data["text"] == "utterance1"
    assert metric("hotline_speech_bad_frames_total", reason="odd_length") == odd + 1
    assert metric("hotline_speech_bad_frames_total", reason="unsupported_kind") == unknown + 1


async def test_a_stream_not_starting_with_a_uuid_is_refused(harness: Harness) -> None:
    before = metric("hotline_speech_stream_ends_total", reason="protocol_error")
    reader, writer = await harness.connect()
    writer.write(b"".join(wire.audio_frames(tone(0.1))))
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server closed the connection
    writer.close()
    assert metric("hotline_speech_stream_ends_total", reason="protocol_error") == before + 1
    assert harness.pool is not None and harness.pool.in_use == 0


async def test_silence_gives_no_text_but_a_clean_end(harness: Harness) -> None:
    call = uuid.uuid4()
    await harness.send(stream_bytes(call, silence(1.0)))
    ended = await harness.wait_for("transcript.ended", str(call))
    assert ended.data["text"] == ""
    assert "transcript.final" not in harness.kinds(str(call))


async def test_without_a_model_the_call_is_read_to_its_end_and_queued() -> None:
    h = Harness(None)
    _, h.port = await h.server.start("127.0.0.1", 0)
    try:
        call = uuid.uuid4()
        hangups = metric("hotline_speech_stream_ends_total", reason="hangup")
        await h.send(stream_bytes(call, tone(0.5)))
        unavailable = await h.wait_for("transcript.unavailable", str(call))
        assert unavailable.data["reason"] == "no_model"
        async with asyncio.timeout(5):
            while metric("hotline_speech_stream_ends_total", reason="hangup") == hangups:  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.01)
        assert h.queued == [(str(call), "no_model")]
    finally:
        await h.server.stop()


async def test_finals_feed_the_draft_one_build_at_a_time() -> None:
    texts: list[str] = []

    async def make_draft(call_key: str, text: str) -> dict[str, Any]:
        texts.append(text)
        await asyncio.sleep(0.05)
        return {"summary": text}

    h = Harness(FakeEngine(), make_draft=make_draft)
    _, h.port = await h.server.start("127.0.0.1", 0)
    try:
        call = uuid.uuid4()
        await h.send(stream_bytes(call, tone(0.3) + silence(0.4) + tone(0.3) + silence(0.4)))
        await h.wait_for("transcript.ended", str(call))
        drafts = [e.data["draft"]["summary"] for e in h.events if e.kind == "draft.updated"]
        assert drafts[-1] == "utterance1 utterance2"  # the latest text always gets its draft
        assert texts[0] == "utterance1"
    finally:
        await h.server.stop()
        assert h.pool is not None
        h.pool.shutdown()


async def test_a_failing_recognizer_stops_live_text_but_not_the_call(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    assert harness.pool is not None
    engine = harness.pool.engine
    assert isinstance(engine, FakeEngine)

    def broken(sample_rate: int) -> Any:
        rec = FakeEngine.new_recognizer(engine, sample_rate)
        rec.AcceptWaveform = lambda data: (_ for _ in ()).throw(RuntimeError("kaldi exploded"))  # type: ignore[method-assign]
        return rec

    engine.new_recognizer = broken  # type: ignore[method-assign]
    before = metric("hotline_speech_stream_ends_total", reason="recognizer_error")
    call = uuid.uuid4()
    await harness.send(stream_bytes(call, tone(1.0)))
    await harness.wait_for("transcript.ended", str(call))
    assert metric("hotline_speech_stream_ends_total", reason="recognizer_error") == before + 1
    assert "kaldi exploded" in caplog.text
    assert harness.pool.in_use == 0
