"""The recognizer pool: one shared Vosk model, at most ``max_streams`` recognizers, each decoding in a
worker thread so the event loop never runs Kaldi code.

Admission is explicit: ``try_open`` answers None when every slot is taken (the live path then lets the
call go on without text); ``open`` waits for a slot (the post-call path, which can afford to wait).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gateway.speech.modelfiles import ModelError, ModelInfo, check_model_dir


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float  # seconds from the start of the stream
    end: float
    conf: float


@dataclass(frozen=True, slots=True)
class Utterance:
    text: str
    final: bool
    words: tuple[Word, ...] = field(default=())

    @property
    def start(self) -> float | None:
        return self.words[0].start if self.words else None

    @property
    def end(self) -> float | None:
        return self.words[-1].end if self.words else None

    @property
    def confidence(self) -> float | None:
        return sum(w.conf for w in self.words) / len(self.words) if self.words else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "final": self.final,
            "start": self.start,
            "end": self.end,
            "confidence": self.confidence,
            "words": [{"word": w.word, "start": w.start, "end": w.end, "conf": w.conf} for w in self.words],
        }


class Recognizer(Protocol):
    """What we need of ``vosk.KaldiRecognizer`` (fakes in tests implement the same)."""

    def AcceptWaveform(self, data: bytes) -> bool: ...
    def Result(self) -> str: ...
    def PartialResult(self) -> str: ...
    def FinalResult(self) -> str: ...


class Engine(Protocol):
    def new_recognizer(self, sample_rate: int) -> Recognizer: ...


class VoskEngine:
    """A loaded Vosk model; recognizers report word times and confidences (SetWords)."""

    def __init__(self, model: Any, info: ModelInfo) -> None:
        self.model = model
        self.info = info

    def new_recognizer(self, sample_rate: int) -> Recognizer:
        import vosk

        rec = vosk.KaldiRecognizer(self.model, sample_rate)
        rec.SetWords(True)
        return rec


def load_vosk(path: Path, *, audio_rate: int = 8000, expected_rate: int | None = None) -> VoskEngine:
    """Check and load a model. Blocking (seconds): call it in a thread."""
    info = check_model_dir(path, audio_rate=audio_rate, expected_rate=expected_rate)
    try:
        import vosk
    except ImportError as exc:
        raise ModelError(
            "the vosk package is not installed (pip install 'hotline12345[asr]')", error_id="asr-vosk-missing"
        ) from exc
    vosk.SetLogLevel(-1)
    try:
        model = vosk.Model(str(path))
    except Exception as exc:  # Vosk raises a bare Exception("Failed to create a model")
        raise ModelError(
            f"ASR model at {path} is corrupt: Vosk could not load it ({exc})", error_id="asr-model-corrupt"
        ) from exc
    return VoskEngine(model, info)


def parse_result(raw: str, *, final: bool) -> Utterance:
    data = json.loads(raw)
    if not final:
        return Utterance(data.get("partial", ""), False)
    words = tuple(
        Word(w["word"], float(w["start"]), float(w["end"]), float(w.get("conf", 1.0)))
        for w in data.get("result", [])
    )
    return Utterance(data.get("text", ""), True, words)


class DecodingStream:
    """One recognizer holding one pool slot. ``feed`` and ``finish`` run in the pool's threads."""

    def __init__(self, pool: RecognizerPool, recognizer: Recognizer, sample_rate: int) -> None:
        self._pool = pool
        self._rec = recognizer
        self.sample_rate = sample_rate
        self._closed = False
        self.audio_seconds = 0.0
        self.decode_seconds = 0.0  # CPU wall time spent inside Vosk, for the real-time factor

    async def feed(self, pcm: bytes) -> Utterance:
        """Decode a chunk; a final Utterance when Vosk found an endpoint, else the current partial."""
        self.audio_seconds += len(pcm) / (2 * self.sample_rate)
        return await self._run(self._accept, pcm)

    async def finish(self) -> Utterance:
        return await self._run(lambda: parse_result(self._rec.FinalResult(), final=True))

    def _accept(self, pcm: bytes) -> Utterance:
        if self._rec.AcceptWaveform(pcm):
            return parse_result(self._rec.Result(), final=True)
        return parse_result(self._rec.PartialResult(), final=False)

    async def _run(self, func: Any, *args: Any) -> Utterance:
        loop = asyncio.get_running_loop()

        def timed() -> Utterance:
            started = time.perf_counter()
            try:
                return func(*args)
            finally:
                self.decode_seconds += time.perf_counter() - started

        return await loop.run_in_executor(self._pool.executor, timed)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool._release()


class RecognizerPool:
    def __init__(self, engine: Engine, max_streams: int, *, sample_rate: int = 8000) -> None:
        self.engine = engine
        self.max_streams = max_streams
        self.sample_rate = sample_rate
        # One thread per slot: a slot's decode never waits behind another stream's.
        self.executor = ThreadPoolExecutor(max_streams, thread_name_prefix="vosk")
        self._lock = threading.Lock()
        self._in_use = 0
        self._freed = asyncio.Event()

    @property
    def in_use(self) -> int:
        return self._in_use

    async def try_open(self, sample_rate: int | None = None, *, keep_free: int = 0) -> DecodingStream | None:
        """A stream if a slot is free right now (leaving ``keep_free`` slots), else None: admission
        control for live calls."""
        with self._lock:
            if self._in_use + keep_free >= self.max_streams:
                return None
            self._in_use += 1
        return await self._new_stream(sample_rate or self.sample_rate)

    async def open(self, sample_rate: int | None = None, *, keep_free: int = 1) -> DecodingStream:
        """Wait for a free slot (post-call work), leaving ``keep_free`` slots to live calls."""
        keep_free = min(keep_free, self.max_streams - 1)
        while True:
            stream = await self.try_open(sample_rate, keep_free=keep_free)
            if stream is not None:
                return stream
            self._freed.clear()
            await self._freed.wait()

    async def _new_stream(self, sample_rate: int) -> DecodingStream:
        loop = asyncio.get_running_loop()
        try:
            rec = await loop.run_in_executor(self.executor, self.engine.new_recognizer, sample_rate)
        except BaseException:
            self._release()
            raise
        return DecodingStream(self, rec, sample_rate)

    def _release(self) -> None:
        with self._lock:
            self._in_use -= 1
        self._freed.set()

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
