"""The AudioSocket wire format as Asterisk's res_audiosocket speaks it."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from gateway.speech import audiosocket as wire


def reader_with(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_frames_round_trip_uuid_audio_hangup() -> None:
    call = uuid.uuid4()
    pcm = bytes(range(256)) * 3  # 768 bytes → three frames of ≤ 320
    reader = reader_with(
        wire.uuid_frame(call) + b"".join(wire.audio_frames(pcm)) + wire.encode(wire.KIND_HANGUP)
    )
    first = await wire.read_frame(reader)
    assert first is not None and wire.parse_uuid(first) == call
    audio = [await wire.read_frame(reader) for _ in range(3)]
    assert [len(f.payload) for f in audio if f] == [320, 320, 128]
    assert b"".join(f.payload for f in audio if f) == pcm
    hangup = await wire.read_frame(reader)
    assert hangup == wire.Frame(wire.KIND_HANGUP, b"")
    assert await wire.read_frame(reader) is None  # clean end between frames


def test_header_is_kind_then_big_endian_length() -> None:
    assert wire.encode(wire.KIND_AUDIO, b"\x01\x02\x03") == b"\x10\x00\x03\x01\x02\x03"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x10\x01", "inside a frame header"),
        (b"\x10\x01\x40" + b"\x00" * 100, "100 of 320 bytes"),
    ],
)
async def test_truncated_frames_are_protocol_errors(data: bytes, message: str) -> None:
    with pytest.raises(wire.ProtocolError, match=message):
        await wire.read_frame(reader_with(data))


def test_first_frame_must_be_a_16_byte_uuid() -> None:
    with pytest.raises(wire.ProtocolError, match="first frame must be a UUID"):
        wire.parse_uuid(wire.Frame(wire.KIND_AUDIO, b"\x00" * 320))
    with pytest.raises(wire.ProtocolError, match="16 bytes, got 4"):
        wire.parse_uuid(wire.Frame(wire.KIND_UUID, b"abcd"))
