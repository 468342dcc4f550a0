"""Citizens reach the hotline queue through the carrier trunk; agents answer; abandons are reported."""

from __future__ import annotations

import pytest
from pbx_ami import Ami, chan_vars
from pbx_scenes import answered_queue_call, register_seat, wait_bridged_together
from pbx_sipp import SippRunner

pytestmark = pytest.mark.asterisk


async def test_agent_registers_and_answers_qualify(sipp: SippRunner, ami: Ami) -> None:
    await register_seat(sipp, ami, "1001")
    contact = ami.named("ContactStatus", AOR="1001", ContactStatus="Reachable")[0]
    assert contact["EndpointName"] == "1001"


async def test_agent_answers_a_queued_citizen_even_without_the_ivr(sipp: SippRunner, ami: Ami) -> None:
    # No FastAGI server listens: the voice entry fails and the citizen still reaches the queue.
    call = await answered_queue_call(sipp, ami)
    join = await ami.wait_for("QueueCallerJoin", Queue="hotline")
    assert join["Channel"] == call.citizen_channel
    assert join["CallerIDNum"] == "13800138000"
    assert chan_vars(join)["HOTLINE_KIND"] == "citizen"
    assert (await ami.wait_for("UserEvent", UserEvent="HotlineCall"))["Kind"] == "citizen"
    # Both legs in one bridge.
    assert await wait_bridged_together(ami, call.citizen_channel, "PJSIP/1001-") == call.agent_channel
    # The agent hangs up: the citizen receives a BYE and the queue reports the completed call.
    await ami.action("Hangup", Channel=call.agent_channel)
    complete = await ami.wait_for("AgentComplete", Queue="hotline")
    # (Reason says "caller" here: Asterisk attributes an AMI Hangup of the agent leg to the caller.)
    assert int(complete["TalkTime"]) >= 0
    assert complete["Linkedid"] == call.linkedid
    assert await call.citizen.wait() == 0


async def test_citizen_hanging_up_in_the_queue_is_an_abandon(sipp: SippRunner, ami: Ami) -> None:
    citizen = await sipp.citizen("citizen_abandon.xml", "13900139000", "-d", "3000")
    await ami.wait_for("QueueCallerJoin", Queue="hotline")
    abandon = await ami.wait_for("QueueCallerAbandon", Queue="hotline")
    assert int(abandon["HoldTime"]) >= 2
    assert await citizen.wait() == 0
