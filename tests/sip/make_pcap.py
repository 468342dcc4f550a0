"""Regenerate citizen_alaw.pcap: a few seconds of synthetic Mandarin speech as G.711 A-law RTP.

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
HERE = Path(__file__).resolve().parent
SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz
PAYLOAD_TYPE_PCMA = 8


def synthesise_alaw(text: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        raw = Path(tmp) / "speech.al"
        subprocess.run(["espeak-ng", "-v", "cmn", "-s", "150", "-w", str(wav), text], check=True)
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


def rtp_frame(seq: int, payload: bytes) -> bytes:
    rtp = struct.pack("!BBHII", 0x80, PAYLOAD_TYPE_PCMA, seq & 0xFFFF, seq * SAMPLES_PER_PACKET, 0x12345) + payload
    udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq & 0xFFFF, 0, 64, 17, 0,
                               bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
    ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
    ethernet = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return ethernet + bytes(ip) + udp


def write_pcap(path: Path, alaw: bytes) -> int:
    packets = [alaw[i:i + SAMPLES_PER_PACKET] for i in range(0, len(alaw), SAMPLES_PER_PACKET)]
    packets[-1] = packets[-1].ljust(SAMPLES_PER_PACKET, b"\xd5")  # A-law silence
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for seq, payload in enumerate(packets):
            frame = rtp_frame(seq, payload)
            micros = seq * 20_000
            out.write(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)))
            out.write(frame)
    return len(packets)


if __name__ == "__main__":
    count = write_pcap(HERE / "citizen_alaw.pcap", synthesise_alaw(TEXT))
    print(f"citizen_alaw.pcap: {count} packets ({count * 20 / 1000:.1f} s)")
