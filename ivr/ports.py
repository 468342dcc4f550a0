"""What the voice entry needs from other capabilities, as small protocols with harmless defaults.

The real implementations arrive from parallel work: queue state from AMI (gateway/calls), the text of
what the caller said from the live ASR (gateway/speech). Until they are wired, the defaults keep the
flow working: an unknown queue state never holds a caller back, no text means no word-based routing
(the emergency key still works).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gateway.tickets.schemas import SatisfactionLevel


@dataclass(frozen=True, slots=True)
class QueueState:
    agents_logged_in: int
    estimated_wait_seconds: float
    full: bool = False


class QueueStatus(Protocol):
    async def state(self, queue: str) -> QueueState | None:
        """The queue now, or None when unknown (AMI away): the caller then simply goes to the queue."""
        ...


class UnknownQueueStatus:
    async def state(self, queue: str) -> QueueState | None:
        return None


@dataclass(frozen=True, slots=True)
class CallRef:
    linkedid: str | None
    uniqueid: str | None
    caller: str | None
    speech_id: str | None = None  # HOTLINE_SPEECH_ID: the AudioSocket stream of this call, if any


class DescriptionText(Protocol):
    async def text(self, call: CallRef, recording: str | None, wait: float) -> str | None:
        """What the caller said while describing the matter, if the ASR has it within ``wait`` seconds."""
        ...


class NoDescriptionText:
    async def text(self, call: CallRef, recording: str | None, wait: float) -> str | None:
        return None


class Speaker(Protocol):
    async def speak(self, text: str) -> str | None:
        """A sound name Asterisk can play saying ``text``, or None when it cannot be spoken now."""
        ...


class SurveyAnswers(Protocol):
    async def record_answer(self, number: str, level: SatisfactionLevel, *, channel: str) -> object:
        """gateway.surveys.SurveyService.record_answer: the same survey model as the SMS path."""
        ...
