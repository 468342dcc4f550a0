"""Issue 9, done-when: a ticket flows city → district → unit → reply → city review → survey, over real HTTP
between two gateways with their own databases."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.surveys.service import SURVEYS
from tests.api.support import Api
from tests.federation.support import city_and_district, eventually
from tests.tickets.support import FakeClock

CITIZEN = "+8613800138000"


async def local_copy(district: Api, city_number: str) -> dict[str, Any] | None:
    items = (await district.ok("agent", "GET", "/tickets?active=false&limit=500"))["items"]
    return next((t for t in items if t["external_ref"] == city_number), None)


async def status_of(api: Api, number: str) -> str:
    return (await api.ok("admin", "GET", f"/tickets/{number}"))["status"]


async def dispatched_to_district(city: Api) -> str:
    number = (await city.ok("agent", "POST", "/tickets", {
        "category": "投诉", "content": "汉滨区新城街道自来水停水两天", "location": "汉滨区新城街道",
        "caller_number": CITIZEN, "caller_name": "李女士"}, status=201))["number"]
    await city.ok("agent", "POST", f"/tickets/{number}/accept", {})
    await city.ok("agent", "POST", f"/tickets/{number}/dispatch", {"lead_unit": "hanbin"})
    return number


async def test_ticket_flows_down_to_the_district_unit_and_its_reply_back_up_to_survey(
        tmp_path: Path, clock: FakeClock) -> None:
    async with city_and_district(tmp_path, clock) as p:
        city, district = p.city, p.district
        number = await dispatched_to_district(city)
        city_ticket = await city.ok("admin", "GET", f"/tickets/{number}")

        # The district receives it as work of its own, from the upper platform, caller data intact.
        local = await eventually(lambda: local_copy(district, number), "the district's copy")
        assert (local["channel"], local["status"]) == ("upper_platform", "new")
        assert local["caller"]["number"] == CITIZEN and local["content"] == city_ticket["content"]

        # 签收: accepting it at the district signs it at the city.
        await district.ok("agent", "POST", f"/tickets/{local['number']}/accept", {})
        await eventually(lambda: _is(city, number, "signed"), "the city ticket signed by the district")

        # Re-dispatched locally: the district's own limits, bounded by the city's deadline.
        local = await district.ok("agent", "POST", f"/tickets/{local['number']}/dispatch", {"lead_unit": "water"})
        assert datetime.fromisoformat(local["sla"]["due_at"]) <= datetime.fromisoformat(city_ticket["sla"]["due_at"])

        await district.ok("water", "POST", f"/tickets/{local['number']}/sign")
        await district.ok("water", "POST", f"/tickets/{local['number']}/reply",
                          {"text": "已抢修供水管道，今日18时恢复供水"})
        # The district reviews its unit's reply first; only an approved reply goes up for the city's review.
        assert await status_of(city, number) == "signed"
        await district.ok("admin", "POST", f"/tickets/{local['number']}/reply/review",
                          {"approve": True, "note": "答复属实"})
        replied = await eventually(lambda: _is(city, number, "replied"), "the reply at the city")
        assert replied["reply"]["text"] == "已抢修供水管道，今日18时恢复供水"

        # The city reviews and surveys the citizen (the district does not survey a city ticket).
        await city.ok("admin", "POST", f"/tickets/{number}/reply/review", {"approve": True, "note": "同意"})
        assert await district.app[SURVEYS].open_pending() == []
        await city.app[SURVEYS].open_pending()  # (the timer, nudged by the review, may have been first)
        await eventually(lambda: city.app[SURVEYS].handle_sms_reply(CITIZEN, "1"), "the citizen's survey")
        closed = await city.ok("admin", "GET", f"/tickets/{number}")
        assert (closed["status"], closed["satisfaction"]) == ("closed", "very_satisfied")

        # The result comes back down: the district's copy is closed with the citizen's verdict.
        done = await eventually(lambda: _is(district, local["number"], "closed"), "the district copy closed")
        assert done["satisfaction"] == "very_satisfied"

        # Full data upward: the city mirrors the district's ticket with every transition, nothing failed.
        async def mirrored() -> Any:
            items = (await city.ok("admin", "GET", "/federation/mirror?peer=hanbin"))["items"]
            return items if items and items[0]["status"] == "closed" else None

        mirror = await eventually(mirrored, "the district's data at the city")
        assert [m["number"] for m in mirror] == [local["number"]]
        async def settled() -> Any:  # the last receipt may still be being applied when the mirror shows it
            items = (await city.ok("admin", "GET", "/federation/receipts?peer=hanbin"))["items"]
            return items if all(r["status"] != "applying" for r in items) else None

        receipts = await eventually(settled, "every receipt applied")
        assert sorted(r["seq"] for r in receipts) == list(range(1, len(receipts) + 1))
        assert {r["status"] for r in receipts} == {"applied"}
        status = await city.ok("admin", "GET", "/federation/status")
        assert next(p for p in status["peers"] if p["peer"] == "hanbin")["backlog"] == 0


async def _is(api: Api, number: str, status: str) -> dict[str, Any] | None:
    ticket = await api.ok("admin", "GET", f"/tickets/{number}")
    return ticket if ticket["status"] == status else None


async def test_the_district_returns_out_of_scope_work_and_asks_the_city_for_more_time(
        tmp_path: Path, clock: FakeClock) -> None:
    async with city_and_district(tmp_path, clock) as p:
        city, district = p.city, p.district
        # 退回: not the district's matter; the city reviews the return, the district's copy is withdrawn.
        number = await dispatched_to_district(city)
        local = await eventually(lambda: local_copy(district, number), "the district's copy")
        await district.ok("agent", "POST", f"/federation/tickets/{local['number']}/return", {
            "reason": "该地址属汉阴县", "basis": "行政区划", "suggestion": "转汉阴县"})
        await eventually(lambda: _is(city, number, "return_requested"), "the return request at the city")
        [request] = (await city.ok("admin", "GET", f"/tickets/{number}/requests"))["items"]
        assert (request["kind"], request["unit"], request["basis"]) == ("return", "hanbin", "行政区划")
        await city.ok("admin", "POST", f"/tickets/{number}/return/review", {"approve": True, "note": "同意退回"})
        await eventually(lambda: _is(district, local["number"], "withdrawn"), "the district copy withdrawn")

        # 延期: asked by the district's unit, decided by the city (its limits), applied at the district.
        number = await dispatched_to_district(city)
        local = await eventually(lambda: local_copy(district, number), "the second copy")
        await district.ok("agent", "POST", f"/tickets/{local['number']}/accept", {})
        await district.ok("agent", "POST", f"/tickets/{local['number']}/dispatch", {"lead_unit": "water"})
        await district.ok("water", "POST", f"/tickets/{local['number']}/sign")
        before = (await city.ok("admin", "GET", f"/tickets/{number}"))["sla"]["due_at"]
        await district.ok("water", "POST", f"/tickets/{local['number']}/extension",
                          {"working_days": 2, "reason": "需更换主管道"}, status=201)

        async def city_request() -> Any:
            items = (await city.ok("admin", "GET", f"/tickets/{number}/requests"))["items"]
            return [r for r in items if r["kind"] == "extension"]

        [request] = await eventually(city_request, "the extension request at the city")
        assert (request["unit"], request["working_days"]) == ("hanbin", 2)
        await city.ok("admin", "POST", f"/tickets/{number}/extension/review", {"approve": True, "note": "同意"})
        after = (await city.ok("admin", "GET", f"/tickets/{number}"))["sla"]["due_at"]
        assert datetime.fromisoformat(after) > datetime.fromisoformat(before)

        async def local_decided() -> Any:
            items = (await district.ok("admin", "GET", f"/tickets/{local['number']}/requests"))["items"]
            return items if items and items[0]["status"] == "approved" else None

        await eventually(local_decided, "the district's request decided by the city")
        local_due = (await district.ok("admin", "GET", f"/tickets/{local['number']}"))["sla"]["due_at"]
        assert datetime.fromisoformat(local_due) <= datetime.fromisoformat(after)
