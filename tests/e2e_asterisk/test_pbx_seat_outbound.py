"""What a seat's own phone may dial outside with a leading 9 (issue 20, item 9): mobiles and city numbers
for every seat, other cities for seats of class national (the supervisor), never international, premium
or service numbers; and nothing but digits ever reaches a dial string."""

from __future__ import annotations

import pytest
from pbx_ami import Ami
from pbx_harness import Pbx
from pbx_sipp import SippRunner

pytestmark = pytest.mark.asterisk


async def seat_dials(sipp: SippRunner, pbx: Pbx, seat: str, dialled: str) -> str:
    """The seat dials ``dialled`` (as typed, with the 9); "answered" or "refused"."""
    phone = await sipp.run(
        f"dial-{seat}-{len(sipp.running)}", "seat_dial.xml", "-s", dialled, "-key", "seat", seat,
        "-au", seat, "-ap", pbx.passwords[seat],
    )
    assert await phone.wait(40) == 0, phone.log("errors") or phone.log("messages")
    return "answered" if "answered" in phone.log() else "refused"


@pytest.mark.parametrize(
    ("seat", "dialled"),
    [
        ("1001", "9002125550100"),  # international
        ("2001", "9004420795600"),  # international, whatever the seat's class
        ("1001", "902112345678"),  # another city: an agent's class is local
        ("1001", "995588"),  # 95xxx service number
        ("1001", "910086"),  # carrier service number
        ("1001", "916800"),  # 168xx paid information service
        ("1001", "94001234567"),  # 400 number
        ("1001", "9138001380001"),  # a mobile with one digit too many
    ],
)
async def test_a_seat_cannot_dial_what_a_12345_seat_does_not_need(
    pbx: Pbx, sipp: SippRunner, ami: Ami, seat: str, dialled: str
) -> None:
    assert await seat_dials(sipp, pbx, seat, dialled) == "refused"
    assert [m["Channel"] for m in ami.named("Newchannel") if m["Channel"].startswith("PJSIP/carrier")] == []


@pytest.mark.parametrize(
    ("seat", "dialled", "carrier_gets"),
    [
        ("1001", "913800138000", "13800138000"),  # a citizen's mobile
        ("1001", "962345678", "62345678"),  # a city fixed number
        ("2001", "902112345678", "02112345678"),  # the supervisor may call other cities
    ],
)
async def test_a_seat_reaches_citizens_and_units_over_the_carrier(
    pbx: Pbx, sipp: SippRunner, seat: str, dialled: str, carrier_gets: str
) -> None:
    carrier = await sipp.trunk_far_end("carrier")
    assert await seat_dials(sipp, pbx, seat, dialled) == "answered"
    await carrier.wait()
    assert f"INVITE sip:{carrier_gets}@" in carrier.log("messages")
