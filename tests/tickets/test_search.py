"""Ticket search and the workspace's worklists, on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway.errors import Unprocessable
from gateway.policies import Duration
from gateway.tickets.schemas import SYSTEM, SatisfactionLevel
from gateway.tickets.search import Moment, SearchQuery, search, worklist_counts
from gateway.tickets.service import TicketService
from gateway.tickets.views import Audience
from tests.tickets.support import ADMIN, AGENT, WATER, FakeClock, complaint

PLATFORM = Audience("agent", "a1001")


def moment(service: TicketService, now: datetime) -> Moment:
    return Moment(now, service.sla.calendar.add(now, Duration(amount=1, unit="working_days")))


async def found(service: TicketService, clock: FakeClock, audience: Audience = PLATFORM, **query: Any) -> list[str]:
    async with service.sessions() as session:
        tickets, _ = await search(session, SearchQuery(**query), audience, moment(service, clock.now),
                                  service.pack_category(query["category"]) if "category" in query else None)
    return [t.number for t in tickets]


async def counts(service: TicketService, clock: FakeClock, audience: Audience = PLATFORM) -> dict[str, int]:
    async with service.sessions() as session:
        return await worklist_counts(session, audience, moment(service, clock.now))


async def dispatched(service: TicketService, **overrides: object) -> str:
    t = await service.create(complaint(**overrides), AGENT)
    await service.accept(t.number, AGENT)
    await service.dispatch(t.number, AGENT, "water")
    return t.number


async def test_a_returned_and_approved_ticket_waits_in_to_dispatch_beside_fresh_accepted_ones(
        service: TicketService, clock: FakeClock) -> None:
    fresh = await service.create(complaint(caller_number="13900000001"), AGENT)
    await service.accept(fresh.number, AGENT)
    returned = await dispatched(service, caller_number="13900000002")
    await service.request_return(returned, WATER, "不属于本单位职责", "三定方案")
    assert returned in await found(service, clock, worklist="to_review")
    assert returned not in await found(service, clock, worklist="to_dispatch")
    await service.review_return(returned, ADMIN, approve=True, note="同意退回")
    assert sorted(await found(service, clock, worklist="to_dispatch")) == sorted([fresh.number, returned])
    assert (await counts(service, clock))["to_dispatch"] == 2
    assert (await counts(service, clock))["to_review"] == 0


async def test_to_review_holds_replies_and_every_pending_request(service: TicketService, clock: FakeClock) -> None:
    extended = await dispatched(service, caller_number="13900000001")
    await service.sign(extended, WATER)
    await service.request_extension(extended, WATER, 1, "需要协调")
    replied = await dispatched(service, caller_number="13900000002")
    await service.sign(replied, WATER)
    await service.reply(replied, WATER, "已修复", [])
    quiet = await dispatched(service, caller_number="13900000003")
    assert sorted(await found(service, clock, worklist="to_review")) == sorted([extended, replied])
    assert quiet not in await found(service, clock, worklist="to_review")


async def test_deadlines_sort_tickets_into_due_soon_and_overdue_in_working_time(
        service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service)
    ticket = await service.get(number)
    assert ticket.sign_by is not None
    clock.now = ticket.sign_by - timedelta(minutes=5)
    assert await found(service, clock, worklist="due_soon") == [number]
    assert await found(service, clock, sla="due_soon") == [number]
    assert await found(service, clock, worklist="overdue") == []
    clock.now = ticket.sign_by + timedelta(minutes=5)
    assert await found(service, clock, worklist="overdue") == [number]
    assert await found(service, clock, worklist="due_soon") == []
    await service.sign(number, WATER)  # late, but signed: only the handling clock is left
    assert await found(service, clock, worklist="overdue") == []


async def test_supervised_reopened_and_same_caller_worklists(service: TicketService, clock: FakeClock) -> None:
    supervised = await dispatched(service, caller_number="13900000001")
    await service.supervise(supervised, ADMIN, 2, "督办：请加快办理")
    reopened = await dispatched(service, caller_number="13900000002")
    await service.sign(reopened, WATER)
    await service.reply(reopened, WATER, "已处理", [])
    await service.review_reply(reopened, ADMIN, approve=True, note="可以")
    await service.record_survey(reopened, SYSTEM, SatisfactionLevel.DISSATISFIED, unit_at_fault=True)
    first = await service.create(complaint(caller_number="13900000003"), AGENT)
    second = await service.create(complaint(caller_number="13900000003"), AGENT)
    lists = await counts(service, clock)
    assert await found(service, clock, worklist="supervised") == [supervised]
    assert await found(service, clock, worklist="survey_failed") == [reopened]
    assert sorted(await found(service, clock, worklist="to_merge")) == sorted([first.number, second.number])
    assert (lists["supervised"], lists["survey_failed"], lists["to_merge"]) == (1, 1, 2)


async def test_search_filters_combine(service: TicketService, clock: FakeClock) -> None:
    lamp = await service.create(complaint(caller_number="13900000001", content="幸福路路灯不亮"), AGENT)
    clock.advance(days=1)
    water = await service.create(complaint(caller_number="139-0000-0002", category="求助", channel="web",
                                           content="停水两天了", elements={"matter": "停水", "matter_code": "W01"}),
                                 AGENT)
    assert await found(service, clock, caller="13900000001") == [lamp.number]
    assert await found(service, clock, caller="139 0000 0002") == [water.number]
    assert await found(service, clock, text="路灯") == [lamp.number]
    assert await found(service, clock, text="%") == []  # LIKE wildcards are the words themselves
    assert await found(service, clock, category="求助") == [water.number]
    assert await found(service, clock, channel="web") == [water.number]
    assert await found(service, clock, matter="W01") == [water.number]
    assert await found(service, clock, matter="停水") == [water.number]
    assert await found(service, clock, number=lamp.number) == [lamp.number]
    assert await found(service, clock, number=lamp.number[:8]) == [lamp.number]
    assert await found(service, clock, end=clock.now - timedelta(hours=1)) == [lamp.number]
    assert await found(service, clock, start=clock.now - timedelta(hours=1)) == [water.number]
    assert await found(service, clock, status="new", text="停水") == [water.number]
    assert await found(service, clock, status="accepted") == []


async def test_paging_says_whether_there_is_more(service: TicketService, clock: FakeClock) -> None:
    numbers = [(await service.create(complaint(), AGENT)).number for _ in range(3)]
    async with service.sessions() as session:
        page, more = await search(session, SearchQuery(limit=2), PLATFORM, moment(service, clock.now), None)
        last, no_more = await search(session, SearchQuery(limit=2, offset=2), PLATFORM, moment(service, clock.now),
                                     None)
    assert [t.number for t in page] == numbers[:0:-1] and more
    assert [t.number for t in last] == numbers[:1] and not no_more


async def test_a_unit_finds_only_its_tickets_and_never_by_caller_number(service: TicketService,
                                                                         clock: FakeClock) -> None:
    mine = await dispatched(service)
    other = (await service.create(complaint(), AGENT)).number
    unit = Audience("unit", "water")
    assert await found(service, clock, unit, text="路灯") == [mine]
    assert other in await found(service, clock, text="路灯")
    with pytest.raises(Unprocessable):
        await found(service, clock, unit, caller="13800138000")


def test_bad_queries_are_refused_before_any_search() -> None:
    for bad in ({"status": "nonsense"}, {"start": "2026-11-01T00:00:00"}, {"number": "12ab"}, {"limit": 0},
                {"worklist": "everything"}):
        with pytest.raises(ValueError):
            SearchQuery(**bad)  # type: ignore[arg-type]


async def test_a_unit_cannot_confirm_masked_caller_data_or_hidden_words_by_searching(
        service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, content="幸福路路灯坏了，请回电13912345678，我叫欧阳娜娜",
                              caller_name="欧阳娜娜")
    secret = (await service.create(complaint(content="举报化工厂偷排废水", confidential=True), AGENT)).number
    await service.accept(secret, AGENT)
    await service.dispatch(secret, AGENT, "water", assisting=["roads"])
    unit = Audience("unit", "water")
    assert await found(service, clock, unit, text="路灯") == [number]
    assert await found(service, clock, unit, text="13912345678") == []
    assert await found(service, clock, unit, text="欧阳") == []
    assert await found(service, clock, unit, text="偷排") == [secret]  # the lead unit reads its content
    assert await found(service, clock, Audience("unit", "roads"), text="偷排") == []  # an assisting one does not
    assert await found(service, clock, text="欧阳") == [number]


async def test_the_text_index_follows_edits_and_finds_any_length_of_words(service: TicketService,
                                                                          clock: FakeClock) -> None:
    t = await service.create(complaint(content="幸福路路灯坏了", location="城关镇幸福路"), AGENT)
    await service.update(t.number, AGENT, content="和平街井盖丢失")
    assert await found(service, clock, text="路灯") == []
    assert await found(service, clock, text="井盖丢失") == [t.number]
    assert await found(service, clock, text="井") == [t.number]  # one character: no pair, scanned
    assert await found(service, clock, text="城关镇幸福路") == [t.number]  # the place is searched too
    assert await found(service, clock, text="丢失井盖") == []  # the pairs in order, not just all of them
