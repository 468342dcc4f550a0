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
        self.server = LiveSpeechServer(self.bus.publish, on_no_live_text=lambda k, r: self.queued.append((k, r)),
                                       **kwargs)
        self.server.pool = self.pool
        self.port = 0

    def kinds(self, call_key: str) -> list[str]:
        return [e.kind for e in self.events if e.data.get("call_key") == call_key]

    async def wait_for(self, kind: str, call_key: str, timeout: float = 5.0) -> DomainEvent:
        async with asyncio.timeout(timeout):
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
            while h.pool is not None and h.pool.in_use < 1:
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
