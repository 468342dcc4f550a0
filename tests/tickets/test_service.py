"""The ticket lifecycle as agents, units and reviewers live it, on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.bus import DomainEvent
from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from gateway.policies import Category, Duration
from gateway.tickets.lifecycle import IllegalTransition, Status
from gateway.tickets.models import TicketEvent
from gateway.tickets.schemas import SYSTEM, SatisfactionLevel
from gateway.tickets.service import TicketService
from tests.tickets.support import ADMIN, AGENT, POWER, ROADS, WATER, FakeClock, complaint


async def dispatched(service: TicketService, clock: FakeClock, **overrides: object) -> str:
    ticket = await service.create(complaint(**overrides), AGENT)
    await service.accept(ticket.number, AGENT)
    await service.dispatch(ticket.number, AGENT, "water", assisting=["roads"])
    return ticket.number


async def test_create_numbers_the_ticket_and_normalises_the_caller(service: TicketService,
                                                                   clock: FakeClock) -> None:
    first = await service.create(complaint(), AGENT)
    second = await service.create(complaint(caller_number="0934-8612345", category="consultation"), AGENT)
    assert first.number == "2026111600001"
    assert second.number == "2026111600002"
    assert first.caller_number == "+8613800138000"
    assert second.caller_number == "+869348612345"
    assert first.category == "complaint" and second.category == "consultation"
    assert first.status == "new"
    [event] = await service.timeline(first.number)
    assert (event.action, event.actor_kind, event.actor_id, event.to_status) == ("create", "agent", "a1001", "new")


async def test_bad_input_is_refused_before_anything_is_stored(service: TicketService) -> None:
    with pytest.raises(InvalidInput, match="phone number"):
        complaint(caller_number="12")
    with pytest.raises(InvalidInput):
        await service.create(complaint(category="闲聊"), AGENT)
    with pytest.raises(NotFound):
        await service.get("2026111600001")


async def test_full_path_dispatch_sign_extend_reply_survey_close(
        service: TicketService, clock: FakeClock, events: list[DomainEvent]) -> None:
    number = await dispatched(service, clock)
    ticket = await service.get(number)
    cal, pack = service.sla.calendar, service.pack
    assert ticket.status == "dispatched"
    assert ticket.due_at == cal.add(clock.now, pack.handling_limit(Category.COMPLAINT, False))
    assert ticket.sign_by == cal.add(clock.now, pack.sign_limit(False))
    assert ticket.max_due_at is not None and ticket.max_due_at >= ticket.due_at

    clock.advance(minutes=30)
    await service.sign(number, ROADS)  # the assisting unit signs its part: the ticket is still waiting
    assert (await service.get(number)).status == "dispatched"
    ticket = await service.sign(number, WATER)
    assert ticket.status == "signed"

    clock.advance(hours=2)
    request = await service.request_extension(number, WATER, 2, "需要现场勘查并协调供电公司")
    assert request.status == "pending"
    old_due = (await service.get(number)).due_at
    assert old_due is not None
    ticket = await service.review_extension(number, ADMIN, approve=True, note="同意延期")
    assert ticket.due_at == cal.add(old_due, Duration(amount=2, unit="working_days", source="test"))
    assert ticket.extension_count == 1

    clock.advance(hours=20)
    await service.reply(number, WATER, "已更换路灯灯头，经回访现已正常照明", [{"name": "photo.jpg", "size": 1024}])
    ticket = await service.review_reply(number, ADMIN, approve=True, note="答复规范")
    assert ticket.status == "surveying"
    ticket = await service.record_survey(number, SYSTEM, SatisfactionLevel.SATISFIED)
    assert ticket.status == "closed" and ticket.closed_at == clock.now

    timeline = await service.timeline(number)
    assert [e.action for e in timeline] == [
        "create", "accept", "dispatch", "sign", "sign", "request_extension", "approve_extension", "reply",
        "approve_reply", "record_survey"]
    assert [e.seq for e in timeline] == list(range(1, 11))
    assert timeline[6].data["new_due"] is not None and timeline[6].reason == "同意延期"
    assert {e.kind for e in events} >= {"ticket.created", "ticket.dispatch", "ticket.record_survey"}


async def test_illegal_transition_names_the_state_and_changes_nothing(service: TicketService,
                                                                       clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    before, history = await service.get(number), len(await service.timeline(number))
    with pytest.raises(IllegalTransition) as err:  # the lead unit replies before signing
        await service.reply(number, WATER, "答复")
    assert err.value.details["current_status"] == "dispatched"
    assert "sign" in err.value.details["allowed_actions"]
    after = await service.get(number)
    assert (after.status, after.version) == ("dispatched", before.version)
    assert len(await service.timeline(number)) == history


async def test_a_unit_cannot_act_on_another_units_ticket(service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    with pytest.raises(NotFound) as err:  # never assigned: not even its existence is told
        await service.sign(number, POWER)
    assert err.value.error_id == "ticket-not-found"
    with pytest.raises(NotFound):  # ownership comes before the state (a 409 would tell the status)
        await service.reply(number, POWER, "别人的工单")
    await service.sign(number, WATER)
    with pytest.raises(Forbidden) as err:
        await service.reply(number, ROADS, "协办单位不能答复")
    assert err.value.error_id == "lead-unit-only"
    assert (await service.get(number)).status == "signed"


async def test_return_rejected_goes_back_then_approved_goes_to_the_platform(
        service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    await service.sign(number, WATER)
    await service.request_return(number, WATER, "路灯由住建局管理", "《城市照明管理规定》第五条", "建议转住建局")
    assert (await service.get(number)).status == "return_requested"
    await service.review_return(number, ADMIN, approve=False, note="属于水务局职责")
    assert (await service.get(number)).status == "signed"

    await service.request_return(number, WATER, "确非本单位职责", "三定方案", "建议转住建局")
    ticket = await service.review_return(number, ADMIN, approve=True, note="同意退回")
    assert ticket.status == "accepted" and ticket.lead_unit_id is None and ticket.due_at is None
    assert ticket.return_count == 1
    ticket = await service.dispatch(number, AGENT, "roads")
    assert ticket.status == "dispatched" and ticket.lead_unit_id == "roads"
    with pytest.raises(Forbidden):
        await service.sign(number, WATER)  # the returning unit no longer holds it


async def test_late_return_is_filed_but_marked_late(service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    clock.advance(days=7)
    await service.request_return(number, WATER, "不属于本单位", "职责清单")
    [*_, event] = await service.timeline(number)
    assert event.data["late"] is True


async def test_not_signed_in_time_is_deemed_accepted(service: TicketService, clock: FakeClock) -> None:
    assert service.sla.sign_deemed_accepted, "庆阳 Art. 21: 如未按时签收，视为受理该件"
    number = await dispatched(service, clock)
    ticket = await service.get(number)
    assert await service.deem_signed_overdue() == []
    clock.now = ticket.sign_by  # type: ignore[assignment]
    clock.advance(seconds=1)
    assert await service.deem_signed_overdue() == [number]
    ticket = await service.get(number)
    assert ticket.status == "signed" and ticket.deemed_signed and ticket.signed_at == ticket.sign_by
    # The handling clock never stopped: the due date is still counted from dispatch.
    assert ticket.due_at == service.sla.calendar.add(ticket.dispatched_at, service.pack.handling_limit(  # type: ignore[arg-type]
        Category.COMPLAINT, False))


async def test_extension_limits_are_enforced_with_their_source(service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock, category="consultation")
    await service.sign(number, WATER)
    limit = service.pack.handling_limit(Category.CONSULTATION, False)
    with pytest.raises(Unprocessable) as err:
        await service.request_extension(number, WATER, limit.amount + 1, "需要更多时间")
    assert err.value.error_id == "extension-too-long"
    with pytest.raises(InvalidInput):
        await service.request_extension(number, WATER, 0, "零天")
    await service.request_extension(number, WATER, 1, "需要协调")
    with pytest.raises(Conflict) as c:
        await service.request_extension(number, WATER, 1, "再申请")
    assert c.value.error_id == "extension-pending"
    await service.review_extension(number, ADMIN, approve=False, note="理由不充分")
    ticket = await service.get(number)
    assert ticket.extension_count == 0
    clock.now = ticket.due_at  # type: ignore[assignment]
    clock.advance(seconds=1)
    with pytest.raises(Unprocessable) as err:
        await service.request_extension(number, WATER, 1, "过期后申请")
    assert err.value.error_id == "extension-too-late"


async def test_dissatisfied_caller_reopens_when_the_unit_is_at_fault(service: TicketService,
                                                                      clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    await service.sign(number, WATER)
    await service.reply(number, WATER, "已处理")
    await service.review_reply(number, ADMIN, approve=True, note="ok")
    clock.advance(days=1)
    ticket = await service.record_survey(number, SYSTEM, SatisfactionLevel.DISSATISFIED)
    assert ticket.status == "dispatched" and ticket.reopen_count == 1
    assert ticket.due_at == service.sla.calendar.add(clock.now, service.pack.reopen.limit or
                                                     service.pack.handling_limit(Category.COMPLAINT, False))
    # Both units get the ticket back for the new round.
    await service.sign(number, ROADS)
    await service.sign(number, WATER)
    await service.reply(number, WATER, "重新核实后已修复")
    await service.review_reply(number, ADMIN, approve=True, note="ok")
    ticket = await service.record_survey(number, SYSTEM, SatisfactionLevel.VERY_DISSATISFIED,
                                         exclusion=service.pack.satisfaction_exclusions[0].code)
    assert ticket.status == "closed", "an excluded (甄别) dissatisfaction closes instead of reopening"


async def test_dissatisfied_without_fault_closes(service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    await service.sign(number, WATER)
    await service.reply(number, WATER, "政策不支持，已解释")
    await service.review_reply(number, ADMIN, approve=True, note="ok")
    ticket = await service.record_survey(number, SYSTEM, SatisfactionLevel.DISSATISFIED, unit_at_fault=False)
    assert ticket.status == "closed" and ticket.satisfaction == "dissatisfied"


async def test_resolve_on_call_reject_withdraw_merge_terminate(service: TicketService, clock: FakeClock) -> None:
    quick = await service.create(complaint(category="咨询", content="社保卡在哪里补办"), AGENT)
    t = await service.resolve_on_call(quick.number, AGENT, "携带身份证到市民中心社保窗口补办")
    assert t.status == "surveying" and t.resolved_on_call

    out = await service.create(complaint(content="要求法院改判"), AGENT)
    code = service.pack.non_acceptance[0].code
    with pytest.raises(InvalidInput):
        await service.reject(out.number, AGENT, "no-such-reason", "请向法院反映")
    t = await service.reject(out.number, AGENT, code, "请通过诉讼程序向人民法院反映")
    assert t.status == "rejected" and t.rejection_reason == code

    first = await dispatched(service, clock)
    dup = await service.create(complaint(content="幸福路路灯不亮"), AGENT)
    t = await service.merge(dup.number, AGENT, first, "同一路灯同一诉求")
    assert t.status == "merged"
    assert [link.ref for link in await service.links(first)] == [dup.number]
    closed = await service.create(complaint(), AGENT)
    await service.withdraw(closed.number, AGENT, "诉求人来电表示已解决")
    other = await service.create(complaint(), AGENT)
    with pytest.raises(Conflict) as err:
        await service.merge(other.number, AGENT, closed.number, "重复")
    assert err.value.error_id == "merge-target-closed"

    await service.sign(first, WATER)
    with pytest.raises(InvalidInput):
        await service.request_termination(first, WATER, "诉求人期望过高", [])
    await service.request_termination(first, WATER, "已依法依规处理，诉求人期望过高", [{"name": "记录.pdf"}])
    t = await service.review_termination(first, ADMIN, approve=True, note="同意终结")
    assert t.status == "terminated"


async def test_withdraw_cancels_pending_requests(service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    await service.sign(number, WATER)
    await service.request_extension(number, WATER, 1, "协调中")
    await service.withdraw(number, AGENT, "诉求人撤回")
    [req] = await service.requests(number)
    assert req.status == "cancelled"


async def test_supervise_and_link(service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    await service.supervise(number, ADMIN, 1, "请加快办理")
    t = await service.supervise(number, SYSTEM, 2, "已超期，督办")
    assert t.supervise_level == 2
    with pytest.raises(InvalidInput):
        await service.supervise(number, ADMIN, 3, "x")
    await service.link(number, SYSTEM, "call", "1763254800.42")
    await service.link(number, SYSTEM, "call", "1763254800.42")
    await service.link(number, SYSTEM, "recording", "1763254800.42-citizen.wav")
    assert [(link.kind, link.ref) for link in await service.links(number)] == [
        ("call", "1763254800.42"), ("recording", "1763254800.42-citizen.wav")]


async def test_concurrent_changes_to_one_ticket_lose_no_write(service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    refs = [f"call-{i}" for i in range(12)]
    await asyncio.gather(*(service.link(number, SYSTEM, "call", ref) for ref in refs))
    await asyncio.gather(service.sign(number, WATER), service.supervise(number, ADMIN, 1, "请尽快"),
                         service.sign(number, ROADS))
    ticket = await service.get(number)
    timeline = await service.timeline(number)
    assert {link.ref for link in await service.links(number)} == set(refs)
    assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))
    assert ticket.version == len(timeline)
    assert ticket.status == "signed" and ticket.supervise_level == 1
    async with service.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(TicketEvent))
    assert count == len(timeline)


async def test_sla_state_turns_yellow_then_red(service: TicketService, clock: FakeClock) -> None:
    number = await dispatched(service, clock)
    await service.sign(number, WATER)
    ticket = await service.get(number)
    assert service.sla.state(ticket, clock.now).level == "normal"
    assert ticket.due_at is not None
    almost = service.sla.calendar.subtract(ticket.due_at, Duration(amount=1, unit="working_hours", source="t"))
    assert service.sla.state(ticket, almost).handling_level == "yellow"
    late = service.sla.state(ticket, ticket.due_at + (ticket.due_at - clock.now))
    assert late.level == "red" and (late.working_seconds_left or 0) < 0
    assert Status(ticket.status) is Status.SIGNED
