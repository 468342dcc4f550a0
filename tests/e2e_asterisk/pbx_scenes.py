"""Scenes the end-to-end tests share: a registered seat, an answered queue call."""

from __future__ import annotations

from dataclasses import dataclass

from pbx_ami import Ami
from pbx_sipp import Sipp, SippRunner


async def register_seat(sipp: SippRunner, ami: Ami, seat: str) -> Sipp:
    """A seat's phone registers and answers Asterisk's qualify: the contact becomes Reachable."""
    phone = await sipp.seat(seat)
    await ami.wait_for("ContactStatus", AOR=seat, ContactStatus="Reachable")
    return phone


@dataclass
class AnsweredCall:
    citizen: Sipp
    agent_phone: Sipp
    citizen_channel: str
    agent_channel: str
    linkedid: str


async def answered_queue_call(sipp: SippRunner, ami: Ami, agent: str = "1001",
                              scenario: str = "citizen_call.xml") -> AnsweredCall:
    """An agent logs into the hotline queue, a citizen calls 12345, the agent answers."""
    phone = await register_seat(sipp, ami, agent)
    reply = await ami.action("QueueAdd", Queue="hotline", Interface=f"PJSIP/{agent}",
                             MemberName=f"Agent {agent}")
    assert reply["Response"] == "Success", reply
    citizen = await sipp.citizen(scenario)
    connect = await ami.wait_for("AgentConnect", Queue="hotline", Interface=f"PJSIP/{agent}")
    return AnsweredCall(citizen, phone, connect["Channel"], connect["DestChannel"], connect["Linkedid"])
