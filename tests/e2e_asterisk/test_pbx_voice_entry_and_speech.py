"""The 12345 entry's hooks: the FastAGI voice entry (with DTMF) and the AudioSocket live-speech stream."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from pbx_ami import chan_vars
from pbx_scenes import connected

pytestmark = pytest.mark.asterisk

AUDIO, UUID_FRAME, HANGUP = 0x10, 0x01, 0x00


async def test_voice_entry_fastagi_routes_by_the_citizens_dtmf(start_pbx) -> None:
    requests: list[dict[str, str]] = []

    async def voice_entry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A stand-in for the IVR: press 2 for English → HOTLINE_QUEUE=hotline-en."""
        env = {}
        while line := (await reader.readline()).decode().strip():
            key, _, value = line.partition(": ")
            env[key] = value
        requests.append(env)

        async def command(text: str) -> str:
            writer.write(f"{text}\n".encode())
            await writer.drain()
            return (await reader.readline()).decode().strip()

        reply = await command("WAIT FOR DIGIT 8000")  # "200 result=50" for "2"
        if reply.startswith("200 result=") and chr(int(reply.split("=")[1].split()[0])) == "2":
            await command("SET VARIABLE HOTLINE_QUEUE hotline-en")
        writer.close()

    server = await asyncio.start_server(voice_entry, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pbx = await start_pbx(HOTLINE_AGI=f"127.0.0.1:{port}")
    async with server, connected(pbx) as (ami, sipp):
        await sipp.citizen("citizen_dtmf.xml")
        join = await ami.wait_for("QueueCallerJoin")
        assert join["Queue"] == "hotline-en"
        assert chan_vars(join)["HOTLINE_QUEUE"] == "hotline-en"
        assert requests[0]["agi_network_script"] == "voice-entry"
        assert requests[0]["agi_callerid"] == "13800138000"
        await ami.action("Hangup", Channel=join["Channel"])


async def test_audiosocket_streams_what_the_citizen_says(start_pbx) -> None:
    frames: list[tuple[int, bytes]] = []
    enough = asyncio.Event()

    async def speech_service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(3)
                payload = await reader.readexactly(int.from_bytes(head[1:], "big"))
                frames.append((head[0], payload))
                if head[0] == HANGUP:
                    break
                if sum(kind == AUDIO for kind, _ in frames) >= 100:  # 2 s of speech
                    enough.set()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(speech_service, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pbx = await start_pbx(HOTLINE_AUDIOSOCKET=f"127.0.0.1:{port}")
    async with server, connected(pbx) as (ami, sipp):
        await sipp.citizen()
        join = await ami.wait_for("QueueCallerJoin", Queue="hotline")
        speech_id = chan_vars(join)["HOTLINE_SPEECH_ID"]
        await asyncio.wait_for(enough.wait(), 15)
        await ami.action("Hangup", Channel=join["Channel"])

    kind, payload = frames[0]
    assert kind == UUID_FRAME and payload == uuid.UUID(speech_id).bytes
    audio = [payload for kind, payload in frames if kind == AUDIO]
    assert {len(p) for p in audio} == {320}  # 20 ms of 8 kHz signed linear
    loudest = max(
        abs(int.from_bytes(p[i : i + 2], "little", signed=True)) for p in audio for i in range(0, 320, 2)
    )
    assert loudest > 1000  # speech, not silence
