"""The voice entry (AGI script ``voice-entry``): a short greeting → a person.

    greeting ─no key─▶ route ─repeat─▶ repeat_limited ─▶ to_agent ─▶ (dialplan: queue)
        │  (describe_before_queue: ─▶ describe ─▶ understand ─words─▶ emergency; else ─▶ route;
        │   uncertain words ─▶ to_agent with HOTLINE_EMERGENCY_SUSPECTED)
        │ key                │ overflow / store away ─▶ overflow ─1─▶ callback_confirm ⇄ callback_enter
        ▼                    │                             │               │
     on_key: 0 / other key / language ─▶ route             └─other─▶ to_agent  callback_describe
             emergency key ─▶ emergency ─▶ (dialplan: emergency trunk)         ─▶ callback_register
             progress key ─▶ progress ─▶ to_agent

The citizen's time is the budget (GB/T 33358: fast human answer): the greeting (recording notice,
emergency key) is the only prompt before the queue unless the queue cannot take the call soon (no agent,
a long predicted wait, a full queue), when a callback with a recorded description is offered; no key
keeps the caller going to the queue. Whatever happens the caller ends with a person, an emergency
service, or a registered callback; the dialplan sends a caller to the queue even when this script fails.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta

from gateway.errors import InvalidInput
from gateway.tickets.lifecycle import Status
from gateway.tickets.schemas import normalise_phone
from gateway.workcalendar import CalendarOutOfRange
from ivr.agi import AgiChannel, AgiCommandError
from ivr.machine import ALL_KEYS, Call, IvrDeps, State, run_states

log = logging.getLogger(__name__)

DONE = frozenset({Status.SURVEYING.value, Status.CLOSED.value})  # a reply the caller may hear


def on_key(call: Call, key: str) -> str:
    """A key during the greeting or the description: its configured meaning, else straight to a person."""
    action = call.flow.key_action(key)
    call.detail.setdefault("keys", []).append(key)
    if action is None or action[0] == "agent":
        return "route"
    kind, target = action
    if kind == "emergency":
        call.emergency, call.detail["emergency_trigger"] = target, f"key {key}"
        return "emergency"
    if kind == "language":
        call.queue = target
        return "route"
    return "progress"


class Greeting(State):
    name = "greeting"

    async def run(self, call: Call) -> str | None:
        entry = call.flow.entry
        key = await call.play(entry.greeting, ALL_KEYS)
        if key is None and entry.greeting_off_hours and _off_hours(call):
            key = await call.play(entry.greeting_off_hours, ALL_KEYS)
        if key:
            return on_key(call, key)
        return "describe" if entry.describe_before_queue else "route"


def _off_hours(call: Call) -> bool:
    calendar = call.deps.calendar
    if calendar is None:
        return False
    try:
        return not calendar.is_working_time(call.deps.clock())
    except CalendarOutOfRange:  # no holiday data this year: say nothing rather than something wrong
        return False


class Describe(State):
    """Invite the caller to state the matter after a tone, while they wait; record it for the draft."""

    name = "describe"

    async def run(self, call: Call) -> str | None:
        entry = call.flow.entry
        key = await call.play(entry.describe, ALL_KEYS)
        if key:
            return on_key(call, key)
        path = f"{entry.record_dir.rstrip('/')}/{_safe(call.linkedid or call.uniqueid or 'call')}-description"
        call.description_file = f"{path}.{entry.record_format}"
        try:
            key, samples = await call.channel.record_file(
                path, entry.record_format, ALL_KEYS, entry.describe_seconds * 1000, silence_s=entry.silence_seconds)
        except AgiCommandError as exc:  # a recording problem must not keep the caller from a person
            log.error("description not recorded on %s: %s", call.uniqueid, exc)
            call.description_file, call.detail["record_error"] = None, str(exc)
            return "route"
        call.detail["description_samples"] = samples
        return on_key(call, key) if key else "understand"


def _safe(ref: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]", "_", ref)


class Understand(State):
    """The description's text (from the ASR, if it has it in time) against gateway.understanding's emergency
    detector (plus the pack's and the flow's words)."""

    name = "understand"

    async def run(self, call: Call) -> str | None:
        wait = call.flow.entry.text_wait_seconds
        try:
            async with asyncio.timeout(wait + 0.5):
                call.description_text = await call.deps.description_text.text(
                    call.ref, call.description_file, wait)
        except TimeoutError:
            call.detail["text"] = "timeout"
        except Exception:  # the ASR is an add-on: its failure must not hold the caller back
            log.exception("description text provider failed")
            call.detail["text"] = "error"
        found = call.deps.emergency_words.match(call.description_text)
        if found is None:
            return "route"
        if found.confidence < call.flow.emergency.asr_transfer_confidence:
            # Too uncertain to send to 110/119/120/122 on the ASR's word alone: a person hears the
            # caller at once and can transfer with one click; a false alarm never costs a transfer.
            call.detail["emergency_suspected"] = {"service": found.service, "word": found.word,
                                                  "confidence": found.confidence}
            await call.channel.set_variable("HOTLINE_EMERGENCY_SUSPECTED", found.service)
            return "to_agent"
        call.emergency, call.detail["emergency_trigger"] = found.service, f"word {found.word}"
        call.detail["emergency_confidence"] = found.confidence
        return "emergency"


class Emergency(State):
    """Transfer first, then announce, log last: nothing here waits on queues, limits or the store."""

    name = "emergency"

    async def run(self, call: Call) -> str | None:
        service = call.emergency or "110"
        emergency = call.flow.emergency
        call.outcome = "emergency"
        deps = call.deps
        call.emergency_log = deps.retry.submit(
            "emergency ticket", lambda: deps.store.log_emergency(
                service=service, caller=call.caller, linkedid=call.linkedid,
                trigger=call.detail.get("emergency_trigger", ""), description=call.description_text,
                category=deps.emergency_category),
            service=service, caller=call.caller, linkedid=call.linkedid)
        await call.channel.set_variable("HOTLINE_EMERGENCY", service)
        await call.channel.set_variable("HOTLINE_ENTRY_OUTCOME", "emergency")  # for the KPIs (gateway/calls)
        await call.channel.goto(emergency.context, emergency.number(service), 1)
        await call.play(f"{emergency.announce}_{service}")
        return None


class Route(State):
    """Before the queue: the repeat-caller rule, then the queue's state and the store's."""

    name = "route"

    async def run(self, call: Call) -> str | None:
        if not call.flow.entry.describe_before_queue and await _heard_emergency(call):
            return "emergency"
        if await _repeat_limited(call):
            return "repeat_limited"
        reason = await _overflow_reason(call)
        if reason is None:
            return "to_agent"
        call.detail["overflow"] = reason
        return "overflow"


async def _heard_emergency(call: Call) -> bool:
    """Emergency words the live ASR already heard (the caller speaking over the greeting): asked without
    waiting, so it costs the caller nothing; the description path checks its own text (Understand)."""
    try:
        async with asyncio.timeout(0.5):
            text = await call.deps.description_text.text(call.ref, None, 0)
    except Exception:  # the ASR is an add-on: never hold the caller back
        return False
    found = call.deps.emergency_words.match(text)
    if found is None:
        return False
    call.description_text = text
    call.emergency, call.detail["emergency_trigger"] = found.service, f"word {found.word}"
    return True


async def _repeat_limited(call: Call) -> bool:
    """Earlier calls come from memory (RecentCalls); the store is read only for a caller at the
    threshold, to see whether they brought a new matter."""
    rule, deps = call.flow.repeat, call.deps
    if not rule.enabled or call.caller is None:
        return False
    since = deps.clock() - timedelta(minutes=rule.window_minutes)
    earlier = deps.recent_calls.count(call.caller, since)
    if earlier + 1 < rule.max_calls:
        return False
    try:
        tickets = await deps.store.tickets_opened(call.caller, since)
    except Exception as exc:  # the rule never holds a caller back when it cannot be evaluated
        call.detail["repeat"] = f"unknown ({exc.__class__.__name__})"
        return False
    calls = earlier + 1
    if call.caller in rule.whitelist:
        decision, queue = "whitelisted", None
    elif tickets > 0:
        decision, queue = "new-matter", None
    else:
        decision, queue = "limited", rule.queue
    call.detail["repeat"] = decision
    values = {"caller": call.caller, "linkedid": call.linkedid, "at": deps.clock(), "calls_in_window": calls,
              "tickets_in_window": tickets, "window_minutes": rule.window_minutes, "threshold": rule.max_calls,
              "decision": decision, "queue": queue or call.queue or call.flow.entry.queue}
    deps.retry.submit("repeat decision", lambda: deps.store.log_repeat(**values), **values)
    if queue is None:
        return False
    call.queue = queue
    return True


async def _overflow_reason(call: Call) -> str | None:
    overflow, deps = call.flow.overflow, call.deps
    if not overflow.enabled:
        return None
    queue = call.queue or call.flow.entry.queue
    try:
        async with asyncio.timeout(overflow.status_timeout_seconds):
            state = await deps.queue_status.state(queue)
    except Exception:  # unknown queue state: the caller simply goes to the queue
        state = None
    if not await deps.store.reachable():
        return "store-unreachable"
    if state is None:
        return None
    if state.agents_logged_in == 0:
        return "no-agents"
    if state.full:
        return "queue-full"
    if state.estimated_wait_seconds > overflow.max_wait_seconds:
        return "long-wait"
    return None


class RepeatLimited(State):
    name = "repeat_limited"

    async def run(self, call: Call) -> str | None:
        call.outcome = "repeat-limited"
        await call.play(call.flow.repeat.notice)
        return "to_agent"


class Overflow(State):
    """Busy or faulty: offer a callback and the other channels; any other key or silence → the queue."""

    name = "overflow"

    async def run(self, call: Call) -> str | None:
        overflow = call.flow.overflow
        prompt = overflow.fault if call.detail.get("overflow") == "store-unreachable" else overflow.offer
        key = await call.play(prompt, ALL_KEYS) or await call.channel.wait_for_digit(overflow.key_timeout_ms)
        if key == overflow.callback_key:
            call.callback_number = call.caller
            return "callback_confirm" if call.caller else "callback_enter"
        return "to_agent"


class CallbackConfirm(State):
    name = "callback_confirm"

    async def run(self, call: Call) -> str | None:
        overflow = call.flow.overflow
        number = call.callback_number or ""
        key = (await call.play(overflow.confirm_number, "12")
               or await call.play_digits(_national(number), "12")
               or await call.play(overflow.confirm_keys, "12")
               or await call.channel.wait_for_digit(overflow.key_timeout_ms))
        if key == "1":
            return "callback_describe" if overflow.describe_callback else "callback_register"
        if key == "2" and call.tries("callback_enter") <= 2:
            return "callback_enter"
        return "to_agent"


def _national(e164: str) -> str:
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


class CallbackEnter(State):
    name = "callback_enter"

    async def run(self, call: Call) -> str | None:
        overflow = call.flow.overflow
        digits = await call.channel.get_data(call.deps.prompts.sound(overflow.enter_number),
                                             overflow.key_timeout_ms * 2, 20)
        try:
            number = normalise_phone(digits) if digits else None
        except InvalidInput:
            number = None
        if number is not None:
            call.callback_number = number
            return "callback_confirm"
        await call.play(overflow.invalid_number)
        return "callback_enter" if call.tries("callback_invalid") < 2 else "to_agent"


class CallbackDescribe(State):
    """The caller may leave the matter for the agent who calls back: a recording after a tone (any key or
    silence ends it). A recording problem never costs the caller the callback."""

    name = "callback_describe"

    async def run(self, call: Call) -> str | None:
        overflow, entry = call.flow.overflow, call.flow.entry
        key = await call.play(overflow.callback_describe, ALL_KEYS)
        if key:
            return "callback_register"
        path = f"{entry.record_dir.rstrip('/')}/{_safe(call.linkedid or call.uniqueid or 'call')}-description"
        call.description_file = f"{path}.{entry.record_format}"
        try:
            _, samples = await call.channel.record_file(
                path, entry.record_format, ALL_KEYS, overflow.callback_describe_seconds * 1000,
                silence_s=entry.silence_seconds)
        except AgiCommandError as exc:
            log.error("callback description not recorded on %s: %s", call.uniqueid, exc)
            call.description_file, call.detail["record_error"] = None, str(exc)
            return "callback_register"
        call.detail["description_samples"] = samples
        return "callback_register"


class CallbackRegister(State):
    """The task is written in the background (retried if the store is away); the caller hears it is done."""

    name = "callback_register"

    async def run(self, call: Call) -> str | None:
        deps, number = call.deps, call.callback_number or ""
        values = {"number": number, "caller": call.caller, "linkedid": call.linkedid,
                  "reason": call.detail.get("overflow", "overflow"), "requested_at": deps.clock()}
        deps.retry.submit("callback task", lambda: deps.store.create_callback(**values), **values)
        call.outcome = "callback"
        call.detail["callback_number"] = number
        await call.channel.set_variable("HOTLINE_ENTRY_OUTCOME", "callback")  # not an abandon, for the KPIs
        await call.play(call.flow.overflow.registered)
        await call.channel.hangup()
        return None


class Progress(State):
    """工单进度查询: only to the number that filed the ticket; anything else → a person."""

    name = "progress"

    async def run(self, call: Call) -> str | None:
        progress, deps = call.flow.progress, call.deps
        digits = (await call.channel.get_data(deps.prompts.sound(progress.enter_number), progress.timeout_ms,
                                              progress.max_digits)).strip("#*")
        if not digits.isdigit():
            return "progress" if call.tries("progress") < progress.attempts else "to_agent"
        try:
            ticket = await deps.store.ticket(digits)
        except Exception as exc:  # store away or slow: a person can help
            call.detail["progress"] = f"lookup failed ({exc.__class__.__name__})"
            return "to_agent"
        if ticket is None:
            await call.play(progress.not_found)
            return "progress" if call.tries("progress") < progress.attempts else "to_agent"
        call.detail["progress_ticket"] = digits
        if call.caller is None or ticket.caller_number != call.caller:
            call.detail["progress"] = "not-the-caller"
            await call.play(progress.not_yours)
            return "to_agent"
        call.ticket_number = ticket.number
        await call.channel.set_variable("HOTLINE_TICKET_ID", ticket.number)
        await call.play(f"{progress.status_prefix}{ticket.status}")
        if ticket.status in DONE and ticket.reply_text:
            sound = await deps.speaker.speak(ticket.reply_text[:progress.reply_max_chars])
            if sound is not None:
                await call.play(progress.reply_intro)
                await call.channel.stream_file(sound)
        call.detail["progress"] = ticket.status
        await call.play(progress.done)
        return "to_agent"


class ToAgent(State):
    name = "to_agent"

    async def run(self, call: Call) -> str | None:
        call.queue = call.queue or call.flow.entry.queue
        call.outcome = call.outcome or "queue"
        await call.channel.set_variable("HOTLINE_QUEUE", call.queue)
        if call.description_file:
            await call.channel.set_variable("HOTLINE_DESCRIPTION_FILE", call.description_file)
        if call.flow.entry.to_agent:
            await call.play(call.flow.entry.to_agent)
        return None


STATES: dict[str, State] = {s.name: s for s in (
    Greeting(), Describe(), Understand(), Emergency(), Route(), RepeatLimited(), Overflow(),
    CallbackConfirm(), CallbackEnter(), CallbackDescribe(), CallbackRegister(), Progress(), ToAgent())}


async def identify(call: Call) -> None:
    call.linkedid = await call.channel.get_variable("CHANNEL(linkedid)") or call.uniqueid
    call.speech_id = await call.channel.get_variable("HOTLINE_SPEECH_ID")


async def voice_entry(channel: AgiChannel, deps: IvrDeps) -> None:
    """The FastAGI handler of ``agi://…/voice-entry``."""
    call = Call.from_channel(channel, deps)
    try:
        await run_states(call, STATES, "greeting", identify)
    finally:
        if call.caller is not None and call.emergency is None:  # the repeat rule never counts emergencies
            deps.recent_calls.add(call.caller, call.started_at)
