"""回访: survey every replied ticket, understand the answer, apply the policy's consequences.

Everything is driven from the database (tickets waiting in ``surveying``, surveys whose reply window
has passed), so a restart loses nothing: the timer simply finds the same rows again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import Conflict
from gateway.sms.service import Sms
from gateway.surveys.models import Survey
from gateway.surveys.replies import parse_reply
from gateway.tickets.lifecycle import Status
from gateway.tickets.models import Ticket
from gateway.tickets.schemas import SYSTEM, SatisfactionLevel
from gateway.tickets.service import TicketService

log = logging.getLogger(__name__)


class SendSms(Protocol):
    """Queue a text inside the caller's transaction (the SMS outbox delivers it durably)."""

    async def __call__(self, session: AsyncSession, to: str, text: str, *, purpose: str,
                       ref: str | None = None) -> object: ...


class SurveyService:
    def __init__(self, tickets: TicketService, send_sms: SendSms, *, hotline_name: str = "12345热线",
                 clock: Callable[[], datetime] | None = None) -> None:
        self.tickets = tickets
        self.sessions = tickets.sessions
        self.pack = tickets.pack
        self.send_sms = send_sms
        self.hotline_name = hotline_name
        self.clock = clock or tickets.clock

    # ---- texts ----------------------------------------------------------------------------------------

    def invitation(self, number: str) -> str:
        text = (f"【{self.hotline_name}】您反映的问题（工单号{number}）已办理答复，请对办理结果评价，回复数字："
                "1非常满意 2满意 3基本满意 4不满意 5非常不满意。")
        window = self._window()
        if window is not None and self.pack.survey.no_reply_means_satisfied:
            text += f"{_say_hours(window)}内未回复视为满意。"
        return text

    def clarification(self, number: str) -> str:
        return (f"【{self.hotline_name}】抱歉，未能识别您的回复。请只回复一个数字评价工单{number}："
                "1非常满意 2满意 3基本满意 4不满意 5非常不满意。")

    def _window(self) -> timedelta | None:
        window = self.pack.survey.reply_window
        if window is None:
            return None
        if window.is_working_time:  # a working-time window is measured on the calendar at expiry
            return None
        return {"hours": timedelta(hours=window.amount), "minutes": timedelta(minutes=window.amount),
                "days": timedelta(days=window.amount)}[window.unit]

    def _deadline(self, start: datetime) -> datetime | None:
        window = self.pack.survey.reply_window
        return self.tickets.sla.calendar.add(start, window) if window is not None else None

    # ---- the timer's jobs -----------------------------------------------------------------------------

    async def open_pending(self) -> list[str]:
        """Start a survey for every ticket waiting in ``surveying`` that has none for its current round."""
        async with self.sessions() as session:
            rows = (await session.execute(
                select(Ticket.id, Ticket.number, Ticket.reopen_count, Ticket.caller_number)
                .where(Ticket.status == Status.SURVEYING.value)
                .where(Ticket.channel != "upper_platform")  # the upper platform surveys its own tickets
                .where(~select(Survey.id).where(Survey.ticket_id == Ticket.id,
                                                Survey.round == Ticket.reopen_count).exists())
            )).all()
        opened = []
        for ticket_id, number, round_, phone in rows:
            now = self.clock()
            try:
                async with self.sessions() as session, session.begin():
                    session.add(Survey(ticket_id=ticket_id, ticket_number=number, round=round_,
                                       channel="sms" if phone else "none", phone=phone, created_at=now,
                                       deadline_at=self._deadline(now)))
                    if phone:
                        await self.send_sms(session, phone, self.invitation(number), purpose="survey",
                                            ref=number)
                opened.append(number)
            except IntegrityError:  # another instance opened it first
                continue
        return opened

    async def expire_overdue(self) -> list[str]:
        """No reply within the window: satisfied where the pack says so (庆阳 Art. 22), else expired."""
        now = self.clock()
        async with self.sessions() as session:
            surveys = list(await session.scalars(select(Survey).where(
                Survey.status == "pending", Survey.deadline_at.is_not(None), Survey.deadline_at <= now)))
        done = []
        for survey in surveys:
            if self.pack.survey.no_reply_means_satisfied:
                await self._conclude(survey.id, SatisfactionLevel.SATISFIED, by_default=True)
            else:
                await self._set(survey.id, status="expired")
            done.append(survey.ticket_number)
        return done

    # ---- answers ---------------------------------------------------------------------------------------

    async def handle_sms_reply(self, phone: str, text: str) -> Survey | None:
        """A text from a citizen: answer their oldest open survey, or ask once to clarify."""
        async with self.sessions() as session:
            survey = await session.scalar(
                select(Survey).where(Survey.phone == phone, Survey.status == "pending", Survey.channel == "sms")
                .order_by(Survey.created_at).limit(1))
        if survey is None:
            log.info("SMS from %s matches no open survey", phone)
            return None
        level = parse_reply(text)
        if level is not None:
            return await self._conclude(survey.id, level, raw=text)
        async with self.sessions() as session, session.begin():
            row = await session.get(Survey, survey.id)
            assert row is not None
            row.raw_reply = text
            if not row.clarification_sent:
                row.clarification_sent = True
                await self.send_sms(session, phone, self.clarification(row.ticket_number), purpose="survey",
                                    ref=row.ticket_number)
        return row

    async def process_inbound(self, sms: Sms) -> int:
        """Answer surveys from received texts not yet processed (durable: survives a restart)."""
        handled = 0
        for message in sorted(await sms.inbound(unprocessed=True), key=lambda m: m.id):
            await self.handle_sms_reply(message.from_number, message.text)
            async with self.sessions() as session, session.begin():
                await sms.mark_processed(session, message.id)
            handled += 1
        return handled

    async def record_answer(self, number: str, level: SatisfactionLevel, *, channel: str,
                            unit_at_fault: bool = True) -> Survey:
        """An answer given another way (voice DTMF, an agent's phone call) for the current round."""
        ticket = await self.tickets.get(number)
        async with self.sessions() as session, session.begin():
            survey = await session.scalar(select(Survey).where(
                Survey.ticket_id == ticket.id, Survey.round == ticket.reopen_count))
            if survey is None:
                survey = Survey(ticket_id=ticket.id, ticket_number=number, round=ticket.reopen_count,
                                channel=channel, phone=ticket.caller_number, created_at=self.clock())
                session.add(survey)
            elif survey.status != "pending":
                raise Conflict(f"the survey of ticket {number} is already {survey.status}",
                               error_id="survey-closed")
            await session.flush()
            survey_id = survey.id
        return await self._conclude(survey_id, level, unit_at_fault=unit_at_fault)

    async def _conclude(self, survey_id: int, level: SatisfactionLevel, *, by_default: bool = False,
                        raw: str | None = None, unit_at_fault: bool = True) -> Survey:
        async with self.sessions() as session:
            survey = await session.get(Survey, survey_id)
        assert survey is not None
        try:
            ticket = await self.tickets.record_survey(survey.ticket_number, SYSTEM, level,
                                                      unit_at_fault=unit_at_fault, by_default=by_default)
            outcome = "reopened" if ticket.status == Status.DISPATCHED.value else "closed"
        except Conflict:
            # The ticket moved on meanwhile (closed by a reviewer, withdrawn): keep the answer on record.
            outcome = "superseded"
        return await self._set(survey_id, status="defaulted" if by_default else "answered", level=level.value,
                               answered_at=self.clock(), raw_reply=raw, unit_at_fault=unit_at_fault,
                               outcome=outcome)

    async def _set(self, survey_id: int, **values: object) -> Survey:
        async with self.sessions() as session, session.begin():
            survey = await session.get(Survey, survey_id)
            assert survey is not None
            for key, value in values.items():
                if value is not None:
                    setattr(survey, key, value)
        return survey


def _say_hours(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g}小时" if hours < 48 else f"{hours / 24:g}天"


SURVEYS = web.AppKey("surveys", SurveyService)
