"""Which emergency service (110/119/120/122) a caller's own words point to, if any."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EmergencyMatch:
    service: str  # "110" | "119" | "120" | "122"
    word: str


class EmergencyWords:
    """Word lists per service (the policy pack's plus the flow's own). The earliest word in the text
    decides; at the same position the longer word wins ("煤气泄漏" over a shorter overlapping word)."""

    def __init__(self, *lists: Mapping[Any, Sequence[str]]) -> None:
        self.words: list[tuple[str, str]] = []
        for words in lists:
            for service, items in words.items():
                self.words += [(word.strip(), service) for word in items if word.strip()]

    def match(self, text: str | None) -> EmergencyMatch | None:
        if not text:
            return None
        compact = "".join(text.split())  # ASR output often has spaces between characters
        best: tuple[int, int, EmergencyMatch] | None = None
        for word, service in self.words:
            at = compact.find(word)
            if at < 0:
                continue
            candidate = (at, -len(word), EmergencyMatch(service, word))
            if best is None or candidate[:2] < best[:2]:
                best = candidate
        return best[2] if best else None
