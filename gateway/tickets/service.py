"""The ticket service: every transition of a ticket, each in one transaction with its audit row.

Concurrency: tickets carry a version column (optimistic locking). Two writers racing on one ticket
cannot both win: the loser's UPDATE matches no row, the whole command is retried on the fresh state
(and re-validated — it may now be illegal), so no write is ever lost or applied on a stale view.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from gateway.bus import EventBus
from gateway.db.base import utcnow
from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from gateway.tickets.lifecycle import Action, Actor, Rule, Status, check
from gateway.tickets.models import (
    Assignment,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketLink,
    TicketRequest,
    Unit,
)
from gateway.tickets.schemas import EDITABLE_FIELDS, SYSTEM, ActorRef, NewTicket, SatisfactionLevel
from gateway.tickets.sla import SlaClock

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_ATTEMPTS = 12


@dataclass
class Change:
    """What a mutation tells the service: where the ticket goes and what the audit row says."""

    target: Status | None = None
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Mutation = Callable[[AsyncSession, Ticket, datetime], Awaitable[Change]]
# Runs inside the transition's transaction (after the audit row): an outbox write here commits with it.
Hook = Callable[[AsyncSession, Ticket, Action, Change, int], Awaitable[None]]


class TicketService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sla: SlaClock,
        bus: EventBus | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.sla = sla
        self.bus = bus or EventBus()
        self.clock = clock
        self.hooks: list[Hook] = []

    @property
    def pack(self) -> Any:
        return self.sla.pack

    # ---- reading ---------------------------------------------------------------------------------

    async def get(self, number: str) -> Ticket:
        async with self.sessions() as session:
            return await self._load(session, number)

    async def timeline(self, number: str) -> list[TicketEvent]:
        async with self.sessions() as session:
            ticket = await self._load(session, number)
            rows = await session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.seq)
            )
            return list(rows)

    async def requests(self, number: str, *, status: str | None = None) -> list[TicketRequest]:
        async with self.sessions() as session:
            ticket = await self._load(session, number)
            query = select(TicketRequest).where(TicketRequest.ticket_id == ticket.id)
            if status:
                query = query.where(TicketRequest.status == status)
            return list(await session.scalars(query.order_by(TicketRequest.id)))

    async def links(self, number: str) -> list[TicketLink]:
        async with self.sessions() as session:
            ticket = await self._load(session, number)
            rows = await session.scalars(
                select(TicketLink).where(TicketLink.ticket_id == ticket.id).order_by(TicketLink.id))
            return list(rows)

    # ---- units ---------------------------------------------------------------------------------

    async def add_unit(self, unit_id: str, name: str, region: str | None = None,
                       parent_id: str | None = None) -> Unit:
        async with self.sessions() as session, session.begin():
            if await session.get(Unit, unit_id):
                raise Conflict(f"unit {unit_id} already exists", error_id="unit-exists")
            unit = Unit(id=unit_id, name=name, region=region, parent_id=parent_id, active=True)
            session.add(unit)
        return unit

    # ---- creating ------------------------------------------------------------------------------

    async def create(self, data: NewTicket, actor: ActorRef) -> Ticket:
        category = self.pack_category(data.category)
        now = self.clock()
        for _ in range(MAX_ATTEMPTS):
            try:
                async with self.sessions() as session, session.begin():
                    ticket = Ticket(
                        number=await self._next_number(session, now),
                        status=Status.NEW.value,
                        policy_id=self.pack.id,
                        created_at=now,
                        assignments=[],
                        **{**data.model_dump(), "channel": data.channel.value, "category": category},
                    )
                    session.add(ticket)
                    await session.flush()
                    self._audit(session, ticket, 1, "create", actor, now,
                                None, Status.NEW, None, {"channel": data.channel.value})
                break
            except IntegrityError:  # two writers took the same number: take the next one
                continue
        else:  # pragma: no cover - needs MAX_ATTEMPTS consecutive collisions
            raise Conflict("could not allocate a ticket number; try again", error_id="busy")
        self.bus.publish("ticket.created", number=ticket.number, status=ticket.status,
                         category=ticket.category, channel=ticket.channel)
        return ticket

    def pack_category(self, raw: str) -> str:
        from gateway.policies import Category

        return Category.parse(raw).value

    async def _next_number(self, session: AsyncSession, now: datetime) -> str:
        day = now.astimezone(SHANGHAI).strftime("%Y%m%d")
        result = await session.execute(
            update(TicketCounter).where(TicketCounter.day == day)
            .values(last=TicketCounter.last + 1).returning(TicketCounter.last)
        )
        last = result.scalar_one_or_none()
        if last is None:
            session.add(TicketCounter(day=day, last=1))
            await session.flush()
            last = 1
        return f"{day}{last:05d}"

    # ---- platform (agents, reviewers) ------------------------------------------------------------

    async def accept(self, number: str, actor: ActorRef, note: str | None = None) -> Ticket:
        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            t.accepted_at = now
            return Change(reason=note)

        return await self._apply(number, Action.ACCEPT, actor, mutate)

    async def reject(self, number: str, actor: ActorRef, reason_code: str, guidance: str) -> Ticket:
        """不予受理: the reason code must be one of the pack's; the guidance given is recorded."""
        item = self.sla.non_acceptance_reason(reason_code)
        if not guidance.strip():
            raise InvalidInput("say what guidance was given to the caller", error_id="guidance-required")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            t.rejection_reason, t.guidance, t.closed_at = reason_code, guidance, now
            return Change(reason=item, data={"reason_code": reason_code, "guidance": guidance})

        return await self._apply(number, Action.REJECT, actor, mutate)

    async def resolve_on_call(self, number: str, actor: ActorRef, answer: str) -> Ticket:
        """即时办结: answered on the call; the ticket goes straight to the survey."""
        _require_text(answer, "answer")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            t.resolved_on_call, t.reply_text, t.replied_at = True, answer, now
            t.accepted_at = t.accepted_at or now
            return Change(data={"answer": answer})

        return await self._apply(number, Action.RESOLVE_ON_CALL, actor, mutate)

    async def update(self, number: str, actor: ActorRef, **fields: Any) -> Ticket:
        unknown = set(fields) - EDITABLE_FIELDS
        if unknown:
            raise InvalidInput(f"these fields cannot be edited: {', '.join(sorted(unknown))}",
                               error_id="unknown-field")
        if "category" in fields:
            fields["category"] = self.pack_category(fields["category"])

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            before = {k: getattr(t, k) for k in fields}
            for key, value in fields.items():
                setattr(t, key, value)
            return Change(data={"before": before, "after": fields})

        return await self._apply(number, Action.UPDATE, actor, mutate)

    async def dispatch(self, number: str, actor: ActorRef, lead_unit: str,
                       assisting: Sequence[str] = (), note: str | None = None) -> Ticket:
        """转派 to one unit, or a lead (主办) and assisting units (协办). Starts the SLA clock."""
        if lead_unit in assisting or len(set(assisting)) != len(assisting):
            raise InvalidInput("a unit appears twice in the dispatch", error_id="duplicate-unit")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            await self._require_units(session, [lead_unit, *assisting])
            round_ = 1 + max((a.round for a in t.assignments), default=0)
            self.sla.start(t, now)
            t.lead_unit_id = lead_unit
            t.dispatched_at = now
            for unit, role in [(lead_unit, "lead"), *((u, "assisting") for u in assisting)]:
                t.assignments.append(Assignment(unit_id=unit, role=role, round=round_, active=True,
                                            dispatched_at=now,
                                                sign_by=t.sign_by))
            return Change(reason=note, data={"lead_unit": lead_unit, "assisting": list(assisting),
                                             "sign_by": t.sign_by, "due_at": t.due_at})

        return await self._apply(number, Action.DISPATCH, actor, mutate)

    async def merge(self, number: str, actor: ActorRef, into: str, reason: str) -> Ticket:
        """并案: a duplicate joins an open ticket; the target records the merged one."""
        if into == number:
            raise InvalidInput("a ticket cannot be merged into itself", error_id="merge-into-self")
        _require_text(reason, "reason")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            target = await self._load(session, into)
            if Status(target.status).is_final:
                raise Conflict(f"ticket {into} is {target.status}: merge into an open ticket",
                               error_id="merge-target-closed", target_status=target.status)
            t.merged_into_id, t.closed_at = target.id, now
            self._end_assignments(t, "merged")
            session.add(TicketLink(ticket_id=target.id, kind="merged", ref=t.number,
                                   meta={"reason": reason}))
            return Change(reason=reason, data={"into": into})

        return await self._apply(number, Action.MERGE, actor, mutate)

    async def withdraw(self, number: str, actor: ActorRef, reason: str) -> Ticket:
        """撤单: the caller says the matter is solved or no longer wanted; the units are told."""
        _require_text(reason, "reason")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            units = [a.unit_id for a in t.assignments if a.active]
            self._end_assignments(t, "withdrawn")
            t.closed_at = now
            await self._close_pending(session, t, now, "withdrawn")
            return Change(reason=reason, data={"notified_units": units})

        return await self._apply(number, Action.WITHDRAW, actor, mutate)

    # ---- handling units ------------------------------------------------------------------------

    async def sign(self, number: str, actor: ActorRef) -> Ticket:
        """签收 by the lead unit (the ticket is then being handled) or an assisting unit (its part only)."""

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            mine = self._assignment_of(t, actor)
            if mine.signed_at is not None:
                raise Conflict("this unit has already signed the ticket", error_id="already-signed")
            mine.signed_at = now
            on_time = mine.sign_by is None or now <= mine.sign_by
            if mine.role != "lead":
                return Change(target=Status(t.status), data={"role": "assisting", "on_time": on_time})
            t.signed_at = now
            self.sla.on_sign(t, now)
            return Change(target=Status.SIGNED, data={"role": "lead", "on_time": on_time})

        return await self._apply(number, Action.SIGN, actor, mutate)

    async def deem_signed_overdue(self) -> list[str]:
        """Timer sweep: tickets not signed by their deadline are deemed accepted (视为受理) where the
        pack says so. Returns the numbers changed."""
        if not self.sla.sign_deemed_accepted:
            return []
        now = self.clock()
        async with self.sessions() as session:
            numbers = list(await session.scalars(
                select(Ticket.number).where(Ticket.status == Status.DISPATCHED.value, Ticket.sign_by < now)))
        changed = []
        for number in numbers:

            async def mutate(session: AsyncSession, t: Ticket, at: datetime) -> Change:
                lead = next(a for a in t.assignments if a.active and a.role == "lead")
                lead.deemed_signed, t.deemed_signed = True, True
                t.signed_at = t.sign_by
                self.sla.on_sign(t, t.sign_by or at)
                return Change(reason="not signed in time: deemed accepted (视为受理)",
                              data={"sign_by": t.sign_by})

            try:
                await self._apply(number, Action.DEEM_SIGNED, SYSTEM, mutate)
                changed.append(number)
            except Conflict:  # signed or returned meanwhile
                continue
        return changed

    async def escalate_warnings(self) -> list[tuple[str, int]]:
        """督办 by the clock: a ticket turning yellow gets a reminder (催办, level 1), one turning red a
        supervision notice (督办, level 2) — each once per handling round. Returns (number, level)."""
        now = self.clock()
        async with self.sessions() as session:
            tickets = list(await session.scalars(select(Ticket).where(
                Ticket.status.in_([Status.DISPATCHED.value, Status.SIGNED.value]), Ticket.supervise_level < 2)))
        raised = []
        for t in tickets:
            level = {"yellow": 1, "red": 2}.get(self.sla.state(t, now).level, 0)
            if level > t.supervise_level:
                note = "已超期（红色预警），请立即办理并说明情况" if level == 2 else "即将超期（黄色预警），请抓紧办理"
                try:
                    await self.supervise(t.number, SYSTEM, level, note)
                    raised.append((t.number, level))
                except Conflict:  # changed meanwhile (replied, returned …): the next sweep sees it
                    continue
        return raised

    async def request_return(self, number: str, actor: ActorRef, reason: str, basis: str,
                             suggestion: str | None = None, evidence: Sequence[dict[str, Any]] = ()) -> Ticket:
        """退单: the unit says the matter is not theirs, with reasons and basis, for the platform to review."""
        _require_text(reason, "reason")
        _require_text(basis, "basis")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            mine = self._lead_assignment(t, actor)
            late = self.sla.return_overdue(t, mine, now)
            session.add(TicketRequest(
                ticket_id=t.id, kind="return", unit_id=mine.unit_id, requested_at=now, reason=reason,
                basis=basis, suggestion=suggestion, evidence=list(evidence), resume_status=t.status,
                review_by=self.sla.return_review_by(now),
            ))
            return Change(reason=reason, data={"basis": basis, "suggestion": suggestion, "late": late})

        return await self._apply(number, Action.REQUEST_RETURN, actor, mutate)

    async def review_return(self, number: str, actor: ActorRef, approve: bool, note: str) -> Ticket:
        """Approved: back to the platform for re-dispatch. Rejected: back to the unit, clock running."""
        _require_text(note, "note")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            req = await self._pending(session, t, "return")
            self._decide(req, actor, now, approve, note)
            if not approve:
                return Change(target=Status(req.resume_status or Status.DISPATCHED), reason=note)
            self._end_assignments(t, "returned")
            t.return_count += 1
            t.lead_unit_id = None
            self.sla.stop(t)
            return Change(target=Status.ACCEPTED, reason=note, data={"returned_by": req.unit_id})

        action = Action.APPROVE_RETURN if approve else Action.REJECT_RETURN
        return await self._apply(number, action, actor, mutate)

    async def request_extension(self, number: str, actor: ActorRef, working_days: int,
                                reason: str) -> TicketRequest:
        """延期: checked against the pack (count, length, total cap, how early) before it is filed."""
        _require_text(reason, "reason")
        created: list[TicketRequest] = []

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            mine = self._lead_assignment(t, actor)
            if await self._pending(session, t, "extension", missing_ok=True):
                raise Conflict("an extension request is already awaiting review",
                               error_id="extension-pending")
            self.sla.check_extension(t, working_days, now)
            req = TicketRequest(ticket_id=t.id, kind="extension", unit_id=mine.unit_id, requested_at=now,
                                reason=reason, working_days=working_days,
                                review_by=self.sla.extension_review_by(now))
            session.add(req)
            created.append(req)
            return Change(reason=reason, data={"working_days": working_days})

        await self._apply(number, Action.REQUEST_EXTENSION, actor, mutate)
        return created[0]

    async def review_extension(self, number: str, actor: ActorRef, approve: bool, note: str) -> Ticket:
        _require_text(note, "note")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            req = await self._pending(session, t, "extension")
            self._decide(req, actor, now, approve, note)
            if not approve:
                return Change(reason=note)
            old_due = t.due_at
            self.sla.extend(t, req.working_days or 0)
            t.extension_count += 1
            return Change(reason=note, data={"working_days": req.working_days, "old_due": old_due,
                                             "new_due": t.due_at})

        action = Action.APPROVE_EXTENSION if approve else Action.REJECT_EXTENSION
        return await self._apply(number, action, actor, mutate)

    async def reply(self, number: str, actor: ActorRef, text: str,
                    attachments: Sequence[dict[str, Any]] = ()) -> Ticket:
        """答复: the lead unit's result, reviewed by the platform before the caller is surveyed."""
        _require_text(text, "text")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            self._lead_assignment(t, actor)
            t.reply_text, t.reply_attachments, t.replied_at = text, list(attachments), now
            on_time = t.due_at is None or now <= t.due_at
            return Change(data={"on_time": on_time, "attachments": len(attachments)})

        return await self._apply(number, Action.REPLY, actor, mutate)

    async def review_reply(self, number: str, actor: ActorRef, approve: bool, note: str) -> Ticket:
        _require_text(note, "note")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            return Change(reason=note)

        action = Action.APPROVE_REPLY if approve else Action.REJECT_REPLY
        return await self._apply(number, action, actor, mutate)

    async def request_termination(self, number: str, actor: ActorRef, reason: str,
                                  evidence: Sequence[dict[str, Any]]) -> Ticket:
        """终结办理: the unit shows the matter cannot go further (with evidence), for review."""
        _require_text(reason, "reason")
        if not evidence:
            raise InvalidInput("a termination needs evidence (材料)", error_id="evidence-required")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            mine = self._lead_assignment(t, actor)
            session.add(TicketRequest(ticket_id=t.id, kind="termination", unit_id=mine.unit_id,
                                      requested_at=now, reason=reason, evidence=list(evidence),
                                      resume_status=t.status))
            return Change(reason=reason, data={"evidence": len(evidence)})

        return await self._apply(number, Action.REQUEST_TERMINATION, actor, mutate)

    async def review_termination(self, number: str, actor: ActorRef, approve: bool, note: str) -> Ticket:
        _require_text(note, "note")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            req = await self._pending(session, t, "termination")
            self._decide(req, actor, now, approve, note)
            if approve:
                t.closed_at = now
                self._end_assignments(t, "terminated")
            return Change(reason=note)

        action = Action.APPROVE_TERMINATION if approve else Action.REJECT_TERMINATION
        return await self._apply(number, action, actor, mutate)

    # ---- survey, reopen, close -----------------------------------------------------------------

    async def record_survey(self, number: str, actor: ActorRef, level: SatisfactionLevel, *,
                            unit_at_fault: bool = True, exclusion: str | None = None,
                            by_default: bool = False) -> Ticket:
        """回访 result. Satisfied levels close the ticket. A dissatisfied caller reopens it (重办) when
        the unit is at fault and the pack allows another round; otherwise it closes, the dissatisfaction
        kept (and excluded from the satisfaction rate when an exclusion code applies)."""
        if exclusion is not None:
            self.sla.satisfaction_exclusion(exclusion)

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            t.satisfaction, t.satisfaction_excluded = level.value, exclusion
            data = {"level": level.value, "by_default": by_default, "exclusion": exclusion}
            reopen = (not level.satisfied and unit_at_fault and exclusion is None
                      and t.lead_unit_id is not None and self.sla.may_reopen(t))
            if reopen:
                self._reopen(session, t, now)
                return Change(target=Status.DISPATCHED, data={**data, "reopened": True})
            t.closed_at = now
            self._end_assignments(t, "closed")
            return Change(target=Status.CLOSED, data={**data, "reopened": False})

        return await self._apply(number, Action.RECORD_SURVEY, actor, mutate)

    async def reopen(self, number: str, actor: ActorRef, reason: str) -> Ticket:
        _require_text(reason, "reason")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            if t.lead_unit_id is None:
                raise Conflict("this ticket was never dispatched to a unit; dispatch it instead",
                               error_id="nothing-to-reopen")
            if not self.sla.may_reopen(t):
                raise Unprocessable("the pack allows no further re-handling round for this ticket",
                                    error_id="reopen-limit-reached", reopen_count=t.reopen_count)
            self._reopen(session, t, now)
            return Change(reason=reason)

        return await self._apply(number, Action.REOPEN, actor, mutate)

    async def close(self, number: str, actor: ActorRef, reason: str) -> Ticket:
        _require_text(reason, "reason")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            t.closed_at = now
            self._end_assignments(t, "closed")
            return Change(reason=reason)

        return await self._apply(number, Action.CLOSE, actor, mutate)

    async def supervise(self, number: str, actor: ActorRef, level: int, note: str) -> Ticket:
        """催办 (level 1) / 督办 (level 2): recorded on the ticket and announced to the unit."""
        if level not in (1, 2):
            raise InvalidInput("level is 1 (催办, reminder) or 2 (督办, supervision)", error_id="bad-level")
        _require_text(note, "note")

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            t.supervise_level = max(t.supervise_level, level)
            return Change(reason=note, data={"level": level, "unit": t.lead_unit_id})

        return await self._apply(number, Action.SUPERVISE, actor, mutate)

    async def link(self, number: str, actor: ActorRef, kind: str, ref: str,
                   meta: dict[str, Any] | None = None) -> Ticket:
        """Attach a call, recording, transcript or draft. Linking the same thing twice is a no-op."""

        async def mutate(session: AsyncSession, t: Ticket, now: datetime) -> Change:
            exists = await session.scalar(select(TicketLink.id).where(
                TicketLink.ticket_id == t.id, TicketLink.kind == kind, TicketLink.ref == ref))
            if exists is None:
                session.add(TicketLink(ticket_id=t.id, kind=kind, ref=ref, meta=meta or {}, created_at=now))
            return Change(data={"kind": kind, "ref": ref, "duplicate": exists is not None})

        return await self._apply(number, Action.LINK, actor, mutate)

    # ---- machinery ------------------------------------------------------------------------------

    async def _apply(self, number: str, action: Action, actor: ActorRef, mutate: Mutation) -> Ticket:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.sessions() as session, session.begin():
                    ticket = await self._load(session, number, lock=True)
                    if actor.kind is Actor.UNIT:  # who may touch it before what state it is in
                        self._unit_may_act(ticket, actor)
                    before = Status(ticket.status)
                    rule: Rule = check(action, before, actor.kind)
                    now = self.clock()
                    change = await mutate(session, ticket, now)
                    after = change.target or rule.target or before
                    ticket.status = after.value
                    ticket.updated_at = now
                    # Every action bumps the version, even one that changes no ticket column (a link,
                    # a rejected request): the audit sequence and the lost-update check rely on it.
                    flag_modified(ticket, "updated_at")
                    seq = ticket.version + 1
                    self._audit(session, ticket, seq, action, actor, now, before, after, change.reason,
                                change.data)
                    for hook in self.hooks:
                        await hook(session, ticket, action, change, seq)
                    await session.flush()
                break
            except (StaleDataError, IntegrityError):
                if attempt == MAX_ATTEMPTS:
                    raise Conflict("the ticket is being changed by someone else; try again",
                                   error_id="version-conflict") from None
                log.debug("ticket %s changed under us (%s); retrying", number, action)
                await asyncio.sleep(random.uniform(0, 0.005 * attempt))  # de-synchronise the racers
        self.bus.publish(f"ticket.{action.value}", number=ticket.number, status=ticket.status,
                         from_status=before.value, lead_unit=ticket.lead_unit_id, actor=str(actor),
                         **{k: v for k, v in change.data.items() if k in {"level", "reopened"}})
        return ticket

    def _audit(self, session: AsyncSession, ticket: Ticket, seq: int, action: Action | str,
               actor: ActorRef, now: datetime, before: Status | None, after: Status,
               reason: str | None, data: dict[str, Any]) -> None:
        session.add(TicketEvent(
            ticket_id=ticket.id, seq=seq, action=str(action), actor_kind=actor.kind.value,
            actor_id=actor.id, at=now, from_status=before.value if before else None,
            to_status=after.value, reason=reason,
            data=_jsonable({**data, "clerk_token": actor.person} if actor.person else data),
        ))

    async def _load(self, session: AsyncSession, number: str, lock: bool = False) -> Ticket:
        query = select(Ticket).where(Ticket.number == number)
        if lock:  # PostgreSQL: writers queue on the row; SQLite: the version check alone does it
            query = query.with_for_update()
        ticket = await session.scalar(query)
        if ticket is None:
            raise NotFound(f"no ticket {number}", error_id="ticket-not-found")
        return ticket

    async def _require_units(self, session: AsyncSession, unit_ids: Sequence[str]) -> None:
        found = set(await session.scalars(select(Unit.id).where(Unit.id.in_(unit_ids), Unit.active)))
        missing = [u for u in unit_ids if u not in found]
        if missing:
            raise InvalidInput(f"unknown or inactive unit: {', '.join(missing)}", error_id="unknown-unit")

    def _unit_may_act(self, t: Ticket, actor: ActorRef) -> None:
        """A unit never assigned the ticket learns nothing of it, not even that it exists (its status
        would otherwise show in a 409); one no longer assigned is told so."""
        if all(a.unit_id != actor.id for a in t.assignments):
            raise NotFound(f"no ticket {t.number}", error_id="ticket-not-found")
        self._assignment_of(t, actor)

    def _assignment_of(self, t: Ticket, actor: ActorRef) -> Assignment:
        for a in t.assignments:
            if a.active and a.unit_id == actor.id:
                return a
        raise Forbidden("this ticket is not assigned to your unit", error_id="not-your-ticket")

    def _lead_assignment(self, t: Ticket, actor: ActorRef) -> Assignment:
        mine = self._assignment_of(t, actor)
        if mine.role != "lead":
            raise Forbidden("only the lead unit (主办) can do this; assisting units report to it",
                            error_id="lead-unit-only")
        return mine

    def _end_assignments(self, t: Ticket, why: str) -> None:
        for a in t.assignments:
            if a.active:
                a.active, a.ended_reason = False, why

    def _reopen(self, session: AsyncSession, t: Ticket, now: datetime) -> None:
        """重办: a new handling round for the same lead (and assisting) units, on the re-handling limit."""
        previous = [a for a in t.assignments if a.active]
        self._end_assignments(t, "reopened")
        t.reopen_count += 1
        t.signed_at = t.replied_at = t.closed_at = None
        t.deemed_signed = False
        t.supervise_level = 0
        self.sla.start_reopened(t, now)
        round_ = 1 + max((a.round for a in t.assignments), default=0)
        units = previous or [Assignment(unit_id=t.lead_unit_id, role="lead")]
        for a in units:
            t.assignments.append(Assignment(unit_id=a.unit_id, role=a.role, round=round_, active=True,
                                            dispatched_at=now,
                                            sign_by=t.sign_by))

    async def _pending(self, session: AsyncSession, t: Ticket, kind: str,
                       missing_ok: bool = False) -> TicketRequest:
        req = await session.scalar(select(TicketRequest).where(
            TicketRequest.ticket_id == t.id, TicketRequest.kind == kind, TicketRequest.status == "pending"))
        if req is None and not missing_ok:
            raise Conflict(f"no {kind} request is awaiting review on this ticket",
                           error_id=f"no-pending-{kind}")
        return req  # type: ignore[return-value]

    async def _close_pending(self, session: AsyncSession, t: Ticket, now: datetime, why: str) -> None:
        rows = await session.scalars(select(TicketRequest).where(
            TicketRequest.ticket_id == t.id, TicketRequest.status == "pending"))
        for req in rows:
            req.status, req.decided_at, req.decision_note = "cancelled", now, why

    def _decide(self, req: TicketRequest, actor: ActorRef, now: datetime, approve: bool, note: str) -> None:
        req.status = "approved" if approve else "rejected"
        req.decided_at, req.decided_by, req.decision_note = now, str(actor), note


def _require_text(value: str | None, name: str) -> None:
    if value is None or not value.strip():
        raise InvalidInput(f"'{name}' must not be empty", error_id=f"{name}-required")


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}
