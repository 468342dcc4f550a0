"""The labelled set behind `hotline qa eval`: its size and balance, and the printed precision/recall."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.quality.evaluate import EVAL_SET, evaluate, load
from gateway.quality.rules import CHECKS, Rules


def test_the_set_has_150_calls_half_with_planted_faults_and_every_check_planted() -> None:
    records = load()
    assert len(records) >= 150
    faulty = [r for r in records if r["labels"]]
    assert len(faulty) * 2 == len(records)
    planted = Counter(label for r in faulty for label in r["labels"])
    assert set(planted) == set(CHECKS) and min(planted.values()) >= 5
    for r in records:  # two legs with their own timings
        assert {s["speaker"] for s in r["segments"]} == {"agent", "citizen"}
        assert all(s["end"] > s["start"] for s in r["segments"])


def test_the_conduct_and_ticket_checks_find_their_planted_faults() -> None:
    # Without the LAC reading (the CLI test below runs it): place/time/person checks are off here.
    result = evaluate(load(), Rules.load(), None)["checks"]
    for check in set(CHECKS) - {"place_missing", "time_missing", "person_missing"}:
        assert result[check]["recall"] >= 0.8, check
        assert result[check]["precision"] >= 0.8, check


def test_hotline_qa_eval_prints_precision_and_recall_per_check(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in load(EVAL_SET)[:24]),
                      encoding="utf-8")
    assert main(["qa", "eval", str(subset)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("24 calls (12 with planted faults)")
    for check in CHECKS:
        assert check in out
    assert "precision" in out and "recall" in out
