"""Finding listed words in a transcript, as written and as heard.

Chinese ASR mistakes are mostly homophones (路灯 heard as 路等), so a term that is not in the text is
looked for again by its toneless pinyin (pypinyin). Every hit keeps its span in the original text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pypinyin import lazy_pinyin


@dataclass(frozen=True, slots=True)
class Evidence:
    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True, slots=True)
class TermHit:
    term: str
    evidence: Evidence
    by_sound: bool  # matched through pinyin, not character for character


def _each_char(chars: str) -> Any:
    # pypinyin's hook for non-Han text: one item per character keeps positions aligned.
    return list(chars)


class SoundIndex:
    """One pinyin syllable per character of ``text`` (non-Han characters stand for themselves)."""

    def __init__(self, text: str) -> None:
        self.text = text
        syllables = lazy_pinyin(text, errors=_each_char)
        # pypinyin yields one item per character with this errors hook; if it ever did not, the
        # positions would be wrong, so sound matching is then simply off.
        self.syllables = syllables if len(syllables) == len(text) else None

    def find(self, term: str) -> list[Evidence]:
        if self.syllables is None or len(term) < 2:
            return []
        wanted = lazy_pinyin(term, errors=_each_char)
        n = len(wanted)
        return [
            Evidence(i, i + n, self.text[i : i + n])
            for i in range(len(self.syllables) - n + 1)
            if self.syllables[i : i + n] == wanted
        ]


def find_terms(text: str, terms: Iterable[str], *, sounds: SoundIndex | None = None) -> list[TermHit]:
    """Every occurrence of each term; by sound only where the exact characters are absent there."""
    hits: list[TermHit] = []
    for term in dict.fromkeys(terms):
        start = text.find(term)
        exact = []
        while start != -1:
            exact.append(Evidence(start, start + len(term), term))
            start = text.find(term, start + len(term))
        hits.extend(TermHit(term, ev, False) for ev in exact)
        if sounds is not None:
            taken = {(e.start, e.end) for e in exact}
            hits.extend(
                TermHit(term, ev, True) for ev in sounds.find(term) if (ev.start, ev.end) not in taken
            )
    # A longer term covering a shorter one wins ("拖欠工资" over "工资").
    hits.sort(key=lambda h: (h.evidence.start, -(h.evidence.end - h.evidence.start)))
    kept: list[TermHit] = []
    for hit in hits:
        if any(
            k.evidence.start <= hit.evidence.start
            and hit.evidence.end <= k.evidence.end
            and (k.evidence.end - k.evidence.start) > (hit.evidence.end - hit.evidence.start)
            for k in kept
        ):
            continue
        kept.append(hit)
    return kept
