"""Trunks are identified by their address only (issue 20, item 9): an INVITE from anywhere else that names a
trunk as its user (From: sip:police110@…) is refused, never taken for the 110, carrier or sub-centre trunk
(fake 110 hand-overs at queue priority 10, a trusted caller id)."""

from __future__ import annotations

import pytest
from pbx_ami import Ami
from pbx_harness import TRUNK_IPS
from pbx_sipp import SippRunner

pytestmark = pytest.mark.asterisk

NOT_A_TRUNK = "127.0.0.9"


@pytest.mark.parametrize("trunk", sorted(TRUNK_IPS))
async def test_a_spoofed_trunk_user_from_another_address_is_refused(
    sipp: SippRunner, ami: Ami, trunk: str
) -> None:
    assert NOT_A_TRUNK not in TRUNK_IPS.values()
    spoofer = await sipp.run(f"spoof-{trunk}", "spoofed_trunk_invite.xml", "-key", "trunk", trunk, ip=NOT_A_TRUNK)
    assert await spoofer.wait() == 0, spoofer.log("errors") or spoofer.log("messages")
    refused = spoofer.log("messages")
    assert "SIP/2.0 401" in refused or "SIP/2.0 403" in refused
    assert "SIP/2.0 200" not in refused
    # No channel was made for the trunk, no call entered its context.
    assert ami.named("Newchannel") == []
    assert ami.named("UserEvent", UserEvent="HotlinePolice") == []
