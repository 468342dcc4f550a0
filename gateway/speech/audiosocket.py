"""Asterisk AudioSocket wire format (res_audiosocket): 1-byte kind, 2-byte big-endian length, payload.

Kinds: 0x00 hangup, 0x01 UUID (16 bytes, first frame of a stream), 0x10 audio (signed-linear 16-bit,
8 kHz mono; 20 ms = 320 bytes), 0xff error (1-byte code). Anything else is counted and ignored.
"""

from __future__ import annotations

import asyncio
import struct
import uuid
from dataclasses import dataclass

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_AUDIO = 0x10
KIND_ERROR = 0xFF

AUDIO_RATE = 8000
BYTES_PER_SECOND = AUDIO_RATE * 2
FRAME_BYTES = 320  # 20 ms
MAX_PAYLOAD = 65535
# What we accept from a peer: 20 ms of signed-linear audio is 320 bytes at 8 kHz and 7,680 at 192 kHz;
# anything larger is not Asterisk, and is refused before its payload is read.
MAX_FRAME_PAYLOAD = 8192
_HEADER = struct.Struct(">BH")


class ProtocolError(Exception):
    """The peer broke the wire format (truncated header or payload, UUID of the wrong size …)."""


@dataclass(frozen=True, slots=True)
class Frame:
    kind: int
    payload: bytes


def encode(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes does not fit one frame")
    return _HEADER.pack(kind, len(payload)) + payload


def uuid_frame(call_uuid: uuid.UUID) -> bytes:
    return encode(KIND_UUID, call_uuid.bytes)


def audio_frames(pcm: bytes, frame_bytes: int = FRAME_BYTES) -> list[bytes]:
    """Cut signed-linear audio into 20 ms AudioSocket frames (what Asterisk sends)."""
    return [encode(KIND_AUDIO, pcm[i : i + frame_bytes]) for i in range(0, len(pcm), frame_bytes)]


async def read_frame(reader: asyncio.StreamReader, max_payload: int = MAX_FRAME_PAYLOAD) -> Frame | None:
    """The next frame, or None on a clean end of stream between frames."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise ProtocolError("stream ended inside a frame header") from exc
    kind, length = _HEADER.unpack(header)
    if length > max_payload:
        raise ProtocolError(f"a frame of {length} bytes (at most {max_payload} are accepted)")
    try:
        payload = await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as exc:
        raise ProtocolError(f"stream ended inside a frame: {len(exc.partial)} of {length} bytes") from exc
    return Frame(kind, payload)


def parse_uuid(frame: Frame) -> uuid.UUID:
    if frame.kind != KIND_UUID:
        raise ProtocolError(f"the first frame must be a UUID (0x01), got kind 0x{frame.kind:02x}")
    if len(frame.payload) != 16:
        raise ProtocolError(f"a UUID frame carries 16 bytes, got {len(frame.payload)}")
    return uuid.UUID(bytes=frame.payload)
