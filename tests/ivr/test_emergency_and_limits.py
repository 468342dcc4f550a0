"""Emergencies go out at once whatever else is true; repeat callers meet a supervisor, on the record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.tickets.schemas import SYSTEM
from ivr.emergency import EmergencyWords
from ivr.ports import QueueState
from ivr.store import IvrStore
from tests.ivr.conftest import BrokenStore, Ivr
from tests.ivr.fake_asterisk import FakeCaller
from tests.tickets.support import complaint

CALLER = "+8613800138000"


@pytest.mark.parametrize("said, trunk", [
    ("我家楼下着火了，有人被困", "119"),
    ("我爸突然晕倒了叫不醒", "120"),
    ("有人持刀抢劫", "110"),
    ("路口发生车祸，有人受伤流血", "122"),
])
async def test_emergency_words_transfer_to_the_right_trunk_and_log_a_ticket(
        ivr: Ivr, said: str, trunk: str) -> None:
    ivr.text.said = said
    caller = await FakeCaller().call(ivr.port)

    assert caller.goto == ("hotline-transfer", trunk, "1")
    assert caller.variables["HOTLINE_EMERGENCY"] == trunk
    assert "HOTLINE_QUEUE" not in caller.variables
    assert caller.prompts[-1] == f"emergency_transfer_{trunk}"
    [session] = await ivr.sessions()
    assert (session.outcome, session.emergency) == ("emergency", trunk)
    ticket = await ivr.tickets.get(session.ticket_number)
    assert (ticket.channel, ticket.urgent, ticket.category, ticket.caller_number) == ("phone", True, "help", CALLER)
    assert ticket.content.startswith(f"紧急转接{trunk}") and said in ticket.content
    [link] = await ivr.tickets.links(ticket.number)
    assert (link.kind, link.ref) == ("call", "1763600000.1")


async def test_the_emergency_key_transfers_without_waiting_for_a_description(ivr: Ivr) -> None:
    caller = await FakeCaller(keys={"greeting": "9"}).call(ivr.port)
    assert caller.prompts == ["greeting", "emergency_transfer_110"]
    assert caller.goto == ("hotline-transfer", "110", "1")
    [session] = await ivr.sessions()
    assert session.detail["emergency_trigger"] == "key 9"


async def test_emergencies_skip_full_queues_and_repeat_limits(ivr: Ivr, clock) -> None:
    ivr.queue.now = QueueState(agents_logged_in=0, estimated_wait_seconds=900, full=True)
    for _ in range(6):
        await FakeCaller().call(ivr.port)
        clock.advance(minutes=1)
    ivr.text.said = "厨房起火了"
    caller = await FakeCaller().call(ivr.port)
    assert caller.goto == ("hotline-transfer", "119", "1")
    assert "overflow_offer" not in caller.prompts and "repeat_notice" not in caller.prompts


@pytest.fixture
def store_cls() -> type[IvrStore]:
    return BrokenStore  # tests below cut the store off with ``ivr.store.broken = True``


async def test_with_the_store_away_the_transfer_happens_and_the_log_follows(ivr: Ivr) -> None:
    ivr.store.broken = True  # type: ignore[attr-defined]
    ivr.text.said = "着火了"
    caller = await FakeCaller().call(ivr.port)
    assert caller.goto == ("hotline-transfer", "119", "1")
    assert ivr.service.deps.retry.pending >= 1  # the ticket and the session wait for the store

    ivr.store.broken = False  # type: ignore[attr-defined]
    [session] = await ivr.sessions()
    ticket = await ivr.tickets.get(session.ticket_number)
    assert ticket.urgent and ticket.title == "紧急转接119"


async def test_with_the_store_away_callers_hear_the_fault_offer_and_keep_their_callback(ivr: Ivr) -> None:
    ivr.store.broken = True  # type: ignore[attr-defined]
    caller = await FakeCaller(keys={"overflow_fault": "1", "callback_confirm_keys": "1"}).call(ivr.port)
    assert "overflow_fault" in caller.prompts and caller.prompts[-1] == "callback_registered"

    ivr.store.broken = False  # type: ignore[attr-defined]
    [task] = await ivr.callbacks()
    assert (task.number, task.reason) == (CALLER, "store-unreachable")
    [session] = await ivr.sessions()
    assert session.outcome == "callback"


def test_the_earliest_word_decides_and_spaces_from_the_asr_do_not_hide_words() -> None:
    words = EmergencyWords({"122": ["车祸"], "120": ["受伤流血", "晕倒"], "119": ["着火"]})
    assert words.match("车祸 了 有人 受伤流血").service == "122"  # type: ignore[union-attr]
    assert words.match("着 火 了").word == "着火"  # type: ignore[union-attr]
    assert words.match("路灯坏了") is None
    assert words.match(None) is None


# ---- repeat callers (庆阳 第三十三条, 汉滨 第二十八条) ------------------------------------------------

async def _call_times(ivr: Ivr, clock, n: int, **kw: object) -> FakeCaller:
    caller = FakeCaller()
    for _ in range(n):
        caller = await FakeCaller(**kw).call(ivr.port)  # type: ignore[arg-type]
        await ivr.settle()
        clock.advance(minutes=2)
    return caller


async def test_a_number_flooding_the_line_meets_a_notice_and_the_supervisor_queue(ivr: Ivr, clock) -> None:
    fifth = await _call_times(ivr, clock, 5)
    assert "repeat_notice" in fifth.prompts
    assert fifth.variables["HOTLINE_QUEUE"] == "hotline-supervisor"
    [decision] = await ivr.repeat_decisions()
    assert (decision.caller, decision.calls_in_window, decision.tickets_in_window, decision.decision,
            decision.queue) == (CALLER, 5, 0, "limited", "hotline-supervisor")
    sessions = await ivr.sessions()
    assert sessions[-1].outcome == "repeat-limited"


async def test_calls_outside_the_window_do_not_count(ivr: Ivr, clock) -> None:
    await _call_times(ivr, clock, 4)
    clock.advance(hours=2)
    caller = await FakeCaller().call(ivr.port)
    assert caller.variables["HOTLINE_QUEUE"] == "hotline"
    assert await ivr.repeat_decisions() == []


async def test_a_caller_bringing_a_new_matter_is_not_limited_but_the_decision_is_logged(ivr: Ivr, clock) -> None:
    await ivr.tickets.create(complaint(), SYSTEM)  # filed by this number within the window
    fifth = await _call_times(ivr, clock, 5)
    assert fifth.variables["HOTLINE_QUEUE"] == "hotline"
    [decision] = await ivr.repeat_decisions()
    assert (decision.decision, decision.tickets_in_window) == ("new-matter", 1)


async def test_whitelisted_numbers_are_never_limited(ivr: Ivr, clock) -> None:
    ivr.service.deps.flow = ivr.service.deps.flow.model_copy(update={
        "repeat": ivr.service.deps.flow.repeat.model_copy(update={"whitelist": [CALLER]})})
    fifth = await _call_times(ivr, clock, 5)
    assert fifth.variables["HOTLINE_QUEUE"] == "hotline"
    [decision] = await ivr.repeat_decisions()
    assert decision.decision == "whitelisted"


async def test_the_rule_can_be_switched_off(ivr: Ivr, clock) -> None:
    ivr.service.deps.flow = ivr.service.deps.flow.model_copy(update={
        "repeat": ivr.service.deps.flow.repeat.model_copy(update={"enabled": False})})
    fifth = await _call_times(ivr, clock, 6)
    assert fifth.variables["HOTLINE_QUEUE"] == "hotline"
    assert await ivr.repeat_decisions() == []
    assert len(await ivr.sessions()) == 6
    assert all(s.started_at >= clock.now - timedelta(minutes=12) for s in await ivr.sessions())


async def test_emergency_words_the_caller_negates_or_puts_in_the_past_go_to_a_person(ivr: Ivr) -> None:
    ivr.text.said = "上次着火的事想问一下处理得怎么样了"
    caller = await FakeCaller().call(ivr.port)
    assert caller.goto is None and caller.variables["HOTLINE_QUEUE"] == "hotline"
    [session] = await ivr.sessions()
    assert (session.outcome, session.emergency) == ("queue", None)


async def test_an_uncertain_asr_emergency_goes_straight_to_a_person_flagged_not_to_the_trunk(ivr: Ivr) -> None:
    ivr.text.said = "楼道里好多农烟"  # 浓烟 as the ASR may hear it: a weak word, heard only by its sound
    caller = await FakeCaller().call(ivr.port)
    assert caller.goto is None
    assert caller.variables["HOTLINE_EMERGENCY_SUSPECTED"] == "119"
    assert caller.variables["HOTLINE_QUEUE"] == "hotline" and caller.prompts[-1] == "to_agent"
    [session] = await ivr.sessions()
    assert session.outcome == "queue" and session.detail["emergency_suspected"]["service"] == "119"
    assert session.path == ["greeting", "describe", "understand", "to_agent"]
