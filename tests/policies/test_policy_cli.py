"""`hotline sla` prints one JSON object; bad input exits non-zero with one clear line on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from gateway.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sla_prints_deadlines_with_offsets_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sla", "--policy", "chuxiong", "--category", "投诉",
                         "--dispatched", "2026-10-09T19:30:00+08:00")
    assert code == 0, err
    body = json.loads(out)
    assert body["sign_by"] == "2026-10-10T10:00:00+08:00"  # off-hours → 10:00 on the make-up Saturday
    assert body["due"] == "2026-10-29T18:00:00+08:00"      # 15 wd counted from Sat 08:00
    assert body["max_due"] == "2026-11-26T18:00:00+08:00"  # 35 wd in total
    for key in ("sign_by", "due", "max_due", "return_by"):
        assert datetime.fromisoformat(body[key]).utcoffset() is not None
        assert body["sources"][key]
    assert "解读 四(二)2" in body["sources"]["due"]


def test_english_and_chinese_categories_agree(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for category in ("complaint", "投诉"):
        code, out, _ = run(capsys, "sla", "--policy", "qingyang", "--category", category,
                           "--dispatched", "2026-11-23T10:00:00+08:00")
        assert code == 0
        outputs.append(json.loads(out))
    assert outputs[0] == outputs[1]
    assert outputs[0]["due"] == "2026-11-30T10:00:00+08:00"


def test_urgent_provincial_and_warning(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sla", "--policy", "qingyang", "--category", "咨询", "--provincial",
                       "--dispatched", "2026-11-23T10:00:00+08:00", "--now", "2026-11-27T09:00:00+08:00")
    body = json.loads(out)
    assert code == 0 and body["due"] == "2026-11-27T10:00:00+08:00" and body["warning"] == "yellow"
    code, out, _ = run(capsys, "sla", "--policy", "hanbin", "--category", "求助", "--urgent",
                       "--dispatched", "2026-11-28T10:00:00+08:00")
    body = json.loads(out)
    assert body["emergency_response_by"] == "2026-11-28T12:00:00+08:00"
    assert body["due"] == "2026-11-30T10:00:00+08:00"


def test_offsets_other_than_shanghai_are_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sla", "--policy", "qingyang", "--category", "咨询",
                       "--dispatched", "2026-11-23T02:00:00Z")
    assert code == 0 and json.loads(out)["due"] == "2026-11-25T10:00:00+08:00"


@pytest.mark.parametrize(("args", "words"), [
    (["--policy", "atlantis", "--category", "投诉", "--dispatched", "2026-11-23T10:00:00+08:00"],
     "unknown policy pack 'atlantis'"),
    (["--policy", "qingyang", "--category", "表扬", "--dispatched", "2026-11-23T10:00:00+08:00"],
     "unknown category '表扬'"),
    (["--policy", "qingyang", "--category", "投诉", "--dispatched", "2026-11-23T10:00:00"], "no UTC offset"),
    (["--policy", "qingyang", "--category", "投诉", "--dispatched", "next monday"], "not an ISO 8601 time"),
    (["--policy", "qingyang", "--category", "投诉", "--dispatched", "2026-11-31T10:00:00+08:00"],
     "not an ISO 8601 time"),
    (["--policy", "qingyang", "--category", "投诉", "--dispatched", "2027-03-01T10:00:00+08:00"],
     "no holiday data for 2027"),
    (["--policy", "hanbin", "--category", "投诉", "--dispatched", "2026-11-23T10:00:00+08:00",
      "--signed", "2026-11-22T10:00:00+08:00"], "signed_at is before dispatched_at"),
])
def test_bad_input_gives_one_line_on_stderr(capsys: pytest.CaptureFixture[str], args: list[str],
                                            words: str) -> None:
    code, out, err = run(capsys, "sla", *args)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("hotline sla: ")
    assert words in err


def test_policies_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policies", "list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["chuxiong", "hanbin", "liaoyang", "national",
                                                            "qingyang"]
    code, out, _ = run(capsys, "policies", "show", "hanbin")
    shown = json.loads(out)
    assert shown["extension"]["max_count"] == 2 and shown["return"]["limit"]["amount"] == 1
    code, _, err = run(capsys, "policies", "show", "nowhere")
    assert code == 2 and "unknown policy pack" in err


def _hotline(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_command_runs_as_a_process() -> None:
    result = _hotline("sla", "--policy", "liaoyang", "--category", "help",
                      "--dispatched", "2026-11-23T10:00:00+08:00")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["due"] == "2026-12-02T10:00:00+08:00"
    bad = _hotline("sla", "--policy", "liaoyang", "--category", "help", "--dispatched", "tomorrow")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("hotline sla:")


def test_the_command_agrees_with_the_api_when_the_latest_due_date_reaches_a_year_without_holidays() -> None:
    # 楚雄 complaint, 15 working days + 2 extensions: the latest due date lies in 2027 (no holiday data yet).
    result = _hotline("sla", "--policy", "chuxiong", "--category", "投诉", "--dispatched", "2026-12-04T10:00:00+08:00")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["due"] == "2026-12-25T10:00:00+08:00"
    assert shown["max_due"] is None and shown["limits"]["max_due"].startswith("unknown: no holiday data for 2027")
