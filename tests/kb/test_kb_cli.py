"""The ``hotline kb`` commands and ``hotline bench kb`` (a tiny run: it must work, not be fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_seed_search_export_import(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "seed"]) == 0
    assert "written" in capsys.readouterr().out
    assert main(["kb", "seed"]) == 0
    assert "nothing seeded" in capsys.readouterr().out

    assert main(["kb", "search", "退单要多快", "--region", "庆阳市", "--limit", "1"]) == 0
    assert "qy-return" in capsys.readouterr().out

    exported = data_dir / "kb.json"
    assert main(["kb", "export", str(exported)]) == 0
    doc = json.loads(exported.read_text(encoding="utf-8"))
    doc["entries"][0]["answer"] += "(已更新)"
    doc["entries"].append({"question": "缺少依据"})
    exported.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    assert main(["kb", "import", str(exported)]) == 1  # one row rejected
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 1 and report["rejected"][0]["row"] == len(doc["entries"])


@pytest.mark.slow
def test_bench_runs_on_a_small_set(data_dir: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_TEST_PG_URL", raising=False)
    assert main(["bench", "kb", "--entries", "300", "--queries", "30"]) == 0
    out = capsys.readouterr().out
    assert "PostgreSQL skipped" in out
    assert "SQLite" in out and "pk lookup" in out
