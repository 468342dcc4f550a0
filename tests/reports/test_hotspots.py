"""A burst of similar complaints raises one warning, not fifty — to the supervisor board and the unit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from gateway.appkeys import BUS, SESSIONS
from gateway.bus import DomainEvent
from gateway.reports.keys import REPORTS
from gateway.webhooks.models import WebhookDelivery
from tests.api.support import running_gateway
from tests.tickets.support import FakeClock


async def test_fifty_similar_complaints_in_a_short_time_raise_one_warning(tmp_path: Path, clock: FakeClock) -> None:
    async with running_gateway(tmp_path, clock, webhooks={"enabled": False}) as api:
        warnings: list[DomainEvent] = []
        api.app[BUS].subscribe("hotspot.warning", warnings.append)
        await api.ok("admin", "POST", "/webhooks/endpoints", {
            "id": "roads-hook", "owner": "roads", "url": "http://127.0.0.1:9/never", "generate_secret": True},
            status=201)
        burst = []
        for i in range(50):
            clock.advance(seconds=20)
            t = await api.ok("agent", "POST", "/tickets", {
                "category": "投诉", "location": "城关镇幸福路",
                "content": f"幸福路{i % 7 + 1}号附近路灯不亮，晚上很黑" if i % 2
                else "幸福路的路灯全都不亮了，晚上出行不安全",
                "caller_number": f"138001{i:05d}"}, status=201)
            burst.append(t["number"])
            if i == 10:  # something else, the same minutes
                await api.ok("agent", "POST", "/tickets", {
                    "category": "咨询", "location": "新城街道", "content": "社保卡补办需要什么材料"}, status=201)
        await api.app[REPORTS].hotspots.drain()

        assert len(warnings) == 1
        board = (await api.ok("admin", "GET", "/hotspots/warnings"))["items"]
        assert len(board) == 1
        [warning] = board
        assert warning["count"] == 50 and sorted(warning["tickets"]) == sorted(burst)
        assert warning["unit"] is None  # nothing dispatched yet: the board knows, no unit yet

        # The first dispatch names the responsible unit, which is warned once.
        await api.ok("agent", "POST", f"/tickets/{burst[0]}/accept", {})
        await api.ok("agent", "POST", f"/tickets/{burst[0]}/dispatch", {"lead_unit": "roads"})
        await api.ok("agent", "POST", f"/tickets/{burst[1]}/accept", {})
        await api.ok("agent", "POST", f"/tickets/{burst[1]}/dispatch", {"lead_unit": "roads"})
        await api.app[REPORTS].hotspots.drain()
        async with api.app[SESSIONS]() as session:
            sent = await session.scalar(select(func.count()).select_from(WebhookDelivery).where(
                WebhookDelivery.event_kind == "hotspot.warning"))
        assert sent == 1
        assert (await api.ok("admin", "GET", "/hotspots/warnings"))["items"][0]["unit"] == "roads"


async def test_the_same_number_of_tickets_spread_over_days_is_no_hotspot(tmp_path: Path, clock: FakeClock) -> None:
    async with running_gateway(tmp_path, clock) as api:
        for _ in range(8):
            clock.advance(hours=12)
            await api.ok("agent", "POST", "/tickets", {"category": "投诉", "location": "城关镇幸福路",
                                                       "content": "幸福路的路灯全都不亮了"}, status=201)
        await api.app[REPORTS].hotspots.drain()
        assert (await api.ok("admin", "GET", "/hotspots/warnings"))["items"] == []
