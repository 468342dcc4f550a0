"""A deployment's flow, as data: prompts, keys, timeouts, queue names, thresholds, emergency words.

Loaded from a TOML file (``ivr/flows/default.toml`` ships with the product; setting ``ivr.flow_file``
points at a deployment's own). Every prompt id named here must exist in the prompt catalogue — start-up
checks that (see ``Flow.prompt_ids``), so a typo fails before the first call, not during one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.errors import ConfigError

FLOWS_DIR = Path(__file__).resolve().parent / "flows"
DEFAULT_FLOW = FLOWS_DIR / "default.toml"
KEYS = "0123456789*#"
EmergencyService = Literal["110", "119", "120", "122"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EntryFlow(_Section):
    """A short greeting → the queue. Never a menu tree, never a monologue before a person (GB/T 33358:
    fast human answer). Describing the matter before the queue is optional (``describe_before_queue``);
    by default the agent's draft is filled by live ASR during the conversation instead."""

    queue: str = "hotline"
    greeting: str = "greeting"  # with the recording notice and the emergency key
    # Start-up warns when the greeting's sound file is longer than this (seconds of audio).
    greeting_budget_seconds: float = Field(default=6.0, gt=0, le=60)
    greeting_off_hours: str = ""  # added to the greeting outside working hours; "" = nothing
    describe_before_queue: bool = False  # record the matter before the queue (costs the caller time)
    describe: str = "describe"
    to_agent: str = ""  # played as the caller goes on to the queue; "" = straight on (the queue rings)
    agent_key: str = "0"  # always a person
    progress_key: str | None = "1"  # 工单进度查询 (self-service); None = off
    describe_seconds: int = Field(default=30, ge=3, le=300)
    silence_seconds: int = Field(default=3, ge=1, le=30)
    record_dir: str = "/var/spool/asterisk/monitor/hotline/ivr"  # as Asterisk sees it
    record_format: str = "wav"
    # How long the ASR may take to hand over the description's text before we go on without it.
    text_wait_seconds: float = Field(default=1.5, ge=0, le=10)


class LanguageSeat(_Section):
    """Dialect / minority-language seats: a key in the greeting routes to a language queue."""

    key: str = Field(min_length=1, max_length=1)
    queue: str
    label: str = ""


class EmergencyFlow(_Section):
    """110/119/120/122 words or keys → a short announcement and an immediate transfer."""

    announce: str = "emergency_transfer"  # + "_<service>": emergency_transfer_119 …
    # The dialplan context where the transfer continues; the extension is the service's number.
    context: str = "hotline-transfer"
    keys: dict[str, EmergencyService] = {}
    # Added to the words the policy pack supplies (gateway/policies: [emergency_linkage]).
    words: dict[EmergencyService, list[str]] = {}
    use_pack_words: bool = True
    # ASR text alone transfers at or above this confidence (gateway/understanding: 0.9 for a plain word,
    # 0.7 for a homophone, lower for words that are emergencies only in context). Below it the caller
    # goes straight to a person (no repeat rule, no overflow offer) with HOTLINE_EMERGENCY_SUSPECTED set.
    asr_transfer_confidence: float = Field(default=0.6, ge=0, le=1)
    # Where each service is dialled (the extension in ``context``); default: the number itself.
    numbers: dict[EmergencyService, str] = {}

    def number(self, service: str) -> str:
        return self.numbers.get(service, service)  # type: ignore[call-overload]


class OverflowFlow(_Section):
    """No agent, a long wait, a full queue or the store away → offer a callback, point to WeChat/web."""

    enabled: bool = True
    max_wait_seconds: int = Field(default=120, ge=0)
    status_timeout_seconds: float = Field(default=0.5, gt=0)
    offer: str = "overflow_offer"  # busy; other channels (WeChat, web: 庆阳 第二十条(二)); keys
    fault: str = "overflow_fault"  # the system cannot take the matter down now
    callback_key: str = "1"
    # A caller taking the callback may leave the matter on record (the description file of the session;
    # the callback task and the session share the linkedid), so the agent calling back knows it.
    describe_callback: bool = True
    callback_describe: str = "callback_describe"
    callback_describe_seconds: int = Field(default=60, ge=5, le=300)
    key_timeout_ms: int = Field(default=5000, ge=500)
    confirm_number: str = "callback_confirm_number"  # "we will call back" + digits
    confirm_keys: str = "callback_confirm_keys"  # 1 confirm, 2 another number
    enter_number: str = "callback_enter_number"
    registered: str = "callback_registered"
    invalid_number: str = "callback_invalid_number"


class ProgressFlow(_Section):
    enter_number: str = "progress_enter_number"
    not_found: str = "progress_not_found"
    not_yours: str = "progress_not_yours"
    status_prefix: str = "progress_status_"  # + ticket status, e.g. progress_status_signed
    reply_intro: str = "progress_reply_intro"
    done: str = "progress_done"
    timeout_ms: int = Field(default=8000, ge=1000)
    max_digits: int = Field(default=20, ge=8, le=32)
    attempts: int = Field(default=2, ge=1, le=5)
    reply_max_chars: int = Field(default=200, ge=20)


class RepeatFlow(_Section):
    """庆阳 第三十三条 / 汉滨 第二十八条: repeated calls with no new matter → notice + supervisor queue."""

    enabled: bool = True
    window_minutes: int = Field(default=60, ge=1)
    max_calls: int = Field(default=5, ge=1)  # this call included
    queue: str = "hotline-supervisor"
    notice: str = "repeat_notice"
    whitelist: list[str] = []  # E.164 numbers never limited (e.g. a care home, a grid worker)


class SurveyFlow(_Section):
    intro: str = "survey_intro"  # + the ticket number
    question: str = "survey_question"  # 1 非常满意 … 5 非常不满意
    invalid: str = "survey_invalid"
    thanks: str = "survey_thanks"
    timeout_ms: int = Field(default=6000, ge=1000)
    attempts: int = Field(default=2, ge=1, le=5)


class Flow(_Section):
    name: str = "default"
    entry: EntryFlow = EntryFlow()
    languages: list[LanguageSeat] = []
    emergency: EmergencyFlow = EmergencyFlow()
    overflow: OverflowFlow = OverflowFlow()
    progress: ProgressFlow = ProgressFlow()
    repeat: RepeatFlow = RepeatFlow()
    survey: SurveyFlow = SurveyFlow()

    @model_validator(mode="after")
    def _keys_are_distinct(self) -> Flow:
        used: dict[str, str] = {self.entry.agent_key: "entry.agent_key"}
        claims = [(self.entry.progress_key, "entry.progress_key")]
        claims += [(seat.key, f"languages[{seat.queue}]") for seat in self.languages]
        claims += [(key, f"emergency.keys.{key}") for key in self.emergency.keys]
        for key, where in claims:
            if key is None:
                continue
            if len(key) != 1 or key not in KEYS:
                raise ValueError(f"{where}: {key!r} is not a phone key")
            if key in used:
                raise ValueError(f"key {key!r} is used by both {used[key]} and {where}")
            used[key] = where
        return self

    def key_action(self, key: str) -> tuple[str, str] | None:
        """What a key pressed during the greeting or description means: (kind, target) or None."""
        if key == self.entry.agent_key:
            return ("agent", self.entry.queue)
        if key in self.emergency.keys:
            return ("emergency", self.emergency.keys[key])
        if key == self.entry.progress_key:
            return ("progress", "")
        for seat in self.languages:
            if key == seat.key:
                return ("language", seat.queue)
        return None

    def prompt_ids(self, services: Iterable[str]) -> set[str]:
        """Every prompt this flow can play (statuses and digits are added by the catalogue check)."""
        e, o, p, r, s = self.entry, self.overflow, self.progress, self.repeat, self.survey
        ids = {e.greeting, e.greeting_off_hours, e.to_agent,
               o.offer, o.fault, o.confirm_number, o.confirm_keys, o.enter_number, o.registered,
               o.invalid_number, r.notice, s.intro, s.question, s.invalid, s.thanks}
        if e.describe_before_queue:
            ids.add(e.describe)
        if o.describe_callback:
            ids.add(o.callback_describe)
        if e.progress_key is not None:
            ids |= {p.enter_number, p.not_found, p.not_yours, p.reply_intro, p.done}
        ids |= {f"{self.emergency.announce}_{service}" for service in services}
        return ids - {""}  # an empty prompt id plays nothing


def load_flow(path: Path | None = None) -> Flow:
    path = path or DEFAULT_FLOW
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"IVR flow file not found: {path}", error_id="ivr-flow-missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"IVR flow file {path} is not valid TOML: {exc}", error_id="ivr-flow-invalid") from exc
    try:
        return Flow.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"IVR flow file {path}: '{where}': {first['msg']}", error_id="ivr-flow-invalid") from exc
