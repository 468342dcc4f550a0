"""The understanding pipeline: ASR text → a structured draft, every field with its evidence and confidence.

Stages: 1 normalise · 2 LAC entities · 3 places and times · 4 category and matter · 5 units ·
6 emergency and out-of-scope. ``Understander.understand`` is CPU work: call it from a worker thread.
Stages 1 and 6 live in normalise.py / emergency.py / scope.py, imported when first used.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.errors import ConfigError
from gateway.understanding.classifier import MODEL_FILE, Model, read_corpus, shipped_data_version, train
from gateway.understanding.cues import CueHit
from gateway.understanding.dispatch import ResponsibilityList, suggest
from gateway.understanding.emergency import Emergency, detect_emergency
from gateway.understanding.emergency_model import MAX_CONFIDENCE
from gateway.understanding.ner import Tagger, Token
from gateway.understanding.normalise import normalise
from gateway.understanding.places import CHINA, Gazetteer, Place, PlaceFinder, Region, find_times
from gateway.understanding.scope import OutOfScope, jurisdiction, out_of_scope
from gateway.understanding.taxonomy import Taxonomy

log = logging.getLogger(__name__)
EMERGENCY, URGENT, NORMAL = "emergency", "urgent", "normal"
URGENT_WORDS = ("马上", "赶紧", "尽快", "紧急", "危险", "快点", "急死了", "老人", "孩子")


@dataclass
class Understander:
    taxonomy: Taxonomy
    duties: ResponsibilityList
    tagger: Tagger
    places: PlaceFinder
    model: Model
    zone: ZoneInfo = CHINA  # the deployment's time zone (settings.timezone): times are said in it
    # Approved 退单 per (unit, matter, township), from the ticket store (history.approved_returns); replaced
    # whole when refreshed, so a reader in another thread sees the old or the new mapping, never half.
    returns: Mapping[tuple[str, str, str | None], int] = dataclasses.field(default_factory=dict)

    @classmethod
    def load(
        cls,
        *,
        data_dir: Path,
        taxonomy_path: Path | None = None,
        responsibility_path: Path | None = None,
        retrain: bool = False,
        timezone: str = "Asia/Shanghai",
    ) -> Understander:
        """Load (or, the first time, train from the shipped corpus and save) everything, once."""
        taxonomy = Taxonomy.load(taxonomy_path)
        duties = ResponsibilityList.load(responsibility_path, taxonomy)
        tagger = Tagger()
        path = data_dir / MODEL_FILE
        model = None
        if path.exists() and not retrain:
            try:
                model = Model.load(path)
            except ConfigError as exc:
                log.warning("%s; retraining from the shipped corpus", exc)
            if model is not None and model.meta.get("shipped_data") != shipped_data_version():
                if model.meta.get("source") == "shipped corpus":  # this version ships other data: use it
                    log.info("the shipped corpus or cues changed since %s; retraining", path)
                    model = None
                else:  # the deployment trained it on its own tickets: keep it, say how to refresh it
                    log.warning("%s was trained before this version's corpus and cues; run `hotline "
                                "understanding train --from-tickets` to include them", path)
        if model is None:
            log.info("training the understanding model from the shipped corpus (first use)")
            # No hold-out fit here: first use should take seconds; `hotline understanding train` reports it.
            model = train(read_corpus(), tagger.tag, source="shipped corpus", holdout=0.0)
            model.save(path)
        return cls(taxonomy, duties, tagger, PlaceFinder(Gazetteer(duties.region)), model, ZoneInfo(timezone))

    def understand(
        self,
        text: str,
        *,
        call_time: datetime | None = None,
        returns: Mapping[tuple[str, str, str | None], int] | None = None,
    ) -> dict[str, Any]:
        call_time = call_time or datetime.now(self.zone)
        # Places, times, people and the classifier read the caller's own words (the corpus is raw
        # ASR-like text, and a place is quoted as said: 十二栋, not 12栋); the emergency and scope
        # vocabularies read the normalised text they were built for.
        said = text
        tokens = self.tagger.tag(said)
        place = self.places.find(said, tokens)
        category, matter = self.model.predict(said, tokens)
        clean = normalise(text)
        scope = out_of_scope(clean)
        if scope is not None and scope.reason == "other_jurisdiction" and scope.confidence <= MAX_CONFIDENCE \
                and _stem(self.places.region.county) in clean:
            scope = None  # the classifier's guess, on a call that names our county (社保怎么转到安吉)
        scope = scope or _elsewhere(place, self.places.region, clean)
        emergency, scope = _reconciled(detect_emergency(clean), scope)
        township = place.levels.get("township") if place else None
        matters = [(c, p) for c, p in matter.ranked if c in self.taxonomy.matters]
        # Units from the five likeliest matters: when the first ones share a unit (a township handles
        # many), the third suggestion comes from a further matter instead of being left out.
        units = suggest(self.duties, self.taxonomy, matters[:5], township, self.returns if returns is None else returns)
        matters = matters[:3]
        the_matter = self.taxonomy.matters.get(matter.label)
        return {
            "text": said,
            "category": {
                "value": category.label,
                "confidence": round(category.confidence, 2),
                "evidence": _span(category.evidence),
            },
            "matter": {
                "code": matter.label,
                "name": the_matter.name if the_matter else matter.label,
                "domain": the_matter.domain if the_matter else None,
                "confidence": round(matter.confidence, 2),
                "evidence": _span(matter.evidence),
                "alternatives": [{"code": c, "confidence": round(p, 2)} for c, p in matters[1:]],
            },
            "urgency": _urgency(said, emergency),
            "emergency": _in_text(_as_dict(emergency), text),
            "out_of_scope": _as_dict(scope),
            "place": place.as_dict() if place else None,
            "time": [t.as_dict() for t in find_times(said, tokens, call_time, self.zone)],
            "people": _entities(tokens, "PER"),
            "organisations": _entities(tokens, "ORG"),
            "units": [u.as_dict() for u in units],
        }

    def township_of(self, text: str) -> str | None:
        """The township a place text names (a ticket's location), for the 退单 feedback's key."""
        place = self.places.find(text, self.tagger.tag(text))
        return place.levels.get("township") if place else None


def _elsewhere(place: Place | None, region: Region, text: str) -> OutOfScope | None:
    """A place the caller names in another city (杭州余杭, 嘉兴桐乡) is that city's hotline's business —
    unless the caller also names this city or county, or says why it is ours (异地就医)."""
    if place is None or "city" not in place.levels:
        return None
    ours = place.levels["city"] == region.city and place.levels.get("province", region.province) == region.province
    county = place.levels.get("county")
    if ours and not (county and county != region.county and _stem(county) in text):
        return None  # our city, and not another county of it named (德清 is 湖州's, but not 安吉's)
    if _names_as_here(text, _stem(region.county)) or (not ours and _names_as_here(text, _stem(region.city))):
        return None
    named = [place.levels[key] for key in ("province", "city", "county") if key in place.levels]
    if not any(_stem(name) in text for name in named if name != region.province):
        return None  # the division was guessed from a fragment (滨江公园, 天台, 龙潭乡): its city was not said
    if not _where_it_happens(text, place):
        return None  # a destination (转到杭州, 往杭州方向, 去杭州看): the matter itself is here
    return jurisdiction(place.text, text)


_LOCATIVE_BEFORE = re.compile(r"(在|是)\s*(?:那个)?\s*$")
_LOCATIVE_AFTER = re.compile(r"^\s*(那边|那里|那儿|这边|的)")


def _names_as_here(text: str, stem: str) -> bool:
    """The text names our county or city as a place of the matter — not as who the caller is or where
    they came back to (我是安吉人 现在在杭州上班, 现在回安吉了)."""
    for m in re.finditer(re.escape(stem), text) if stem else ():
        if not (text.startswith("人", m.end()) or text[max(0, m.start() - 2) : m.start()].endswith(("回", "回到"))):
            return True
    return False


def _where_it_happens(text: str, place: Place) -> bool:
    """The place is where the matter is (我在杭州余杭那个小区, 宜兴丁蜀那边, 德清那边的一条路), not where
    someone goes: a locative word around the whole place, or around the city or county name in it."""
    spans = [(place.start, place.end)]
    for level in ("city", "county"):
        name = place.levels.get(level, "")
        for said in dict.fromkeys((name, _stem(name))):
            at = text.find(said, place.start, place.end) if said else -1
            if at != -1:
                spans.append((at, at + len(said)))
    return any(_LOCATIVE_BEFORE.search(text[max(0, start - 4):start]) or _LOCATIVE_AFTER.match(text[end:end + 3])
               for start, end in spans)


def _stem(name: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市", "县", "区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _reconciled(emergency: Emergency | None, scope: OutOfScope | None) -> tuple[Emergency | None, OutOfScope | None]:
    """An emergency is never another city's business (a car burning on the motorway toward 杭州: 110 and
    122 answer wherever it is), and one the vocabulary heard is never 'no request' (喂喂听得到吗 屋里全是烟);
    a classifier's suspicion gives way to any other out-of-scope reason its own phrases found (an
    inheritance quarrel is not a 110 call)."""
    if emergency is None or scope is None:
        return emergency, scope
    if scope.reason == "other_jurisdiction" or (scope.reason == "harassment" and emergency.source == "vocabulary"):
        return emergency, None  # danger now is everyone's business, wherever the caller is
    if emergency.source == "classifier" and scope.confidence > MAX_CONFIDENCE:
        return None, scope
    return emergency, scope


def _as_dict(found: Any) -> dict[str, Any] | None:
    if found is None:
        return None
    # emergency.Emergency / scope.OutOfScope are dataclasses; tuples become JSON lists.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(found).items()}


def _span(hit: CueHit | None) -> dict[str, Any] | None:
    return None if hit is None else {"start": hit.start, "end": hit.end, "text": hit.text}


def _in_text(found: dict[str, Any] | None, text: str) -> dict[str, Any] | None:
    """The detector's start/end are offsets in the normalised text: point them at the caller's words."""
    if found is None or text[found["start"] : found["end"]] == found["evidence"]:
        return found
    at = text.find(found["evidence"])
    return {**found, "start": at if at >= 0 else None, "end": at + len(found["evidence"]) if at >= 0 else None}


def _urgency(text: str, emergency: Any) -> dict[str, Any]:
    if emergency is not None:
        at = text.find(emergency.evidence)  # the detector's span is in the normalised text
        span = None if at < 0 else {"start": at, "end": at + len(emergency.evidence), "text": emergency.evidence}
        return {"value": EMERGENCY, "evidence": span, "confidence": emergency.confidence}
    for word in URGENT_WORDS:
        at = text.find(word)
        if at != -1:
            return {"value": URGENT, "evidence": {"start": at, "end": at + len(word), "text": word}, "confidence": 0.6}
    return {"value": NORMAL, "evidence": None, "confidence": 0.6}


def _entities(tokens: list[Token], kind: str) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for t in tokens:
        if t.tag == kind and len(t.word) >= 2 and t.word not in seen:
            seen[t.word] = {
                "text": t.word,
                "evidence": {"start": t.start, "end": t.end, "text": t.word},
                "confidence": 0.8,
            }
    return list(seen.values())
