"""The gateway process killed (-9) on a real Asterisk while 10 SIPp citizens are up (2 talking to seats, 8
waiting in the queue); 4 of them end while it is dead (and the freed seat takes a waiting citizen). After a
restart every call's stored state matches Asterisk's: the 6 still up are live, talking or waiting as
Asterisk has them, the 4 gone are closed with an end time and the reason."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pbx_ami import Ami
from pbx_harness import Pbx
from pbx_scenes import register_seat
from pbx_sipp import SippRunner

from gateway.calls.model import AWAY
from tests.calls.served_gateway import Gateway, admin_token, until

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]

SEATS, CITIZENS = ("1001", "1002"), 10


@pytest.fixture
async def observer(pbx: Pbx) -> AsyncIterator[Ami]:
    client = await Ami.connect(pbx.ami_port, "gateway", pbx.ami_secret)
    yield client
    await client.close()


async def api(http: aiohttp.ClientSession, gw: Gateway, token: str, method: str, path: str, body: Any) -> None:
    """Call the gateway's API, waiting for its HTTP server to be up."""
    async with asyncio.timeout(60):
        while True:
            try:
                async with http.request(method, f"http://127.0.0.1:{gw.port}/api/v1{path}", json=body,
                                        headers={"Authorization": f"Bearer {token}"}) as answer:
                    assert answer.status < 300, await answer.text()
                    return
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.2)


async def asterisk_calls(observer: Ami) -> dict[str, str]:
    """Asterisk's truth, call id (Linkedid) → "connected" (a seat's leg is in it) or "queued"."""
    calls: dict[str, str] = {}
    for m in await observer.send("CoreShowChannels"):
        if m.get("Event") == "CoreShowChannel":
            seat = any(m["Channel"].startswith(f"PJSIP/{seat}-") for seat in SEATS)
            calls[m["Linkedid"]] = "connected" if seat or calls.get(m["Linkedid"]) == "connected" else "queued"
    return calls


async def test_gateway_killed_with_sipp_calls_up_stores_asterisks_final_state_after_restart(
    pbx: Pbx, sipp: SippRunner, observer: Ami, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    gw = Gateway(data_dir, pbx.ami_port, pbx.ami_secret)
    gw.env.update({"HOTLINE_IVR__ENABLED": "false", "HOTLINE_CALLS__WRAPUP_SECONDS": "0",
                   "HOTLINE_CALLS__RECORDING_DIR": str(pbx.recordings / "hotline")})
    try:
        await gw.start()
        token = await admin_token(data_dir)
        async with aiohttp.ClientSession() as http:
            for seat in SEATS:
                await register_seat(sipp, observer, seat)
                await api(http, gw, token, "PUT", f"/agents/{seat}", {"name": f"坐席{seat}", "queues": ["hotline"]})
                await api(http, gw, token, "POST", f"/agents/{seat}/login", None)
                await observer.wait_for("QueueMemberAdded", Queue="hotline", Interface=f"PJSIP/{seat}")
        citizens = {}
        for n in range(CITIZENS):
            caller = f"1380013{n:04d}"
            citizens[caller] = await sipp.citizen("citizen_call.xml", caller)
        before = await until(lambda found: len(found) == CITIZENS and sorted(r.state for r in found.values())
                             == ["connected"] * 2 + ["queued"] * 8, data_dir, 60)
        await gw.kill()

        # While the gateway is dead: one answered call and three waiting ones end.
        by_state = {state: [r for r in before.values() if r.state == state] for state in ("connected", "queued")}
        gone = [by_state["connected"][0], *by_state["queued"][:3]]
        channels = [m for m in await observer.send("CoreShowChannels") if m.get("Event") == "CoreShowChannel"]
        for row in gone:
            for channel in channels:
                if channel["Linkedid"] == row.id:
                    await observer.action("Hangup", Channel=channel["Channel"])
        for row in gone:
            assert await citizens[row.caller].wait() == 0
        await asyncio.sleep(1)  # a freed seat takes the next waiting citizen: Asterisk settles
        up = await asterisk_calls(observer)
        assert set(up) == set(before) - {row.id for row in gone}

        await gw.start()
        after = await until(lambda found: sum(r.state == "ended" for r in found.values()) == len(gone),
                            data_dir, 60)
        assert await asterisk_calls(observer) == up  # Asterisk unchanged while we looked
    finally:
        await gw.kill()

    assert set(after) == set(before), "no call lost, none made up"
    for call_id, row in after.items():
        if call_id in up:
            assert (row.state, row.ended_at, row.end_reason) == (up[call_id], None, None), call_id
            assert row.started_at == before[call_id].started_at
        else:
            assert (row.state, row.end_reason) == ("ended", AWAY), call_id
            assert row.ended_at is not None and row.started_at is not None and row.ended_at >= row.started_at
    outcomes = sorted(str(after[row.id].outcome) for row in gone)
    print(f"real Asterisk kill: {len(up)} calls adopted, {len(gone)} closed as {AWAY!r}: {outcomes}")
