"""The explicit state machine every IVR call runs on.

A state is one step — a prompt, a key, a recording, a decision — and answers the name of the next
state, or None when the AGI should return and the dialplan go on (to the queue, the emergency trunk,
or a hangup). Hangup, AGI errors and cancellation are handled once, here, for every flow: the call's
record is saved whatever happened, and never on the caller's time (the RetryQueue writes it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from gateway.bus import EventBus
from gateway.errors import InvalidInput
from gateway.tickets.schemas import normalise_phone
from gateway.workcalendar import WorkCalendar
from ivr.agi import AgiChannel, AgiCommandError, AgiHangup
from ivr.emergency import EmergencyWords
from ivr.flow import Flow
from ivr.ports import CallRef, DescriptionText, QueueStatus, Speaker, SurveyAnswers
from ivr.prompts import PromptCatalogue
from ivr.recent import RecentCalls
from ivr.retry import RetryQueue
from ivr.store import IvrStore

log = logging.getLogger(__name__)

ALL_KEYS = "0123456789*#"
MAX_STEPS = 64  # a flow that loops longer than this is a bug; the caller goes on to the dialplan


@dataclass
class IvrDeps:
    """Everything the flows use, built once by the composition root."""

    flow: Flow
    prompts: PromptCatalogue
    store: IvrStore
    retry: RetryQueue
    queue_status: QueueStatus
    description_text: DescriptionText
    speaker: Speaker
    surveys: SurveyAnswers | None
    emergency_words: EmergencyWords
    emergency_category: str
    calendar: WorkCalendar | None
    bus: EventBus
    clock: Callable[[], datetime]
    recent_calls: RecentCalls


@dataclass
class Call:
    """One AGI session: what we know about the caller and what happened so far."""

    channel: AgiChannel
    deps: IvrDeps
    script: str
    started_at: datetime
    caller_raw: str | None = None
    caller: str | None = None  # E.164, or None when withheld / not a valid number
    linkedid: str | None = None
    uniqueid: str | None = None
    speech_id: str | None = None
    path: list[str] = field(default_factory=list)
    outcome: str | None = None
    queue: str | None = None
    emergency: str | None = None
    ticket_number: str | None = None
    description_file: str | None = None
    description_text: str | None = None
    callback_number: str | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    emergency_log: asyncio.Task[Any] | None = None

    @classmethod
    def from_channel(cls, channel: AgiChannel, deps: IvrDeps) -> Call:
        raw = channel.header("callerid")
        try:
            caller = normalise_phone(raw)
        except InvalidInput:
            caller = None
        return cls(channel=channel, deps=deps, script=channel.script, started_at=deps.clock(),
                   caller_raw=raw, caller=caller, uniqueid=channel.header("uniqueid"))

    @property
    def flow(self) -> Flow:
        return self.deps.flow

    @property
    def ref(self) -> CallRef:
        return CallRef(self.linkedid, self.uniqueid, self.caller, self.speech_id)

    def tries(self, what: str) -> int:
        """Count one more attempt at ``what`` and answer how many there have been."""
        self.attempts[what] = self.attempts.get(what, 0) + 1
        return self.attempts[what]

    async def play(self, prompt_id: str, escape: str = "") -> str | None:
        return await self.channel.stream_file(self.deps.prompts.sound(prompt_id), escape)

    async def play_digits(self, digits: str, escape: str = "") -> str | None:
        for digit in digits:
            if digit.isdigit():
                key = await self.play(f"digit_{digit}", escape)
                if key:
                    return key
        return None

    def record(self) -> dict[str, Any]:
        return {
            "script": self.script, "caller": self.caller or self.caller_raw, "linkedid": self.linkedid,
            "uniqueid": self.uniqueid, "started_at": self.started_at, "ended_at": self.deps.clock(),
            "path": list(self.path), "description_file": self.description_file,
            "description_text": self.description_text, "outcome": self.outcome or "ended",
            "queue": self.queue, "emergency": self.emergency, "ticket_number": self.ticket_number,
            "detail": dict(self.detail),
        }


class State:
    name: ClassVar[str]

    async def run(self, call: Call) -> str | None:
        raise NotImplementedError


Prepare = Callable[[Call], Awaitable[None]]


async def run_states(call: Call, states: Mapping[str, State], start: str, prepare: Prepare | None = None) -> None:
    """Run from ``start`` until a state answers None; ``prepare`` reads what the call carries first."""
    name: str | None = start
    try:
        if prepare is not None:
            await prepare(call)
        for _ in range(MAX_STEPS):
            if name is None:
                break
            call.path.append(name)
            name = await states[name].run(call)
        else:
            log.error("IVR flow looped past %d steps on %s: %s", MAX_STEPS, call.uniqueid, call.path[-8:])
            call.detail["error"] = "too-many-steps"
    except AgiHangup:
        call.detail["hung_up_in"] = call.path[-1] if call.path else None
        call.outcome = call.outcome or "hangup"
    except AgiCommandError as exc:
        log.warning("AGI error on %s in %s: %s", call.uniqueid, call.path[-1:], exc)
        call.detail["agi_error"] = str(exc)
        call.outcome = call.outcome or "agi-error"
    except asyncio.CancelledError:
        call.outcome = call.outcome or "shutdown"
        raise
    finally:
        finish(call)


def finish(call: Call) -> None:
    """Save the session in the background (after the emergency ticket, to carry its number).

    Only a real call is recorded: one whose peer answered at least one command. A connection that sent
    headers and then went silent is nobody's call, and must not be able to fill the table."""
    if call.channel.commands == 0:
        log.info("AGI session on %s answered no command: not recorded", call.uniqueid)
        return
    deps = call.deps
    values = call.record()
    emergency_log = call.emergency_log

    async def save() -> int:
        if emergency_log is not None and values["ticket_number"] is None:
            done, _ = await asyncio.wait({emergency_log}, timeout=5)
            if done and not emergency_log.cancelled() and emergency_log.exception() is None:
                values["ticket_number"] = emergency_log.result()
        return await deps.store.save_session(values)

    deps.retry.submit("ivr session", save, **{
        k: values[k] for k in ("caller", "linkedid", "outcome", "description_file", "description_text")})
    deps.bus.publish("ivr.session_ended", script=call.script, caller=call.caller, linkedid=call.linkedid,
                     outcome=values["outcome"], queue=call.queue, emergency=call.emergency,
                     description_file=call.description_file, description_text=call.description_text)
