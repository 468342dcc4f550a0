"""Prompt catalogue: ids → Mandarin texts (``zh/prompts.toml``) and the sound files that speak them.

Asterisk plays a prompt by file name without extension (``STREAM FILE /…/sounds/zh/greeting``). The
gateway checks at start-up that a file exists for every id its flow can play, and names the missing
id; production replaces the rendered development files with recordings under the same ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import subprocess
import tomllib
import wave
from collections.abc import Iterable
from pathlib import Path

from gateway.errors import ConfigError
from gateway.tickets.lifecycle import Status

TEXTS_FILE = Path(__file__).resolve().parent / "zh" / "prompts.toml"
SOUND_EXTENSIONS = (".wav", ".sln", ".alaw", ".ulaw", ".gsm", ".g722")
DIGITS = "零一二三四五六七八九"
_SPLIT = re.compile(r"([，。：；、！？,.:;!?])")
# espeak-ng's words per minute (a pinyin syllable is a word). Its default, 175, and the 150 used before
# are far slower than a hotline speaks: the greeting took 9.4 s. At 230 it is 5.6 s and still clear.
SPEAKING_RATE = 230
MANIFEST = "manifest.json"


def load_texts(path: Path = TEXTS_FILE) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read prompt texts {path}: {exc}", error_id="ivr-prompts-invalid") from exc
    return {str(k): str(v) for k, v in data.get("prompts", {}).items()}


def fixed_ids() -> set[str]:
    """Prompts every flow needs whatever its file says: digits and one per ticket status."""
    return {f"digit_{d}" for d in range(10)} | {f"progress_status_{s.value}" for s in Status}


class PromptCatalogue:
    """Where the sound files are, and the checked set of ids a flow may play."""

    def __init__(self, sounds_dir: Path, *, asterisk_dir: str | None = None) -> None:
        self.sounds_dir = sounds_dir
        # The same directory as Asterisk sees it (differs only when Asterisk runs in a container).
        self.asterisk_dir = (asterisk_dir or str(sounds_dir.resolve())).rstrip("/")

    def sound(self, prompt_id: str) -> str:
        """The name to give STREAM FILE / GET DATA."""
        return f"{self.asterisk_dir}/{prompt_id}"

    def has_file(self, prompt_id: str) -> bool:
        return any((self.sounds_dir / f"{prompt_id}{ext}").is_file() for ext in SOUND_EXTENSIONS)

    def seconds(self, prompt_id: str) -> float | None:
        """How long the prompt plays, from its WAV file (None: no WAV file, or not a readable one)."""
        return wav_seconds(self.sounds_dir / f"{prompt_id}.wav")

    def require(self, ids: Iterable[str]) -> None:
        """Start-up check: fail with the missing ids rather than mid-call."""
        missing = sorted(i for i in set(ids) if not self.has_file(i))
        if missing:
            raise ConfigError(
                f"IVR prompt files missing in {self.sounds_dir}: {', '.join(missing)} "
                "(run `hotline ivr prompts render` for development, or drop recorded files with these ids)",
                error_id="ivr-prompt-missing", missing=missing)


def wav_seconds(path: Path) -> float | None:
    try:
        with wave.open(str(path)) as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error):
        return None


def greeting_over_budget(catalogue: PromptCatalogue, greeting: str, budget: float) -> str | None:
    """The start-up warning when the greeting plays longer than the budget (None when it fits or its
    length cannot be read from the file)."""
    seconds = catalogue.seconds(greeting)
    if seconds is None or seconds <= budget:
        return None
    return (f"the IVR greeting {greeting!r} plays {seconds:.1f} s, over its budget of {budget:g} s "
            "(flow [entry] greeting_budget_seconds): every caller waits that long before a seat rings; "
            "record a shorter greeting")


def _rendered(sounds_dir: Path) -> dict[str, str]:
    """The texts the manifest says its files were rendered from at today's rate ({} if none)."""
    try:
        manifest = json.loads((sounds_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if manifest.get("speaking_rate_wpm") != SPEAKING_RATE:
        return {prompt_id: "" for prompt_id in manifest.get("prompts", {})}  # every rendered file is stale
    return {prompt_id: str(entry.get("text")) for prompt_id, entry in manifest.get("prompts", {}).items()}


def write_manifest(texts: dict[str, str], sounds_dir: Path) -> dict[str, dict[str, object]]:
    """``<sounds_dir>/manifest.json``: each prompt's text and how long its file plays (seconds)."""
    prompts: dict[str, dict[str, object]] = {}
    for prompt_id, text in sorted(texts.items()):
        seconds = wav_seconds(sounds_dir / f"{prompt_id}.wav")
        prompts[prompt_id] = {"text": text, "seconds": None if seconds is None else round(seconds, 2)}
    manifest = {"speaking_rate_wpm": SPEAKING_RATE, "prompts": prompts}
    (sounds_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    return prompts


# ---- rendering (development voices; production records real ones) ------------------------------

def to_pinyin(text: str) -> str:
    """Tone-numbered pinyin for espeak-ng's cmn-latn-pinyin voice; digits are read one by one."""
    from pypinyin import Style, lazy_pinyin

    spelled = "".join(DIGITS[int(ch)] if ch.isdigit() else ch for ch in text)
    words: list[str] = []
    for chunk in _SPLIT.split(spelled):
        if not chunk:
            continue
        if _SPLIT.fullmatch(chunk):
            words.append("," if chunk in "，、,：:；;" else ".")
            continue
        words += lazy_pinyin(chunk, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore")
    return " ".join(words).replace(" ,", ",").replace(" .", ".")


def tools_missing() -> list[str]:
    return [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]


def render_commands(text: str, target: Path) -> tuple[list[str], list[str]]:
    """espeak-ng (22 kHz) piped into sox → 8 kHz mono 16-bit WAV, what Asterisk plays without transcoding."""
    speak = ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(SPEAKING_RATE), "--stdout", to_pinyin(text)]
    convert = ["sox", "-q", "-t", "wav", "-", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
               str(target), "vol", "0.8"]
    return speak, convert


def render(text: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    speak, convert = render_commands(text, target)
    spoken = subprocess.run(speak, capture_output=True, check=True).stdout
    subprocess.run(convert, input=spoken, capture_output=True, check=True)


def render_all(texts: dict[str, str], sounds_dir: Path, *, force: bool = False) -> list[str]:
    """Render every text whose file is absent (or all with ``force``); recorded files are kept. The
    manifest is rewritten with every prompt's duration."""
    missing = tools_missing()
    if missing:
        raise ConfigError(f"cannot render prompts: {', '.join(missing)} not installed (apt-get install "
                          "espeak-ng sox)", error_id="ivr-render-tools-missing")
    done = []
    rendered_before = _rendered(sounds_dir)
    for prompt_id, text in sorted(texts.items()):
        target = sounds_dir / f"{prompt_id}.wav"
        # A file rendered here from another text or at another rate is re-rendered; one the manifest
        # does not list (a recording dropped in) is kept.
        stale = rendered_before.get(prompt_id, text) != text
        if target.exists() and not force and not stale:
            continue
        render(text, target)
        done.append(prompt_id)
    sounds_dir.mkdir(parents=True, exist_ok=True)
    write_manifest(texts, sounds_dir)
    return done


class EspeakSpeaker:
    """Speaks dynamic text (a ticket's reply summary) during a call: renders once per distinct text
    into ``<sounds_dir>/tts/`` in a subprocess (never on the event loop), then Asterisk plays it."""

    def __init__(self, catalogue: PromptCatalogue, *, timeout: float = 5.0) -> None:
        self.catalogue = catalogue
        self.timeout = timeout

    async def speak(self, text: str) -> str | None:
        digest = hashlib.sha256(text.encode()).hexdigest()[:20]
        name = f"tts/{digest}"
        target = self.catalogue.sounds_dir / f"{name}.wav"
        if not target.exists():
            if tools_missing():
                return None
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part.wav")
            speak, convert = render_commands(text, partial)
            try:
                await asyncio.wait_for(_pipe(speak, convert), self.timeout)
            except (TimeoutError, OSError, subprocess.CalledProcessError):
                partial.unlink(missing_ok=True)
                return None
            partial.replace(target)
        return self.catalogue.sound(name)


async def _pipe(first: list[str], second: list[str]) -> None:
    one = await asyncio.create_subprocess_exec(*first, stdout=asyncio.subprocess.PIPE,
                                               stderr=asyncio.subprocess.DEVNULL)
    try:
        spoken, _ = await one.communicate()
    finally:
        if one.returncode is None:
            one.kill()
    two = await asyncio.create_subprocess_exec(*second, stdin=asyncio.subprocess.PIPE,
                                               stderr=asyncio.subprocess.DEVNULL)
    try:
        await two.communicate(spoken)
    finally:
        if two.returncode is None:
            two.kill()
            await two.wait()
    if one.returncode or two.returncode:
        raise subprocess.CalledProcessError(one.returncode or two.returncode or 1, first[0])
