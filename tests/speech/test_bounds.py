"""Whoever connects to the AudioSocket port: no row for a stream of no known call, frames and
connections bounded (issue 20, item 8)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import DomainEvent, EventBus
from gateway.config import SpeechSettings
from gateway.db import session_factory
from gateway.speech import audiosocket as wire
from gateway.speech.models import PostCallJob
from gateway.speech.service import SpeechService

from .fakes import stream_bytes, tone
from .test_live_server import Harness
from .test_service import send


def _broken_model(path: Path) -> object:
    raise OSError("no model here")


async def _ended(events: list[DomainEvent], count: int) -> None:
    async with asyncio.timeout(10):
        while len([e for e in events if e.kind == "transcript.unavailable"]) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_only_a_stream_of_a_known_call_is_queued_for_transcription(engine: AsyncEngine,
                                                                          tmp_path: Path) -> None:
    bus = EventBus()
    events: list[DomainEvent] = []
    bus.subscribe("transcript", events.append)
    sessions = session_factory(engine)
    service = SpeechService(SpeechSettings(model_path=tmp_path, port=0), bus, sessions, engine_loader=_broken_model)
    await service.start()
    try:
        assert service.address is not None
        for _ in range(3):  # strangers: any UUID, nobody's call
            await send(service.address[1], stream_bytes(uuid.uuid4(), tone(0.1)))
        await _ended(events, 3)
        await send(service.address[1], stream_bytes(service.expect("1732260000.7"), tone(0.1)))
        await _ended(events, 4)
        async with asyncio.timeout(5):
            while True:
                async with sessions() as s:
                    jobs = list(await s.scalars(select(PostCallJob)))
                if jobs:
                    break
                await asyncio.sleep(0.01)
        await asyncio.sleep(0)
        assert [j.call_key for j in jobs] == ["1732260000.7"]
    finally:
        await service.stop()


async def test_a_stream_whose_call_becomes_known_while_it_runs_is_queued_once() -> None:
    known: set[uuid.UUID] = set()
    h = Harness(None, is_known=known.__contains__)
    _, h.port = await h.server.start("127.0.0.1", 0)
    try:
        call = uuid.uuid4()
        writer = await h.send(stream_bytes(call, tone(0.2), hangup=False), close=False)
        await h.wait_for("transcript.unavailable", str(call))
        assert h.queued == []
        known.add(call)  # the AMI event naming the call arrives
        writer.write(stream_bytes(call, tone(0.2))[3 + 16:])  # more audio, then the hang-up
        writer.close()
        async with asyncio.timeout(5):
            while not h.queued:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert h.queued == [(str(call), "no_model")]
    finally:
        await h.server.stop()


async def test_an_oversized_frame_ends_the_stream_before_its_payload_is_read() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(bytes([wire.KIND_AUDIO]) + (wire.MAX_FRAME_PAYLOAD + 1).to_bytes(2, "big"))
    with pytest.raises(wire.ProtocolError, match="at most"):
        await wire.read_frame(reader)


async def test_connections_beyond_the_bound_are_closed_at_once() -> None:
    h = Harness(None, max_connections=2)
    _, h.port = await h.server.start("127.0.0.1", 0)
    held = []
    try:
        for _ in range(2):
            held.append(await h.send(stream_bytes(uuid.uuid4(), tone(0.1), hangup=False), close=False))
        async with asyncio.timeout(5):
            while len(h.server._handlers) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        reader, writer = await h.connect()
        assert await reader.read() == b""  # closed without a word
        writer.close()
    finally:
        for w in held:
            w.close()
        await h.server.stop()
