"""一键转接 between platforms, receiving end: a call another 12345 platform transferred to us names its call
in X-Hotline-Call-Id, and the dialplan hands that to the gateway (HOTLINE_REMOTE_CALL_ID on every event)."""

from __future__ import annotations

import pytest
from pbx_ami import Ami, chan_vars
from pbx_harness import TRUNK_IPS
from pbx_scenes import register_seat
from pbx_sipp import SippRunner

pytestmark = pytest.mark.asterisk


async def test_a_call_from_another_platform_carries_its_call_id_to_the_queue(sipp: SippRunner, ami: Ami) -> None:
    await register_seat(sipp, ami, "1001")
    await ami.action("QueueAdd", Queue="hotline", Interface="PJSIP/1001")
    platform = await sipp.run("platform-caller", "platform_transfer_call.xml", "-s", "12345",
                              "-key", "remote_call", "1795346100.1", ip=TRUNK_IPS["subcentre"])
    join = await ami.wait_for("QueueCallerJoin", Queue="hotline")
    assert chan_vars(join)["HOTLINE_REMOTE_CALL_ID"] == "1795346100.1"
    assert chan_vars(join)["HOTLINE_KIND"] == "subcentre"
    connect = await ami.wait_for("AgentConnect", Queue="hotline")
    await ami.action("Hangup", Channel=connect["DestChannel"])
    assert await platform.wait() == 0
