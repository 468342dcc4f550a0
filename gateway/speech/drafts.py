"""Draft building with the flags that need the rest of the system: likely duplicates of open tickets
(并案 candidates) and hotspots (many similar drafts in a short window → a supervisor warning).

The ticket store implements ``OpenTicketLookup``; until it is wired, no duplicate flag is raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from rapidfuzz import fuzz

from gateway.db.base import utcnow
from gateway.speech.extract import Draft, DraftField, Segmenter, extract_draft
from gateway.speech.lexicon import Lexicon, ResponsibilityList
from gateway.speech.terms import Evidence
from gateway.speech.understood import apply_understanding

if TYPE_CHECKING:
    from gateway.understanding.pipeline import Understander

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open ticket that may be the same matter."""

    ticket_id: str
    reason: str  # "same-caller" | "same-place-and-matter"
    score: float  # 0–100
    summary: str = ""
    reasons: tuple[str, ...] = ()  # what matched, in words: 同一来电号码, 同一事项：供水, 同一地点：阳光花园


class OpenTicketLookup(Protocol):
    async def similar(self, caller: str | None, place: str | None, text: str) -> list[Candidate]: ...


@dataclass(frozen=True, slots=True)
class _Recent:
    at: datetime
    call_key: str
    key: str  # category + place + matter words: what "similar" compares


class HotspotDetector:
    """Counts similar drafts in a sliding window; at ``threshold`` the matter is a hotspot (热点).

    Similarity is rapidfuzz's token-set ratio over "category place unit" keys, so two callers naming
    the same road and the same broken thing match even when their wording differs.
    """

    def __init__(
        self,
        *,
        window: timedelta = timedelta(minutes=30),
        threshold: int = 5,
        similarity: float = 80.0,
        max_recent: int = 5000,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.window = window
        self.threshold = threshold
        self.similarity = similarity
        self._recent: deque[_Recent] = deque(maxlen=max_recent)  # bounded whatever the call volume
        self._clock = clock

    def observe(self, call_key: str, key: str) -> list[str]:
        """Record a draft; the call keys of the similar ones in the window (itself included)."""
        now = self._clock()
        while self._recent and now - self._recent[0].at > self.window:
            self._recent.popleft()
        mine = [r for r in self._recent if r.call_key == call_key]
        for r in mine:  # a call's draft is rebuilt as it grows: count the call once
            self._recent.remove(r)
        similar = [r.call_key for r in self._recent if fuzz.token_set_ratio(key, r.key) >= self.similarity]
        self._recent.append(_Recent(now, call_key, key))
        return [*similar, call_key]


def hotspot_key(draft: Draft) -> str:
    """What makes two drafts "the same matter": category, place and the evidence of unit and category."""
    words = [draft.category.value]
    if draft.place is not None:
        words.append(str(draft.place.value.get("text", "")))
    if draft.unit is not None:
        words.append(str(draft.unit.value))
        words += [e.text for e in draft.unit.evidence]
    return " ".join(w for w in words if w)


class DraftBuilder:
    """Builds a call's draft off the event loop and adds the duplicate and hotspot flags."""

    def __init__(
        self,
        *,
        lexicon: Lexicon,
        duties: ResponsibilityList,
        segmenter: Segmenter,
        executor: Executor | None = None,
        lookup: OpenTicketLookup | None = None,
        hotspots: HotspotDetector | None = None,
        on_hotspot: Callable[[list[str], Draft], None] | None = None,
        understander: Understander | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.duties = duties
        self.segmenter = segmenter
        self.executor = executor
        self.lookup = lookup
        self.hotspots = hotspots
        self.on_hotspot = on_hotspot
        # The trained pipeline (gateway.understanding); None → the word-list draft alone. Set once it has
        # loaded (the service loads it in the background so drafts never wait for it).
        self.understander = understander

    async def build(self, text: str, *, call_key: str, caller: str | None = None) -> Draft:
        loop = asyncio.get_running_loop()
        draft = await loop.run_in_executor(self.executor, self._extract, text)
        await self._flag_duplicates(draft, caller)
        self._flag_hotspot(draft, call_key)
        return draft

    def _extract(self, text: str) -> Draft:
        """Worker-thread work: the word-list draft, overlaid with the trained pipeline's fields."""
        draft = extract_draft(text, lexicon=self.lexicon, duties=self.duties, segmenter=self.segmenter)
        understander = self.understander
        if understander is None:
            return draft
        try:
            return apply_understanding(draft, understander.understand(text))
        except Exception:  # a model fault must not lose the agent's draft
            log.exception("understanding pipeline failed; word-list draft only")
            return draft

    async def build_dict(self, call_key: str, text: str) -> dict[str, Any]:
        """The live server's DraftMaker: (call_key, text) → the draft as JSON-ready data."""
        return (await self.build(text, call_key=call_key)).as_dict()

    async def _flag_duplicates(self, draft: Draft, caller: str | None) -> None:
        if self.lookup is None:
            return
        place = str(draft.place.value["text"]) if draft.place is not None else None
        try:
            candidates = await self.lookup.similar(caller, place, draft.text)
        except Exception:  # the ticket store being down must not lose the draft
            log.exception("open-ticket lookup failed; draft without duplicate check")
            return
        if candidates:
            best = sorted(candidates, key=lambda c: -c.score)
            evidence = draft.place.evidence if draft.place is not None else ()
            draft.flags["duplicate"] = DraftField(
                [{"ticket_id": c.ticket_id, "reason": c.reason, "score": c.score, "summary": c.summary,
                  "reasons": list(c.reasons)} for c in best],
                evidence,
            )

    def _flag_hotspot(self, draft: Draft, call_key: str) -> None:
        if self.hotspots is None or (draft.category.value == "其他" and draft.place is None):
            return
        similar = self.hotspots.observe(call_key, hotspot_key(draft))
        if len(similar) >= self.hotspots.threshold:
            evidence: tuple[Evidence, ...] = draft.category.evidence + (
                draft.place.evidence if draft.place is not None else ()
            )
            draft.flags["hotspot"] = DraftField(
                {"similar_calls": similar, "window_minutes": self.hotspots.window.total_seconds() / 60},
                evidence,
            )
            if self.on_hotspot is not None:
                self.on_hotspot(similar, draft)
