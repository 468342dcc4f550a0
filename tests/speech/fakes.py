"""Fakes for the speech tests: a recognizer with Vosk's interface and a deterministic endpoint rule."""

from __future__ import annotations

import json
import math
import struct
import threading
import uuid

from gateway.speech import audiosocket as wire


class FakeRecognizer:
    """Says "utterance N" for each stretch of non-silence followed by ≥ 0.3 s of silence.

    ``gate`` (a threading.Event) lets a test hold the recognizer inside AcceptWaveform, like a slow CPU.
    """

    def __init__(self, sample_rate: int, gate: threading.Event | None = None) -> None:
        self.rate = sample_rate
        self.gate = gate
        self.samples = 0
        self.voiced_since: float | None = None
        self.silence = 0
        self.count = 0
        self.chunks = 0

    def _word(self) -> dict[str, object]:
        start = self.voiced_since or 0.0
        return {
            "word": f"utterance{self.count}",
            "start": start,
            "end": self.samples / self.rate,
            "conf": 0.9,
        }

    def AcceptWaveform(self, data: bytes) -> bool:
        if self.gate is not None:
            self.gate.wait(10)
        self.chunks += 1
        values = struct.unpack(f"<{len(data) // 2}h", data)
        endpoint = False
        window = self.rate // 50  # judge loudness per 20 ms, whatever the chunk size
        for i in range(0, len(values), window):
            part = values[i : i + window]
            if any(abs(v) > 500 for v in part):
                if self.voiced_since is None:
                    self.voiced_since = self.samples / self.rate
                self.silence = 0
            else:
                self.silence += len(part)
            self.samples += len(part)
            if self.voiced_since is not None and self.silence >= 0.3 * self.rate and not endpoint:
                # Like Vosk: one endpoint per call; the audio after it starts the next utterance.
                self.count += 1
                self._final = {"text": f"utterance{self.count}", "result": [self._word()]}
                self.voiced_since = None
                endpoint = True
        return endpoint

    def Result(self) -> str:
        return json.dumps(self._final)

    def PartialResult(self) -> str:
        return json.dumps({"partial": "speaking" if self.voiced_since is not None else ""})

    def FinalResult(self) -> str:
        if self.voiced_since is None:
            return json.dumps({"text": ""})
        self.count += 1
        word = self._word()
        self.voiced_since = None
        return json.dumps({"text": f"utterance{self.count}", "result": [word]})


class FakeEngine:
    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.recognizers: list[FakeRecognizer] = []

    def new_recognizer(self, sample_rate: int) -> FakeRecognizer:
        rec = FakeRecognizer(sample_rate, self.gate)
        self.recognizers.append(rec)
        return rec


def tone(seconds: float, rate: int = 8000, amplitude: int = 8000) -> bytes:
    n = int(seconds * rate)
    return struct.pack(f"<{n}h", *(int(amplitude * math.sin(2 * math.pi * 440 * i / rate)) for i in range(n)))


def silence(seconds: float, rate: int = 8000) -> bytes:
    return b"\x00\x00" * int(seconds * rate)


def stream_bytes(call_uuid: uuid.UUID, pcm: bytes, *, hangup: bool = True) -> bytes:
    data = wire.uuid_frame(call_uuid) + b"".join(wire.audio_frames(pcm))
    return data + (wire.encode(wire.KIND_HANGUP) if hangup else b"")
