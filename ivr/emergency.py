"""Which emergency service (110/119/120/122) a caller's own words point to, if any.

The decision is gateway.understanding's (events and harm, homophones, negation/past/hypothetical
cues, kept as data); the policy pack's and the flow's words are added to its vocabulary, so a
deployment can still extend it and the same cues apply to its words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.understanding.emergency import EmergencyDetector, default_detector


@dataclass(frozen=True, slots=True)
class EmergencyMatch:
    service: str  # "110" | "119" | "120" | "122"
    word: str  # the caller's words that triggered it, without the ASR's spaces
    confidence: float = 1.0
    others: tuple[str, ...] = ()  # other services the words also point to


class EmergencyWords:
    """The understanding detector plus word lists per service (the policy pack's and the flow's own).
    When several services apply, the one dispatchers call first wins (a crash with injuries → 122)."""

    def __init__(self, *lists: Mapping[Any, Sequence[str]], detector: EmergencyDetector | None = None) -> None:
        words: dict[str, list[str]] = {}
        for mapping in lists:
            for service, items in mapping.items():
                words.setdefault(str(service), []).extend(items)
        self.detector = (detector or default_detector()).with_words(words)

    def match(self, text: str | None) -> EmergencyMatch | None:
        found = self.detector.detect(text or "")
        if found is None:
            return None
        return EmergencyMatch(found.service, "".join(found.evidence.split()), found.confidence, found.others)
