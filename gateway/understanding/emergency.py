"""Is the caller reporting an emergency happening now, and which service (110/119/120/122) first?

Recall first: missing an emergency is the worst error, so the vocabulary is broad (events and harm,
homophones by pinyin) and precision comes from the cues that turn a mention into something else —
negation (没有着火), the past (上次着火的事), hypotheticals (担心会着火), complaints that borrow the words
(消防通道被占, 燃气费) — all kept as data in data/emergency.toml. A character n-gram classifier
(emergency_model.py) gives the second opinion: it decides where the vocabulary recognises nothing, and
where the vocabulary only read its words as part of another phrase it overrules that reading when it
is sure (``SURE``); negation, the past and hypotheticals stay authoritative. Its detections carry a
low confidence, so on their own they flag the call for a person rather than transfer it. Pure and cheap:
everything is compiled once on first use, nothing here does I/O per call.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from gateway.understanding.emergency_model import MAX_CONFIDENCE, NONE, EmergencyModel
from gateway.understanding.vocabulary import HomophoneIndex, gapped_pattern, literal_pattern, load

# ASR noise that carries nothing for this decision; punctuation is kept as the clause boundary.
_DROPPED = frozenset(" \t\r\n\u3000嗯呃啊哦唔")
_CLAUSE_END = re.compile(r"[，。！？；,.!?;…]")

_CONFIDENCE_LITERAL = 0.9
_CONFIDENCE_PATTERN = 0.85
_CONFIDENCE_HOMOPHONE = 0.7
_CONFIDENCE_GAPPED = 0.7
_WEAK_PENALTY = 0.15
_URGENT_BONUS = 0.05
# Where the vocabulary's words were read as part of another phrase, the classifier overrules that
# reading only when it is this sure of some emergency (out-of-fold false-alarm rate ≈ 0.05 % at 0.8).
SURE = 0.8


@dataclass(frozen=True)
class Emergency:
    service: str  # "110" | "119" | "120" | "122"
    evidence: str  # the caller's words that justify it, as they appear in the text
    start: int  # span of the evidence in the given text
    end: int
    confidence: float
    others: tuple[str, ...] = ()  # other services the text also points to, in dispatch order
    source: str = "vocabulary"  # or "classifier": a suspicion only, never a transfer on its own


@dataclass(frozen=True)
class _Event:
    id: str
    service: str
    priority: int
    weak: bool
    ongoing: bool  # habitual framing (老是打我) does not set it aside
    lasting: bool  # a past start does not set it aside: missing since yesterday is still missing
    requires: re.Pattern[str] | None  # words that must be somewhere in the utterance (a road for a car fire)
    literal: re.Pattern[str] | None
    gapped: re.Pattern[str] | None
    patterns: tuple[re.Pattern[str], ...]
    blockers: re.Pattern[str] | None
    explained_by: re.Pattern[str] | None


@dataclass(frozen=True)
class _Hit:
    event: _Event
    start: int  # in the compact text
    end: int
    confidence: float
    phrase: bool = False  # matched by a pattern with a variable middle, which may hold a past or a 怕


class _Cues:
    def __init__(self, cues: dict[str, Any]) -> None:
        self.negation = literal_pattern(cues["negation"])
        self.negation_exceptions = literal_pattern(cues["negation_exceptions"])
        self.negation_gap = int(cues["negation_gap"])
        self.past = _either(literal_pattern(cues["past"]), cues.get("past_patterns", []))
        self.past_window = int(cues["past_window"])
        self.reference = re.compile("了?(?:" + "|".join(map(re.escape, cues["reference"])) + ")")
        self.hypothetical = literal_pattern(cues["hypothetical"])
        self.not_hypothetical = literal_pattern(cues.get("not_hypothetical", []))
        self.hypothetical_after = literal_pattern(cues.get("hypothetical_after", []))
        self.aftermath = literal_pattern(cues.get("aftermath", []))
        self.hypothetical_window = int(cues["hypothetical_window"])
        self.urgent = literal_pattern(cues["urgent"])
        self.not_urgent = literal_pattern(cues.get("not_urgent", []))
        self.cost = literal_pattern(cues.get("cost", []))
        self.cost_window = int(cues.get("cost_window", 0))
        self.gratitude = literal_pattern(cues.get("gratitude", []))
        self.habitual = literal_pattern(cues.get("habitual", []))
        self.simile_before = literal_pattern(cues.get("simile_before", []))
        self.simile_after = literal_pattern(cues.get("simile_after", []))
        self.habitual_window = int(cues.get("habitual_window", 0))
        self.standing = literal_pattern(cues.get("standing", []))
        self.staged = literal_pattern(cues.get("staged", []))
        self.complaint_after = literal_pattern(cues.get("complaint_after", []))
        self.all_clear = literal_pattern(cues.get("all_clear", []))
        self.all_clear_services = frozenset(cues.get("all_clear_services", ["110", "119", "120", "122"]))
        self.media = literal_pattern(cues.get("media", []))
        self.media_window = int(cues.get("media_window", 0))
        self.animal = literal_pattern(cues.get("animal", []))
        self.animal_window = int(cues.get("animal_window", 0))
        self.animal_harmed_by = literal_pattern(cues.get("animal_harmed_by", []))
        self.animal_harms = literal_pattern(cues.get("animal_harms", []))
        self.hazard_before = literal_pattern(cues.get("hazard_before", []))
        self.hazard_after = literal_pattern(cues.get("hazard_after", []))

    def cries_for_help(self, compact: str) -> bool:
        if not self.urgent:
            return False
        quiet = [m.span() for m in self.not_urgent.finditer(compact)] if self.not_urgent else []
        return any(not any(s <= m.start() < e for s, e in quiet) for m in self.urgent.finditer(compact))


def _event(raw: dict[str, Any]) -> _Event:
    return _Event(
        id=raw["id"], service=raw["service"], priority=int(raw["priority"]), weak=bool(raw.get("weak", False)),
        ongoing=bool(raw.get("ongoing", False)),
        lasting=bool(raw.get("lasting", False)),
        requires=literal_pattern(raw.get("requires", [])),
        literal=literal_pattern(raw["terms"]),
        gapped=gapped_pattern(raw["terms"]),
        patterns=tuple(re.compile(p) for p in raw.get("patterns", [])),
        blockers=_blockers(raw.get("blockers", []), raw.get("blocker_patterns", [])),
        explained_by=literal_pattern(raw.get("explained_by", [])),
    )


def _blockers(words: list[str], patterns: list[str]) -> re.Pattern[str] | None:
    """Literal phrases and regular expressions (the object before a verb: 护栏被车撞歪) in one alternation."""
    literal = literal_pattern(words)
    parts = ([literal.pattern] if literal else []) + [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts)) if parts else None


class EmergencyDetector:
    """The vocabulary compiled once; ``detect`` is pure."""

    def __init__(self, vocabulary: dict[str, Any], model: EmergencyModel | None = None) -> None:
        self.vocabulary = vocabulary
        self.model = model
        self.events = tuple(_event(raw) for raw in vocabulary["events"])
        self.homophones: HomophoneIndex[_Event] = HomophoneIndex()
        for raw, event in zip(vocabulary["events"], self.events, strict=True):
            for word in raw.get("homophones", []):
                self.homophones.add(word, event)
        self.cues = _Cues(vocabulary["cues"])

    def with_words(self, words: Mapping[str, Sequence[str]]) -> EmergencyDetector:
        """A detector that also knows a deployment's own words per service. Each word joins the first
        event of its service in the vocabulary, so the same blockers and cues (negation, the past,
        hypotheticals) apply to it."""
        vocabulary = copy.deepcopy(self.vocabulary)
        for service, extra in words.items():
            event = next((raw for raw in vocabulary["events"] if raw["service"] == service), None)
            if event is None:
                raise ValueError(f"no emergency event for service {service!r}")
            event["terms"] = list(event["terms"]) + [word.strip() for word in extra if word.strip()]
        return EmergencyDetector(vocabulary, self.model)

    def detect(self, text: str) -> Emergency | None:
        if not text:
            return None
        compact, origin = _compact(text)
        if not compact:
            return None
        masked = self._mask_negation_exceptions(compact)
        urgent = self.cues.cries_for_help(compact)
        candidates = [hit for event in self.events for hit in self._hits(event, compact)]
        candidates += [_Hit(event, start, end, _CONFIDENCE_HOMOPHONE - (_WEAK_PENALTY if event.weak else 0.0))
                       for start, end, _, event in self.homophones.find(compact)]
        verdicts = [(hit, self._set_aside_by(hit, compact, masked, urgent)) for hit in candidates]
        hits = [hit for hit, why in verdicts if why is None]
        if not hits and self.model is not None:
            if not candidates:
                # Wording the vocabulary does not know at all: the classifier's word.
                return self._model_guess(text, compact, origin, None)
            if all(why == "blocked" for _, why in verdicts):
                # The words were recognised but read as part of another phrase (消防通道, 救护车收费):
                # the phrase lists cannot foresee every phrasing, so a classifier that is sure overrules
                # them. What explains the danger away (火已经灭了), negation, the past, references and
                # hypotheticals stay authoritative.
                return self._model_guess(text, compact, origin, SURE)
        if not hits:
            return None
        hits.sort(key=lambda hit: (-hit.event.priority, -hit.confidence, hit.start))
        best = hits[0]
        service = best.event.service
        if all(hit.event.weak for hit in hits) and self.model is not None:
            # Only words that are emergencies in context (流血, 打人, 被困, 冒烟): which service is a
            # guess the classifier, reading the whole utterance, makes better when it is sure of one.
            service = self._sure_service(compact) or service
        others = tuple(dict.fromkeys(hit.event.service for hit in hits if hit.event.service != service))
        start, end = origin[best.start], origin[best.end - 1] + 1
        confidence = min(1.0, best.confidence + (_URGENT_BONUS if urgent else 0.0))
        return Emergency(service, text[start:end], start, end, round(confidence, 2), others)

    def _sure_service(self, compact: str) -> str | None:
        assert self.model is not None
        probabilities, _ = self.model.probabilities(compact)
        service, probability = max(((c, p) for c, p in probabilities.items() if c != NONE), key=lambda cp: cp[1])
        return service if probability >= SURE else None

    def _model_guess(self, text: str, compact: str, origin: list[int], threshold: float | None) -> Emergency | None:
        assert self.model is not None
        guess = self.model.predict(compact, threshold)
        if guess is None:
            return None
        if guess.label in self.cues.all_clear_services and self.cues.all_clear and self.cues.all_clear.search(compact):
            return None  # the caller says nobody is hurt: the fallback does not overrule that
        # The classifier's evidence is its heaviest n-gram, not the phrase a rule would match: look twice
        # as far back from it for the animal.
        if self._an_animals_trouble((guess.start, guess.end), compact, _clause_start(compact, guess.start), reach=2):
            return None
        start, end = origin[guess.start], origin[guess.end - 1] + 1
        return Emergency(guess.service, text[start:end], start, end, round(MAX_CONFIDENCE * guess.probability, 2),
                         source="classifier")

    def _hits(self, event: _Event, compact: str) -> list[_Hit]:
        penalty = _WEAK_PENALTY if event.weak else 0.0
        hits: list[_Hit] = []
        if event.literal:
            hits += [_Hit(event, m.start(), m.end(), _CONFIDENCE_LITERAL - penalty)
                     for m in event.literal.finditer(compact)]
        if event.gapped:
            hits += [_Hit(event, m.start(), m.end(), _CONFIDENCE_GAPPED - penalty, phrase=True)
                     for m in event.gapped.finditer(compact)]
        for pattern in event.patterns:
            hits += [_Hit(event, m.start(), m.end(), _CONFIDENCE_PATTERN - penalty, phrase=True)
                     for m in pattern.finditer(compact) if m.end() > m.start()]
        return hits

    def _set_aside_by(self, hit: _Hit, compact: str, masked: str, urgent: bool) -> str | None:
        """Why a mention is not a report of danger now, or None when it is: part of another phrase
        ("blocked"), explained away ("explained"), negated, over ("past", "reference") or hypothetical —
        the last three unless the caller asks for help right now."""
        event, cues = hit.event, self.cues
        if event.explained_by and event.explained_by.search(compact):
            return "explained"  # first: what explains the danger away is never left to the classifier
        if event.blockers and any(m.start() < hit.end and hit.start < m.end()
                                  for m in event.blockers.finditer(compact)):
            return "blocked"
        if event.requires and not event.requires.search(compact):
            return "out of context"
        clause_start = _clause_start(compact, hit.start)
        if cues.negation:
            window = masked[max(clause_start, hit.start - cues.negation_gap - 3):hit.start]
            # 不是烧 是在砸车: a 是 after the negation turns to what is happening
            if any(len(window) - m.end() <= cues.negation_gap and "是" not in window[m.end():]
                   for m in cues.negation.finditer(window)):
                return "negated"
        if self._an_animals_trouble((hit.start, hit.end), compact, clause_start):
            return "animal"
        if urgent:
            return None
        # A phrase's own middle counts as "before" it: 小孩昨天被狗咬了, 老人糊涂了怕哪天走丢.
        before_end = hit.end if hit.phrase else hit.start
        if (not event.lasting and cues.past
                and cues.past.search(compact, max(clause_start, hit.start - cues.past_window), before_end)):
            return "past"
        if cues.gratitude and cues.gratitude.search(compact):
            return "past"  # a call of thanks tells what happened and how it was handled
        if cues.aftermath and cues.aftermath.search(compact):
            return "past"  # saved, or left disabled: the call is about what came after
        if cues.staged and cues.staged.search(compact):
            return "staged"  # a film shoot, a drill, a joke: nobody is in danger
        if cues.complaint_after and cues.complaint_after.search(compact, hit.end):
            return "past"  # the event told, then a complaint about how it was handled
        if cues.media and cues.media.search(compact, max(clause_start, hit.start - cues.media_window), hit.start):
            return "reference"  # seen on the news or online, not where the caller is
        if (cues.hazard_before and cues.hazard_after
                and cues.hazard_before.search(compact, max(clause_start, hit.start - 2), hit.start)
                and cues.hazard_after.match(compact, hit.end)):
            return "hypothetical"  # 有爆炸危险, 存在火灾隐患: a risk to remove, not an event
        if cues.reference.match(compact, hit.end):
            return "reference"
        if cues.cost and cues.cost.search(compact, hit.end, min(_clause_end(compact, hit.end),
                                                                  hit.end + cues.cost_window)):
            return "reference"
        window_start = max(clause_start, hit.start - cues.hypothetical_window)
        if cues.hypothetical and cues.hypothetical.search(self._mask(compact, cues.not_hypothetical),
                                                          window_start, before_end):
            return "hypothetical"
        if event.weak and cues.hypothetical_after and cues.hypothetical_after.match(compact, hit.end):
            return "hypothetical"  # 砸到人怎么办: what if (not 没有呼吸了怎么办: that is a plea)
        if (cues.simile_before and cues.simile_after
                and cues.simile_before.search(compact, max(clause_start, hit.start - 6), hit.start)
                and cues.simile_after.search(compact, hit.end, hit.end + 5)):
            return "simile"
        habitual_start = max(clause_start, hit.start - cues.habitual_window)
        if not event.ongoing and cues.habitual and cues.habitual.search(compact, habitual_start, hit.start):
            return "habitual"
        if not event.ongoing and cues.standing and cues.standing.search(compact):
            return "habitual"  # 每年都这样: the caller says it is a standing problem
        return None

    def _an_animals_trouble(self, span: tuple[int, int], compact: str, clause_start: int, reach: int = 1) -> bool:
        """The one stuck, poisoned or hurt is an animal (小猫爬到树上下不来, 狗吃了老鼠药) — not when the
        animal harms a person (被狗咬了, 狗扑上来咬我孩子)."""
        cues = self.cues
        if not cues.animal:
            return False
        hit_start, hit_end = span
        start = max(clause_start, hit_start - reach * cues.animal_window)
        for m in cues.animal.finditer(compact, start, hit_end):
            harmed_by = cues.animal_harmed_by and cues.animal_harmed_by.search(
                compact, max(clause_start, m.start() - 4), m.start())
            harms = cues.animal_harms and cues.animal_harms.search(compact, m.end(), max(hit_end, m.end() + 4))
            if not (harmed_by or harms):
                return True
        return False

    def _mask_negation_exceptions(self, compact: str) -> str:
        """没想到 / 不得了 / 不知道 start with a negation character but negate nothing: hide them."""
        return self._mask(compact, self.cues.negation_exceptions)

    @staticmethod
    def _mask(compact: str, words: re.Pattern[str] | None) -> str:
        """``compact`` with ``words`` hidden (same length: positions stay)."""
        return words.sub(lambda m: "_" * len(m[0]), compact) if words else compact


def _either(words: re.Pattern[str] | None, patterns: list[str]) -> re.Pattern[str] | None:
    """Literal words and regular expressions as one pattern."""
    parts = ([words.pattern] if words else []) + [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts)) if parts else None


def _compact(text: str) -> tuple[str, list[int]]:
    """The text without spaces and fillers, with each kept character's index in the original."""
    kept = [(at, char) for at, char in enumerate(text) if char not in _DROPPED]
    return "".join(char for _, char in kept), [at for at, _ in kept]


def _clause_start(compact: str, at: int) -> int:
    start = 0
    for match in _CLAUSE_END.finditer(compact, 0, at):
        start = match.end()
    return start


def _clause_end(compact: str, at: int) -> int:
    match = _CLAUSE_END.search(compact, at)
    return match.start() if match else len(compact)


@cache
def default_detector() -> EmergencyDetector:
    """The shipped vocabulary (data/emergency.toml) and classifier (data/emergency_model.json), compiled
    once on first use. Immutable: sharing it is sharing a compiled regular expression, not state."""
    return EmergencyDetector(load("emergency.toml"), EmergencyModel.shipped())


def detect_emergency(text: str) -> Emergency | None:
    """The emergency the text reports, if any; see the module docstring."""
    return default_detector().detect(text)
