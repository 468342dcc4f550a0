"""Is the call something a 12345 hotline does not accept, and what should the caller be told?

The reasons (涉诉涉法, 纪检监察, 信访, other organs' functions, secrets and privacy, private disputes,
requests for a verdict, other territories, abuse or no request) and their evidence are data in
data/scope.toml. Where no phrase matches, a character n-gram classifier (emergency_model.py,
data/scope_model.json) trained on hand-written examples and the ordinary calls of the corpus gives its
reason, with the reason's own guards (``unless``, ``max_chars``) and a confidence of at most
``MAX_CONFIDENCE``. Emergencies are not judged here: they take the emergency path (emergency.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from gateway.understanding.emergency_model import MAX_CONFIDENCE, NgramModel
from gateway.understanding.vocabulary import literal_pattern, load

_DROPPED = re.compile(r"[\s嗯呃啊哦唔]")


@dataclass(frozen=True)
class OutOfScope:
    reason: str  # a stable id from data/scope.toml: "litigation", "discipline", …
    evidence: str  # the caller's words that justify it, as they appear in the text
    confidence: float


@dataclass(frozen=True)
class ScopeReason:
    id: str
    label: str  # the name agents see (涉诉涉法 …)
    redirect: str  # what to tell the caller
    confidence: float
    max_chars: int | None
    evidence: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None


def _reason(raw: dict[str, Any]) -> ScopeReason:
    literal = literal_pattern(raw.get("terms", []))
    patterns = tuple(re.compile(p) for p in raw.get("patterns", []))
    return ScopeReason(
        id=raw["id"], label=raw["label"], redirect=raw["redirect"], confidence=float(raw["confidence"]),
        max_chars=raw.get("max_chars"), evidence=((literal,) if literal else ()) + patterns,
        unless=literal_pattern(raw.get("unless", [])))


class ScopeJudge:
    """The reasons compiled once; ``judge`` is pure."""

    def __init__(self, vocabulary: dict[str, Any], model: NgramModel | None = None) -> None:
        self.reasons = tuple(_reason(raw) for raw in vocabulary["reasons"])
        self.by_id = {reason.id: reason for reason in self.reasons}
        self.model = model

    def judge(self, text: str) -> OutOfScope | None:
        if not text:
            return None
        kept = [(at, char) for at, char in enumerate(text) if not _DROPPED.match(char)]
        compact, origin = "".join(char for _, char in kept), [at for at, _ in kept]
        best: tuple[float, int, OutOfScope] | None = None
        for order, reason in enumerate(self.reasons):
            if not _applies(reason, compact):
                continue
            for pattern in reason.evidence:
                match = pattern.search(compact)
                if match is None or match.end() == match.start():
                    continue
                evidence = text[origin[match.start()]:origin[match.end() - 1] + 1]
                found = OutOfScope(reason.id, evidence, reason.confidence)
                if best is None or (found.confidence, -order) > best[:2]:
                    best = (found.confidence, -order, found)
                break
        if best is not None:
            return best[2]
        return self._model_guess(text, compact, origin)

    def _model_guess(self, text: str, compact: str, origin: list[int]) -> OutOfScope | None:
        guess = self.model.predict(compact) if self.model is not None else None
        if guess is None or guess.label not in self.by_id or not _applies(self.by_id[guess.label], compact):
            return None
        evidence = text[origin[guess.start]:origin[guess.end - 1] + 1]
        return OutOfScope(guess.label, evidence, round(MAX_CONFIDENCE * guess.probability, 2))


def _applies(reason: ScopeReason, compact: str) -> bool:
    """A reason's guards: short utterances only (abuse), and the phrases that keep a call in scope."""
    if reason.max_chars is not None and len(compact) > reason.max_chars:
        return False
    return not (reason.unless and reason.unless.search(compact))


@cache
def default_judge() -> ScopeJudge:
    """The shipped reasons (data/scope.toml) and classifier (data/scope_model.json), compiled once on
    first use; immutable."""
    return ScopeJudge(load("scope.toml"), NgramModel.shipped("out_of_scope"))


def out_of_scope(text: str) -> OutOfScope | None:
    """Why a 12345 hotline would not accept this call, if it would not (see data/scope.toml)."""
    return default_judge().judge(text)


def jurisdiction(place: str, text: str) -> OutOfScope | None:
    """``other_jurisdiction`` for a place the caller names outside the deployment's city (the pipeline
    resolves it), held to that reason's guards (异地就医, 外地人来 keep a call in scope)."""
    reason = default_judge().by_id["other_jurisdiction"]
    compact = _DROPPED.sub("", text)
    return OutOfScope(reason.id, place, reason.confidence) if _applies(reason, compact) else None


def describe(reason: str) -> ScopeReason:
    """The label and the redirect advice for a reason id; KeyError for an unknown id."""
    return default_judge().by_id[reason]
