"""Import and export: CSV, JSON and XLSX, validated row by row; a bad row never half-imports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from gateway.errors import Forbidden, InvalidInput
from kb.service import KnowledgeBase
from kb.transfer import COLUMNS, read_rows, write_rows
from tests.kb.conftest import ADMIN, AGENT, HOUSING, WATER, publish

GOOD = {"question": "水费怎么缴纳?", "answer": "可在营业厅或线上缴纳。",
        "alternatives": "交水费|水费缴纳渠道",
        "basis_document": "《供水服务规范》", "basis_article": "第八条", "unit_id": "water-company",
        "region": "庆阳市", "is_public": "是", "tags": "水费", "effective_at": "2026-01-01", "expires_at": ""}


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def test_bad_rows_are_reported_by_row_number_and_the_valid_ones_imported(kb: KnowledgeBase) -> None:
    rows = read_rows(csv_bytes([
        {**GOOD, "id": "water-fee"},
        {**GOOD, "id": "no-basis", "basis_document": ""},
        {**GOOD, "id": "bad-date", "effective_at": "明年"},
        {**GOOD, "id": "water-fee"},
        {**GOOD, "id": "bad-flag", "is_public": "也许"},
        {**GOOD, "id": "water-card", "question": "水卡丢了怎么补办?", "answer": "带身份证到营业厅补办。",
         "alternatives": "", "tags": "水卡"},
    ]), "csv")
    report = await kb.import_rows(ADMIN, rows)
    assert report.imported == ["water-fee", "water-card"]
    assert [(r["row"], r["id"]) for r in report.rejected] == [
        (3, "no-basis"), (4, "bad-date"), (5, "water-fee"), (6, "bad-flag")]
    assert "basis_document" in report.rejected[0]["reasons"][0]
    assert "duplicates row 2" in report.rejected[2]["reasons"][0]
    entry = await kb.entry(AGENT, "water-fee")
    assert entry["alternatives"] == ["交水费", "水费缴纳渠道"]
    assert entry["effective_at"] == "2025-12-31T16:00:00Z"  # a bare date is Beijing midnight
    assert [h.entry.id for h in await kb.search.search("水费")] == ["water-fee"]


async def test_strict_mode_imports_nothing_when_any_row_is_bad(kb: KnowledgeBase) -> None:
    rows = read_rows(csv_bytes([{**GOOD, "id": "ok"}, {**GOOD, "id": "bad", "answer": ""}]), "csv")
    report = await kb.import_rows(ADMIN, rows, strict=True)
    assert report.imported == [] and [r["row"] for r in report.rejected] == [3]
    assert await kb.count() == 0


async def test_a_units_import_becomes_pending_changes_of_its_own_unit_only(kb: KnowledgeBase) -> None:
    await publish(kb, "housing-entry", unit_id="housing-bureau")
    rows = read_rows(csv_bytes([
        {**GOOD, "id": "water-fee"},
        {**GOOD, "id": "not-mine", "unit_id": "housing-bureau"},
        {**GOOD, "id": "housing-entry"},
    ]), "csv")
    report = await kb.import_rows(WATER, rows)
    assert report.published is False and report.imported == ["water-fee"]
    assert [r["row"] for r in report.rejected] == [3, 4]
    assert "belongs to unit housing-bureau" in report.rejected[1]["reasons"][0]
    assert [(c["entry_id"], c["status"]) for c in await kb.changes(WATER)] == [("water-fee", "pending")]
    assert "water-fee" not in [h.entry.id for h in await kb.search.search("水费")]
    with pytest.raises(Forbidden):
        await kb.import_rows(AGENT, rows)
    assert await kb.changes(HOUSING, status="pending") == []


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
async def test_export_then_import_round_trips_unchanged(kb: KnowledgeBase, fmt: str) -> None:
    await publish(kb, "water", alternatives=["家里没水", "停水了"], tags=["停水", "供水"])
    await publish(kb, "internal", question="内部口径:停水赔偿怎么答复?", is_public=False,
                  expires_at="2027-01-01T00:00:00+08:00")
    exported = write_rows(await kb.export(ADMIN), fmt)
    rows = read_rows(exported, fmt)
    assert [r["id"] for _, r in rows] == ["internal", "water"]
    report = await kb.import_rows(ADMIN, rows, strict=True)
    assert report.rejected == [] and report.imported == []
    assert sorted(report.unchanged) == ["internal", "water"]
    assert (await kb.entry(ADMIN, "water"))["version"] == 1


async def test_export_is_scoped_and_hides_entries_not_in_force_unless_asked(kb: KnowledgeBase) -> None:
    await publish(kb, "water")
    await publish(kb, "old", expires_at="2026-02-01T00:00:00+08:00")
    await publish(kb, "housing", unit_id="housing-bureau")
    assert [r["id"] for r in await kb.export(ADMIN)] == ["housing", "water"]
    assert [r["id"] for r in await kb.export(WATER, include_inactive=True)] == ["old", "water"]


def test_unreadable_files_and_missing_columns_are_refused_whole() -> None:
    with pytest.raises(InvalidInput, match="lacks column"):
        read_rows(b"question,answer\nq,a\n", "csv")
    with pytest.raises(InvalidInput) as bad_json:
        read_rows(b"{not json", "json")
    assert bad_json.value.error_id == "invalid-json"
    with pytest.raises(InvalidInput):
        read_rows(b"not a zip", "xlsx")
    with pytest.raises(InvalidInput):
        read_rows(json.dumps({"entries": 3}).encode(), "json")
