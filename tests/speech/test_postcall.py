"""Post-call: MixMonitor's citizen and agent legs become one speaker-labelled, timed transcript."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.bus import DomainEvent, EventBus
from gateway.db import session_factory
from gateway.speech import store
from gateway.speech.engine import RecognizerPool
from gateway.speech.postcall import AudioFormatError, PostCallWorker, read_wav, transcribe_legs

from .fakes import FakeEngine, silence, tone


def write_wav(path: Path, pcm: bytes, rate: int = 8000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return path


@pytest.fixture
async def pool() -> RecognizerPool:
    p = RecognizerPool(FakeEngine(), 2)
    yield p
    p.shutdown()


async def test_legs_merge_into_one_conversation_by_time(tmp_path: Path, pool: RecognizerPool) -> None:
    # citizen speaks at 0 s and 2 s, the agent at 1 s (16 kHz: any rate is accepted)
    citizen = write_wav(tmp_path / "c.wav", tone(0.5) + silence(1.5) + tone(0.5) + silence(0.5))
    agent = write_wav(tmp_path / "a.wav", silence(1.0, 16000) + tone(0.5, 16000) + silence(1.0, 16000), 16000)
    segments = await transcribe_legs(pool, {"citizen": citizen, "agent": agent})
    assert [(s["speaker"], s["text"]) for s in segments] == [
        ("citizen", "utterance1"),
        ("agent", "utterance1"),
        ("citizen", "utterance2"),
    ]
    assert [round(s["start"], 1) for s in segments] == [0.0, 1.0, 2.0]
    assert all(s["words"] and s["confidence"] == pytest.approx(0.9) for s in segments)
    assert pool.in_use == 0


def test_recordings_in_other_formats_are_refused_with_what_they_are(tmp_path: Path) -> None:
    stereo = write_wav(tmp_path / "s.wav", tone(0.1) * 2, channels=2)
    with pytest.raises(AudioFormatError, match="2 channel"):
        read_wav(stereo)
    (tmp_path / "junk.wav").write_bytes(b"RIFF....nonsense")
    with pytest.raises(AudioFormatError, match="not a readable WAV"):
        read_wav(tmp_path / "junk.wav")
    with pytest.raises(AudioFormatError, match="not found"):
        read_wav(tmp_path / "absent.wav")


async def wait_for(events: list[DomainEvent], kind: str) -> DomainEvent:
    async with asyncio.timeout(10):
        while not any(e.kind == kind for e in events):  # noqa: ASYNC110 - polls state other tasks change
            await asyncio.sleep(0.01)
    return next(e for e in events if e.kind == kind)


async def test_worker_transcribes_queued_calls_and_attaches_them(
    engine: AsyncEngine, tmp_path: Path, pool: RecognizerPool
) -> None:
    sessions = session_factory(engine)
    bus = EventBus()
    events: list[DomainEvent] = []
    bus.subscribe("", events.append)

    async def make_draft(call_key: str, text: str) -> dict[str, str]:
        return {"summary": text}

    worker = PostCallWorker(
        sessions,
        bus.publish,
        pool=lambda: pool,
        make_draft=make_draft,
        recording_quiet_seconds=0,  # the test's files are closed already
        recording_wait_seconds=0.5,  # a missing one is reported after this
    )
    worker.start()
    try:
        awaiting = await store.note_missing_live_text(sessions, "1732260000.42", "over_capacity")
        legs = {
            "citizen": write_wav(tmp_path / "c.wav", tone(0.5) + silence(0.5)),
            "agent": write_wav(tmp_path / "a.wav", silence(0.6) + tone(0.3) + silence(0.5)),
        }
        job_id = await worker.submit("1732260000.42", legs)
        assert job_id == awaiting  # the job waiting for this call's recordings took them
        ready = await wait_for(events, "transcript.ready")
        assert ready.data["call_key"] == "1732260000.42"
        job = await store.job(sessions, job_id)
        assert job is not None and job.status == "done" and job.reason == "over_capacity"
        [transcript] = await store.transcripts_for_call(sessions, "1732260000.42")
        assert transcript.source == "post_call" and transcript.ticket_id is None
        assert [s["speaker"] for s in transcript.segments] == ["citizen", "agent"]
        assert transcript.draft == {"summary": "utterance1"}  # the draft reads the citizen only
        assert await store.attach_ticket(sessions, "1732260000.42", "T-20261122-0001") == 1
        [attached] = await store.transcripts_for_call(sessions, "1732260000.42")
        assert attached.ticket_id == "T-20261122-0001"

        bad = await worker.submit("1732260000.43", {"citizen": tmp_path / "absent.wav"})
        failed = await wait_for(events, "transcript.failed")
        assert "recording not found" in failed.data["error"]
        job = await store.job(sessions, bad)
        assert job is not None and job.status == "failed"
    finally:
        await worker.stop()


async def test_post_call_work_leaves_a_slot_for_live_calls() -> None:
    pool = RecognizerPool(FakeEngine(), 2)
    try:
        first = await pool.open()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pool.open(), 0.1)  # a second post-call stream waits …
        live = await pool.try_open()
        assert live is not None  # … because the last slot is kept for a live call
        assert await pool.try_open() is None
        first.close()
        live.close()
    finally:
        pool.shutdown()
