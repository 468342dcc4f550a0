"""Scenes the end-to-end tests share: a registered seat, an answered queue call."""

from __future__ import annotations

import array
import asyncio
import contextlib
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from pbx_ami import Ami, Message
from pbx_harness import Pbx
from pbx_sipp import Sipp, SippRunner


async def register_seat(sipp: SippRunner, ami: Ami, seat: str) -> Sipp:
    """A seat's phone registers and answers Asterisk's qualify: the contact becomes Reachable."""
    phone = await sipp.seat(seat)
    try:
        await ami.wait_for("ContactStatus", AOR=seat, ContactStatus="Reachable")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{phone.report()}") from None
    return phone


@dataclass
class AnsweredCall:
    citizen: Sipp
    agent_phone: Sipp
    citizen_channel: str
    agent_channel: str
    linkedid: str


async def answered_queue_call(
    sipp: SippRunner, ami: Ami, agent: str = "1001", scenario: str = "citizen_call.xml"
) -> AnsweredCall:
    """An agent logs into the hotline queue, a citizen calls 12345, the agent answers."""
    phone = await register_seat(sipp, ami, agent)
    reply = await ami.action(
        "QueueAdd", Queue="hotline", Interface=f"PJSIP/{agent}", MemberName=f"Agent {agent}"
    )
    assert reply["Response"] == "Success", reply
    citizen = await sipp.citizen(scenario)
    connect = await ami.wait_for("AgentConnect", Queue="hotline", Interface=f"PJSIP/{agent}")
    return AnsweredCall(citizen, phone, connect["Channel"], connect["DestChannel"], connect["Linkedid"])


async def channels(ami: Ami) -> dict[str, Message]:
    """Every live channel by name, as CoreShowChannels reports it (with its BridgeId)."""
    return {
        m["Channel"]: m for m in await ami.send("CoreShowChannels") if m.get("Event") == "CoreShowChannel"
    }


async def wait_bridged_together(ami: Ami, channel: str, peer_prefix: str, within: float = 10) -> str:
    """Wait until ``channel`` shares a bridge with a channel whose name starts with ``peer_prefix``."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        live = await channels(ami)
        bridge = live.get(channel, {}).get("BridgeId", "")
        peers = [
            name
            for name, m in live.items()
            if name.startswith(peer_prefix) and bridge and m.get("BridgeId") == bridge
        ]
        if peers:
            return peers[0]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{channel} never bridged with {peer_prefix}*: {live}")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def connected(pbx: Pbx) -> AsyncIterator[tuple[Ami, SippRunner]]:
    """AMI and SIPp for an Asterisk a test started itself (start_pbx with its own globals)."""
    ami = await Ami.connect(pbx.ami_port, "gateway", pbx.ami_secret)
    runner = SippRunner(pbx, pbx.root / "sipp")
    try:
        yield ami, runner
    finally:
        await runner.stop_all()
        await ami.close()


async def recording_seconds(path: Path, within: float = 10) -> float:
    """Seconds of audio in a MixMonitor recording once its writer thread has finished the file."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            with wave.open(str(path)) as wav:
                seconds = wav.getnframes() / wav.getframerate()
            if seconds > 0:
                return seconds
        except (FileNotFoundError, EOFError, wave.Error):
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no finished recording at {path}")
        await asyncio.sleep(0.2)


def longest_silence(path: Path) -> float:
    """Seconds of the longest run of exact digital silence (zero samples) in a 16-bit recording: what a
    muted MixMonitor direction writes. Line noise and decoded A-law silence are never exactly zero."""
    with wave.open(str(path)) as wav:
        samples = array.array("h", wav.readframes(wav.getnframes()))
        rate = wav.getframerate()
    longest = run = 0
    for sample in samples:
        run = run + 1 if sample == 0 else 0
        longest = max(longest, run)
    return longest / rate
