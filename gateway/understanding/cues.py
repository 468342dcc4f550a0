"""Cue vocabulary kept as data (data/taxonomy.toml): each matter's typical objects and verbs, and the
ways callers signal each category. The classifier sees "a cue of matter X" / "a cue of category Y" as
one feature each, so a wording the training corpus never used still points the right way when it names
one of the matter's words — heard exactly or, for ASR slips, by sound (电题 → 电梯)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gateway.errors import ConfigError
from gateway.understanding.taxonomy import DATA, read_toml
from gateway.understanding.vocabulary import HomophoneIndex, literal_pattern


@dataclass(frozen=True, slots=True)
class CueHit:
    label: str  # matter code or category name
    start: int
    end: int
    text: str


@dataclass
class Cues:
    matter_words: dict[str, str]  # cue word → matter code
    category_patterns: list[tuple[str, re.Pattern[str]]]
    _literal: re.Pattern[str] | None = field(init=False, repr=False)
    _sounds: HomophoneIndex[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._literal = literal_pattern(self.matter_words)
        self._sounds = HomophoneIndex()
        for word, code in self.matter_words.items():
            if len(word) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in word):
                self._sounds.add(word, code)

    @classmethod
    def load(cls, path: Path | None = None) -> Cues:
        path = path or DATA / "taxonomy.toml"
        data = read_toml(path)
        words: dict[str, str] = {}
        for domain in data.get("domain", []):
            for matter in domain["matters"]:
                for word in matter.get("cues", []):
                    words.setdefault(word, matter["code"])  # a word shared by two matters: the first
        patterns = []
        for category, exprs in data.get("category_cues", {}).items():
            for expr in exprs:
                try:
                    patterns.append((category, re.compile(expr)))
                except re.error as exc:
                    raise ConfigError(f"{path}: category cue {expr!r} of {category}: {exc}") from exc
        return cls(words, patterns)

    def __getstate__(self) -> dict[str, object]:  # the compiled indexes are rebuilt on load
        return {
            "matter_words": self.matter_words,
            "category_patterns": [(c, p.pattern) for c, p in self.category_patterns],
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.matter_words = state["matter_words"]  # type: ignore[assignment]
        self.category_patterns = [(c, re.compile(p)) for c, p in state["category_patterns"]]  # type: ignore[attr-defined]
        self.__post_init__()

    def matters(self, text: str) -> list[CueHit]:
        hits: list[CueHit] = []
        if self._literal is not None:
            hits = [
                CueHit(self.matter_words[m.group()], m.start(), m.end(), m.group())
                for m in self._literal.finditer(text)
            ]
        taken = {(h.start, h.end) for h in hits}
        for start, end, _word, code in self._sounds.find(text):
            if (start, end) not in taken:
                hits.append(CueHit(code, start, end, text[start:end]))
        return sorted(hits, key=lambda h: h.start)

    def categories(self, text: str) -> list[CueHit]:
        hits = []
        for category, pattern in self.category_patterns:
            for m in pattern.finditer(text):
                hits.append(CueHit(category, m.start(), m.end(), m.group()))
        return sorted(hits, key=lambda h: h.start)

    def terms(self, text: str) -> list[str]:
        """The cue features of a text: one term per matter / category cue found."""
        return [f"m:{h.label}" for h in self.matters(text)] + [f"c:{h.label}" for h in self.categories(text)]
