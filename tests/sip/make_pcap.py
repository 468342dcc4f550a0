"""Regenerate the RTP pcaps the SIPp scenarios play.

citizen_alaw.pcap: a few seconds of synthetic Mandarin speech as G.711 A-law RTP.
citizen_korean_alaw.pcap: 1 s of silence, synthetic Korean speech (espeak-ng -v ko), 2 s of silence, as
    G.711 A-law RTP: the test ASR model is Korean (tests/e2e_asterisk/test_speech_live_and_postcall.py),
    and the silences let the call reach the queue and the recognizer see the end of the utterance.
dtmf_2.pcap: 200 ms of A-law silence, then the digit 2 as RFC 4733 (2833) telephone-events (PT 101).
dtmf_9.pcap: the same for 9 (the voice entry's 110 key).
dtmf_progress_query.pcap: 1 (the progress key), a pause, then PROGRESS_TICKET and # (the ticket number
    the first ticket of 2026-11-23 gets; tests/e2e_asterisk/test_ivr_voice_entry.py fixes its clock there).

SIPp's play_pcap_audio replays the RTP packets of a pcap (Ethernet/IPv4/UDP) towards the far end's
media address, so the citizens, agents and trunks in the SIPp scenarios speak real audio that
Asterisk records, mixes and streams. Needs espeak-ng and sox (./dev installs both):

    python tests/sip/make_pcap.py
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
from pathlib import Path

TEXT = "您好，我要反映一下，我们小区门口的路灯坏了一个星期了。"
KOREAN_TEXT = "안녕하세요. 우리 동네 가로등이 일주일째 고장 나서 밤에 너무 어둡습니다."
KOREAN_LEAD_SECONDS, KOREAN_TAIL_SECONDS = 1.0, 2.0
HERE = Path(__file__).resolve().parent
PROGRESS_TICKET = "2026112300001"
# RFC 4733 section 3.2: event codes of the keypad.
EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
PAUSE = ","  # in a key sequence: half a second with no key, as in a dial string
SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz
PAYLOAD_TYPE_PCMA = 8
PAYLOAD_TYPE_EVENT = 101
ALAW_SILENCE = b"\xd5" * SAMPLES_PER_PACKET


def synthesise_alaw(text: str, voice: str = "cmn") -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        raw = Path(tmp) / "speech.al"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
        subprocess.run(
            ["sox", str(wav), "-r", "8000", "-c", "1", "-e", "a-law", "-t", "al", str(raw)], check=True
        )
        return raw.read_bytes()


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def rtp_frame(
    seq: int,
    payload: bytes,
    payload_type: int = PAYLOAD_TYPE_PCMA,
    timestamp: int | None = None,
    marker: bool = False,
) -> bytes:
    timestamp = seq * SAMPLES_PER_PACKET if timestamp is None else timestamp
    second = (0x80 if marker else 0) | payload_type
    rtp = struct.pack("!BBHII", 0x80, second, seq & 0xFFFF, timestamp, 0x12345) + payload
    udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
    ip = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(udp),
            seq & 0xFFFF,
            0,
            64,
            17,
            0,
            bytes([10, 0, 0, 1]),
            bytes([10, 0, 0, 2]),
        )
    )
    ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
    ethernet = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return ethernet + bytes(ip) + udp


def write_pcap(path: Path, frames: list[bytes]) -> int:
    """One frame every 20 ms."""
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for index, frame in enumerate(frames):
            micros = index * 20_000
            out.write(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)))
            out.write(frame)
    return len(frames)


def speech_frames(alaw: bytes) -> list[bytes]:
    packets = [alaw[i : i + SAMPLES_PER_PACKET] for i in range(0, len(alaw), SAMPLES_PER_PACKET)]
    packets[-1] = packets[-1].ljust(SAMPLES_PER_PACKET, ALAW_SILENCE[:1])
    return [rtp_frame(seq, payload) for seq, payload in enumerate(packets)]


def dtmf_frames(digit: int) -> list[bytes]:
    """Silence (so Asterisk's strict RTP learns the stream), then one event: 7 updates + 3 end packets."""
    return key_frames(str(digit))


def key_frames(keys: str) -> list[bytes]:
    """Silence, then each key as one event followed by 200 ms of silence; PAUSE adds half a second."""
    frames = [rtp_frame(seq, ALAW_SILENCE) for seq in range(10)]
    for key in keys:
        if key == PAUSE:
            frames += [rtp_frame(len(frames) + i, ALAW_SILENCE) for i in range(25)]
            continue
        start = len(frames) * SAMPLES_PER_PACKET
        for i in range(10):
            end = i >= 7
            duration = min(i + 1, 8) * SAMPLES_PER_PACKET
            event = struct.pack("!BBH", EVENT_CODES[key], (0x80 if end else 0) | 10, duration)
            frames.append(rtp_frame(len(frames), event, PAYLOAD_TYPE_EVENT, timestamp=start, marker=i == 0))
        frames += [rtp_frame(len(frames) + i, ALAW_SILENCE) for i in range(10)]
    return frames


if __name__ == "__main__":
    count = write_pcap(HERE / "citizen_alaw.pcap", speech_frames(synthesise_alaw(TEXT)))
    print(f"citizen_alaw.pcap: {count} packets ({count * 20 / 1000:.1f} s)")
    silence = ALAW_SILENCE[:1]
    korean = (
        silence * int(8000 * KOREAN_LEAD_SECONDS)
        + synthesise_alaw(KOREAN_TEXT, "ko")
        + silence * int(8000 * KOREAN_TAIL_SECONDS)
    )
    count = write_pcap(HERE / "citizen_korean_alaw.pcap", speech_frames(korean))
    print(f"citizen_korean_alaw.pcap: {count} packets ({count * 20 / 1000:.1f} s)")
    for name, keys in [("dtmf_2", "2"), ("dtmf_9", "9"), ("dtmf_progress_query", f"1,,{PROGRESS_TICKET}#")]:
        count = write_pcap(HERE / f"{name}.pcap", key_frames(keys))
        print(f"{name}.pcap: {count} packets")
