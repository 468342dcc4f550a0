"""回访 over SMS: invitation, answers in many forms, one clarification, default satisfaction, reopen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.surveys.service import SurveyService
from gateway.tickets.schemas import SatisfactionLevel
from gateway.tickets.service import TicketService
from tests.tickets.support import ADMIN, AGENT, WATER, FakeClock, complaint


@dataclass
class Outbox:
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def __call__(self, session: AsyncSession, to: str, text: str, *, purpose: str, ref: str) -> None:
        self.sent.append((to, text, ref))


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def surveys(service: TicketService, outbox: Outbox, clock: FakeClock) -> SurveyService:
    return SurveyService(service, outbox, clock=clock)


async def replied(service: TicketService, **overrides: object) -> str:
    t = await service.create(complaint(**overrides), AGENT)
    await service.accept(t.number, AGENT)
    await service.dispatch(t.number, AGENT, "water")
    await service.sign(t.number, WATER)
    await service.reply(t.number, WATER, "已修复")
    await service.review_reply(t.number, ADMIN, approve=True, note="ok")
    return t.number


async def test_reviewed_reply_sends_one_invitation_with_the_five_levels(
        service: TicketService, surveys: SurveyService, outbox: Outbox) -> None:
    number = await replied(service)
    assert await surveys.open_pending() == [number]
    assert await surveys.open_pending() == []  # durable: never twice for the same round
    [(to, text, ref)] = outbox.sent
    assert to == "+8613800138000" and ref == number
    for word in ("1非常满意", "2满意", "3基本满意", "4不满意", "5非常不满意", number, "24小时内未回复视为满意"):
        assert word in text


async def test_answer_2_closes(service: TicketService, surveys: SurveyService) -> None:
    number = await replied(service)
    await surveys.open_pending()
    survey = await surveys.handle_sms_reply("+8613800138000", "２ 谢谢")
    assert survey is not None and survey.level == "satisfied" and survey.outcome == "closed"
    assert (await service.get(number)).status == "closed"


async def test_answer_4_reopens_and_the_new_round_gets_its_own_survey(
        service: TicketService, surveys: SurveyService, outbox: Outbox) -> None:
    number = await replied(service)
    await surveys.open_pending()
    survey = await surveys.handle_sms_reply("+8613800138000", "4")
    assert survey is not None and survey.outcome == "reopened"
    ticket = await service.get(number)
    assert ticket.status == "dispatched" and ticket.reopen_count == 1
    await service.sign(number, WATER)
    await service.reply(number, WATER, "重新修复")
    await service.review_reply(number, ADMIN, approve=True, note="ok")
    assert await surveys.open_pending() == [number]
    assert len(outbox.sent) == 2


async def test_unknown_reply_gets_one_clarification(service: TicketService, surveys: SurveyService,
                                                    outbox: Outbox) -> None:
    number = await replied(service)
    await surveys.open_pending()
    await surveys.handle_sms_reply("+8613800138000", "你们是哪个部门？")
    await surveys.handle_sms_reply("+8613800138000", "？？")
    assert len(outbox.sent) == 2 and "未能识别" in outbox.sent[1][1]
    survey = await surveys.handle_sms_reply("+8613800138000", "非常满意")
    assert survey is not None and survey.level == "very_satisfied"
    assert (await service.get(number)).status == "closed"


async def test_no_reply_within_the_window_is_satisfied(service: TicketService, surveys: SurveyService,
                                                      clock: FakeClock) -> None:
    number = await replied(service)
    await surveys.open_pending()
    clock.advance(hours=23, minutes=59)
    assert await surveys.expire_overdue() == []
    clock.advance(minutes=1)
    assert await surveys.expire_overdue() == [number]
    ticket = await service.get(number)
    assert ticket.status == "closed" and ticket.satisfaction == "satisfied"
    [*_, last] = await service.timeline(number)
    assert last.data["by_default"] is True


async def test_a_text_from_an_unknown_number_changes_nothing(service: TicketService,
                                                            surveys: SurveyService) -> None:
    number = await replied(service)
    await surveys.open_pending()
    assert await surveys.handle_sms_reply("+8613900000000", "5") is None
    assert (await service.get(number)).status == "surveying"


async def test_voice_answer_uses_the_same_survey(service: TicketService, surveys: SurveyService) -> None:
    number = await replied(service)
    await surveys.open_pending()
    survey = await surveys.record_answer(number, SatisfactionLevel.BASICALLY_SATISFIED, channel="voice")
    assert survey.channel == "sms" and survey.level == "basically_satisfied"  # the round's one survey
    assert (await service.get(number)).status == "closed"
    assert timedelta(0) <= (survey.answered_at - survey.created_at)  # type: ignore[operator]
