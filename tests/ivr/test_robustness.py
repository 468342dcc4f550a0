"""Hangups, dropped sockets, AGI errors and many calls at once: every call ends cleanly and is saved."""

from __future__ import annotations

import asyncio

import pytest

from ivr.agi import AgiChannel, AgiCommandError, AgiHangup, AgiServer, parse_reply, quote
from tests.ivr.conftest import Ivr
from tests.ivr.fake_asterisk import FakeCaller


@pytest.mark.parametrize("where, path_end", [
    ("greeting", "greeting"),
    ("describe", "describe"),
    ("RECORD FILE", "describe"),
    ("SET VARIABLE", "to_agent"),
])
async def test_a_hangup_anywhere_ends_the_call_and_keeps_what_was_captured(ivr: Ivr, where: str,
                                                                           path_end: str) -> None:
    caller = await FakeCaller(hang_up_at=where).call(ivr.port)
    assert caller.replies_after_hangup == 0  # nothing is sent to a dead channel
    [session] = await ivr.sessions()
    assert session.caller == "+8613800138000"
    assert session.detail["hung_up_in"] == path_end
    if where in ("RECORD FILE", "SET VARIABLE"):
        assert session.description_file is not None
    assert ivr.service.server.active == 0


async def test_asterisk_dropping_the_socket_mid_call_is_a_hangup(ivr: Ivr) -> None:
    await FakeCaller(close_at="RECORD FILE").call(ivr.port)
    [session] = await ivr.sessions()
    assert session.outcome == "hangup" and session.description_file is not None
    assert ivr.service.server.active == 0


async def test_an_agi_error_ends_the_script_so_the_dialplan_queues_the_caller(ivr: Ivr) -> None:
    class Refusing(FakeCaller):
        def answer(self, line: str) -> str | None:
            return "510 Invalid or unknown command\n" if line.startswith("SET VAR") else super().answer(line)

    caller = await Refusing().call(ivr.port)
    assert caller.prompts == ["greeting", "describe"]
    [session] = await ivr.sessions()
    assert "SET VARIABLE" in session.detail["agi_error"]
    assert session.description_file is not None  # what was captured is kept


async def test_a_recording_that_cannot_be_written_still_leads_to_a_person(ivr: Ivr) -> None:
    class NoDirectory(FakeCaller):
        def answer(self, line: str) -> str | None:
            return "200 result=-1 (writefile)\n" if line.startswith("RECORD") else super().answer(line)

    caller = await NoDirectory().call(ivr.port)
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"
    [session] = await ivr.sessions()
    assert session.description_file is None and "cannot write" in session.detail["record_error"]


async def test_a_connection_without_headers_or_route_does_not_hurt_the_server(ivr: Ivr) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", ivr.port)
    writer.write(b"agi_network: yes\n")  # and then nothing: Asterisk died mid-handshake
    writer.close()
    await writer.wait_closed()
    await FakeCaller(script="no-such-script").call(ivr.port)
    caller = await FakeCaller().call(ivr.port)
    assert caller.prompts[-1] == "to_agent"
    assert len(await ivr.sessions()) == 1


async def test_hundreds_of_concurrent_sessions_on_one_loop(ivr: Ivr) -> None:
    baseline = len(asyncio.all_tasks())
    callers = [FakeCaller(callerid=f"1380013{i:04d}", uniqueid=f"1763600000.{i}", linkedid=f"1763600000.{i}",
                          pause=0.001) for i in range(300)]
    done = await asyncio.gather(*(c.call(ivr.port, limit=60) for c in callers))
    assert all(c.variables.get("HOTLINE_QUEUE") == "hotline" for c in done)
    sessions = await ivr.sessions()
    assert len({s.linkedid for s in sessions}) == 300
    assert ivr.service.server.active == 0 and ivr.service.deps.retry.pending == 0
    assert len(asyncio.all_tasks()) <= baseline


async def test_stopping_the_server_ends_live_calls_and_saves_them(ivr: Ivr) -> None:
    caller = FakeCaller(pause=0.5)
    slow = asyncio.create_task(caller.call(ivr.port, limit=30))
    while len(caller.commands) < 2:  # noqa: ASYNC110 - a call under way: it has answered a command
        await asyncio.sleep(0.01)
    await ivr.service.server.stop(grace=0.1)
    await slow
    [session] = await ivr.sessions()
    assert session.outcome == "shutdown"


# ---- the wire format -----------------------------------------------------------------------------

@pytest.mark.parametrize("line, result, data, extra", [
    ("200 result=0 endpos=8000", "0", "", {"endpos": "8000"}),
    ("200 result=49 endpos=120", "49", "", {"endpos": "120"}),
    ("200 result=1 (1763600000.1)", "1", "1763600000.1", {}),
    ("200 result=1 (a value (with) parens)", "1", "a value (with) parens", {}),
    ("200 result= (timeout)", "", "timeout", {}),
    ("200 result=2026111600001", "2026111600001", "", {}),
    ("200 result=35 (dtmf) endpos=16000", "35", "dtmf", {"endpos": "16000"}),
    ("200 result=-1 (hangup) endpos=0", "-1", "hangup", {"endpos": "0"}),
])
def test_replies_are_parsed(line: str, result: str, data: str, extra: dict[str, str]) -> None:
    reply = parse_reply(line)
    assert (reply.code, reply.result, reply.data, reply.extra) == (200, result, data, extra)


def test_dtmf_results_are_ascii_codes() -> None:
    assert parse_reply("200 result=35").digit == "#"
    assert parse_reply("200 result=0").digit is None


def test_arguments_are_quoted_for_res_agi() -> None:
    assert quote('say "hi" \\ there') == '"say \\"hi\\" \\\\ there"'


async def _session_with(lines: list[bytes]) -> AgiChannel:
    reader = asyncio.StreamReader()
    for line in lines:
        reader.feed_data(line)

    class Sink:
        def write(self, data: bytes) -> None: ...
        async def drain(self) -> None: ...

    return AgiChannel(reader, Sink(), {"agi_uniqueid": "1"})  # type: ignore[arg-type]


async def test_a_hangup_notice_does_not_shift_later_replies() -> None:
    channel = await _session_with([b"HANGUP\n", b"200 result=-1 endpos=0\n"])
    with pytest.raises(AgiHangup):
        await channel.stream_file("greeting")
    assert channel.hung_up


async def test_usage_errors_and_unknown_commands_raise_command_errors() -> None:
    channel = await _session_with([b"520-Invalid command syntax.  Proper usage follows:\n",
                                   b"Usage: STREAM FILE <filename>\n", b"520 End of proper usage.\n",
                                   b"200 result=0 endpos=1\n"])
    with pytest.raises(AgiCommandError, match="520"):
        await channel.command("STREAM FILE")
    assert await channel.stream_file("greeting") is None  # the next reply is still in step


async def test_a_key_during_the_recordings_beep_is_the_callers_key() -> None:
    # What Asterisk 22 answers when DTMF interrupts the beep (seen on a real call, test_ivr_voice_entry).
    channel = await _session_with([b"200 result=49 (randomerror) endpos=0\n", b"200 result=35 (dtmf) endpos=800\n",
                                   b"200 result=0 (timeout) endpos=16000\n"])
    assert await channel.record_file("/tmp/d", "wav", "0123456789*#", 5000) == ("1", 0)
    assert await channel.record_file("/tmp/d", "wav", "0123456789*#", 5000) == ("#", 800)
    assert await channel.record_file("/tmp/d", "wav", "0123456789*#", 5000) == (None, 16000)


async def test_a_dead_channel_is_a_hangup() -> None:
    channel = await _session_with([b"511 Command Not Permitted on a dead channel or intercept routine\n"])
    with pytest.raises(AgiHangup):
        await channel.set_variable("X", "1")


async def test_server_reports_the_port_the_os_chose_and_stops_cleanly() -> None:
    server = AgiServer({}, port=0)
    await server.start()
    assert server.port > 0
    await server.stop()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", server.port)
