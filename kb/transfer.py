"""Import and export of entries as CSV, JSON or XLSX, validated row by row.

Every row is checked before anything is written; the report lists each rejected row with its number
(the spreadsheet's row number: the header is row 1) and reasons. Lenient mode (the default) imports
the valid rows in one transaction; strict mode imports nothing when any row is rejected. Either way no
row is ever half-imported.

Flat columns: id, question, answer, alternatives, basis_document, basis_article, unit_id, region,
is_public, tags, effective_at, expires_at. In CSV/XLSX, list cells are separated by "|"; dates are ISO
8601 (a date alone or a time without offset means Beijing time).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from gateway.errors import InvalidInput
from gateway.http.jsonio import loads
from gateway.spreadsheet import safe_row, unescape_cell
from kb.schemas import ENTRY_ID, EntryContent, problems

COLUMNS = ("id", "question", "answer", "alternatives", "basis_document", "basis_article", "unit_id",
           "region", "is_public", "tags", "effective_at", "expires_at")
LIST_COLUMNS = ("alternatives", "tags")
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TRUE = frozenset({"true", "1", "yes", "y", "是", "公开"})
FALSE = frozenset({"false", "0", "no", "n", "否", "不公开", "内部"})
FORMATS = ("csv", "json", "xlsx")


@dataclass(slots=True)
class ValidRow:
    row: int
    entry_id: str
    content: EntryContent


@dataclass(slots=True)
class Rejected:
    row: int
    entry_id: str | None
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "id": self.entry_id, "reasons": self.reasons}


@dataclass(slots=True)
class Checked:
    valid: list[ValidRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


# ---- reading -------------------------------------------------------------------------------------

def read_rows(data: bytes, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """(row number, raw row) pairs from a file's bytes."""
    if fmt == "csv":
        return _read_csv(data)
    if fmt == "json":
        return _read_json(data)
    if fmt == "xlsx":
        return _read_xlsx(data)
    raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", error_id="unknown-format")


def _read_csv(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise InvalidInput("the CSV file is not UTF-8", error_id="invalid-csv") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _check_header(reader.fieldnames or [])
    return [(reader.line_num, {k: unescape_cell(v) for k, v in row.items()}) for row in reader]


def _read_json(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        doc = loads(data.decode("utf-8-sig"))  # the gateway's strict reader: no NaN, 64-bit ints, depth ≤ 64
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the JSON file cannot be read: {exc}", error_id="invalid-json") from exc
    rows = doc.get("entries") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise InvalidInput("the JSON file must be a list of entries or {\"entries\": [...]}",
                           error_id="invalid-json")
    return [(n, row if isinstance(row, dict) else {"__not_an_object__": row})
            for n, row in enumerate(rows, 1)]


def _read_xlsx(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook  # imported here: only XLSX users pay for it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file; all mean "not readable"
        raise InvalidInput(f"the XLSX file cannot be read: {exc.__class__.__name__}",
                           error_id="invalid-xlsx") from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
    _check_header(header)
    out = []
    for number, values in enumerate(rows, 2):
        if values and any(v not in (None, "") for v in values):
            out.append((number, {h: unescape_cell(v) for h, v in zip(header, values, strict=False) if h}))
    book.close()
    return out


def _check_header(header: Sequence[str]) -> None:
    missing = [c for c in ("question", "answer", "basis_document", "unit_id", "region", "effective_at")
               if c not in header]
    if missing:
        raise InvalidInput(f"the file lacks column(s): {', '.join(missing)}", error_id="missing-columns",
                           expected=list(COLUMNS))


# ---- checking ------------------------------------------------------------------------------------

def check_rows(rows: list[tuple[int, dict[str, Any]]], *, unit_scope: str | None = None) -> Checked:
    """Validate every row. ``unit_scope``: a unit may only import its own unit's entries."""
    checked = Checked()
    seen: dict[str, int] = {}
    for number, raw in rows:
        entry_id = _text(raw.get("id")) or None
        reasons = []
        if "__not_an_object__" in raw:
            checked.rejected.append(Rejected(number, None, ["the row is not an object"]))
            continue
        unknown = sorted(set(raw) - set(COLUMNS))
        if unknown:
            reasons.append(f"unknown column(s): {', '.join(unknown)}")
        if entry_id is not None and not ENTRY_ID.fullmatch(entry_id):
            reasons.append("id: letters, digits, '.', '_', '-' only, at most 64")
        if entry_id is not None and entry_id in seen:
            reasons.append(f"id: duplicates row {seen[entry_id]}")
        content = None
        try:
            content = EntryContent.model_validate(_content_fields(raw))
        except ValidationError as exc:
            reasons += problems(exc)
        except ValueError as exc:
            reasons.append(str(exc))
        if content is not None and unit_scope is not None and content.unit_id != unit_scope:
            reasons.append(f"unit_id: unit {unit_scope} cannot import entries of unit {content.unit_id}")
        if reasons or content is None:
            checked.rejected.append(Rejected(number, entry_id, reasons))
            continue
        entry_id = entry_id or new_entry_id()
        seen[entry_id] = number
        checked.valid.append(ValidRow(number, entry_id, content))
    return checked


def new_entry_id() -> str:
    return f"kb-{uuid.uuid4().hex[:12]}"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _content_fields(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in COLUMNS[1:]:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # absent: the model's default or its "field required"
        if name in LIST_COLUMNS:
            out[name] = value if isinstance(value, list) else str(value).split("|")
        elif name == "is_public":
            out[name] = _boolean(value)
        elif name in ("effective_at", "expires_at"):
            out[name] = _moment(value, name)
        else:
            out[name] = value if isinstance(value, str) else str(value)
    return out


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"is_public: {value!r} is not yes/no (是/否, true/false, 公开/内部)")


def _moment(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise ValueError(f"{name}: {value!r} is not an ISO 8601 date or time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


# ---- writing -------------------------------------------------------------------------------------

def flat_row(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as export columns (lists kept as lists; CSV/XLSX join them)."""
    return {name: entry.get(name) for name in COLUMNS}


def write_rows(rows: list[dict[str, Any]], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps({"entries": rows}, ensure_ascii=False, indent=1, default=_json_default,
                          allow_nan=False).encode()
    cells = [safe_row(_cell(row.get(c)) for c in COLUMNS) for row in rows]
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(cells)
        return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens Chinese CSV correctly
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("entries")
        sheet.append(list(COLUMNS))
        for line in cells:
            sheet.append(line)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", error_id="unknown-format")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
