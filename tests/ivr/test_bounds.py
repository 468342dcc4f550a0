"""What a peer on the FastAGI port can make the gateway hold is bounded, and only real calls leave an
``ivr_sessions`` row (issue 20, item 8)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from ivr.agi import MAX_HEADER_BLOCK_BYTES, MAX_REPLY_BYTES, AgiChannel, AgiCommandError, AgiServer
from tests.ivr.conftest import Ivr
from tests.ivr.fake_asterisk import FakeCaller


async def _first_line_from_server(port: int, payload: bytes) -> bytes:
    """Send ``payload``, then read what the server says: a command line, or b"" when it hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await reader.readline()
    except ConnectionResetError:  # closed with our bytes unread: a hang-up too
        return b""
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_a_header_block_beyond_the_bound_is_dropped_before_any_call_starts(ivr: Ivr) -> None:
    filler = b"".join(b"agi_arg_%d: %s\n" % (i, b"x" * 100) for i in range(MAX_HEADER_BLOCK_BYTES // 100))
    assert await _first_line_from_server(ivr.port, filler + FakeCaller().headers().encode()) == b""
    assert await ivr.sessions() == []
    caller = await FakeCaller().call(ivr.port)  # and the next real call is served as usual
    assert caller.prompts[-1] == "to_agent"


@pytest.mark.parametrize("missing", ["agi_channel", "agi_uniqueid", "agi_request"])
async def test_a_session_without_an_agi_environment_is_not_a_call(ivr: Ivr, missing: str) -> None:
    headers = "".join(line + "\n" for line in FakeCaller().headers().splitlines() if line and
                      not line.startswith(f"{missing}:")) + "\n"
    assert await _first_line_from_server(ivr.port, headers.encode()) == b""
    assert await ivr.sessions() == []


async def test_a_peer_that_answers_no_command_leaves_no_row(ivr: Ivr) -> None:
    caller = await FakeCaller(close_at="GET VARIABLE").call(ivr.port)
    assert caller.commands  # the script did start talking to it
    assert await ivr.sessions() == []
    assert not [e for e in ivr.bus_events if e.kind == "ivr.session_ended"]


async def test_a_call_that_answered_is_still_recorded_when_it_hangs_up_at_once(ivr: Ivr) -> None:
    await FakeCaller(hang_up_at="GET VARIABLE").call(ivr.port)
    [session] = await ivr.sessions()
    assert session.outcome == "hangup"


def _channel_reading(*chunks: bytes, eof: bool = True) -> AgiChannel:
    reader = asyncio.StreamReader(limit=2**20)
    for chunk in chunks:
        reader.feed_data(chunk)
    if eof:
        reader.feed_eof()

    class Sink:
        def write(self, data: bytes) -> None: ...
        async def drain(self) -> None: ...

    return AgiChannel(reader, Sink(), {"agi_uniqueid": "1"})  # type: ignore[arg-type]


@pytest.mark.parametrize("flood", [
    b"520-Usage text line that never ends\n",
    b"HANGUP\n",
    b"100 Trying...\n",
    b"\n",
])
async def test_a_reply_beyond_the_bound_ends_the_conversation(flood: bytes) -> None:
    channel = _channel_reading(flood * (MAX_REPLY_BYTES // len(flood) + 1), b"200 result=0\n")
    with pytest.raises(AgiCommandError, match="longer than"):
        await channel.command("STREAM FILE", "greeting", '""')
    assert channel.hung_up  # out of step: nothing more is sent


async def test_usage_text_within_the_bound_is_read_whole() -> None:
    channel = _channel_reading(b"520-Invalid command syntax.\n", b"Usage: X\n" * 100, b"520 End of proper usage.\n")
    with pytest.raises(AgiCommandError, match="520"):
        await channel.command("X")
    assert not channel.hung_up


async def test_sessions_per_peer_are_bounded() -> None:
    release = asyncio.Event()
    started: list[AgiChannel] = []

    async def hold(channel: AgiChannel) -> None:
        started.append(channel)
        await release.wait()

    server = AgiServer({"voice-entry": hold}, port=0, max_sessions_per_peer=2)
    await server.start()
    writers = []
    try:
        for _ in range(2):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(FakeCaller().headers().encode())
            writers.append(writer)
        while len(started) < 2:  # noqa: ASYNC110 - the server exposes no event for this
            await asyncio.sleep(0.01)
        assert await _first_line_from_server(server.port, FakeCaller().headers().encode()) == b""
        assert (server.active, server.refused) == (2, 1)
        release.set()
        while server.active:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        # the bound counts live sessions: once they end, the peer is served again
        assert await _first_line_from_server(server.port, FakeCaller().headers().encode()) == b""
        assert server.served == 3
    finally:
        for writer in writers:
            writer.close()
        await server.stop()
