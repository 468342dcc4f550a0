"""Loading the understanding vocabularies (TOML under data/) and matching words by pinyin."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Generic, TypeVar

from pypinyin import Style, lazy_pinyin, pinyin

_CJK = re.compile(r"[\u4e00-\u9fff]")
T = TypeVar("T")


def load(name: str) -> dict[str, Any]:
    """A vocabulary file shipped in gateway/understanding/data/."""
    with resources.files("gateway.understanding").joinpath("data", name).open("rb") as handle:
        return tomllib.load(handle)


def literal_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation, longest first, so 煤气泄漏 wins over 煤气 at the same position."""
    unique = sorted({word for word in words if word}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, unique))) if unique else None


def gapped_pattern(words: Iterable[str], *, min_length: int = 3) -> re.Pattern[str] | None:
    """Words of ``min_length`` characters or more with a character slipped in between any of
    their characters (喘不上气 heard as 喘不上来气, 倒下了 as 倒下去了): spoken paraphrase rarely keeps a
    phrase verbatim. Linear in the word's length, so a large vocabulary compiles quickly."""
    # a word character, not punctuation, and not a negation (着起不来 is not 着起来); a CJK range class is
    # far slower to compile
    gap = r"(?:(?![不没])\w)?"
    variants = [gap.join(map(re.escape, word))
                for word in sorted({w for w in words if len(w) >= min_length}, key=len, reverse=True)]
    return re.compile("|".join(variants)) if variants else None


@cache
def _readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of one character (着: zhe, zhao, zhuo); other characters have none."""
    if not _CJK.match(char):
        return ()
    return tuple(dict.fromkeys(pinyin(char, style=Style.NORMAL, heteronym=True)[0]))


@lru_cache(maxsize=8192)  # heard spans are open-ended: bounded, unlike the per-character caches
def _said_readings(words: str) -> tuple[str, ...]:
    """Each character's reading in these words (phrases decide: 泄露 is xie lou)."""
    readings = lazy_pinyin(words, style=Style.NORMAL)
    return tuple(readings) if len(readings) == len(words) else ("",) * len(words)


@cache
def _usual_reading(char: str) -> str:
    """The reading pypinyin gives a character first: its common one."""
    readings = _readings(char)
    return readings[0] if readings else ""


class HomophoneIndex(Generic[T]):
    """Words matched by sound: every character of the heard span can be read (any of its readings,
    toneless) as the word's character is read in the word, and at least one character is the word's
    own — so 着伙 is heard as 着火 while 期货 is never 起火 and 运到 never 晕倒. Exact spellings are left
    to the literal matchers.

    Indexed by the first two syllables, so a text costs about one dictionary look-up per character."""

    def __init__(self) -> None:
        self._by_start: dict[tuple[str, str], list[tuple[str, tuple[frozenset[str], ...], T]]] = {}

    def add(self, word: str, payload: T) -> None:
        # The word's own reading in context (着火: zhao huo), not every reading its characters have
        # somewhere (呼 can read xiao, which would hear 没消息 as 没呼吸).
        if len(word) < 2 or not all(_CJK.match(char) for char in word):
            raise ValueError(f"homophone matching needs two or more Chinese characters: {word!r}")
        syllables = tuple(frozenset({reading}) for reading in lazy_pinyin(word, style=Style.NORMAL))
        if len(syllables) != len(word):
            raise ValueError(f"homophone matching needs two or more Chinese characters: {word!r}")
        for first in syllables[0]:
            for second in syllables[1]:
                self._by_start.setdefault((first, second), []).append((word, syllables, payload))

    def find(self, text: str) -> list[tuple[int, int, str, T]]:
        """(start, end, word, payload) for every sound-alike of a word in ``text``."""
        readings = [_readings(char) for char in text]
        found: list[tuple[int, int, str, T]] = []
        for start in range(len(text) - 1):
            seen: set[str] = set()
            for first in readings[start]:
                for second in readings[start + 1]:
                    for word, syllables, payload in self._by_start.get((first, second), ()):
                        end = start + len(word)
                        if word in seen or end > len(text):
                            continue
                        seen.add(word)
                        heard = text[start:end]
                        if heard == word or not set(heard) & set(word):
                            continue
                        # A character other than the word's must sound like it as usually read, alone
                        # or in the heard words (露 is lu, but lou in 泄露): 越 reads huo only in old
                        # texts, so 车越 is not 车祸.
                        said = _said_readings(heard)
                        if all(heard[k] == word[k] or syllable & {_usual_reading(heard[k]), said[k]}
                               for k, syllable in enumerate(syllables)):
                            found.append((start, end, word, payload))
        return found
