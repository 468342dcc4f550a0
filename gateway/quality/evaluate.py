"""Precision and recall of every check on a labelled set (data/eval.jsonl; scripts/quality/make_eval.py
says how it is made): a call counts as flagged by a check when the check reports at least one finding."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.quality.checks import Extractor, Material, Segment, TicketFacts, inspect
from gateway.quality.rules import CHECKS, Rules

EVAL_SET = Path(__file__).parent / "data" / "eval.jsonl"
# Written by hand apart from the rules and never used to tune them (scripts/quality/make_holdout.py).
HOLDOUT_SET = Path(__file__).parent / "data" / "eval_holdout.jsonl"


def material_of(record: dict[str, Any]) -> Material:
    ticket = record.get("ticket")
    return Material(
        call_id=record["id"],
        segments=tuple(Segment(s["speaker"], float(s["start"]), float(s["end"]), s["text"])
                       for s in sorted(record["segments"], key=lambda s: s["start"])),
        call_time=datetime.fromisoformat(record["call_time"]),
        holds=int(record.get("holds", 0)), on_hold_seconds=float(record.get("on_hold_seconds", 0)),
        transferred=bool(record.get("transferred")), emergency_handled=bool(record.get("emergency_handled")),
        ticket=TicketFacts(**ticket) if ticket else None,
        kb_answers=tuple((e[0], e[1]) for e in record.get("kb", [])))


def load(path: Path = EVAL_SET) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(records: Iterable[dict[str, Any]], rules: Rules, extract: Extractor | None) -> dict[str, Any]:
    counts = {c: {"tp": 0, "fp": 0, "fn": 0} for c in CHECKS}
    calls = 0
    for record in records:
        calls += 1
        flagged = {f.check for f in inspect(material_of(record), rules, extract)}
        planted = set(record["labels"])
        for check in CHECKS:
            if check in flagged and check in planted:
                counts[check]["tp"] += 1
            elif check in flagged:
                counts[check]["fp"] += 1
            elif check in planted:
                counts[check]["fn"] += 1
    rows = {}
    for check, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
        rows[check] = {**c, "precision": precision, "recall": recall}
    return {"calls": calls, "checks": rows}
