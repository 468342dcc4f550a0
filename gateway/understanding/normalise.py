"""ASR output → clean text an analyser can read: no fillers, stutters, stray spaces or full-width
ASCII, and spoken numbers as digits where that cannot change the meaning.

Conservative on purpose: a character is removed only when it carries nothing (嗯, 呃, a stutter), and a
number is converted only when it is clearly a quantity, a date or a time (三号楼, 二零二六年, 五百块) —
never inside words such as 一直, 一下, 万一, 十分. ``normalise`` is idempotent.
"""

from __future__ import annotations

import re

import cn2an

_CJK = r"\u4e00-\u9fff"

# Full-width ASCII letters/digits and the ideographic space → half width; Chinese punctuation stays.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code).isalnum()}
_WIDTH[0x3000] = 0x20

# Interjections that never carry meaning in a caller's description.
_FILLER_CHARS = re.compile(r"[嗯呃唔]+|啊+|额(?![度外头定满])|哦+(?=[，。,\s]|$)")
# Multi-character fillers; 那个/这个 only when clearly not a determiner (after another filler, at a clause
# start before a pronoun, or doubled).
_FILLER_WORDS = re.compile(
    r"(?:就是说|然后呢|[嗯呃啊])(?:那个|这个)|就是说|然后呢|那个那个|这个这个|(?:(?<=^)|(?<=[，。！？,.!?\s]))(?:那个|这个|就是)(?=[我你他她我们这那])")
# A word of 2–4 characters said twice or more in a row (着火了着火了, 快来快来).
_WORD_REPEAT = re.compile(rf"([{_CJK}]{{2,4}}?)\1+")
# A character said three times or more (我我我) → once; kept twice if it is a real reduplication.
_CHAR_REPEAT = re.compile(rf"([{_CJK}])\1{{2,}}")
# Doubled pronouns / function words are stutters (我我家, 他他说); other doubles (妈妈, 看看) are words.
_STUTTER_DOUBLE = re.compile(r"([我你他她它这那就在是的了有要])\1")
_REDUPLICATED = set("妈爸哥姐弟妹爷奶叔婆公舅姑宝娃谢看想试等慢快刚常天人个家好轻悄静渐偷")
_SPACES_IN_CJK = re.compile(rf"(?<=[{_CJK}，。！？、；：])\s+|\s+(?=[{_CJK}，。！？、；：])")
_SPACES = re.compile(r"\s+")

_NUMERALS = "零一二三四五六七八九十百千万两"
# Runs that are numbers: two or more numerals (二十, 三百五, 二零二六) not inside a set phrase, or one
# numeral (not 一/两, whose single uses are mostly words) before a unit of dates, times, places, money.
_DIGITS = {char: str(value) for value, char in enumerate("零一二三四五六七八九")} | {"〇": "0"}
_UNITS = "年月日号点时分秒天岁楼层栋幢单元室块元米斤公里小时周个次"
_NUMBER_RUN = re.compile(
    rf"(?<![{_NUMERALS}〇])([〇零一二三四五六七八九十百千万两]{{2,}}|[二三四五六七八九十](?=[{_UNITS}]))")
_NOT_NUMBERS = ("一一", "十一", "一万", "万一", "三三两两", "十万火急", "七七八八", "一五一十", "千万", "百万", "一千")
_SET_PHRASES = re.compile("|".join(["三番五次", "七上八下", "乱七八糟", "一五一十", "三三两两", "十万火急", "千万",
                                    "万一", "七七八八", "五花八门", "一干二净", "九九", "百分之百", "十字路口",
                                    "十字"]))


def normalise(text: str) -> str:
    """Clean one utterance; applying it again changes nothing."""
    previous = None
    current = text
    for _ in range(5):  # each pass can expose a new stutter ("我嗯我" → "我我" → "我"); fixed point is quick
        if current == previous:
            break
        previous, current = current, _pass(current)
    return current


def _pass(text: str) -> str:
    text = text.translate(_WIDTH)
    text = _SPACES_IN_CJK.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    text = _FILLER_WORDS.sub("", text)
    text = _FILLER_CHARS.sub("", text)
    text = _numbers(text)  # before the stutter rules: 一三八零零零 is a number, not a stutter
    text = _WORD_REPEAT.sub(_one_word, text)
    text = _CHAR_REPEAT.sub(lambda m: m[1] * (2 if m[1] in _REDUPLICATED else 1), text)
    text = _STUTTER_DOUBLE.sub(_undouble, text)
    return text.strip(" ，,")


def _one_word(match: re.Match[str]) -> str:
    return match[1]  # 着火了着火了 → 着火了, 妈妈妈妈 → 妈妈


def _undouble(match: re.Match[str]) -> str:
    start, text = match.start(), match.string
    if match[1] == "了" and text[start + 2:start + 3] == "之":  # 不了了之
        return match[0]
    return match[1]


def _numbers(text: str) -> str:
    protected = [(m.start(), m.end()) for m in _SET_PHRASES.finditer(text)]

    def convert(match: re.Match[str]) -> str:
        run = match[1]
        if any(start < match.end() and match.start() < end for start, end in protected) or run in _NOT_NUMBERS:
            return run
        if set(run) <= _DIGITS.keys():
            # Digit by digit (二零二六, a phone number); 三四 / 五六 are "three or four", not 34.
            return run if len(run) == 2 else "".join(_DIGITS[char] for char in run)
        try:
            return str(cn2an.cn2an(run, "smart"))
        except Exception:  # cn2an raises KeyError/ValueError on runs it cannot read; keep the words
            return run

    return _NUMBER_RUN.sub(convert, text)
