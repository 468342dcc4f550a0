"""The voice survey (回访, AGI script ``survey``): an outbound call the call-control layer originated.

The ticket number comes in the channel variable ``HOTLINE_TICKET_ID``. The caller rates with one key,
1 非常满意 … 5 非常不满意, and the answer goes into the same survey model as an SMS reply
(``SurveyService.record_answer(number, level, channel="voice")``).

    ask ─1..5─▶ record ─▶ (hang up)
     └─no key / other key─▶ ask again (flow.survey.attempts) ─▶ (hang up, nothing recorded)
"""

from __future__ import annotations

import logging

from gateway.tickets.schemas import SatisfactionLevel
from ivr.agi import AgiChannel
from ivr.machine import Call, IvrDeps, State, run_states

log = logging.getLogger(__name__)

LEVELS = {
    "1": SatisfactionLevel.VERY_SATISFIED,
    "2": SatisfactionLevel.SATISFIED,
    "3": SatisfactionLevel.BASICALLY_SATISFIED,
    "4": SatisfactionLevel.DISSATISFIED,
    "5": SatisfactionLevel.VERY_DISSATISFIED,
}
RATING_KEYS = "".join(LEVELS)


class Ask(State):
    name = "ask"

    async def run(self, call: Call) -> str | None:
        survey = call.flow.survey
        key = (await call.play(survey.intro, RATING_KEYS)
               or await call.play_digits(call.ticket_number or "", RATING_KEYS)
               or await call.play(survey.question, RATING_KEYS)
               or await call.channel.wait_for_digit(survey.timeout_ms))
        if key in LEVELS:
            call.detail["level"] = LEVELS[key].value
            return "record"
        call.detail.setdefault("invalid_keys", []).append(key or "timeout")
        if call.tries("ask") >= survey.attempts:
            call.outcome = "no-answer"
            await call.channel.hangup()
            return None
        await call.play(survey.invalid)
        return "ask"


class Record(State):
    """Recorded in the background (retried if the store is away); the caller hears thanks at once."""

    name = "record"

    async def run(self, call: Call) -> str | None:
        deps, number = call.deps, call.ticket_number or ""
        level = SatisfactionLevel(call.detail["level"])
        surveys = deps.surveys
        if surveys is None:
            call.outcome = "not-recorded"
            log.error("voice survey answer for %s not recorded: no survey service wired", number)
        else:
            deps.retry.submit("voice survey answer",
                              lambda: surveys.record_answer(number, level, channel="voice"),
                              ticket=number, level=level.value)
            call.outcome = "answered"
        await call.play(call.flow.survey.thanks)
        await call.channel.hangup()
        return None




async def identify(call: Call) -> None:
    call.linkedid = await call.channel.get_variable("CHANNEL(linkedid)") or call.uniqueid
    call.ticket_number = await call.channel.get_variable("HOTLINE_TICKET_ID")


class NoTicket(State):
    """Originated without HOTLINE_TICKET_ID: nothing to ask about."""

    name = "no-ticket"

    async def run(self, call: Call) -> str | None:
        log.error("voice survey on %s without HOTLINE_TICKET_ID", call.uniqueid)
        call.outcome = "no-ticket"
        await call.channel.hangup()
        return None


class Start(State):
    name = "start"

    async def run(self, call: Call) -> str | None:
        return "ask" if call.ticket_number else "no-ticket"


async def voice_survey(channel: AgiChannel, deps: IvrDeps) -> None:
    """The FastAGI handler of ``agi://…/survey``."""
    await run_states(Call.from_channel(channel, deps), STATES, "start", identify)


STATES: dict[str, State] = {s.name: s for s in (Start(), Ask(), Record(), NoTicket())}
