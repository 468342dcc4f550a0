"""Bad input of every shape gets a 4xx JSON error with a stable error_id and changes nothing (issue 20, item 6)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.api.support import Api, running_gateway
from tests.tickets.support import FakeClock

HUGE = 2**63
DEEP = "[" * 1000 + "]" * 1000


async def _error(api: Api, who: str, method: str, path: str, **kw: Any) -> tuple[int, str]:
    resp = await api.call(who, method, path, **kw)
    assert resp.content_type == "application/json", await resp.text()
    body = await resp.json()
    return resp.status, body["error_id"]


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> Any:
    async with running_gateway(tmp_path, clock) as api:
        yield api


CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("water", "GET", f"/tickets?offset={HUGE}", {}),
    ("water", "GET", "/tickets?limit=99999999999999999999999", {}),
    ("water", "GET", "/stats/tickets?start=0001-01-01T00:00:00%2B08:00&end=0001-01-02T00:00:00%2B08:00", {}),
    ("admin", "GET", "/stats/tickets?start=9999-12-30T00:00:00%2B08:00&end=9999-12-31T23:00:00%2B08:00", {}),
    ("water", "GET", "/reports/week?start=0001-01-01", {}),
    ("admin", "GET", "/reports/year?start=9999-01-01", {}),
    ("agent", "GET", "/calls/kpi?since=0001-01-01T00:00:00%2B00:00", {}),
    ("agent", "POST", "/tickets", {"data": DEEP, "headers": {"Content-Type": "application/json"}}),
    ("agent", "POST", "/tickets", {"data": "[" * 65 + "]" * 65, "headers": {"Content-Type": "application/json"}}),
    ("agent", "POST", "/agents/a1001/pause", {"data": DEEP, "headers": {"Content-Type": "application/json"}}),
    ("agent", "POST", "/kb/suggest", {"data": DEEP, "headers": {"Content-Type": "application/json"}}),
    ("agent", "POST", "/tickets", {"data": '{"category": ' + "9" * 5001 + "}",
                                   "headers": {"Content-Type": "application/json"}}),
    ("agent", "POST", "/kb/suggest", {"json": {"text": "停水", "unit_id": ["water"]}}),
    ("agent", "POST", "/kb/suggest", {"json": {"text": "停水", "unit_id": {"a": 1}}}),
    ("water", "POST", "/kb/changes", {"json": {"kind": "update", "entry_id": 12345, "content": {}}}),
    ("admin", "POST", "/kb/changes", {"json": {"kind": "create", "entry_id": 12345, "content": {}}}),
    ("admin", "POST", f"/kb/changes/{10**30}/approve", {}),
    ("admin", "POST", f"/kb/changes/{10**30}/reject", {"json": {"note": "no"}}),
    ("admin", "POST", f"/hotspots/warnings/{10**30}/acknowledge", {}),
    ("admin", "POST", "/units", {"json": {"id": "orphan", "name": "孤儿", "parent_id": "no-such-unit"}}),
    ("admin", "PUT", "/agents/a1001", {"json": {"name": "x", "interface": {"a": 1}}}),
    ("agent", "POST", "/agents/a1001/pause", {"json": {"reason": "lunch\r\nAction: Originate"}}),
    ("agent", "PUT", "/agents/a1001/queues", {"json": {"queues": ["q\r\nAction: Originate"]}}),
    ("agent", "POST", "/tickets", {"json": {"category": "consult", "content": "x", "elements": {"n": "NaN"}},}),
    ("agent", "POST", "/tickets", {"data": '{"category": "consult", "content": "x", "elements": {"n": NaN}}',
                                   "headers": {"Content-Type": "application/json"}}),
    ("agent", "POST", "/tickets", {"data": "[1, 2]", "headers": {"Content-Type": "application/json"}}),
]


@pytest.mark.parametrize(("who", "method", "path", "kw"), CASES, ids=[f"{c[1]} {c[2][:60]}" for c in CASES])
async def test_bad_input_is_a_json_4xx(api: Api, who: str, method: str, path: str, kw: dict[str, Any]) -> None:
    status, error_id = await _error(api, who, method, path, **kw)
    assert 400 <= status < 500, error_id
    assert error_id


async def test_an_unknown_parent_unit_is_refused_and_nothing_is_stored(api: Api) -> None:
    status, error_id = await _error(api, "admin", "POST", "/units",
                                    json={"id": "orphan", "name": "孤儿", "parent_id": "no-such-unit"})
    assert (status, error_id) == (422, "unknown-reference")
    units = await api.ok("admin", "GET", "/units")
    assert "orphan" not in {u["id"] for u in units["items"]}


async def test_a_duplicate_unit_is_a_conflict(api: Api) -> None:
    status, error_id = await _error(api, "admin", "POST", "/units", json={"id": "water", "name": "又一个水务局"})
    assert 400 <= status < 500 and error_id


@pytest.mark.parametrize("unit", ["water\r\nSet-Cookie: x=1", 'wa"ter; filename=evil.exe', "水务"])
async def test_a_report_for_a_malformed_unit_id_is_refused_not_dropped(api: Api, unit: str) -> None:
    status, error_id = await _error(api, "admin", "GET", "/reports/week",
                                    params={"start": "2026-11-09", "unit": unit, "format": "csv"})
    assert (status, error_id) == (422, "validation-failed")


async def test_a_report_download_is_named_through_the_safe_header(api: Api) -> None:
    resp = await api.call("admin", "GET", "/reports/week", params={"start": "2026-11-09", "unit": "water",
                                                                    "format": "csv"})
    await resp.read()
    assert resp.status == 200
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"week-2026-11-09-water.csv\"; filename*=UTF-8''week-2026-11-09-water.csv")


@pytest.mark.parametrize(("who", "path", "expected"), [
    ("", "/kb/suggest", (401, "token-required")),
    ("", "/kb/changes", (401, "token-required")),
    ("agent", "/kb/changes", (403, "wrong-token-kind")),
    ("water", "/kb/questions", (403, "wrong-token-kind")),
])
async def test_kb_checks_the_caller_before_reading_the_body(api: Api, who: str, path: str,
                                                            expected: tuple[int, str]) -> None:
    status, error_id = await _error(api, who, "POST", path, data=DEEP, headers={"Content-Type": "application/json"})
    assert (status, error_id) == expected


def _routes(api: Api) -> list[tuple[str, str]]:
    found = set()
    for route in api.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("formatter") or info.get("path")
        if path and path.startswith("/api/v1/") and route.method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            found.add((route.method, path))
    return sorted(found)


STRANGE_IDS = [str(10**30), "1\r\nX-Injected: 1", "%00", "-1", "9" * 5001]
STRANGE_QUERY = {"offset": str(2**63), "limit": str(10**30), "start": "0001-01-01", "end": "9999-12-31",
                 "since": "0001-01-01T00:00:00+00:00", "until": "9999-12-31T23:59:59+00:00",
                 "status": "\r\n", "unit": "a\r\nb", "format": "csv", "q": "水", "caller": "1" * 400}


@pytest.mark.parametrize("who", ["admin", "water"])
async def test_no_route_answers_strange_ids_or_queries_with_a_500(api: Api, who: str) -> None:
    """Every route, whatever it is: path ids and query values out of any sane range are refused (4xx,
    or 503 where the PBX is needed and absent here), always as a JSON error with an error_id."""
    failures = []
    for method, path in _routes(api):
        if path.endswith("/ws"):
            continue
        attempts = [path.replace("{", "").replace("}", "")]  # literal names, then strange values
        if "{" in path:  # each id strange in turn (two 5 kB ids would overflow the request line itself)
            attempts = [strange_in(path, at, value) for value in STRANGE_IDS
                        for at in range(len(re.findall(r"\{[^}]+\}", path)))]
        for url in attempts:
            resp = await api.client.request(method, url, params=STRANGE_QUERY if method == "GET" else None,
                                            json={} if method != "GET" else None,
                                            headers={"Authorization": f"Bearer {api.tokens[who]}"})
            text = await resp.text()
            if (resp.status >= 500 and resp.status != 503) or (resp.status >= 400 and '"error_id"' not in text):
                failures.append((method, url[:80], resp.status, text[:120]))
    assert failures == []


def strange_in(path: str, at: int, value: str) -> str:
    """``path`` with its ``at``-th placeholder set to ``value`` and the others to a plain id."""
    names = iter(range(path.count("{")))
    return re.sub(r"\{[^}]+\}", lambda _m: quote_path(value) if next(names) == at else "1", path)


def quote_path(value: str) -> str:
    return quote(value, safe="")
