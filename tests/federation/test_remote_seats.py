"""Remote seats: a county agent in the city's deployment sees and works only its territory's tickets."""

from __future__ import annotations

from pathlib import Path

from gateway.auth.middleware import TOKENS
from tests.api.support import running_gateway
from tests.tickets.support import FakeClock


async def test_a_territory_scoped_token_sees_and_works_only_its_territory(tmp_path: Path, clock: FakeClock) -> None:
    async with running_gateway(tmp_path, clock) as api:
        _, api.tokens["seat"] = await api.app[TOKENS].create("agent", "a2001", territory="汉阴县")
        await api.ok("admin", "POST", "/units", {"id": "hy-water", "name": "汉阴县水利局", "region": "汉阴县"},
                     status=201)
        ours = (await api.ok("agent", "POST", "/tickets", {
            "category": "求助", "content": "城关镇停水", "location": "汉阴县城关镇"}, status=201))["number"]
        dispatched_ours = (await api.ok("agent", "POST", "/tickets", {
            "category": "求助", "content": "村里水管爆了"}, status=201))["number"]
        await api.ok("agent", "POST", f"/tickets/{dispatched_ours}/accept", {})
        await api.ok("agent", "POST", f"/tickets/{dispatched_ours}/dispatch", {"lead_unit": "hy-water"})
        theirs = (await api.ok("agent", "POST", "/tickets", {
            "category": "求助", "content": "幸福路停水", "location": "汉滨区幸福路"}, status=201))["number"]

        seen = {t["number"] for t in (await api.ok("seat", "GET", "/tickets"))["items"]}
        assert seen == {ours, dispatched_ours}
        assert len((await api.ok("agent", "GET", "/tickets"))["items"]) == 3  # unscoped agents see all

        await api.ok("seat", "POST", f"/tickets/{ours}/accept", {})
        for method, path in [("GET", f"/tickets/{theirs}"), ("POST", f"/tickets/{theirs}/accept"),
                             ("GET", f"/tickets/{theirs}/timeline")]:
            resp = await api.call("seat", method, path, json={} if method == "POST" else None)
            assert resp.status == 404  # as if it did not exist
            assert (await resp.json())["error_id"] == "ticket-not-found"
        assert (await api.ok("agent", "GET", f"/tickets/{theirs}"))["status"] == "new"
