"""The post-call path: MixMonitor's separate legs (r() = what the citizen said, t() = what the agent
said) become one speaker-labelled, time-stamped transcript attached to the call, then to its ticket.

Jobs live in the ``speech_jobs`` table; one worker task per gateway takes them one at a time and decodes
through the shared recognizer pool: it waits for a slot and always leaves one to live calls, so live and
post-call decoding together never exceed the cap and a new call still gets live text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.speech import metrics, store
from gateway.speech.engine import RecognizerPool, Utterance

log = logging.getLogger(__name__)
CHUNK_SECONDS = 0.25


class AudioFormatError(ValueError):
    """A recording we cannot decode (not 16-bit PCM mono WAV); the message says what it is instead."""


def read_wav(path: Path) -> tuple[int, bytes]:
    """(sample rate, signed-linear 16-bit mono PCM). Any rate: Vosk resamples to the model's."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getnchannels() != 1 or wav.getsampwidth() != 2 or wav.getcomptype() != "NONE":
                raise AudioFormatError(
                    f"{path}: {wav.getnchannels()} channel(s), {8 * wav.getsampwidth()}-bit "
                    f"{wav.getcomptype()}; MixMonitor legs must be 16-bit PCM mono WAV"
                )
            return wav.getframerate(), wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"{path}: not a readable WAV file ({exc})") from exc
    except FileNotFoundError as exc:
        raise AudioFormatError(f"{path}: recording not found") from exc


async def transcribe_leg(pool: RecognizerPool, speaker: str, path: Path) -> list[dict[str, Any]]:
    rate, pcm = await asyncio.to_thread(read_wav, path)
    stream = await pool.open(rate)
    utterances: list[Utterance] = []
    try:
        step = int(rate * CHUNK_SECONDS) * 2
        for i in range(0, len(pcm), step):
            result = await stream.feed(pcm[i : i + step])
            if result.final and result.text:
                utterances.append(result)
        last = await stream.finish()
        if last.text:
            utterances.append(last)
    finally:
        stream.close()
    return [{"speaker": speaker, **u.as_dict()} for u in utterances]


async def transcribe_legs(pool: RecognizerPool, legs: dict[str, Path]) -> list[dict[str, Any]]:
    """All legs, merged into one conversation ordered by start time."""
    segments: list[dict[str, Any]] = []
    for speaker, path in legs.items():
        segments += await transcribe_leg(pool, speaker, Path(path))
    return sorted(segments, key=lambda s: (s["start"] if s["start"] is not None else 0.0, s["speaker"]))


async def wait_until_closed(paths: list[Path], *, quiet: float, within: float) -> None:
    """Wait until every leg exists and has not been written to for ``quiet`` seconds: MixMonitor closes
    its files (and writes their WAV headers) only after the hang-up the job was queued on. Gives up
    after ``within`` seconds and lets reading report what is wrong."""
    deadline = time.monotonic() + within

    def settled() -> bool:
        now = time.time()
        try:
            return all(now - path.stat().st_mtime >= quiet for path in paths)
        except FileNotFoundError:
            return False

    while time.monotonic() < deadline:
        if await asyncio.to_thread(settled):
            return
        await asyncio.sleep(0.2)  # polling a file Asterisk writes: there is nothing to wait on


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the post-call worker stopped", exc_info=task.exception())


DraftFor = Callable[[str, str], Awaitable[dict[str, Any] | None]]  # (call_key, citizen text) → draft


class PostCallWorker:
    def __init__(
        self,
        sessions: store.Sessions,
        publish: Callable[..., Any],
        *,
        pool: Callable[[], RecognizerPool | None],
        make_draft: DraftFor | None = None,
        poll_seconds: float = 30.0,
        recording_quiet_seconds: float = 1.0,
        recording_wait_seconds: float = 15.0,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._pool = pool  # a getter: the model may still be loading
        self._make_draft = make_draft
        self._poll = poll_seconds
        self._quiet = recording_quiet_seconds
        self._wait = recording_wait_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="speech-postcall")
        self._task.add_done_callback(_log_crash)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Look for work now (the model has just loaded)."""
        self._wake.set()

    async def submit(self, call_key: str, legs: dict[str, Path | str]) -> int:
        job_id = await store.enqueue_recordings(
            self._sessions, call_key, {k: str(v) for k, v in legs.items()}
        )
        self._wake.set()
        return job_id

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a submit() from now on wakes the wait below
            if self._pool() is not None:
                job = await store.claim_next(self._sessions)
                if job is not None:
                    await self._process(job.id, job.call_key, job.legs or {})
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def _process(self, job_id: int, call_key: str, legs: dict[str, str]) -> None:
        pool = self._pool()
        assert pool is not None
        paths = {k: Path(v) for k, v in legs.items()}
        await wait_until_closed(list(paths.values()), quiet=self._quiet, within=self._wait)
        try:
            segments = await transcribe_legs(pool, paths)
        except AudioFormatError as exc:
            metrics.POSTCALL_JOBS.labels("failed").inc()
            log.warning("post-call transcription of %s failed: %s", call_key, exc)
            await store.finish_job(self._sessions, job_id, error=str(exc))
            self._publish("transcript.failed", call_key=call_key, error=str(exc))
            return
        citizen_text = " ".join(s["text"] for s in segments if s["speaker"] == "citizen")
        draft = await self._make_draft(call_key, citizen_text) if self._make_draft and citizen_text else None
        transcript_id = await store.save_transcript(
            self._sessions, call_key=call_key, source="post_call", segments=segments, draft=draft
        )
        await store.finish_job(self._sessions, job_id, transcript_id=transcript_id)
        metrics.POSTCALL_JOBS.labels("done").inc()
        self._publish("transcript.ready", call_key=call_key, transcript_id=transcript_id)
        if draft is not None:
            self._publish("draft.updated", call_key=call_key, draft=draft, source="post_call")
