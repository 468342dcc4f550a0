"""The ticket API as agents, units and reviewers use it over real HTTP; bad input changes nothing."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.http.openapi import build_document, undocumented
from tests.api.support import Api, operator_headers, running_gateway
from tests.tickets.support import FakeClock

NEW = {"category": "投诉", "content": "幸福路23号路灯坏了三天了", "caller_number": "13800138000",
       "caller_name": "张先生", "caller_address": "城关镇幸福路23号3单元", "location": "城关镇幸福路23号"}


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    async with running_gateway(tmp_path, clock, http={"max_body_bytes": 65536}) as api:
        yield api


async def dispatched(api: Api, **extra: object) -> str:
    ticket = await api.ok("agent", "POST", "/tickets", {**NEW, **extra}, status=201)
    number = ticket["number"]
    await api.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await api.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water", "assisting": ["roads"]})
    return str(number)


async def test_agent_to_unit_to_review(api: Api) -> None:
    number = await dispatched(api)
    listing = await api.ok("water", "GET", "/tickets")
    assert [t["number"] for t in listing["items"]] == [number]
    assert (await api.ok("power", "GET", "/tickets"))["items"] == []

    await api.ok("water", "POST", f"/tickets/{number}/sign")
    ext = await api.ok("water", "POST", f"/tickets/{number}/extension", {"working_days": 1, "reason": "需现场勘查"},
                       status=201)
    assert ext["status"] == "pending"
    pending = await api.ok("admin", "GET", "/reviews")
    assert [(r["ticket"], r["kind"]) for r in pending["items"]] == [(number, "extension")]
    t = await api.ok("admin", "POST", f"/tickets/{number}/extension/review", {"approve": True, "note": "同意"})
    assert t["extension_count"] == 1
    t = await api.ok("water", "POST", f"/tickets/{number}/reply",
                     {"text": "已更换灯头", "attachments": [{"name": "现场.jpg", "size": 2048}]})
    assert t["status"] == "replied"
    t = await api.ok("admin", "POST", f"/tickets/{number}/reply/review", {"approve": True, "note": "规范"})
    assert t["status"] == "surveying"
    timeline = await api.ok("agent", "GET", f"/tickets/{number}/timeline")
    assert [e["action"] for e in timeline["items"]][-3:] == ["approve_extension", "reply", "approve_reply"]


async def test_units_see_the_caller_masked_and_confidential_content_only_as_lead(api: Api) -> None:
    number = await dispatched(api, confidential=True)
    as_lead = await api.ok("water", "GET", f"/tickets/{number}")
    # Masks that do not identify: the last 4 digits, no name, the district at most (this address has none).
    assert as_lead["caller"] == {"number": "*******8000", "name": None, "address": None, "masked": True}
    assert as_lead["content"] == NEW["content"]
    as_assisting = await api.ok("roads", "GET", f"/tickets/{number}")
    assert "保密" in as_assisting["content"]
    as_agent = await api.ok("agent", "GET", f"/tickets/{number}")
    assert as_agent["caller"]["number"] == "+8613800138000"
    allowed = await dispatched(api, disclose_caller=True)
    assert (await api.ok("water", "GET", f"/tickets/{allowed}"))["caller"]["name"] == "张先生"


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "raw", "status", "error_id"),
    [
        ("agent", "POST", "/tickets", None, b"{not json", 400, "invalid-json"),
        ("agent", "POST", "/tickets", None, b"[1, 2]", 400, "invalid-json"),
        ("agent", "POST", "/tickets", {**NEW, "colour": "red"}, None, 422, "validation-failed"),
        ("agent", "POST", "/tickets", {**NEW, "urgent": "very"}, None, 422, "validation-failed"),
        ("agent", "POST", "/tickets", {**NEW, "category": "闲聊"}, None, 400, "unknown-category"),
        ("agent", "POST", "/tickets", {**NEW, "caller_number": "12"}, None, 400, "invalid-phone-number"),
        ("agent", "POST", "/tickets", {**NEW, "content": "长" * 30_000}, None, 413, "payload-too-large"),
        ("agent", "GET", "/tickets/2099010100001", None, None, 404, "ticket-not-found"),
        ("", "GET", "/tickets", None, None, 401, "token-required"),
        ("water", "POST", "/tickets", NEW, None, 403, "wrong-token-kind"),
        ("water", "POST", "/tickets/{n}/reply", {"text": "未签收就答复"}, None, 409, "illegal-transition"),
        ("power", "POST", "/tickets/{n}/sign", None, None, 404, "ticket-not-found"),
        # ownership before state: the 409 would tell another unit the ticket's status
        ("power", "POST", "/tickets/{n}/reply", {"text": "别人的工单"}, None, 404, "ticket-not-found"),
        ("power", "POST", "/tickets/{n}/extension", {"working_days": 3, "reason": "x"}, None, 404,
         "ticket-not-found"),
        ("agent", "POST", "/tickets/{n}/dispatch", {"lead_unit": "nobody"}, None, 409, "illegal-transition"),
        ("agent", "POST", "/tickets/{n}/reject", {"reason_code": "nope", "guidance": "x"}, None, 400,
         "unknown-reason-code"),
        ("water", "POST", "/tickets/{n}/extension", {"working_days": 0, "reason": "x"}, None, 422,
         "validation-failed"),
    ],
)
async def test_bad_requests_get_a_stable_error_and_change_nothing(
        api: Api, who: str, method: str, path: str, body: object, raw: bytes | None, status: int,
        error_id: str) -> None:
    number = await dispatched(api)
    before = await api.ok("agent", "GET", f"/tickets/{number}")
    kw = {"data": raw, "headers": {"Content-Type": "application/json"}} if raw is not None else {}
    resp = await api.call(who, method, path.format(n=number), body, **kw)
    payload = await resp.json()
    assert (resp.status, payload["error_id"]) == (status, error_id), payload
    assert payload["message"]
    after = await api.ok("agent", "GET", f"/tickets/{number}")
    assert (after["version"], after["status"]) == (before["version"], before["status"])
    listing = await api.ok("agent", "GET", "/tickets")
    assert len(listing["items"]) == 1


async def test_wrong_token_is_401_and_repeated_failures_are_rate_limited(api: Api) -> None:
    for _ in range(10):
        resp = await api.client.get("/api/v1/tickets", headers={"Authorization": "Bearer hl_dead_beef"})
        assert resp.status == 401
    resp = await api.client.get("/api/v1/tickets", headers={"Authorization": "Bearer hl_dead_beef"})
    assert resp.status == 429
    assert (await resp.json())["error_id"] == "too-many-failed-authentications"


async def test_failures_from_an_address_never_lock_out_a_valid_token_from_it(api: Api) -> None:
    # Everyone behind one NAT shares the address: one person's typos must not stop the others.
    for _ in range(20):
        await api.client.get("/api/v1/tickets", headers={"Authorization": "Bearer hl_dead_beef"})
    for _ in range(3):
        resp = await api.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {api.tokens['agent']}"})
        assert resp.status == 200


async def test_revoked_token_stops_working(api: Api) -> None:
    from gateway.auth.middleware import TOKENS

    store = api.app[TOKENS]
    row, token = await store.create("unit", "water")
    api.tokens["water2"] = token
    await api.ok("water2", "GET", "/tickets")
    await store.revoke(row.id)
    resp = await api.call("water2", "GET", "/tickets")
    assert resp.status == 401


async def test_idempotency_key_replays_the_first_result(api: Api) -> None:
    headers = {"Idempotency-Key": "create-abc-1"}
    first = await api.call("agent", "POST", "/tickets", NEW, headers=headers)
    again = await api.call("agent", "POST", "/tickets", NEW, headers=headers)
    assert first.status == again.status == 201
    assert (await first.json())["number"] == (await again.json())["number"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len((await api.ok("agent", "GET", "/tickets"))["items"]) == 1
    other = await api.call("agent", "POST", "/tickets", {**NEW, "content": "不同的内容"}, headers=headers)
    assert other.status == 422 and (await other.json())["error_id"] == "idempotency-key-reused"
    # The same key from another caller is another request.
    admin = await api.call("admin", "POST", "/tickets", NEW, headers=headers)
    assert admin.status == 201 and (await admin.json())["number"] != (await first.json())["number"]


async def test_a_refused_request_is_replayed_as_refused(api: Api) -> None:
    number = await dispatched(api)
    headers = {"Idempotency-Key": "sign-twice"}
    first = await api.call("power", "POST", f"/tickets/{number}/sign", headers=headers)
    again = await api.call("power", "POST", f"/tickets/{number}/sign", headers=headers)
    assert first.status == again.status == 404  # power was never assigned: not its ticket to know of
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_every_api_route_is_in_the_openapi_document(api: Api) -> None:
    assert undocumented(api.app) == []
    served = await api.ok("", "GET", "/openapi.json")
    assert served == build_document(api.app)
    ops = {(m.upper(), p) for p, item in served["paths"].items() for m in item}
    for route in api.app.router.routes():
        path = route.resource.get_info().get("path") or route.resource.get_info().get("formatter")
        if path.startswith("/api/v1") and route.method != "HEAD":
            assert (route.method, path) in ops
    create = served["paths"]["/api/v1/tickets"]["post"]
    schema = served["components"]["schemas"][create["requestBody"]["content"]["application/json"]["schema"]
                                            ["$ref"].rsplit("/", 1)[1]]
    assert {"category", "content", "caller_number"} <= set(schema["properties"])
    assert {"400", "401", "403", "413", "422"} <= set(create["responses"])


async def test_statistics_endpoint(api: Api, clock: FakeClock) -> None:
    number = await dispatched(api)
    await api.ok("water", "POST", f"/tickets/{number}/sign")
    stats = await api.ok("agent", "GET", "/stats/tickets", params={
        "start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00", "by": "unit,category"})
    [row] = stats["items"]
    assert (row["unit"], row["category"], row["dispatched"], row["sign_on_time_rate"]) == (
        "water", "complaint", 1, 1.0)
    mine = await api.ok("roads", "GET", "/stats/tickets", params={
        "start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"})
    assert mine["items"] == []  # a unit sees only its own figures
    bad = await api.call("agent", "GET", "/stats/tickets", params={"start": "yesterday", "end": "today"})
    assert bad.status == 422


async def test_redispatch_rate_by_first_unit_and_matter(api: Api) -> None:
    month = {"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00", "by": "unit,matter"}
    wrong = await dispatched(api, elements={"matter": "CJ03"})
    await dispatched(api, elements={"matter": "CJ03"})
    await dispatched(api, elements={"matter": "CJ01"})
    await api.ok("water", "POST", f"/tickets/{wrong}/return", {"reason": "不属于本单位职责", "basis": "职责清单"})
    await api.ok("admin", "POST", f"/tickets/{wrong}/return/review", {"approve": True, "note": "同意"})
    await api.ok("agent", "POST", f"/tickets/{wrong}/dispatch", {"lead_unit": "roads"})

    stats = await api.ok("agent", "GET", "/stats/redispatch", params=month)
    assert [(r["unit"], r["matter"], r["dispatched"], r["redispatched_rate"]) for r in stats["items"]] == [
        ("water", "CJ01", 1, 0.0), ("water", "CJ03", 2, 0.5)]
    by_unit = await api.ok("agent", "GET", "/stats/redispatch", params={**month, "by": "unit"})
    assert by_unit["items"] == [{"unit": "water", "dispatched": 3, "redispatched_rate": 1 / 3,
                                 "redispatched_count": [1, 3]}]
    assert (await api.ok("roads", "GET", "/stats/redispatch", params=month))["items"] == []  # not its first
    bad = await api.call("agent", "GET", "/stats/redispatch", params={**month, "by": "caller"})
    assert bad.status == 422


async def test_metrics_and_probes(api: Api) -> None:
    await dispatched(api)
    assert (await api.client.get("/metrics")).status == 401
    metrics = await api.client.get("/metrics", headers=await operator_headers(api.app))
    text = await metrics.text()
    assert 'hotline_ticket_events_total{kind="ticket.dispatch"} 1.0' in text
    assert "hotline_http_requests_total" in text
    ready = await api.client.get("/readyz")
    assert ready.status == 200


async def test_clock_driven_sweeps_deem_signed_and_escalate(api: Api, clock: FakeClock) -> None:
    from gateway.timers import TIMERS

    number = await dispatched(api)
    ticket = await api.ok("agent", "GET", f"/tickets/{number}")
    assert ticket["sla"]["level"] == "normal"
    clock.advance(hours=30)  # past 庆阳's 3-working-hour sign limit, most of the way to the due date
    await api.app[TIMERS].run_once()
    ticket = await api.ok("agent", "GET", f"/tickets/{number}")
    lead = next(a for a in ticket["assignments"] if a["role"] == "lead")
    assert ticket["status"] == "signed" and lead["deemed_signed"]
    clock.advance(days=10)
    await api.app[TIMERS].run_once()
    ticket = await api.ok("agent", "GET", f"/tickets/{number}")
    assert ticket["sla"]["level"] == "red" and ticket["supervise_level"] == 2
    actions = [e["action"] for e in (await api.ok("water", "GET", f"/tickets/{number}/timeline"))["items"]]
    assert actions[-2:] == ["deem_signed", "supervise"]


async def test_every_instant_is_shown_in_the_centres_time(api: Api) -> None:
    number = await dispatched(api)
    await api.ok("water", "POST", f"/tickets/{number}/sign")
    shown = [await api.ok("agent", "GET", f"/tickets/{number}"), await api.ok("water", "GET", "/tickets"),
             await api.ok("agent", "GET", f"/tickets/{number}/timeline")]
    instants = re.findall(r'"(\d{4}-\d\d-\d\dT[^"]+)"', json.dumps(shown))
    assert len(instants) > 10
    assert {i[-6:] for i in instants} == {"+08:00"}, instants


async def test_allowed_actions_lists_only_what_would_succeed_now(api: Api) -> None:
    number = await dispatched(api)
    lead = set((await api.ok("water", "GET", f"/tickets/{number}"))["allowed_actions"])
    assisting = set((await api.ok("roads", "GET", f"/tickets/{number}"))["allowed_actions"])
    assert "sign" in lead and "request_extension" in lead
    assert "sign" in assisting and "request_extension" not in assisting  # only the lead unit asks for time
    signed = set((await api.ok("water", "POST", f"/tickets/{number}/sign"))["allowed_actions"])
    assert "sign" not in signed and "reply" in signed
    assert "sign" in set((await api.ok("roads", "GET", f"/tickets/{number}"))["allowed_actions"])
    assert not {"approve_extension", "reject_extension"} & set(
        (await api.ok("admin", "GET", f"/tickets/{number}"))["allowed_actions"])
    await api.ok("water", "POST", f"/tickets/{number}/extension", {"working_days": 1, "reason": "需现场勘查"},
                 status=201)
    assert "request_extension" not in (await api.ok("water", "GET", f"/tickets/{number}"))["allowed_actions"]
    review = set((await api.ok("admin", "GET", f"/tickets/{number}"))["allowed_actions"])
    assert {"approve_extension", "reject_extension"} <= review
    approved = await api.ok("admin", "POST", f"/tickets/{number}/extension/review", {"approve": True, "note": "同意"})
    assert not {"approve_extension", "reject_extension"} & set(approved["allowed_actions"])
    listed = (await api.ok("admin", "GET", "/tickets"))["items"]
    assert listed[0]["allowed_actions"] == approved["allowed_actions"]
