"""What a console needs to show a call at once: its latest summary, the transcript so far, the latest
draft and the expert consulted. Built from the same bus events the websocket pushes, so a page that
opens (or resyncs) mid-call fetches this instead of waiting for the next event.

Bounded: the newest ``keep`` calls are remembered, ended ones included (an agent finishes the ticket
during wrap-up, after the caller hung up).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

FINALS_KEPT = 300  # transcript lines per call; a 12345 call rarely has more than a hundred


@dataclass
class CallSheet:
    call_id: str
    summary: dict[str, Any] = field(default_factory=dict)
    finals: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=FINALS_KEPT))
    partial: str = ""
    draft: dict[str, Any] | None = None
    expert: dict[str, Any] | None = None  # {"expert", "expert_label", "actor"} while/after consulting
    speech: str | None = None  # why there is no live text (transcript.unavailable), if so

    def as_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "call": self.summary or None, "transcript": list(self.finals),
                "partial": self.partial, "draft": self.draft, "expert": self.expert,
                "speech_unavailable": self.speech}


class CallDesk:
    def __init__(self, keep: int = 2000) -> None:
        self.keep = keep
        self.sheets: OrderedDict[str, CallSheet] = OrderedDict()

    def get(self, call_id: str) -> CallSheet | None:
        return self.sheets.get(call_id)

    def _sheet(self, call_id: str) -> CallSheet:
        sheet = self.sheets.get(call_id)
        if sheet is None:
            sheet = self.sheets[call_id] = CallSheet(call_id)
            while len(self.sheets) > self.keep:
                self.sheets.popitem(last=False)
        return sheet

    def apply(self, kind: str, data: dict[str, Any]) -> None:
        if kind.startswith("call.") and data.get("call_id"):
            if data.get("call_kind") == "spy":
                return
            sheet = self._sheet(str(data["call_id"]))
            if "state" in data:  # a call summary (call.ticket_linked carries only the ids)
                sheet.summary = {**sheet.summary, **data}
            elif data.get("ticket_id"):
                sheet.summary = {**sheet.summary, "ticket_id": data["ticket_id"]}
            if kind == "call.consulting":
                sheet.expert = {name: data.get(name) for name in ("expert", "expert_label", "actor")}
        elif kind.startswith(("transcript.", "draft.")) and data.get("call_key"):
            sheet = self._sheet(str(data["call_key"]))
            if kind == "transcript.partial":
                sheet.partial = str(data.get("text", ""))
            elif kind == "transcript.final":
                sheet.finals.append({name: data.get(name) for name in ("text", "start", "end", "confidence")})
                sheet.partial = ""
            elif kind == "transcript.unavailable":
                sheet.speech = str(data.get("reason", ""))
            elif kind == "draft.updated":
                sheet.draft = data.get("draft")
