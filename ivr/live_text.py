"""DESCRIPTION_TEXT from the live ASR: what the caller said, as gateway/speech publishes it on the bus.

The speech service publishes ``transcript.partial`` / ``transcript.final`` / ``transcript.ended`` with a
``call_key``: the call's linkedid when the gateway started the tap (``SpeechService.expect``), or the
AudioSocket UUID itself when the dialplan started it (``HOTLINE_SPEECH_ID``). A call is looked up by
both. This keeps the finals of recent calls in memory and answers the voice entry's question "what did
the caller say?" when the description has been recorded:

- finals already in and no utterance under way (no partial since the last final) → at once;
- an utterance still being decoded (a partial after the last final) → wait for its final, at most
  ``wait`` seconds, then answer with what there is;
- nothing heard for the call (a silent caller, or no stream) → None at once: waiting would only delay
  every caller the ASR cannot hear.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

from gateway.bus import DomainEvent, EventBus
from ivr.ports import CallRef


@dataclass
class _Heard:
    finals: list[str] = field(default_factory=list)
    speaking: bool = False  # a partial arrived after the last final: an utterance is being decoded
    ended: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def settled(self) -> bool:
        return self.ended or not self.speaking


class LiveDescriptionText:
    """``ivr.ports.DescriptionText`` fed by the bus; ``close()`` unsubscribes."""

    def __init__(self, bus: EventBus, *, max_calls: int = 5000) -> None:
        self.max_calls = max_calls
        self._calls: OrderedDict[str, _Heard] = OrderedDict()
        self._unsubscribe = bus.subscribe("transcript.", self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: DomainEvent) -> None:
        key = event.data.get("call_key")
        if not key or event.kind not in ("transcript.partial", "transcript.final", "transcript.ended"):
            return
        heard = self._calls.get(key)
        if heard is None:
            heard = self._calls[key] = _Heard()
            while len(self._calls) > self.max_calls:  # bounded: the oldest calls are forgotten
                self._calls.popitem(last=False)
        text = (event.data.get("text") or "").strip()
        if event.kind == "transcript.partial":
            heard.speaking = heard.speaking or bool(text)
        elif event.kind == "transcript.final":
            if text:
                heard.finals.append(text)
            heard.speaking = False
        else:
            heard.ended = True
        heard.changed.set()
        heard.changed = asyncio.Event()  # waiters hold the one just set; later waits get a fresh one

    def _heard(self, call: CallRef) -> _Heard | None:
        for key in (call.speech_id, call.linkedid, call.uniqueid):
            if key and key in self._calls:
                return self._calls[key]
        return None

    async def text(self, call: CallRef, recording: str | None, wait: float) -> str | None:
        heard = self._heard(call)
        if heard is None:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not heard.settled() and (left := deadline - loop.time()) > 0:
            try:
                await asyncio.wait_for(heard.changed.wait(), left)
            except TimeoutError:
                break
        return " ".join(heard.finals) or None
