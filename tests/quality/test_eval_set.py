"""The labelled set behind `hotline qa eval`: its size and balance, and the printed precision/recall."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.quality.evaluate import EVAL_SET, HOLDOUT_SET, evaluate, load, material_of
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


def test_the_held_out_set_parses_and_plants_every_check_at_least_three_times() -> None:
    records = load(HOLDOUT_SET)
    assert len(records) >= 80
    for r in records:  # each call fits the evaluator's reading of a call
        material_of(r)
        assert set(r["labels"]) <= set(CHECKS), r["id"]
        assert {s["speaker"] for s in r["segments"]} == {"agent", "citizen"}
        assert all(s["end"] > s["start"] for s in r["segments"])
    assert len({r["id"] for r in records}) == len(records)
    faulty = [r for r in records if r["labels"]]
    assert 0.4 <= len(faulty) / len(records) <= 0.6
    planted = Counter(label for r in faulty for label in r["labels"])
    assert set(planted) == set(CHECKS) and min(planted.values()) >= 3


def test_hotline_qa_eval_prints_each_set_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    for path, records in ((first, load(EVAL_SET)[:4]), (second, load(HOLDOUT_SET)[:6])):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    assert main(["qa", "eval", str(first), str(second)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("first.jsonl") and lines[0].startswith("4 calls")
    assert lines[1].endswith("second.jsonl") and lines[1].startswith("6 calls")
    assert "first.jsonl" in lines[3] and "second.jsonl" in lines[3]
    for check in CHECKS:  # one row per check, precision and recall for each set
        row = next(line for line in lines if line.startswith(check + " "))
        assert len(row.split()) == 1 + 2 * 5
