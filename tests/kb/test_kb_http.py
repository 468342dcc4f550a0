"""The HTTP API under /api/v1/kb, wired through create_app (seeded on first start). A tiny test
middleware sets request[ACTOR] from an X-Test-Actor header, as the token middleware will."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from gateway.app import create_app
from gateway.config import load_settings
from gateway.http.errors import Handler
from kb.access import ACTOR
from tests.kb.conftest import content

ADMIN = {"X-Test-Actor": "admin:reviewer"}
AGENT = {"X-Test-Actor": "agent:a1"}
WATER = {"X-Test-Actor": "unit:clerk:water-company"}


@web.middleware
async def actor_header(request: web.Request, handler: Handler) -> web.StreamResponse:
    header = request.headers.get("X-Test-Actor")
    if header:
        kind, who, *unit = header.split(":")
        request[ACTOR] = {"kind": kind, "id": who, "unit_id": unit[0] if unit else None}
    return await handler(request)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    app = create_app(load_settings(data_dir=tmp_path))
    app.middlewares.append(actor_header)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_search_needs_an_identity_and_answers_from_the_seed(client: TestClient) -> None:
    assert (await client.get("/api/v1/kb/search", params={"q": "退单"})).status == 401
    resp = await client.get("/api/v1/kb/search", params={"q": "庆阳咨询工单几天办结", "region": "庆阳市"},
                            headers=AGENT)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["results"][0]["id"] == "qy-limits"
    assert body["results"][0]["basis"]["article"] == "第二十一条第(一)项"
    assert "<mark>" in body["results"][0]["highlight"]["question"]
    assert (await client.get("/readyz")).status == 200
    bad = await client.get("/api/v1/kb/search", params={"q": "x", "limit": "500"}, headers=AGENT)
    problem = await bad.json()
    assert (bad.status, problem["error_id"], problem["details"]["problems"][0]["field"]) == (
        422, "validation-failed", "limit")


async def test_suggest_from_transcript_text(client: TestClient) -> None:
    resp = await client.post("/api/v1/kb/suggest", headers=AGENT, json={
        "text": "喂 你好 我 上个月 反映 的 问题 一直 没人 回复 我 想 知道 回访 短信 没回 算 什么",
        "region": "庆阳市"})
    body = await resp.json()
    assert resp.status == 200, body
    assert body["results"] and body["results"][0]["id"] == "qy-survey"


async def test_unit_submits_platform_approves_agent_finds(client: TestClient) -> None:
    submitted = await client.post("/api/v1/kb/changes", headers=WATER, json={
        "kind": "create", "entry_id": "water-outage", "content": content()})
    change = await submitted.json()
    assert submitted.status == 201, change
    other = await client.post("/api/v1/kb/changes", headers=WATER, json={
        "kind": "create", "content": content(unit_id="housing-bureau")})
    assert other.status == 403 and (await other.json())["error_id"] == "not-your-unit"
    assert (await client.post(f"/api/v1/kb/changes/{change['id']}/approve", headers=WATER)).status == 403
    approved = await client.post(f"/api/v1/kb/changes/{change['id']}/approve", headers=ADMIN)
    assert approved.status == 200, await approved.text()
    found = await (await client.get("/api/v1/kb/search", params={"q": "小区停水"}, headers=AGENT)).json()
    assert found["results"][0]["id"] == "water-outage"
    versions = await (await client.get("/api/v1/kb/entries/water-outage/versions", headers=WATER)).json()
    assert [v["version"] for v in versions["versions"]] == [1]


async def test_knowledge_question_round_trip(client: TestClient) -> None:
    asked = await client.post("/api/v1/kb/questions", headers=ADMIN,
                              json={"unit_id": "water-company", "text": "二次供水多久清洗?"})
    question = await asked.json()
    assert asked.status == 201, question
    assert question["due_at"] > question["asked_at"]
    listed = await (await client.get("/api/v1/kb/questions", headers=WATER)).json()
    assert [q["id"] for q in listed["questions"]] == [question["id"]]
    answer = await client.post("/api/v1/kb/changes", headers=WATER, json={
        "kind": "create", "question_id": question["id"], "content": content(question="二次供水多久清洗?")})
    assert answer.status == 201
    listed = await (await client.get("/api/v1/kb/questions", headers=WATER)).json()
    assert listed["questions"][0]["status"] == "answered"


async def test_import_report_and_export_formats(client: TestClient) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "question", "answer", "basis_document", "unit_id", "region", "effective_at"])
    writer.writerow(["fee", "水费怎么交?", "营业厅或线上缴纳。", "《供水服务规范》", "water-company",
                     "庆阳市", "2026-01-01"])
    writer.writerow(["bad", "水卡补办?", "", "《供水服务规范》", "water-company", "庆阳市", "2026-01-01"])
    resp = await client.post("/api/v1/kb/import?format=csv", data=out.getvalue().encode(), headers=ADMIN)
    report = await resp.json()
    assert resp.status == 200, report
    assert report["ids"] == ["fee"] and [r["row"] for r in report["rejected"]] == [3]

    xlsx = await client.get("/api/v1/kb/export", params={"format": "xlsx"}, headers=WATER)
    assert xlsx.status == 200
    sheet = load_workbook(io.BytesIO(await xlsx.read())).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["fee"]
    assert (await client.get("/api/v1/kb/export", headers=AGENT)).status == 403
