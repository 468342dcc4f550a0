"""Agent performance per day for the supervisor: calls answered and their talk time, tickets created and
direct answers, and the quality inspection of the agent's calls, by agent and local date."""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.appkeys import SESSIONS
from gateway.auth.middleware import TOKENS
from gateway.quality.models import QaFinding, QaInspection
from tests.consoles.support import Gateway
from tests.fakes import scenarios
from tests.tickets.support import SH

NEW = {"category": "咨询", "content": "咨询公积金提取", "caller_number": "13800000001"}


async def test_calls_talk_time_tickets_and_direct_answers_per_agent_and_day(gateway: Gateway) -> None:
    call_id = "1795346000.90"
    await gateway.fake.emit(*scenarios.answered_call(call_id, citizen="13800000001", agent="1001"))
    await gateway.fake.emit(scenarios.hangup(scenarios.citizen_channel(call_id), call_id, call_id),
                            scenarios.hangup(scenarios.agent_channel(call_id, "1001"), "1795346000.91", call_id))
    await gateway.settle()
    first = await gateway.ok("agent", "POST", "/tickets", NEW, status=201)
    await gateway.ok("agent", "POST", f"/tickets/{first['number']}/resolve", {"answer": "可通过公积金APP提取"})
    await gateway.ok("agent", "POST", "/tickets", NEW, status=201)
    await gateway.ok("other_agent", "POST", "/tickets", NEW, status=201)

    today = datetime.now(SH).replace(hour=0, minute=0, second=0, microsecond=0)
    period = {"start": today.isoformat(), "end": (today + timedelta(days=1)).isoformat()}
    got = await gateway.ok("supervisor", "GET", "/console/agent-performance", params=period)
    rows = {row["agent"]: row for row in got["items"]}
    day = today.date().isoformat()
    assert {r["day"] for r in got["items"]} == {day}
    assert rows["a1001"]["calls"] == 1 and rows["a1001"]["talk_seconds"] >= 0
    assert (rows["a1001"]["tickets_created"], rows["a1001"]["direct_answers"]) == (2, 1)
    assert (rows["a1002"]["calls"], rows["a1002"]["tickets_created"], rows["a1002"]["direct_answers"]) == (0, 1, 0)

    assert (rows["a1001"]["inspected"], rows["a1001"]["quality_score"]) == (0, None)

    # Two of a1001's calls inspected: 90 and 60 (flagged), one finding confirmed, one dismissed.
    async with gateway.app[SESSIONS].begin() as session:
        for call, score, flagged in (("qa-1", 90.0, False), ("qa-2", 60.0, True)):
            session.add(QaInspection(call_id=call, transcript_id=1, agent_id="a1001", score=score, findings=2,
                                     flagged=flagged, rules_source="test", call_started_at=today + timedelta(hours=9)))
        for key, verdict in (("rude@1", "confirmed"), ("silence@5", "dismissed")):
            session.add(QaFinding(call_id="qa-2", key=key, check=key.split("@")[0], severity="high", message="…",
                                  verdict=verdict))
    got = await gateway.ok("supervisor", "GET", "/console/agent-performance", params=period)
    a1001 = next(row for row in got["items"] if row["agent"] == "a1001")
    assert (a1001["inspected"], a1001["quality_score"], a1001["quality_flagged"], a1001["findings_confirmed"]) == (
        2, 75.0, 1, 1)

    tomorrow = {"start": period["end"], "end": (today + timedelta(days=2)).isoformat()}
    assert (await gateway.ok("supervisor", "GET", "/console/agent-performance", params=tomorrow))["items"] == []
    await gateway.ok("agent", "GET", "/console/agent-performance", params=period, status=403)
    await gateway.ok("supervisor", "GET", "/console/agent-performance",
                     params={"start": "2026-11-01T00:00:00", "end": "2026-11-02T00:00:00"}, status=422)


async def test_the_review_queue_names_the_unit_and_the_rule_the_request_is_judged_against(
        gateway: Gateway) -> None:
    t = await gateway.ok("agent", "POST", "/tickets", {**NEW, "category": "求助", "content": "停水"}, status=201)
    number = t["number"]
    await gateway.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await gateway.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})
    await gateway.ok("water", "POST", f"/tickets/{number}/return", {"reason": "不属本单位", "basis": "三定方案"})
    [item] = (await gateway.ok("supervisor", "GET", "/reviews"))["items"]
    assert (item["unit"], item["unit_name"]) == ("water", "县自来水公司")
    assert item["rule"].startswith("退单须在派单后") and "（" in item["rule"]


async def test_two_clerks_of_one_unit_are_audited_by_their_own_tokens(gateway: Gateway) -> None:
    store = gateway.app[TOKENS]
    first, gateway.tokens["clerk_a"] = await store.create("unit", "water", label="张三")
    second, gateway.tokens["clerk_b"] = await store.create("unit", "water", label="李四")
    t = await gateway.ok("agent", "POST", "/tickets", {**NEW, "category": "求助", "content": "停水"}, status=201)
    number = t["number"]
    await gateway.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await gateway.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "water"})
    await gateway.ok("clerk_a", "POST", f"/tickets/{number}/sign")
    await gateway.ok("clerk_b", "POST", f"/tickets/{number}/extension", {"working_days": 1, "reason": "协调中"},
                     status=201)
    events = (await gateway.ok("supervisor", "GET", f"/tickets/{number}/timeline"))["items"]
    by = {e["action"]: (e["actor"], e["data"].get("clerk_token")) for e in events}
    assert by["sign"] == ({"kind": "unit", "id": "water"}, first.id)
    assert by["request_extension"] == ({"kind": "unit", "id": "water"}, second.id)
    assert by["dispatch"][1] is None  # agents act as themselves already
