"""Outbound calls (Originate): a callback rings the agent first, a voice survey rings the citizen."""

from __future__ import annotations

import pytest
from pbx_ami import Ami
from pbx_scenes import register_seat, wait_bridged_together
from pbx_sipp import SippRunner

pytestmark = pytest.mark.asterisk


async def test_callback_rings_the_agent_then_the_citizen_over_the_carrier(sipp: SippRunner, ami: Ami) -> None:
    await register_seat(sipp, ami, "1001")
    citizen = await sipp.trunk_far_end("carrier")
    reply = await ami.action(
        "Originate",
        Channel="PJSIP/1001",
        Context="hotline-callback",
        Exten="13800138000",
        Priority="1",
        Async="true",
        CallerID="12345",
        Variable="HOTLINE_CALL_ID=hl-callback-1",
    )
    assert reply["Response"] == "Success", reply
    answered = await ami.wait_for(
        "DialEnd", DialStatus="ANSWER", where=lambda m: m.get("DestChannel", "").startswith("PJSIP/carrier-")
    )
    assert answered["DestCallerIDNum"] == "13800138000"
    await wait_bridged_together(ami, answered["Channel"], "PJSIP/carrier-")
    await ami.action("Hangup", Channel=answered["Channel"])
    assert await citizen.wait() == 0
    assert "X-Hotline-Call-Id:hl-callback-1" in citizen.log()


async def test_voice_survey_reaches_the_citizen_and_ends_without_the_ivr(sipp: SippRunner, ami: Ami) -> None:
    citizen = await sipp.trunk_far_end("carrier")
    reply = await ami.action(
        "Originate",
        Channel="Local/13800138000@hotline-outbound",
        Context="hotline-survey",
        Exten="s",
        Priority="1",
        Async="true",
        CallerID="12345",
        Variable="HOTLINE_CALL_ID=hl-survey-1",
    )
    assert reply["Response"] == "Success", reply
    # No survey FastAGI server is running: the survey leg hangs up and so does the citizen's.
    assert await citizen.wait() == 0
    assert "X-Hotline-Call-Id:hl-survey-1" in citizen.log()
