"""The live draft from the trained understanding pipeline (gateway/understanding, issue 14).

The word-list draft (extract.py) still gives the summary, the times and the people; the pipeline's
fields replace category, matter, urgency, place, the top-3 units and the emergency / out-of-scope flags,
each with its evidence and confidence. Both run in the same worker thread, never on the event loop.
"""

from __future__ import annotations

from typing import Any

from gateway.speech.extract import Draft, DraftField
from gateway.speech.terms import Evidence

SERVICE_LABELS = {"110": "报警", "119": "火警", "120": "急救", "122": "交通事故"}


def _evidence(text: str, span: dict[str, Any] | None) -> tuple[Evidence, ...]:
    """A span of the pipeline's (normalised) text, as a span of the draft's text: the same offsets when
    the words are there, else the first place the words occur."""
    if not span:
        return ()
    if text[span["start"] : span["end"]] == span["text"]:
        return (Evidence(span["start"], span["end"], span["text"]),)
    return _find(text, span["text"])


def _find(text: str, words: str) -> tuple[Evidence, ...]:
    at = text.find(words) if words else -1
    return () if at < 0 else (Evidence(at, at + len(words), words),)


def apply_understanding(draft: Draft, found: dict[str, Any]) -> Draft:
    """Overlay ``Understander.understand`` output (computed on ``draft.text``) on a word-list draft."""
    text = draft.text
    category = found["category"]
    old_category = draft.category.value
    draft.category = DraftField(category["value"], _evidence(text, category.get("evidence")), category["confidence"])
    if draft.summary.value.startswith(f"【{old_category}】"):
        rest = draft.summary.value[len(old_category) + 2 :]
        draft.summary = DraftField(f"【{category['value']}】{rest}", draft.summary.evidence)
    matter = found["matter"]
    draft.matter = DraftField(
        {"code": matter["code"], "name": matter["name"], "domain": matter["domain"]},
        _evidence(text, matter.get("evidence")),
        matter["confidence"],
    )
    urgency = found["urgency"]
    draft.urgency = DraftField(urgency["value"], _evidence(text, urgency.get("evidence")), urgency["confidence"])
    place = found.get("place")
    if place is not None:
        draft.place = DraftField(
            {**place["levels"], "text": place["text"]}, _evidence(text, place["evidence"]), place["confidence"]
        )
    draft.units = [
        DraftField({"name": u["name"], "score": u["score"], "reasons": u["reasons"]}, confidence=u["score"])
        for u in found["units"]
    ]
    draft.unit = (
        DraftField(found["units"][0]["name"], draft.matter.evidence, found["units"][0]["score"])
        if found["units"]
        else None
    )
    draft.flags.pop("emergency", None)
    draft.flags.pop("out_of_scope", None)
    if found.get("emergency"):
        e = found["emergency"]
        draft.flags["emergency"] = DraftField(
            {"key": e["service"], "label": SERVICE_LABELS.get(e["service"], e["service"])},
            _evidence(text, {"start": e["start"] or 0, "end": e["end"] or 0, "text": e["evidence"]}),
            e.get("confidence"),
        )
    if found.get("out_of_scope"):
        o = found["out_of_scope"]
        draft.flags["out_of_scope"] = DraftField(
            {"reason": o["reason"], "label": o.get("label", o["reason"])},
            _find(text, o["evidence"]),
            o.get("confidence"),
        )
    return draft
