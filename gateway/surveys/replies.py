"""Understanding a citizen's survey answer: "2", "２", "满意", "回复1 谢谢", "不太满意" …"""

from __future__ import annotations

import re
import unicodedata

from gateway.tickets.schemas import SatisfactionLevel as L

BY_DIGIT = {"1": L.VERY_SATISFIED, "2": L.SATISFIED, "3": L.BASICALLY_SATISFIED, "4": L.DISSATISFIED,
            "5": L.VERY_DISSATISFIED}

# Longest phrases first, each removed once matched, so "非常不满意" is not also read as "满意".
PHRASES: tuple[tuple[re.Pattern[str], L], ...] = (
    (re.compile("非常不满意|很不满意|极不满意|特别不满意"), L.VERY_DISSATISFIED),
    (re.compile("非常满意|很满意|特别满意"), L.VERY_SATISFIED),
    (re.compile("基本满意|还算满意|比较满意|一般"), L.BASICALLY_SATISFIED),
    (re.compile("不.{0,2}满意|没.{0,2}满意|没有解决|未解决"), L.DISSATISFIED),
    (re.compile("满意"), L.SATISFIED),
)
LONE_DIGIT = re.compile(r"(?<![0-9])[1-5](?![0-9])")


def parse_reply(text: str) -> L | None:
    """The level the citizen chose, or None when the reply is empty, says nothing we know, or says two
    different things ("1 或 4"). Full-width digits and spaces are folded first (NFKC)."""
    rest = unicodedata.normalize("NFKC", text).strip()
    found: set[L] = set()
    for pattern, level in PHRASES:
        if pattern.search(rest):
            found.add(level)
            rest = pattern.sub(" ", rest)
    found.update(BY_DIGIT[d] for d in LONE_DIGIT.findall(rest))
    return found.pop() if len(found) == 1 else None
