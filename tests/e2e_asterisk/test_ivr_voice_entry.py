"""The real voice entry behind a real Asterisk: the gateway (create_app, IVR on, SQLite store) answers the
dialplan's FastAGI requests; SIPp plays citizens, an agent and the trunks; digits are RFC 2833 DTMF
played from pcaps (tests/sip/make_pcap.py).

Prompts are short silent WAV files (what is tested is the flow and Asterisk running it, not the
voices), except in the time-to-a-seat measurement, which plays the shipped development prompts (espeak-ng);
the flow is the shipped one with a short description time and a recording directory here.
"""

from __future__ import annotations

import asyncio
import socket
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pbx_ami import chan_vars
from pbx_gateway import running_gateway
from pbx_harness import TRUNK_IPS, free_port
from pbx_scenes import connected, register_seat
from sqlalchemy import select

from gateway.app import create_app
from gateway.appkeys import BUS, SESSIONS
from gateway.config import load_settings
from gateway.policies import load_pack
from gateway.surveys.models import Survey
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.service import TicketService
from ivr.flow import DEFAULT_FLOW, load_flow
from ivr.models import IvrSession
from ivr.prompts import fixed_ids, load_texts, render_all, tools_missing
from ivr.service import required_prompts
from tests.tickets.support import AGENT, SH, complaint

pytestmark = pytest.mark.asterisk

# A Monday in working hours: no off-hours greeting, and the day's first ticket is PROGRESS_TICKET.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
PROGRESS_TICKET = "2026112300001"  # keyed by tests/sip/dtmf_progress_query.pcap (make_pcap.py)
CITIZEN, CITIZEN_E164 = "13800138000", "+8613800138000"


def silent_prompts(directory: Path, ids: set[str]) -> None:
    """0.2 s of 8 kHz signed-linear silence per prompt: a real file Asterisk plays, quickly. The greeting
    lasts 3 s, as a real one lasts seconds: the keys the SIPp citizens press after 1–1.5 s land in it."""
    directory.mkdir(parents=True)
    for prompt_id in ids:
        with wave.open(str(directory / f"{prompt_id}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(b"\0\0" * (24000 if prompt_id == "greeting" else 1600))


def short_flow(path: Path, record_dir: Path) -> Path:
    text = DEFAULT_FLOW.read_text(encoding="utf-8")
    for old, new in [('record_dir = "/var/spool/asterisk/monitor/hotline/ivr"', f'record_dir = "{record_dir}"'),
                     ("describe_seconds = 30", "describe_seconds = 5"),
                     ("silence_seconds = 3", "silence_seconds = 2")]:
        assert old in text, f"default flow changed: {old!r} not found"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Gateway:
    app: web.Application
    port: int
    sounds: Path

    @property
    def agi(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def tickets(self) -> TicketService:
        return self.app[TICKETS]

    async def session(self, linkedid: str, within: float = 15) -> IvrSession:
        """The call's ivr_sessions row, once the background write has landed."""

        async def row() -> IvrSession | None:
            async with self.app[SESSIONS]() as s:
                return await s.scalar(select(IvrSession).where(IvrSession.linkedid == linkedid))

        return await eventually(row, within, f"no ivr_sessions row for {linkedid}")


async def eventually(probe: Callable[[], Any], within: float, message: str) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while (value := await probe()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.1)
    return value


StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def start_gateway(tmp_path: Path) -> AsyncIterator[StartGateway]:
    """The gateway app on loopback with the IVR on (extra settings as keyword arguments)."""
    runners: list[web.AppRunner] = []

    async def start(*, voices: bool = False, **settings: Any) -> Gateway:
        """voices: the shipped development prompts (espeak-ng), else silent ones."""
        sounds, record_dir = tmp_path / "sounds", tmp_path / "recordings"
        flow = short_flow(tmp_path / "flow.toml", record_dir)
        if voices:
            await asyncio.to_thread(render_all, load_texts(), sounds)
        else:
            silent_prompts(sounds, required_prompts(load_flow(flow), load_pack("national")) | fixed_ids())
        record_dir.mkdir()
        port = free_port(socket.SOCK_STREAM)
        app = create_app(load_settings(
            data_dir=tmp_path / "var", ivr={"enabled": True, "port": port, "sounds_dir": sounds, "flow_file": flow},
            **settings), clock=lambda: MONDAY)
        runner = web.AppRunner(app)
        await runner.setup()  # runs the cleanup contexts: database, tickets, …, the FastAGI server
        runners.append(runner)
        return Gateway(app, port, sounds)

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> Gateway:
    return await start_gateway()


def loudest(path: Path) -> int:
    with wave.open(str(path)) as recording:
        frames = recording.readframes(recording.getnframes())
    return max((abs(int.from_bytes(frames[i:i + 2], "little", signed=True)) for i in range(0, len(frames), 2)),
               default=0)


async def test_a_citizen_is_greeted_and_goes_straight_on_to_an_agent(gateway: Gateway, start_pbx) -> None:
    pbx = await start_pbx(HOTLINE_AGI=gateway.agi)
    async with connected(pbx) as (ami, sipp):
        await register_seat(sipp, ami, "1001")
        await ami.action("QueueAdd", Queue="hotline", Interface="PJSIP/1001", MemberName="Agent 1001")
        citizen = await sipp.citizen()  # speaks (citizen_alaw.pcap) from the moment it is answered

        join = await ami.wait_for("QueueCallerJoin", Queue="hotline", within=30)
        assert chan_vars(join)["HOTLINE_QUEUE"] == "hotline"
        connect = await ami.wait_for("AgentConnect", Queue="hotline", Interface="PJSIP/1001")
        assert connect["Linkedid"] == join["Linkedid"]

        session = await gateway.session(join["Linkedid"])
        assert session.path == ["greeting", "route", "to_agent"]  # no description before the queue
        assert (session.script, session.caller, session.outcome, session.queue) == (
            "voice-entry", CITIZEN_E164, "queue", "hotline")
        assert session.description_file is None
        assert f"Playing '{gateway.sounds}/greeting" in pbx.full_log()
        assert f"Playing '{gateway.sounds}/describe" not in pbx.full_log()

        await ami.action("Hangup", Channel=connect["DestChannel"])
        assert await citizen.wait() == 0


CALLS, AT_ONCE = 20, 4  # citizens measured, and how many call together (one free seat each)


@pytest.mark.slow
@pytest.mark.skipif(bool(tools_missing()), reason="espeak-ng and sox render the shipped prompts")
async def test_time_from_the_citizens_invite_to_the_first_seat_ringing(start_gateway: StartGateway,
                                                                       start_pbx) -> None:
    """A measurement (issue 15 asks p95 ≤ 8 s with the shipped prompts): printed; the bound asserted is
    generous, only to catch a voice entry that grew back into a monologue."""
    gateway = await start_gateway(voices=True)
    pbx = await start_pbx(HOTLINE_AGI=gateway.agi)
    seats = ("1001", "1002", "1003", "1004")
    async with connected(pbx) as (ami, sipp):
        for seat in seats:
            await register_seat(sipp, ami, seat)
            await ami.action("QueueAdd", Queue="hotline", Interface=f"PJSIP/{seat}", MemberName=f"Agent {seat}")
        delays: list[float] = []
        for batch in range(CALLS // AT_ONCE):
            callers = [f"139{batch:04d}{n:04d}" for n in range(AT_ONCE)]  # distinct: no repeat-caller rule
            citizens = [await sipp.citizen("citizen_call.xml", caller) for caller in callers]
            for caller in callers:
                arrived = await ami.wait_for("Newchannel", CallerIDNum=caller, within=15,
                                             where=lambda m: m.get("Channel", "").startswith("PJSIP/carrier-"))
                rung = await ami.wait_for("AgentCalled", Linkedid=arrived["Linkedid"], within=30)
                delays.append(float(rung["Timestamp"]) - float(arrived["Timestamp"]))
                await ami.wait_for("AgentConnect", Linkedid=arrived["Linkedid"], within=15)
                await ami.action("Hangup", Channel=arrived["Channel"])
            for citizen in citizens:
                assert await citizen.wait() == 0
    delays.sort()
    p95 = delays[max(0, round(0.95 * len(delays)) - 1)]
    print(f"INVITE → first seat ringing over {len(delays)} calls: p50 {delays[len(delays) // 2]:.2f} s, "
          f"p95 {p95:.2f} s, max {delays[-1]:.2f} s (issue 15 target: p95 ≤ 8 s)")
    assert len(delays) == CALLS
    assert p95 <= 15


async def test_the_emergency_key_goes_to_the_110_trunk_and_logs_an_urgent_ticket(gateway: Gateway,
                                                                                start_pbx) -> None:
    pbx = await start_pbx(HOTLINE_AGI=gateway.agi)
    async with connected(pbx) as (ami, sipp):
        police = await sipp.trunk_far_end("police110")
        citizen = await sipp.citizen("citizen_emergency_key.xml")  # presses 9

        answered = await ami.wait_for("DialEnd", DialStatus="ANSWER", within=30,
                                      where=lambda m: m.get("DestChannel", "").startswith("PJSIP/police110-"))
        linkedid = answered["Linkedid"]
        assert answered["CallerIDNum"] == CITIZEN
        assert not ami.named("QueueCallerJoin")  # straight out, never queued

        session = await gateway.session(linkedid)
        assert (session.outcome, session.emergency) == ("emergency", "110")
        assert session.detail["emergency_trigger"] == "key 9"
        ticket = await gateway.tickets.get(session.ticket_number or "")
        assert (ticket.urgent, ticket.title, ticket.caller_number) == (True, "紧急转接110", CITIZEN_E164)
        assert [(link.kind, link.ref) for link in await gateway.tickets.links(ticket.number)] == [("call", linkedid)]

        await ami.action("Hangup", Channel=answered["Channel"])
        assert await police.wait() == 0
        assert await citizen.wait() == 0
        assert f"X-Hotline-Call-Id:{linkedid}" in police.log()


async def test_an_emergency_heard_by_the_live_asr_goes_to_119_over_the_carrier(start_gateway: StartGateway,
                                                                             start_pbx, tmp_path: Path) -> None:
    # Live ASR configured (its model never loads here): the speech service's place on the bus is taken
    # by the test, which publishes what the ASR would have heard the caller say.
    gateway = await start_gateway(speech={"model_path": tmp_path / "no-model", "port": 0})
    pbx = await start_pbx(HOTLINE_AGI=gateway.agi)
    async with connected(pbx) as (ami, sipp):
        fire_service = await sipp.trunk_far_end("carrier")
        citizen = await sipp.citizen()
        entered = await ami.wait_for("UserEvent", UserEvent="HotlineCall", within=15)
        gateway.app[BUS].publish("transcript.final", call_key=entered["Linkedid"], text="我家楼下 着火 了")

        answered = await ami.wait_for("DialEnd", DialStatus="ANSWER", within=30,
                                      where=lambda m: m.get("DestChannel", "").startswith("PJSIP/carrier-"))
        assert answered["DestCallerIDNum"] == "119"
        session = await gateway.session(entered["Linkedid"])
        assert (session.outcome, session.emergency, session.description_text) == (
            "emergency", "119", "我家楼下 着火 了")
        ticket = await gateway.tickets.get(session.ticket_number or "")
        assert ticket.title == "紧急转接119" and "着火" in ticket.content

        await ami.action("Hangup", Channel=answered["Channel"])
        assert await fire_service.wait() == 0
        assert await citizen.wait() == 0


async def test_a_citizen_hears_the_status_of_their_ticket_then_reaches_the_queue(gateway: Gateway,
                                                                                 start_pbx) -> None:
    ticket = await gateway.tickets.create(complaint(caller_number=CITIZEN), AGENT)
    assert ticket.number == PROGRESS_TICKET  # the number the pcap keys
    pbx = await start_pbx(HOTLINE_AGI=gateway.agi)
    async with connected(pbx) as (ami, sipp):
        citizen = await sipp.citizen("citizen_progress_query.xml")  # 1, then the number and #

        join = await ami.wait_for("QueueCallerJoin", Queue="hotline", within=30)
        assert chan_vars(join)["HOTLINE_TICKET_ID"] == ticket.number

        session = await gateway.session(join["Linkedid"])
        assert session.path[-2:] == ["progress", "to_agent"]
        assert (session.ticket_number, session.detail["progress"], session.outcome) == (
            ticket.number, "new", "queue")
        assert session.detail["keys"] == ["1"]
        assert f"Playing '{gateway.sounds}/progress_status_new" in pbx.full_log()

        await ami.action("Hangup", Channel=join["Channel"])
        assert await citizen.wait() == 0


async def test_a_voice_survey_answered_with_2_records_satisfied_and_closes_the_ticket(gateway: Gateway,
                                                                                      start_pbx) -> None:
    ticket = await gateway.tickets.create(complaint(caller_number=CITIZEN), AGENT)
    ticket = await gateway.tickets.resolve_on_call(ticket.number, AGENT, "路灯已修复")
    assert ticket.status == "surveying"
    pbx = await start_pbx(HOTLINE_AGI=gateway.agi)
    async with connected(pbx) as (ami, sipp):
        answering = await sipp.run("survey-citizen", "survey_answer_2.xml", ip=TRUNK_IPS["carrier"],
                                   port=pbx.trunk_ports["carrier"])
        reply = await ami.action(
            "Originate", Channel=f"Local/{CITIZEN}@hotline-outbound", Context="hotline-survey", Exten="s",
            Priority="1", Async="true", CallerID="12345",
            Variable=f"HOTLINE_TICKET_ID={ticket.number},HOTLINE_CALL_ID=hl-survey-{ticket.number}")
        assert reply["Response"] == "Success", reply
        assert await answering.wait(within=30) == 0  # the IVR thanked and hung up
        assert f"X-Hotline-Call-Id:hl-survey-{ticket.number}" in answering.log()

    async def closed() -> Any:
        current = await gateway.tickets.get(ticket.number)
        return current if current.status == "closed" else None

    await eventually(closed, 15, f"ticket {ticket.number} not closed by the survey answer")
    async with gateway.app[SESSIONS]() as s:
        [survey] = list(await s.scalars(select(Survey).where(Survey.ticket_number == ticket.number)))
        [session] = list(await s.scalars(select(IvrSession).where(IvrSession.script == "survey")))
    assert (survey.status, survey.level, survey.outcome) == ("answered", "satisfied", "closed")
    assert (session.outcome, session.ticket_number, session.detail["level"]) == (
        "answered", ticket.number, "satisfied")


async def test_hanging_up_in_the_voice_entry_or_in_the_queue_is_counted_from_arrival(start_pbx, tmp_path: Path) -> None:
    """The gateway with its call model and its IVR on one real Asterisk: one citizen gives up during the
    greeting, one in the queue (no agent); both are offered, each abandoned where it happened."""
    agi_port = free_port(socket.SOCK_STREAM)
    pbx = await start_pbx(HOTLINE_AGI=f"127.0.0.1:{agi_port}")
    sounds, flow = tmp_path / "sounds", short_flow(tmp_path / "flow.toml", tmp_path / "recordings")
    silent_prompts(sounds, required_prompts(load_flow(flow), load_pack("national")) | fixed_ids())
    ivr = {"enabled": True, "port": agi_port, "sounds_dir": sounds, "flow_file": flow}
    async with running_gateway(pbx, tmp_path / "gateway", ivr=ivr) as gw, connected(pbx) as (_, sipp):
        in_greeting = await sipp.citizen("citizen_abandon.xml", "13900139001", "-d", "1500")
        in_queue = await sipp.citizen("citizen_abandon.xml", "13900139002", "-d", "6000")
        assert await in_greeting.wait() == 0 and await in_queue.wait(within=30) == 0
        entry_gone = await gw.wait_event("call.ended", caller="13900139001")
        queue_gone = await gw.wait_event("call.ended", caller="13900139002")
        assert (entry_gone["outcome"], entry_gone["queue"]) == ("entry_abandoned", None)
        assert (queue_gone["outcome"], queue_gone["queue"]) == ("abandoned", "hotline")
        await gw.settle()
        kpis = await gw.ok("GET", "/calls/kpi")
    entry, hotline = kpis["queues"]
    assert (entry["queue"], entry["offered"], entry["abandoned_in_entry"]) == (None, 1, 1)
    assert (hotline["queue"], hotline["offered"], hotline["abandoned_in_queue"], hotline["answered"]) == (
        "hotline", 1, 1, 0)
    centre = kpis["centre"]
    assert (centre["offered"], centre["abandoned_in_entry"], centre["abandoned_in_queue"]) == (2, 1, 1)
    assert centre["connection_rate"] == 0
    # Time in the voice entry, to the second: ~1.5 s (hung up in the 3 s greeting) and ~3 s (the greeting).
    assert 1 <= entry["entry_seconds_p50"] <= 2.5
    assert 2.5 <= hotline["entry_seconds_p50"] <= 4.5
