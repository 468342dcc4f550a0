"""Places and times in a Chinese transcript, with Chinese numerals normalised (cn2an).

Places are read from the segmenter's tokens rather than from a bare regex: a regex cannot tell where
"我家在城关镇" stops being words and starts being a place; the tagger (ns) and the token boundaries can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cn2an

from gateway.speech.terms import Evidence

NUM = "0-9零〇一二两三四五六七八九十百千"
NUM_RE = re.compile(f"[{NUM}]+")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

# Suffix → address level, longest first so 街道 wins over 街 and 号楼 over 号.
LEVELS: tuple[tuple[str, str], ...] = (
    ("自治区", "province"),
    ("省", "province"),
    ("自治州", "city"),
    ("市", "city"),
    ("州", "city"),
    ("盟", "city"),
    ("街道", "street"),
    ("镇", "street"),
    ("乡", "street"),
    ("区", "district"),
    ("县", "district"),
    ("旗", "district"),
    ("居委会", "community"),
    ("村委会", "community"),
    ("社区", "community"),
    ("村", "community"),
    ("大道", "road"),
    ("胡同", "road"),
    ("路", "road"),
    ("街", "road"),
    ("巷", "road"),
    ("弄", "road"),
    ("小区", "building"),
    ("花园", "building"),
    ("家园", "building"),
    ("新村", "building"),
    ("公寓", "building"),
    ("大厦", "building"),
    ("苑", "building"),
)
# Numbered parts: house number after a road, then building, unit, floor, room.
NUMBERED = ("号楼", "号院", "号", "栋", "幢", "座", "单元", "楼", "层", "室", "户", "组", "期", "区")
ORDER = ("province", "city", "district", "street", "community", "road", "building")
FUNCTION_TAGS = ("r", "p", "v", "d", "c", "u", "x", "w", "e", "y", "o")


def normalise_numbers(text: str) -> str:
    """Chinese numerals → Arabic digits (二十三 → 23, 两 → 2); digits stay; "一下"-like words are
    not touched because callers only pass numeral runs that sit before a unit."""

    def convert(match: re.Match[str]) -> str:
        run = match.group(0)
        if run.isdigit():
            return run
        try:
            return str(cn2an.cn2an(run, "smart"))
        except ValueError:
            # Digit-by-digit readings of numbers ("五零二" for room 502) are not numerals to cn2an.
            if all(ch in _CN_DIGITS for ch in run):
                return "".join(str(_CN_DIGITS[ch]) for ch in run)
            return run

    return NUM_RE.sub(convert, text)


@dataclass
class Place:
    parts: dict[str, str] = field(default_factory=dict)  # level → normalised text
    evidence: Evidence | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts[level] for level in ORDER if level in self.parts)


def _level(word: str) -> str | None:
    for suffix, level in LEVELS:
        if word.endswith(suffix) and len(word) > len(suffix):
            return level
    return None


def _is_numbered(word: str) -> bool:
    return any(word.endswith(s) and NUM_RE.fullmatch(word[: -len(s)] or "x") for s in NUMBERED)


def find_places(tokens: list[tuple[str, str, int]]) -> list[Place]:
    """``tokens`` are (word, tag, start offset). A place is a run of place-like tokens."""
    places: list[Place] = []
    i = 0
    while i < len(tokens):
        run_end = _place_run(tokens, i)
        if run_end == i:
            i += 1
            continue
        words = [w for w, _, _ in tokens[i:run_end]]
        start = tokens[i][2]
        end = tokens[run_end - 1][2] + len(tokens[run_end - 1][0])
        text = "".join(words)
        place = Place(_classify(words), Evidence(start, end, text))
        if place.parts:
            places.append(place)
        i = run_end
    return places


def _place_run(tokens: list[tuple[str, str, int]], i: int) -> int:
    """Index just past the place starting at token ``i`` (== i when none starts there)."""
    j = i
    while j < len(tokens):
        word, tag, _ = tokens[j]
        nxt = tokens[j + 1][0] if j + 1 < len(tokens) else ""
        if tag.startswith("ns") or (_level(word) and not tag.startswith(FUNCTION_TAGS)):
            j += 1
        elif j > i and (any(word == s for s, _ in LEVELS) or _is_numbered(word)):
            j += 1  # a bare suffix ("路", "街道") or a numbered part ("23号") continuing the place
        elif tag == "m" and NUM_RE.fullmatch(word) and j > i and (nxt in NUMBERED or _is_numbered(nxt)):
            j += 2  # "二十三" + "号", or a room read digit by digit: "五零" + "二室"
        elif not tag.startswith(FUNCTION_TAGS) and any(nxt == s for s, _ in LEVELS) and len(word) >= 2:
            j += 2  # a name + its suffix as separate tokens: "幸福" + "路"
        else:
            break
    return j


def _classify(words: list[str]) -> dict[str, str]:
    """Group tokens into address levels: a bare suffix or number joins the component before it."""
    parts: dict[str, str] = {}
    current: str | None = None
    pending = ""
    merged: list[str] = []
    for word in words:  # numerals split from their unit by the segmenter go back together
        if (
            merged
            and NUM_RE.fullmatch(merged[-1])
            and (NUM_RE.fullmatch(word) or _is_numbered(word) or word in NUMBERED)
        ):
            merged[-1] += word
        else:
            merged.append(word)
    for word in merged:
        level = _level(word) if not _is_numbered(word) else None
        bare_suffix = next((lv for s, lv in LEVELS if word == s), None)
        if _is_numbered(word) or NUM_RE.fullmatch(word) or word in NUMBERED:
            # House number belongs to the road; building/unit/room numbers to the building.
            target = (
                "road"
                if current == "road" and word.endswith("号") and "building" not in parts
                else "building"
            )
            parts[target] = parts.get(target, "") + pending + normalise_numbers(word)
            current, pending = target, ""
        elif bare_suffix is not None:
            name = pending or (parts.pop(current) if current else "")
            parts[bare_suffix] = name + word
            current, pending = bare_suffix, ""
        elif level is not None:
            parts[level] = (
                parts.get(level, "") + pending + normalise_numbers(word)
                if level == "building"
                else pending + word
            )
            current, pending = level, ""
        else:
            pending += word  # a name waiting for its suffix
    return parts


# --- time expressions -----------------------------------------------------------------------------

_N = f"[{NUM}]+"
_DAY = (
    "(?:大前天|前天|昨天|今天|明天|后天|昨日|今日|前晚|昨晚|今晚|今早|昨早|每天|天天|最近|这几天"
    "|去年|今年|上周|本周|这周|下周|上个月|这个月|下个月)"
)
_PART = "(?:早上|上午|中午|下午|傍晚|晚上|夜里|半夜|凌晨|白天)"
_CLOCK = f"(?:{_N}点(?:{_N}分|半|多|钟)?|\\d{{1,2}}[:：]\\d{{2}})"
_DATE = f"(?:(?:{_N}年)?{_N}月{_N}[日号]|{_N}年)"
_WEEK = "(?:(?:上|下|这)?(?:个)?(?:星期|周|礼拜)[一二三四五六日天])"
_DURATION = f"(?:(?:{_N}|好?几)(?:个)?多?(?:分钟|小时|天|周|星期|个月|年)多?(?:了|以来|左右)?)"
TIME_RE = re.compile(f"(?:{_DATE}|{_WEEK}|{_DAY}|{_PART}|{_CLOCK}|{_DURATION})+")


@dataclass(frozen=True, slots=True)
class TimeExpression:
    text: str
    normalised: str
    kind: str  # "duration" (三天了) or "point" (昨天下午三点)
    evidence: Evidence


def find_times(text: str, exclude: list[Evidence] = ()) -> list[TimeExpression]:  # type: ignore[assignment]
    found = []
    for match in TIME_RE.finditer(text):
        start, end = match.span()
        if any(e.start < end and start < e.end for e in exclude):
            continue  # inside an address ("二十三号")
        said = match.group(0)
        kind = (
            "duration"
            if re.search(f"{_DURATION}$", said) and not re.search(_DAY + "|" + _PART, said)
            else "point"
        )
        found.append(TimeExpression(said, normalise_numbers(said), kind, Evidence(start, end, said)))
    return found
