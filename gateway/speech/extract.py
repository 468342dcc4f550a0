"""Chinese transcript text → a draft ticket, every field with the words that justify it.

``extract_draft`` is plain CPU work (segmentation, pinyin): call it in a thread, never on the event
loop. The flags that need other parts of the system (duplicates, hotspots) are added by
``gateway.speech.drafts.DraftBuilder``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rjieba

from gateway.speech.lexicon import DATA, Lexicon, ResponsibilityList, Topic
from gateway.speech.places import Place, TimeExpression, find_places, find_times
from gateway.speech.terms import Evidence, SoundIndex, TermHit, find_terms

EMERGENCY, URGENT, NORMAL = "emergency", "urgent", "normal"
ORG_SUFFIXES = (
    "公司",
    "局",
    "委员会",
    "委",
    "办公室",
    "办",
    "派出所",
    "所",
    "医院",
    "学校",
    "中学",
    "小学",
    "幼儿园",
    "银行",
    "中心",
    "大队",
    "支队",
    "站",
    "居委会",
    "村委会",
    "物业",
    "政府",
)
FILLERS = (
    "喂",
    "你好",
    "您好",
    "嗯",
    "啊",
    "那个",
    "就是",
    "然后",
    "谢谢",
    "麻烦你",
    "好的",
    "对",
    "是这样的",
)
SUMMARY_LIMIT = 160


@dataclass(frozen=True, slots=True)
class DraftField:
    value: Any
    evidence: tuple[Evidence, ...] = ()
    confidence: float | None = None  # set by the trained understanding pipeline; the word lists have none

    def as_dict(self) -> dict[str, Any]:
        data = {"value": self.value, "evidence": [e.as_dict() for e in self.evidence]}
        if self.confidence is not None:
            data["confidence"] = round(self.confidence, 2)
        return data


@dataclass
class Draft:
    text: str
    category: DraftField
    urgency: DraftField
    place: DraftField | None
    times: list[DraftField]
    people: list[DraftField]
    organisations: list[DraftField]
    summary: DraftField
    unit: DraftField | None
    flags: dict[str, DraftField] = field(default_factory=dict)  # emergency, out_of_scope, duplicate, hotspot
    matter: DraftField | None = None  # 诉求事项 {code, name, domain}, from gateway.understanding
    units: list[DraftField] = field(default_factory=list)  # top-3 {name, score, reasons}; unit is the first

    def as_dict(self) -> dict[str, Any]:
        def one(f: DraftField | None) -> dict[str, Any] | None:
            return f.as_dict() if f is not None else None

        return {
            "text": self.text,
            "category": one(self.category),
            "urgency": one(self.urgency),
            "place": one(self.place),
            "times": [t.as_dict() for t in self.times],
            "people": [p.as_dict() for p in self.people],
            "organisations": [o.as_dict() for o in self.organisations],
            "summary": one(self.summary),
            "unit": one(self.unit),
            "flags": {name: f.as_dict() for name, f in self.flags.items()},
            **({"matter": one(self.matter), "units": [u.as_dict() for u in self.units]} if self.matter else {}),
        }


class Segmenter:
    """rjieba with the project's custom dictionary (data/userdict.txt: word freq tag per line)."""

    def __init__(self, user_dict: Path = DATA / "userdict.txt", extra_words: Iterable[str] = ()) -> None:
        self._jieba = rjieba.Jieba()
        self._lock = threading.Lock()  # one tagger, used from several worker threads
        for line in user_dict.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if parts:
                self._jieba.add_word(
                    parts[0], int(parts[1]) if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None
                )
        for word in extra_words:  # e.g. unit names and places from the responsibility list
            self._jieba.add_word(word, None, None)

    def tag(self, text: str) -> list[tuple[str, str, int]]:
        with self._lock:
            pairs = self._jieba.tag(text)
        tokens, offset = [], 0
        for word, tag in pairs:
            tokens.append((word, tag, offset))
            offset += len(word)
        return tokens


def extract_draft(text: str, *, lexicon: Lexicon, duties: ResponsibilityList, segmenter: Segmenter) -> Draft:
    sounds = SoundIndex(text)
    tokens = segmenter.tag(text)
    places = find_places(tokens)
    place = _best_place(places)
    times = find_times(text, exclude=[p.evidence for p in places if p.evidence])
    emergency = _first_topic(text, lexicon.emergency, sounds)
    out_of_scope = _first_topic(text, lexicon.out_of_scope, sounds)
    category = _category(text, lexicon, sounds)
    urgency = _urgency(text, lexicon, sounds, emergency)
    flags: dict[str, DraftField] = {}
    if emergency:
        flags["emergency"] = emergency
    if out_of_scope:
        flags["out_of_scope"] = out_of_scope
    people, orgs = _people_and_organisations(tokens)
    in_place = [p.evidence for p in places if p.evidence]
    people = [p for p in people if not any(_overlaps(e, p.evidence[0]) for e in in_place)]  # "翠苑" is no one
    return Draft(
        text=text,
        category=category,
        urgency=urgency,
        place=DraftField({**place.parts, "text": place.text}, (place.evidence,)) if place and place.evidence else None,
        times=[DraftField({"text": t.text, "normalised": t.normalised, "kind": t.kind}, (t.evidence,)) for t in times],
        people=people,
        organisations=orgs,
        summary=_summary(
            text,
            category,
            [place] if place else [],
            times,
            lexicon,
            duties,
            [e for f in flags.values() for e in f.evidence],
        ),
        unit=_unit(text, duties, places, sounds),
        flags=flags,
    )


def _category(text: str, lexicon: Lexicon, sounds: SoundIndex) -> DraftField:
    best: tuple[int, int, Topic, list[TermHit]] | None = None
    for rank, topic in enumerate(lexicon.categories):
        explicit = find_terms(text, topic.explicit, sounds=sounds)
        hints = find_terms(text, topic.keywords, sounds=sounds)
        score = 3 * len(explicit) + len(hints)
        # Higher score wins; on a tie the category listed first (举报 before 投诉 …) does.
        if score and (best is None or (score, -rank) > (best[0], -best[1])):
            best = (score, rank, topic, explicit + hints)
    if best is None:
        return DraftField("其他")
    return DraftField(best[2].key, _spans(best[3]))


def _urgency(text: str, lexicon: Lexicon, sounds: SoundIndex, emergency: DraftField | None) -> DraftField:
    if emergency is not None:
        return DraftField(EMERGENCY, emergency.evidence)
    hits = find_terms(text, lexicon.urgent, sounds=sounds)
    return DraftField(URGENT, _spans(hits)) if hits else DraftField(NORMAL)


def _first_topic(text: str, topics: Iterable[Topic], sounds: SoundIndex) -> DraftField | None:
    for topic in topics:
        hits = find_terms(text, topic.keywords, sounds=sounds)
        if hits:
            return DraftField({"key": topic.key, "label": topic.label}, _spans(hits))
    return None


def _best_place(places: list[Place]) -> Place | None:
    """The most detailed place named (a caller may also mention where they work, a shop …)."""
    return max(places, key=lambda p: (len(p.parts), len(p.text)), default=None)


def _people_and_organisations(
    tokens: list[tuple[str, str, int]],
) -> tuple[list[DraftField], list[DraftField]]:
    people: dict[str, DraftField] = {}
    orgs: dict[str, DraftField] = {}
    for i, (word, tag, start) in enumerate(tokens):
        if tag == "nr" and len(word) >= 2:
            name = re.sub("[说讲在]$", "", word) if len(word) >= 3 else word  # "张三说" mis-segmented
            people.setdefault(name, DraftField(name, (Evidence(start, start + len(name), name),)))
        elif tag == "nt" or (word.endswith(ORG_SUFFIXES) and tag.startswith(("n", "j"))):
            first = i
            if word in ORG_SUFFIXES:  # a bare suffix takes the name before it: "人民" + "医院"
                while first > 0 and i - first < 2 and tokens[first - 1][1] in ("n", "nz", "ns", "j"):
                    first -= 1
            org_start = tokens[first][2]
            name = "".join(t[0] for t in tokens[first : i + 1])
            orgs.setdefault(name, DraftField(name, (Evidence(org_start, start + len(word), name),)))
    return list(people.values()), list(orgs.values())


def _unit(text: str, duties: ResponsibilityList, places: list[Place], sounds: SoundIndex) -> DraftField | None:
    place_text = "".join(p.evidence.text for p in places if p.evidence)
    best: tuple[int, list[TermHit], str] | None = None
    for duty in duties.duties:
        keyword_hits = find_terms(text, duty.keywords, sounds=sounds)
        place_hits = [h for h in find_terms(text, duty.places) if h.term in place_text]
        score = 2 * len(keyword_hits) + len(place_hits)
        if score and (best is None or score > best[0]):
            best = (score, keyword_hits + place_hits, duty.unit)
    return DraftField(best[2], _spans(best[1])) if best else None


def _summary(
    text: str,
    category: DraftField,
    places: list[Place],
    times: list[TimeExpression],
    lexicon: Lexicon,
    duties: ResponsibilityList,
    flagged: list[Evidence],
) -> DraftField:
    """One paragraph: the clauses that carry the matter, the place or the time, fillers dropped."""
    evidence: list[Evidence] = []
    anchors = [
        *category.evidence,
        *flagged,
        *(p.evidence for p in places if p.evidence),
        *(t.evidence for t in times),
    ]
    matter_words = [w for duty in duties.duties for w in duty.keywords] + list(lexicon.urgent)
    anchors += [h.evidence for h in find_terms(text, matter_words)]
    for match in re.finditer(r"[^，。！？；,.!?;\s]+", text):
        clause, start = match.group(0), match.start()
        while True:  # strip leading fillers: "喂你好我想…" → "我想…"
            filler = next((f for f in FILLERS if clause.startswith(f)), None)
            if filler is None:
                break
            clause, start = clause[len(filler) :], start + len(filler)
        end = start + len(clause)
        if len(clause) >= 2 and any(_overlaps(a, Evidence(start, end, clause)) for a in anchors):
            evidence.append(Evidence(start, end, clause))
    body = "，".join(e.text for e in evidence) or text.strip()[:SUMMARY_LIMIT]
    if len(body) > SUMMARY_LIMIT:
        body = body[: SUMMARY_LIMIT - 1] + "…"
    return DraftField(f"【{category.value}】来电人反映：{body}。", tuple(evidence))


def _overlaps(a: Evidence, b: Evidence) -> bool:
    return a.start < b.end and b.start < a.end


def _spans(hits: list[TermHit]) -> tuple[Evidence, ...]:
    return tuple(sorted({h.evidence for h in hits}, key=lambda e: e.start))
