"""Prometheus metrics of the speech capability (default registry, like every prometheus-client user)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LIVE_STREAMS = Gauge("hotline_speech_live_streams", "AudioSocket streams being decoded now")
STREAMS = Counter(
    "hotline_speech_streams_total", "AudioSocket streams by how they were served", ["outcome"]
)  # decoded | over_capacity | no_model | unsupported_format
STREAM_ENDS = Counter(
    "hotline_speech_stream_ends_total", "How AudioSocket streams ended", ["reason"]
)  # hangup | eof | stall | protocol_error | peer_error | recognizer_error | shutdown
BAD_FRAMES = Counter("hotline_speech_bad_frames_total", "AudioSocket frames ignored", ["reason"])
DROPPED_AUDIO = Counter(
    "hotline_speech_dropped_audio_frames_total",
    "Audio frames dropped (oldest first) because the recognizer fell behind",
)
POSTCALL_JOBS = Counter("hotline_speech_postcall_jobs_total", "Post-call transcriptions", ["outcome"])
DECODE_CHUNK_SECONDS = Histogram(
    "hotline_speech_decode_chunk_seconds",
    "Vosk time per decoded chunk",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
