"""Units submit, the platform reviews and publishes, every change is versioned; questions and reminders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound
from kb.service import KnowledgeBase
from tests.kb.conftest import ADMIN, AGENT, HOUSING, START, WATER, Clock, WorkingDayCalendar, content, publish


async def found(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.entry.id for hit in await kb.search.search(query)]


async def test_a_units_entry_is_searchable_only_after_the_platform_approves_it(kb: KnowledgeBase) -> None:
    change = await kb.submit(WATER, "create", entry_id="water-outage", content=content())
    assert change.status == "pending"
    assert await found(kb, "停水") == []

    approved = await kb.approve(ADMIN, change.id, "核对无误")
    assert approved.status == "approved" and approved.reviewed_by == ADMIN.label
    assert await found(kb, "停水") == ["water-outage"]
    entry = await kb.entry(AGENT, "water-outage")
    assert entry["version"] == 1 and entry["basis_article"] == "第二十二条"


async def test_units_act_only_within_their_own_scope(kb: KnowledgeBase) -> None:
    with pytest.raises(Forbidden) as not_yours:
        await kb.submit(HOUSING, "create", content=content(unit_id="water-company"))
    assert not_yours.value.error_id == "not-your-unit"
    with pytest.raises(Forbidden):
        await kb.submit(AGENT, "create", content=content())
    await publish(kb, "water-outage")
    with pytest.raises(Forbidden):
        await kb.submit(HOUSING, "update", entry_id="water-outage", content=content(unit_id="housing-bureau"))
    with pytest.raises(Forbidden):
        await kb.submit(HOUSING, "retire", entry_id="water-outage")
    with pytest.raises(Forbidden):
        await kb.approve(WATER, 1)
    with pytest.raises(Forbidden):
        await kb.history(HOUSING, "water-outage")
    assert [c["unit_id"] for c in await kb.changes(HOUSING)] == []


async def test_every_change_is_a_new_version_recording_who_changed_what(
    kb: KnowledgeBase, clock: Clock
) -> None:
    await kb.approve(ADMIN, (await kb.submit(WATER, "create", entry_id="w", content=content())).id)
    clock.advance(days=1)
    update = await kb.submit(WATER, "update", entry_id="w", content=content(answer="新的答复口径"))
    await kb.approve(ADMIN, update.id)
    clock.advance(days=1)
    await kb.approve(ADMIN, (await kb.submit(WATER, "retire", entry_id="w")).id)

    history = await kb.history(WATER, "w")
    assert [v["version"] for v in history] == [1, 2, 3]
    assert history[1]["changed_fields"] == ["answer"]
    assert history[1]["content"]["answer"] == "新的答复口径"
    assert "unit:clerk-1@water-company" in history[1]["changed_by"]
    assert "platform-reviewer" in history[1]["changed_by"]
    assert history[2]["changed_fields"] == ["status"]
    # Retired: out of search and hidden from agents, kept for the owner and the platform (audit).
    assert await found(kb, "停水") == []
    with pytest.raises(NotFound):
        await kb.entry(AGENT, "w")
    assert (await kb.entry(WATER, "w"))["status"] == "retired"


async def test_a_change_made_on_an_old_version_is_refused(kb: KnowledgeBase) -> None:
    await publish(kb, "w")
    first = await kb.submit(WATER, "update", entry_id="w", content=content(answer="甲"))
    second = await kb.submit(WATER, "update", entry_id="w", content=content(answer="乙"))
    await kb.approve(ADMIN, first.id)
    with pytest.raises(Conflict) as conflict:
        await kb.approve(ADMIN, second.id)
    assert conflict.value.error_id == "version-conflict"
    assert (await kb.entry(ADMIN, "w"))["answer"] == "甲"


async def test_rejection_needs_a_reason_and_closes_the_change(kb: KnowledgeBase) -> None:
    change = await kb.submit(WATER, "create", content=content())
    with pytest.raises(InvalidInput):
        await kb.reject(ADMIN, change.id, " ")
    rejected = await kb.reject(ADMIN, change.id, "依据条款不对")
    assert rejected.status == "rejected" and rejected.review_note == "依据条款不对"
    with pytest.raises(Conflict):
        await kb.approve(ADMIN, change.id)


async def test_invalid_content_is_refused_with_the_reasons(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInput) as no_basis:
        await kb.submit(WATER, "create", content=content(basis_document="", answer=""))
    assert [p.split(":")[0] for p in no_basis.value.details["problems"]] == ["answer", "basis_document"]
    with pytest.raises(InvalidInput, match="expires_at must be later"):
        await kb.submit(WATER, "create", content=content(expires_at="2025-01-01T00:00:00+08:00"))
    with pytest.raises(InvalidInput):
        await kb.submit(WATER, "create", content=content(effective_at="2026-01-01T00:00:00"))  # no offset


async def test_only_entries_in_force_are_returned(kb: KnowledgeBase, clock: Clock) -> None:
    await publish(kb, "future", effective_at=(START + timedelta(days=3)).isoformat())
    await publish(kb, "expiring", question="小区停气了找哪个单位?", tags=["停气"], alternatives=[],
                  answer="燃气公司负责抢修。",
                  expires_at=(START + timedelta(days=1)).isoformat())
    assert await found(kb, "停水") == []
    assert await found(kb, "停气") == ["expiring"]
    clock.advance(days=4)
    assert await found(kb, "停水") == ["future"]
    assert await found(kb, "停气") == []
    # The expired entry stays for audit: the platform still reads it, agents do not.
    assert (await kb.entry(ADMIN, "expiring"))["in_force"] is False
    with pytest.raises(NotFound):
        await kb.entry(AGENT, "expiring")


async def test_a_knowledge_question_is_due_after_two_working_days(kb: KnowledgeBase, clock: Clock) -> None:
    question = await kb.ask(ADMIN, "water-company", "二次供水水箱多久清洗一次?")
    # Asked on Friday: Saturday and Sunday do not count.
    assert question.due_at == START + timedelta(days=4)
    holiday_kb = KnowledgeBase(kb.sessions, kb.segmenter, clock=clock,
                               question_clock=WorkingDayCalendar(2, holidays=[date(2026, 11, 23)]))
    assert (await holiday_kb.ask(ADMIN, "water-company", "水费怎么交?")).due_at == START + timedelta(days=5)


async def test_question_reminders_go_yellow_then_red_once_each_and_stop_when_answered(
    kb: KnowledgeBase, clock: Clock, events: tuple[object, list]
) -> None:
    question = await kb.ask(ADMIN, "water-company", "二次供水水箱多久清洗一次?")
    assert await kb.scan_reminders() == []
    clock.now = question.due_at - timedelta(hours=2)
    assert [(r.kind, r.level) for r in await kb.scan_reminders()] == [("question-overdue", "yellow")]
    assert await kb.scan_reminders() == []  # made once
    clock.now = question.due_at + timedelta(minutes=1)
    assert [r.level for r in await kb.scan_reminders()] == ["red"]
    assert [q["warning_level"] for q in await kb.questions(WATER)] == ["red"]
    assert await kb.questions(HOUSING) == []
    assert any(e.kind == "kb.reminder" and e.data["unit_id"] == "water-company" for e in events[1])

    with pytest.raises(Forbidden):
        await kb.submit(HOUSING, "create", content=content(unit_id="housing-bureau"), question_id=question.id)
    answer = await kb.submit(WATER, "create", content=content(question="二次供水水箱多久清洗一次?"),
                             question_id=question.id)
    [answered] = await kb.questions(WATER)
    assert answered["status"] == "answered" and answered["warning_level"] == "normal"
    clock.advance(days=1)
    assert await kb.scan_reminders() == []
    with pytest.raises(Conflict):
        await kb.submit(WATER, "create", content=content(), question_id=question.id)
    assert answer.question_id == question.id


async def test_entries_near_expiry_or_untouched_for_long_remind_their_unit(
    kb: KnowledgeBase, clock: Clock
) -> None:
    await publish(kb, "soon", expires_at=(START + timedelta(days=10)).isoformat())
    await publish(kb, "later", expires_at=(START + timedelta(days=400)).isoformat())
    made = await kb.scan_reminders()
    assert [(r.kind, r.subject_id, r.unit_id) for r in made] == [("entry-expiring", "soon", "water-company")]
    clock.advance(days=366)
    made = await kb.scan_reminders()
    assert [(r.kind, r.subject_id) for r in made] == [("entry-stale", "later")]  # "soon" has expired
    assert len(await kb.reminders(WATER)) == 2
    assert await kb.reminders(HOUSING) == []
