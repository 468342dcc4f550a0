"""Issue 9, one-key transfer between platforms: the city's agent transfers a call to the 汉滨 district
platform and the ticket follows it — two gateways on loopback, each with its own fake Asterisk (AMI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from gateway.appkeys import SESSIONS
from gateway.federation.keys import FEDERATION
from gateway.federation.models import HandedOverCall, PushRow
from gateway.tickets.appkeys import TICKETS
from tests.api.support import Api
from tests.fakes import scenarios
from tests.fakes.fake_ami import FakeAmi
from tests.federation.support import Platforms, city_and_district, eventually
from tests.tickets.support import FakeClock

CITY_CALL = "1795346100.1"
DISTRICT_CALL = "1795349900.7"
CITIZEN = "13800138000"


def ami(fake: FakeAmi) -> dict[str, Any]:
    return {"port": fake.port, "secret": fake.secret, "action_timeout": 0.5, "ping_interval": 0.3,
            "reconnect_delay": 0.05, "reconnect_max_delay": 0.2}


@asynccontextmanager
async def platforms_with_phones(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Platforms, FakeAmi, FakeAmi]]:
    """The city transfers ``county-subcentre`` calls (number 8001) to the 汉滨 platform."""
    city_pbx, district_pbx = FakeAmi(), FakeAmi()
    await city_pbx.start()
    await district_pbx.start()
    try:
        async with city_and_district(
                tmp_path, clock,
                city_settings={"ami": ami(city_pbx), "calls": {"recording_dir": str(tmp_path / "city-rec")},
                               "federation": {"transfer_platforms": {"county-subcentre": "hanbin"}}},
                district_settings={"ami": ami(district_pbx),
                                   "calls": {"recording_dir": str(tmp_path / "district-rec")}}) as p:
            await city_pbx.wait_logged_in()
            await district_pbx.wait_logged_in()
            yield p, city_pbx, district_pbx
    finally:
        await city_pbx.stop()
        await district_pbx.stop()


async def call_of(api: Api, call_id: str) -> dict[str, Any] | None:
    resp = await api.call("agent", "GET", f"/calls/{call_id}")
    return await resp.json() if resp.status == 200 else None


async def in_state(api: Api, call_id: str, state: str) -> bool:
    call = await call_of(api, call_id)
    return call is not None and call["state"] == state


async def ticket_on_call(api: Api, call_id: str) -> str | None:
    call = await call_of(api, call_id)
    return call["ticket_id"] if call else None


async def handed_over(district: Api, city_number: str) -> dict[str, Any] | None:
    items = (await district.ok("agent", "GET", "/tickets?active=false&limit=500"))["items"]
    return next((t for t in items if t["external_ref"] == city_number), None)


async def answered_with_ticket(city: Api, pbx: FakeAmi, call_id: str, citizen: str) -> str:
    """The city's agent answers the citizen and writes the ticket while talking."""
    await pbx.emit(*scenarios.answered_call(call_id, citizen=citizen))
    await eventually(lambda: in_state(city, call_id, "connected"), "the city call connected")
    number = (await city.ok("agent", "POST", "/tickets", {
        "category": "投诉", "content": "汉滨区新城街道自来水停水两天", "location": "汉滨区新城街道",
        "caller_number": citizen, "caller_name": "李女士"}, status=201))["number"]
    await city.ok("agent", "PUT", f"/calls/{call_id}/ticket", {"ticket_id": number})
    return number


def arriving(call_id: str, citizen: str, remote_call_id: str | None) -> list[dict[str, Any]]:
    """The transferred call reaching the district's queue; the dialplan put X-Hotline-Call-Id in a variable."""
    events = scenarios.queued_call(call_id, citizen=citizen)
    variables = ["HOTLINE_KIND=subcentre"]
    if remote_call_id:
        variables.append(f"HOTLINE_REMOTE_CALL_ID={remote_call_id}")
    events[-1]["ChanVariable"] = variables
    return events


async def test_the_ticket_is_at_the_district_before_the_call_and_the_call_finds_it(
        tmp_path: Path, clock: FakeClock) -> None:
    async with platforms_with_phones(tmp_path, clock) as (p, city_pbx, district_pbx):
        city, district = p.city, p.district
        number = await answered_with_ticket(city, city_pbx, CITY_CALL, CITIZEN)

        moved = await city.ok("agent", "POST", f"/calls/{CITY_CALL}/transfer", {"target": "county-subcentre"})
        assert moved["number"] == "8001"
        (action,) = await city_pbx.wait_for_action("BlindTransfer")
        assert (action["Context"], action["Exten"]) == ("hotline-transfer", "8001")

        # The district holds it as a phone ticket of its own, the city's number kept as the reference.
        local = await eventually(lambda: handed_over(district, number), "the ticket handed over")
        assert (local["channel"], local["status"]) == ("phone", "new")
        assert local["content"] == "汉滨区新城街道自来水停水两天"
        assert local["caller"]["number"] == "+86" + CITIZEN
        # The city's ticket says where the call went.
        links = await city.app[TICKETS].links(number)
        assert [(link.kind, link.ref, link.meta["platform"]) for link in links if link.kind == "call-transfer"] \
            == [("call-transfer", CITY_CALL, "hanbin")]

        # The call reaches the district over the trunk (another caller id: matched by X-Hotline-Call-Id).
        await district_pbx.emit(*arriving(DISTRICT_CALL, "0915800800", remote_call_id=CITY_CALL))
        linked = await eventually(lambda: ticket_on_call(district, DISTRICT_CALL), "the district call's ticket")
        assert linked == local["number"]
        district_links = await district.app[TICKETS].links(local["number"])
        assert ("call", DISTRICT_CALL) in [(link.kind, link.ref) for link in district_links]


async def test_a_call_that_arrives_first_is_matched_by_the_callers_number_and_a_resend_is_a_duplicate(
        tmp_path: Path, clock: FakeClock) -> None:
    async with platforms_with_phones(tmp_path, clock) as (p, city_pbx, district_pbx):
        city, district = p.city, p.district
        number = await answered_with_ticket(city, city_pbx, CITY_CALL, CITIZEN)
        # The call is at the district already, and its trunk lost the header.
        await district_pbx.emit(*arriving(DISTRICT_CALL, CITIZEN, remote_call_id=None))
        await eventually(lambda: in_state(district, DISTRICT_CALL, "queued"), "the district call queued")
        assert await ticket_on_call(district, DISTRICT_CALL) is None

        await city.ok("agent", "POST", f"/calls/{CITY_CALL}/transfer", {"target": "county-subcentre"})
        linked = await eventually(lambda: ticket_on_call(district, DISTRICT_CALL), "the late ticket linked")
        assert linked == (await handed_over(district, number) or {}).get("number")

        # The same message again (e.g. its acknowledgement was lost): stored once, nothing made twice.
        async with city.app[SESSIONS]() as session:
            document = await session.scalar(select(PushRow.payload).where(PushRow.kind == "call_transfer"))
        token = (tmp_path / "city" / "secrets" / "federation" / "hanbin").read_text()
        resp = await district.client.post("/api/v1/federation/call-transfers", json=document,
                                          headers={"Authorization": f"Bearer {token}"})
        assert (resp.status, (await resp.json())["result"]) == (200, "duplicate")
        async with district.app[SESSIONS]() as session:
            assert await session.scalar(select(func.count()).select_from(HandedOverCall)) == 1


async def test_nothing_is_handed_over_without_a_ticket_or_to_a_target_that_is_no_platform(
        tmp_path: Path, clock: FakeClock) -> None:
    async with platforms_with_phones(tmp_path, clock) as (p, city_pbx, _):
        city = p.city
        await city_pbx.emit(*scenarios.answered_call(CITY_CALL, citizen=CITIZEN))
        await eventually(lambda: in_state(city, CITY_CALL, "connected"), "the city call connected")
        await city.ok("agent", "POST", f"/calls/{CITY_CALL}/transfer", {"target": "county-subcentre"})

        other = "1795346200.3"
        number = await answered_with_ticket(city, city_pbx, other, "13900139000")
        await city.ok("agent", "POST", f"/calls/{other}/transfer", {"target": "12315"})  # a retained hotline
        await city_pbx.wait_for_action("BlindTransfer", count=2)
        await city.app[FEDERATION].drain()  # the bus handlers ran to the end
        async with city.app[SESSIONS]() as session:
            queued = await session.scalar(select(func.count()).select_from(PushRow)
                                          .where(PushRow.kind == "call_transfer"))
        assert queued == 0
        assert [link.kind for link in await city.app[TICKETS].links(number)] == []
