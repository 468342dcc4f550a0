"""A hold nobody resumes, on a real Asterisk: after HOTLINE_HOLD_LIMIT the dialplan sends the citizen back to
the head of the queue (the agent's console or the gateway may be gone); the gateway then frees the agent's
phone at once instead of letting it wait out its own, longer limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from pbx_gateway import running_gateway
from pbx_scenes import connected, register_seat

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio]


async def test_a_hold_nobody_resumes_ends_with_the_citizen_back_in_the_queue(start_pbx, tmp_path: Path) -> None:
    pbx = await start_pbx(HOTLINE_HOLD_LIMIT="3")
    async with connected(pbx) as (ami, sipp), running_gateway(pbx, tmp_path / "gw") as gw:
        await register_seat(sipp, ami, "1001")
        await gw.ok("PUT", "/agents/1001", {"name": "坐席1001", "queues": ["hotline"]})
        await gw.ok("POST", "/agents/1001/login", who="1001")
        citizen = await sipp.citizen()
        answered = await gw.wait_event("call.connected", agent_interface="PJSIP/1001")
        call_id = answered["call_id"]
        (first_join,) = ami.named("QueueCallerJoin", Channel=answered["citizen_channel"])
        await gw.ok("POST", f"/calls/{call_id}/hold", who="1001")
        held = await gw.wait_event("call.held", call_id=call_id)
        # The agent leaves the seat and forgets the citizen (so the queue cannot hand the call straight back).
        await gw.ok("POST", "/agents/1001/logout", who="1001")

        requeued = await gw.wait_event("call.hold_requeued", call_id=call_id, within=10)
        assert requeued["reason"] == "hold-limit"
        assert 3 <= requeued["on_hold_seconds"] <= 5
        assert held["agent_channel"] == answered["agent_channel"]
        hangup = await ami.wait_for("Hangup", Channel=answered["agent_channel"], within=3)  # not 5 s later
        assert hangup["Context"] == "hotline-hold"
        await ami.wait_for(
            "QueueCallerJoin", Channel=answered["citizen_channel"], within=3, where=lambda m: m is not first_join
        )
        assert (await gw.ok("GET", f"/calls/{call_id}"))["state"] == "queued"

        await ami.action("Hangup", Channel=answered["citizen_channel"])
        ended = await gw.wait_event("call.ended", call_id=call_id)
        assert (ended["outcome"], ended["holds"]) == ("answered", 1)
        assert await citizen.wait() == 0
