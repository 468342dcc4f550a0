"""``hotline understanding eval``: per-field accuracy on a labelled set the model never trained on.

A case may carry any of: category, matter, place (expected levels), time (the words), emergency
(service or null), out_of_scope (reason or null). A field is scored only on the cases that label it. The
expected unit is what the 职责清单 names for the TRUE matter in the TRUE township.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from gateway.understanding.dispatch import suggest
from gateway.understanding.pipeline import Understander

DEFAULT_SETS = (
    Path("tests/understanding/data/eval.jsonl"),
    Path("tests/understanding/data/eval_written.jsonl"),
    Path("tests/understanding/data/emergency_eval.jsonl"),
)
PLACE_KEYS = ("county", "township", "community", "road", "building")


def read_cases(paths: list[Path]) -> list[dict[str, Any]]:
    cases = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(json.loads(line))
    return cases


def _digits(words: str) -> str:
    import cn2an

    try:
        return cn2an.transform(words, "cn2an")
    except (ValueError, KeyError):  # cn2an gives up on some mixed forms: compare as said
        return words


def place_right(expected: dict[str, str], got: dict[str, Any] | None) -> bool:
    if got is None:
        return False
    levels = got["levels"]
    for key in PLACE_KEYS:
        if key in expected:
            said, found = expected[key], levels.get(key, "")
            if key in ("road", "building"):
                said, found = _digits(said), _digits(found)  # 七幢 is 7幢
                if not found or not (found in said or said in found):
                    return False
            elif said != found:
                return False
    return True


def evaluate(understander: Understander, cases: list[dict[str, Any]]) -> dict[str, Any]:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    errors: list[tuple[float, str, str]] = []
    for case in cases:
        out = understander.understand(case["text"])
        if case.get("category") is not None:  # a null label is no label
            totals["category"] += 1
            got = out["category"]["value"]
            hits["category"] += got == case["category"]
            confusion[(case["category"], got)] += 1
            if got != case["category"]:
                errors.append((out["category"]["confidence"], case["text"], f"category {case['category']} → {got}"))
        if case.get("matter") is not None:
            totals["matter"] += 1
            got_m = out["matter"]["code"]
            hits["matter"] += got_m == case["matter"]
            if got_m != case["matter"]:
                errors.append((out["matter"]["confidence"], case["text"], f"matter {case['matter']} → {got_m}"))
            township = (case.get("place") or {}).get("township") if case.get("home", True) else None
            expected = suggest(understander.duties, understander.taxonomy, [(case["matter"], 1.0)], township, k=1)
            if expected:
                names = [u["name"] for u in out["units"]]
                totals["unit"] += 1
                hits["unit_top1"] += bool(names) and names[0] == expected[0].unit
                hits["unit_top3"] += expected[0].unit in names
        if case.get("place"):
            totals["place"] += 1
            hits["place_found"] += out["place"] is not None
            hits["place_level"] += place_right(case["place"], out["place"])
        if case.get("time"):
            totals["time"] += 1
            hits["time"] += any(case["time"] in t["text"] or t["text"] in case["time"] for t in out["time"])
        for flag in ("emergency", "out_of_scope"):
            if flag in case:
                want = case[flag]
                got_v = (out[flag] or {}).get("service") if flag == "emergency" else out[flag]
                # "any": flagged at all against labelled at all; per service: the labeller's service exactly
                keys = ["any"] + ([want] if flag == "emergency" and want else [])
                for key in keys:
                    if want:
                        totals[f"{flag}:{key}:positives"] += 1
                        hits[f"{flag}:{key}:recall"] += bool(got_v) and (key == "any" or got_v == want)
                pkeys = ["any"] + ([got_v] if flag == "emergency" and got_v else [])
                for key in pkeys:
                    if got_v:
                        totals[f"{flag}:{key}:flagged"] += 1
                        hits[f"{flag}:{key}:precision"] += bool(want) and (key == "any" or got_v == want)
    errors.sort(key=lambda e: -e[0])  # confident mistakes first: those are the worst
    return {"hits": dict(hits), "totals": dict(totals), "confusion": confusion, "worst": errors[:10]}


def report(result: dict[str, Any], categories: tuple[str, ...]) -> str:
    hits, totals = result["hits"], result["totals"]

    def pct(h: str, t: str) -> str:
        return f"{100 * hits.get(h, 0) / totals[t]:.1f} % ({hits.get(h, 0)}/{totals[t]})" if totals.get(t) else "n/a"

    lines = [
        f"category          {pct('category', 'category')}",
        f"matter top-1      {pct('matter', 'matter')}",
        f"unit top-1        {pct('unit_top1', 'unit')}",
        f"unit top-3        {pct('unit_top3', 'unit')}",
        f"place found       {pct('place_found', 'place')}",
        f"place right level {pct('place_level', 'place')}",
        f"time found        {pct('time', 'time')}",
    ]
    for key in sorted(k for k in totals if k.endswith((":positives", ":flagged"))):
        flag, service, kind = key.split(":")
        name = "recall" if kind == "positives" else "precision"
        lines.append(f"{flag} {service} {name:9} {pct(f'{flag}:{service}:{name}', key)}")
    lines.append("\nconfusion (rows: truth, columns: predicted)")
    lines.append("      " + " ".join(f"{c:>4}" for c in categories))
    for truth in categories:
        lines.append(f"{truth:4}  " + " ".join(f"{result['confusion'].get((truth, c), 0):>5}" for c in categories))
    lines.append("\nten worst errors (most confident first)")
    lines += [f"  {conf:.2f}  {what}  «{text}»" for conf, text, what in result["worst"]]
    return "\n".join(lines)
