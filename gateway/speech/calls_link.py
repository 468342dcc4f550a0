"""Speech ↔ call control, over the bus: which live stream is which call, post-call transcription at
hang-up, and transcripts attached to the call's ticket.

- Any ``call.*`` event carrying ``speech_id`` (the dialplan's HOTLINE_SPEECH_ID, the UUID its AudioSocket
  stream announces) binds that stream to the call: live events then carry the call's linkedid.
- ``call.ended`` of a recorded call queues its MixMonitor legs (durably, in ``speech_jobs``).
- ``transcript.ready`` and ``call.ticket_linked``, whichever comes last, attach the call's transcripts to
  its ticket (a ticket link of kind "transcript", ref = transcript id).

Bus subscribers must not block: the database work runs in tasks of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway.bus import DomainEvent
from gateway.calls.models import CallRecord
from gateway.calls.operations import recording_legs
from gateway.errors import HotlineError
from gateway.speech import store
from gateway.tickets.schemas import SYSTEM

if TYPE_CHECKING:
    from gateway.speech.service import SpeechService
    from gateway.tickets.service import TicketService

log = logging.getLogger(__name__)


class CallSpeechLink:
    def __init__(self, speech: SpeechService, tickets: Callable[[], TicketService | None]) -> None:
        self.speech = speech
        self._tickets = tickets  # a getter: the tickets capability may be absent
        self._tasks: set[asyncio.Task[Any]] = set()

    def on_event(self, event: DomainEvent) -> None:
        data = event.data
        if event.kind.startswith("call."):
            if data.get("speech_id") and data.get("call_id"):
                self.speech.bind(str(data["speech_id"]), str(data["call_id"]))
            if event.kind == "call.ended" and data.get("recording"):
                self._spawn(self._transcribe(str(data["call_id"]), str(data["recording"])))
            elif event.kind == "call.ticket_linked" and data.get("ticket_id"):
                self._spawn(self._attach(str(data["call_id"]), str(data["ticket_id"])))
        elif event.kind == "transcript.ready":
            self._spawn(self._attach_if_linked(str(data["call_key"])))

    async def settle(self) -> None:
        """Wait for the work started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _transcribe(self, call_id: str, recording: str) -> None:
        job_id = await self.speech.transcribe_after_call(call_id, dict(recording_legs(recording)))
        log.info("call %s: post-call transcription queued (job %d)", call_id, job_id)

    async def _attach_if_linked(self, call_key: str) -> None:
        async with self.speech.sessions() as session:
            row = await session.get(CallRecord, call_key)
        if row is not None and row.ticket_id:
            await self._attach(call_key, row.ticket_id)

    async def _attach(self, call_id: str, ticket_number: str) -> None:
        await store.attach_ticket(self.speech.sessions, call_id, ticket_number)
        tickets = self._tickets()
        if tickets is None:
            return
        for transcript in await store.transcripts_for_call(self.speech.sessions, call_id):
            try:
                await tickets.link(
                    ticket_number,
                    SYSTEM,
                    "transcript",
                    str(transcript.id),
                    meta={"call_id": call_id, "source": transcript.source},
                )
            except HotlineError as exc:
                log.warning("call %s: transcript not attached to %s: %s", call_id, ticket_number, exc.message)
                return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("speech/call link work failed", exc_info=exc)
