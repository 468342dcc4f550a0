"""Synthetic telephone speech for tests and benchmarks: espeak-ng → sox → 8 kHz signed-linear PCM.

Korean (``ko``) feeds the Korean test model; Mandarin (``cmn-latn-pinyin``, tone-numbered pinyin from
pypinyin) exercises the stream plumbing, since no Chinese model can be downloaded on the build machines.
"""

from __future__ import annotations

import shutil
import subprocess

from gateway.speech.audiosocket import AUDIO_RATE


def tools_missing() -> list[str]:
    return [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]


def speak(text: str, voice: str = "ko", *, rate: int = AUDIO_RATE, trailing_silence: float = 1.0) -> bytes:
    """Raw 16-bit mono PCM at ``rate``; ``trailing_silence`` lets Vosk see the end of the utterance."""
    missing = tools_missing()
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not installed (Debian packages espeak-ng, sox)")
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "--stdout", text], check=True, capture_output=True, timeout=60
    ).stdout
    pcm = subprocess.run(
        [
            "sox",
            "-t",
            "wav",
            "-",
            "-t",
            "raw",
            "-r",
            str(rate),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-",
            "pad",
            "0",
            str(trailing_silence),
        ],
        input=wav,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    return pcm


def mandarin_pinyin(chinese: str) -> str:
    """Tone-numbered pinyin (lu4 deng1) for espeak-ng's cmn-latn-pinyin voice."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(chinese, style=Style.TONE3, neutral_tone_with_five=True))


KOREAN_SENTENCES = (
    "가로등이 고장났어요. 빨리 고쳐 주세요.",
    "우리 집 앞에 쓰레기가 많이 쌓여 있어요.",
    "어제부터 물이 안 나와요. 도와주세요.",
    "아파트 엘리베이터가 삼 일째 멈춰 있어요.",
)
