"""Self-service over the phone: a ticket's progress for the number that filed it; the voice survey."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.surveys.models import Survey
from gateway.tickets.schemas import SYSTEM
from tests.ivr.conftest import Ivr
from tests.ivr.fake_asterisk import FakeCaller
from tests.tickets.support import AGENT, complaint


async def test_progress_is_read_to_the_number_that_filed_the_ticket(ivr: Ivr) -> None:
    ticket = await ivr.tickets.create(complaint(), SYSTEM)
    caller = await FakeCaller(keys={"greeting": "1"}, data={"progress_enter_number": f"{ticket.number}#"}
                              ).call(ivr.port)
    assert caller.prompts == ["greeting", "progress_enter_number", "progress_status_new", "progress_done",
                              "to_agent"]
    assert caller.variables["HOTLINE_TICKET_ID"] == ticket.number
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"  # self-service ends with a person
    [session] = await ivr.sessions()
    assert session.ticket_number == ticket.number and session.detail["progress"] == "new"


async def test_a_finished_ticket_has_its_reply_read_back(ivr: Ivr) -> None:
    ticket = await ivr.tickets.create(complaint(), SYSTEM)
    await ivr.tickets.resolve_on_call(ticket.number, AGENT, "路灯已由城管局于11月17日修复。")
    caller = await FakeCaller(keys={"greeting": "1"}, data={"progress_enter_number": ticket.number}
                              ).call(ivr.port)
    assert caller.prompts[2:4] == ["progress_status_surveying", "progress_reply_intro"]
    assert ivr.speaker.spoken == ["路灯已由城管局于11月17日修复。"]
    assert any(c.startswith("STREAM FILE /tts/1") for c in caller.commands)


async def test_another_number_is_told_to_ask_an_agent(ivr: Ivr) -> None:
    ticket = await ivr.tickets.create(complaint(), SYSTEM)
    caller = await FakeCaller(callerid="13900139000", keys={"greeting": "1"},
                              data={"progress_enter_number": ticket.number}).call(ivr.port)
    assert caller.prompts == ["greeting", "progress_enter_number", "progress_not_yours", "to_agent"]
    assert "HOTLINE_TICKET_ID" not in caller.variables
    assert not any(p.startswith("progress_status_") for p in caller.prompts)


async def test_a_withheld_number_hears_no_ticket(ivr: Ivr) -> None:
    ticket = await ivr.tickets.create(complaint(), SYSTEM)
    caller = await FakeCaller(callerid="", keys={"greeting": "1"},
                              data={"progress_enter_number": ticket.number}).call(ivr.port)
    assert "progress_not_yours" in caller.prompts


async def test_an_unknown_number_is_asked_again_then_a_person_helps(ivr: Ivr) -> None:
    caller = await FakeCaller(keys={"greeting": "1"},
                              data={"progress_enter_number": ["2026111699999", "2026111699998"]}).call(ivr.port)
    assert caller.prompts.count("progress_not_found") == 2
    assert caller.prompts[-1] == "to_agent"


async def test_nothing_keyed_ends_with_a_person(ivr: Ivr) -> None:
    caller = await FakeCaller(keys={"greeting": "1"}).call(ivr.port)
    assert caller.prompts == ["greeting", "progress_enter_number", "progress_enter_number", "to_agent"]


# ---- the voice survey --------------------------------------------------------------------------

async def _replied_ticket(ivr: Ivr) -> str:
    ticket = await ivr.tickets.create(complaint(), SYSTEM)
    await ivr.tickets.resolve_on_call(ticket.number, AGENT, "已答复")
    return ticket.number


async def _surveys(ivr: Ivr) -> list[Survey]:
    await ivr.settle()
    async with ivr.store.sessions() as s:
        return list(await s.scalars(select(Survey)))


@pytest.mark.parametrize("script", ["survey", "voice-survey"])
async def test_a_rating_key_is_recorded_in_the_survey_model(ivr: Ivr, script: str) -> None:
    number = await _replied_ticket(ivr)
    caller = await FakeCaller(script=script, variables={"HOTLINE_TICKET_ID": number},
                              keys={"survey_question": "2"}).call(ivr.port)
    assert caller.prompts[0] == "survey_intro"
    assert caller.prompts[1:-2] == [f"digit_{d}" for d in number]  # the ticket number, digit by digit
    assert caller.prompts[-1] == "survey_thanks" and caller.commands[-1] == "HANGUP"
    [survey] = await _surveys(ivr)
    assert (survey.channel, survey.level, survey.status, survey.outcome) == (
        "voice", "satisfied", "answered", "closed")
    assert (await ivr.tickets.get(number)).status == "closed"


async def test_a_wrong_key_is_asked_again(ivr: Ivr) -> None:
    number = await _replied_ticket(ivr)
    caller = await FakeCaller(script="survey", variables={"HOTLINE_TICKET_ID": number},
                              keys={"survey_question": ["8", ""]}, waits=["4"]).call(ivr.port)
    assert "survey_invalid" in caller.prompts
    [survey] = await _surveys(ivr)
    assert (survey.channel, survey.level) == ("voice", "dissatisfied")


async def test_no_answer_records_nothing(ivr: Ivr) -> None:
    number = await _replied_ticket(ivr)
    caller = await FakeCaller(script="survey", variables={"HOTLINE_TICKET_ID": number}).call(ivr.port)
    assert caller.prompts.count("survey_question") == 2
    assert await _surveys(ivr) == []
    [session] = await ivr.sessions()
    assert (session.script, session.outcome) == ("survey", "no-answer")


async def test_a_survey_call_without_a_ticket_hangs_up_and_is_logged(ivr: Ivr) -> None:
    caller = await FakeCaller(script="survey").call(ivr.port)
    assert caller.commands[-1] == "HANGUP" and caller.prompts == []
    [session] = await ivr.sessions()
    assert session.outcome == "no-ticket"


async def test_an_answer_to_a_closed_survey_is_refused_without_retrying(ivr: Ivr) -> None:
    number = await _replied_ticket(ivr)
    for key in ("1", "5"):
        await FakeCaller(script="survey", variables={"HOTLINE_TICKET_ID": number},
                         keys={"survey_question": key}).call(ivr.port)
        await ivr.settle()
    [survey] = await _surveys(ivr)
    assert survey.level == "very_satisfied"
    assert ivr.service.deps.retry.pending == 0
