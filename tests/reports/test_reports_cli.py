"""``hotline reports build`` and ``hotline federation schema`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from gateway.cli import main


def test_reports_build_writes_html_and_xlsx_from_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    assert main(["reports", "build", "--period", "month", "--start", "2026-10-01", "--format", "html",
                 "--out", str(tmp_path / "m.html")]) == 0
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "月报 2026-10-01" in page and page.count("<svg") == 5
    assert main(["reports", "build", "--period", "week", "--start", "2026-11-16", "--format", "xlsx",
                 "--out", str(tmp_path / "w.xlsx")]) == 0
    assert load_workbook(tmp_path / "w.xlsx")["概况"]["B3"].value == 0
    assert main(["reports", "build", "--period", "week", "--start", "2026-11-17"]) == 2
    assert "Monday" in capsys.readouterr().err


def test_federation_schema_documents_the_wire(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["federation", "schema"]) == 0
    schemas = json.loads(capsys.readouterr().out)
    assert set(schemas) == {"EventBatch", "EventAck", "ReportPush", "CallTransfer", "CallTransferAck"}
    assert "prev_seq" in json.dumps(schemas["EventBatch"])
