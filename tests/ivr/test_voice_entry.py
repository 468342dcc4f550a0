"""The voice entry as a caller meets it, driven over the real FastAGI wire format."""

from __future__ import annotations

import pytest

from ivr.ports import QueueState
from tests.ivr.conftest import Ivr
from tests.ivr.fake_asterisk import FakeCaller

CALLER = "+8613800138000"


async def test_silence_leads_through_greeting_and_description_to_a_person(ivr: Ivr) -> None:
    ivr.text.said = "幸福路的路灯坏了三天了"
    caller = await FakeCaller().call(ivr.port)

    assert caller.prompts == ["greeting", "describe", "to_agent"]
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"
    recording = caller.variables["HOTLINE_DESCRIPTION_FILE"]
    assert recording == "/var/spool/asterisk/monitor/hotline/ivr/1763600000.1-description.wav"
    assert any(c.startswith("RECORD FILE /var/spool/asterisk/monitor/hotline/ivr/1763600000.1-description wav")
               and "BEEP s=3" in c for c in caller.commands)
    [session] = await ivr.sessions()
    assert (session.caller, session.linkedid, session.outcome, session.queue) == (
        CALLER, "1763600000.1", "queue", "hotline")
    assert session.path == ["greeting", "describe", "understand", "route", "to_agent"]
    assert session.description_file == recording
    assert session.description_text == "幸福路的路灯坏了三天了"
    assert ivr.bus_events[-1].kind == "ivr.session_ended"
    assert ivr.bus_events[-1].data["description_file"] == recording


async def test_off_hours_greeting_says_the_line_is_open_round_the_clock(ivr: Ivr, clock) -> None:
    clock.set("2026-11-21T22:30")  # a Saturday night
    caller = await FakeCaller().call(ivr.port)
    assert caller.prompts[:2] == ["greeting", "greeting_off_hours"]


@pytest.mark.parametrize("where", ["greeting", "describe"])
@pytest.mark.parametrize("key", ["0", "5", "#"])
async def test_any_key_goes_straight_on_to_the_queue(ivr: Ivr, where: str, key: str) -> None:
    caller = await FakeCaller(keys={where: key}).call(ivr.port)
    assert not any(c.startswith("RECORD FILE") for c in caller.commands)
    assert caller.prompts[-1] == "to_agent"
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"


async def test_a_key_during_the_recording_ends_it_and_goes_to_the_queue(ivr: Ivr) -> None:
    caller = await FakeCaller(record_key="0").call(ivr.port)
    assert caller.prompts == ["greeting", "describe", "to_agent"]
    [session] = await ivr.sessions()
    assert session.description_file is not None
    assert session.path[-2:] == ["route", "to_agent"]


async def test_withheld_number_is_served_and_saved_as_given(ivr: Ivr) -> None:
    caller = await FakeCaller(callerid="").call(ivr.port)
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"
    [session] = await ivr.sessions()
    assert session.caller is None


@pytest.mark.parametrize("flow_languages", [True])
async def test_a_language_key_routes_to_the_language_queue(ivr_with_language: Ivr, flow_languages: bool) -> None:
    caller = await FakeCaller(keys={"greeting": "2"}).call(ivr_with_language.port)
    assert caller.variables["HOTLINE_QUEUE"] == "hotline-en"
    assert "describe" not in caller.prompts


# ---- overflow and faults ------------------------------------------------------------------------

@pytest.mark.parametrize("state, reason", [
    (QueueState(agents_logged_in=0, estimated_wait_seconds=0), "no-agents"),
    (QueueState(agents_logged_in=4, estimated_wait_seconds=600), "long-wait"),
    (QueueState(agents_logged_in=4, estimated_wait_seconds=5, full=True), "queue-full"),
])
async def test_overflow_offers_a_callback_to_the_confirmed_caller_id(ivr: Ivr, state: QueueState,
                                                                     reason: str) -> None:
    ivr.queue.now = state
    caller = await FakeCaller(keys={"overflow_offer": "1", "callback_confirm_keys": "1"}).call(ivr.port)

    assert caller.prompts[:4] == ["greeting", "describe", "overflow_offer", "callback_confirm_number"]
    # The number is read back digit by digit before the caller confirms it.
    assert caller.prompts[4:15] == [f"digit_{d}" for d in "13800138000"]
    assert caller.prompts[-2:] == ["callback_confirm_keys", "callback_registered"]
    assert caller.commands[-1] == "HANGUP"
    [task] = await ivr.callbacks()
    assert (task.number, task.caller, task.reason, task.status) == (CALLER, CALLER, reason, "pending")
    [session] = await ivr.sessions()
    assert session.outcome == "callback"


async def test_callback_to_another_number_keyed_by_the_caller(ivr: Ivr) -> None:
    ivr.queue.now = QueueState(agents_logged_in=0, estimated_wait_seconds=0)
    caller = await FakeCaller(keys={"overflow_offer": "1", "callback_confirm_keys": ["2", "1"]},
                              data={"callback_enter_number": "13900139000#"}).call(ivr.port)
    assert "callback_enter_number" in caller.prompts
    [task] = await ivr.callbacks()
    assert task.number == "+8613900139000"


async def test_an_invalid_callback_number_is_asked_again_then_a_person_takes_over(ivr: Ivr) -> None:
    ivr.queue.now = QueueState(agents_logged_in=0, estimated_wait_seconds=0)
    caller = await FakeCaller(callerid="", keys={"overflow_offer": "1"},
                              data={"callback_enter_number": ["123", "99"]}).call(ivr.port)
    assert caller.prompts.count("callback_invalid_number") == 2
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"
    assert await ivr.callbacks() == []


async def test_overflow_without_a_key_still_reaches_the_queue(ivr: Ivr) -> None:
    ivr.queue.now = QueueState(agents_logged_in=0, estimated_wait_seconds=0)
    caller = await FakeCaller().call(ivr.port)
    assert caller.prompts[-2:] == ["overflow_offer", "to_agent"]
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"


async def test_unknown_queue_state_never_holds_a_caller_back(ivr: Ivr) -> None:
    ivr.queue.now = None
    caller = await FakeCaller().call(ivr.port)
    assert "overflow_offer" not in caller.prompts
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"
