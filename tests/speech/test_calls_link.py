"""Speech ↔ call control over the bus: live streams keyed by the call, post-call jobs at hang-up,
transcripts attached to the call's ticket."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import DomainEvent, EventBus
from gateway.calls.models import CallRecord
from gateway.calls.operations import recording_legs
from gateway.config import SpeechSettings
from gateway.db import session_factory, utcnow
from gateway.speech import store
from gateway.speech.calls_link import CallSpeechLink
from gateway.speech.live import LiveSession
from gateway.speech.service import SpeechService

from .fakes import FakeEngine, silence, stream_bytes, tone
from .test_postcall import write_wav
from .test_service import send, wait_for

LINKEDID = "1732260000.42"


class FakeTickets:
    def __init__(self) -> None:
        self.links: list[tuple[str, str, str, dict[str, Any]]] = []

    async def link(self, number: str, actor: Any, kind: str, ref: str, meta: dict[str, Any] | None = None) -> None:
        self.links.append((number, kind, ref, meta or {}))


class Env:
    def __init__(self, service: SpeechService, link: CallSpeechLink, tickets: FakeTickets) -> None:
        self.service, self.link, self.tickets = service, link, tickets
        self.events: list[DomainEvent] = []
        service.bus.subscribe("", self.events.append)


@pytest.fixture
async def env(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Env]:
    bus = EventBus()
    service = SpeechService(
        SpeechSettings(model_path=tmp_path, port=0), bus, session_factory(engine), engine_loader=lambda p: FakeEngine()
    )
    tickets = FakeTickets()
    link = CallSpeechLink(service, lambda: tickets)  # type: ignore[arg-type,return-value]
    bus.subscribe("", link.on_event)
    await service.start()
    try:
        async with asyncio.timeout(10):
            while service.pool is None:  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.01)
        yield Env(service, link, tickets)
    finally:
        await link.close()
        await service.stop()


async def test_the_dialplans_stream_speaks_for_the_call_once_named(env: Env) -> None:
    speech_id = uuid.uuid4()  # the dialplan's ${UUID()}, HOTLINE_SPEECH_ID
    env.service.bus.publish("call.speech_started", call_id=LINKEDID, speech_id=str(speech_id))
    assert env.service.address is not None
    await send(env.service.address[1], stream_bytes(speech_id, tone(0.5) + silence(0.5)))
    final = await wait_for(env.events, "transcript.final")
    assert final.data["call_key"] == LINKEDID
    assert (await wait_for(env.events, "draft.updated")).data["call_key"] == LINKEDID


def test_a_stream_that_connects_before_its_call_is_named_takes_the_name_when_it_comes(env: Env) -> None:
    speech_id = uuid.uuid4()
    session = LiveSession(speech_id, env.service.call_key_for)
    assert session.call_key == str(speech_id)  # not known yet: its own UUID
    env.service.bind(str(speech_id), LINKEDID)
    assert session.call_key == LINKEDID
    env.service.bind("not-a-uuid", "other")  # logged and ignored


async def test_hang_up_of_a_recorded_call_queues_its_legs_and_the_transcript_joins_its_ticket(
    env: Env, tmp_path: Path
) -> None:
    recording = str(tmp_path / f"{LINKEDID}.wav")
    legs = recording_legs(recording)
    write_wav(Path(legs["citizen"]), tone(0.5) + silence(0.5))
    write_wav(Path(legs["agent"]), silence(0.6) + tone(0.3) + silence(0.5))
    async with env.service.sessions.begin() as session:  # the calls recorder saved the linked call
        session.add(CallRecord(id=LINKEDID, state="ended", started_at=utcnow(), ticket_id="2026112200001"))

    env.service.bus.publish("call.ended", call_id=LINKEDID, recording=recording)
    ready = await wait_for(env.events, "transcript.ready")
    await env.link.settle()
    [transcript] = await store.transcripts_for_call(env.service.sessions, LINKEDID)
    assert transcript.id == ready.data["transcript_id"] and transcript.ticket_id == "2026112200001"
    assert [s["speaker"] for s in transcript.segments] == ["citizen", "agent"]
    assert all(s["start"] is not None for s in transcript.segments)
    assert env.tickets.links == [
        ("2026112200001", "transcript", str(transcript.id), {"call_id": LINKEDID, "source": "post_call"})
    ]


async def test_a_ticket_linked_after_the_transcript_gets_it_too(env: Env) -> None:
    transcript_id = await store.save_transcript(
        env.service.sessions, call_key=LINKEDID, source="live", segments=[{"speaker": "citizen", "text": "x"}]
    )
    env.service.bus.publish("call.ticket_linked", call_id=LINKEDID, ticket_id="2026112200002")
    await env.link.settle()
    assert env.tickets.links == [
        ("2026112200002", "transcript", str(transcript_id), {"call_id": LINKEDID, "source": "live"})
    ]
    [transcript] = await store.transcripts_for_call(env.service.sessions, LINKEDID)
    assert transcript.ticket_id == "2026112200002"


async def test_a_call_without_recording_queues_nothing(env: Env) -> None:
    env.service.bus.publish("call.ended", call_id=LINKEDID, recording=None)
    await env.link.settle()
    assert await store.claim_next(env.service.sessions) is None
