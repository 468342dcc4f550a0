"""Quality inspection of every finished call, from a durable trigger, off the event loop.

The trigger is the database itself: a sweep (on the gateway's timer, and nudged when a post-call
transcript is ready) picks the answered calls whose newest post-call transcript has no inspection yet,
reads each call's material in one session, runs the checks in a worker thread and writes the inspection
and its findings in one transaction. Nothing waits in memory, so a restart loses nothing; re-running on
the same material writes the same rows (findings are keyed by check and evidence time), and a verdict a
supervisor gave stays with its finding.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.calls.models import CallRecord, PoliceHandoff
from gateway.errors import InvalidInput, NotFound
from gateway.quality.checks import Extractor, Finding, Material, Segment, TicketFacts, inspect, score
from gateway.quality.models import QaFinding, QaInspection
from gateway.quality.rules import Rules
from gateway.speech.models import Transcript
from gateway.tickets.models import Ticket
from kb.models import KbEntry

log = logging.getLogger(__name__)
EMERGENCY_NUMBERS = frozenset({"110", "119", "120", "122"})
VERDICTS = ("confirmed", "dismissed")


class QualityService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], rules: Rules, extract: Extractor | None,
                 clock: Callable[[], datetime], *, batch: int = 20) -> None:
        self.sessions = sessions
        self.rules = rules
        self.extract = extract
        self.clock = clock
        self.batch = batch

    # ---- the sweep -----------------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Inspect up to ``batch`` due calls; the number inspected."""
        async with self.sessions() as session:
            due = await self._due(session)
        done = 0
        for call_id, transcript_id in due:
            try:
                await self.inspect_call(call_id, transcript_id)
                done += 1
            except Exception:  # one broken call must not stop the others; it is retried next sweep
                log.exception("quality inspection of call %s failed", call_id)
        return done

    async def _due(self, session: AsyncSession) -> list[tuple[str, int]]:
        latest = (select(Transcript.call_key, func.max(Transcript.id).label("tid"))
                  .where(Transcript.source == "post_call").group_by(Transcript.call_key).subquery())
        query = (select(CallRecord.id, latest.c.tid)
                 .join(latest, latest.c.call_key == CallRecord.id)
                 .outerjoin(QaInspection, QaInspection.call_id == CallRecord.id)
                 .where(CallRecord.answered_at.is_not(None), CallRecord.ended_at.is_not(None),
                        or_(QaInspection.call_id.is_(None), QaInspection.transcript_id < latest.c.tid))
                 .order_by(CallRecord.ended_at).limit(self.batch))
        return [(r[0], int(r[1])) for r in (await session.execute(query)).all()]

    async def inspect_call(self, call_id: str, transcript_id: int | None = None) -> dict[str, Any]:
        async with self.sessions() as session:
            call = await session.get(CallRecord, call_id)
            if call is None:
                raise NotFound(f"no call {call_id!r}", error_id="unknown-call")
            transcript = await self._transcript(session, call_id, transcript_id)
            material = await self._material(session, call, transcript)
        findings = await asyncio.to_thread(inspect, material, self.rules, self.extract)
        return await self._store(call, transcript.id, material, findings)

    async def _transcript(self, session: AsyncSession, call_id: str, transcript_id: int | None) -> Transcript:
        query = select(Transcript).where(Transcript.call_key == call_id, Transcript.source == "post_call")
        if transcript_id is not None:
            query = query.where(Transcript.id == transcript_id)
        transcript = (await session.scalars(query.order_by(Transcript.id.desc()).limit(1))).first()
        if transcript is None:
            raise NotFound(f"call {call_id!r} has no post-call transcript yet", error_id="no-transcript")
        return transcript

    async def _material(self, session: AsyncSession, call: CallRecord, transcript: Transcript) -> Material:
        ticket = None
        if call.ticket_id:
            ticket = await session.scalar(select(Ticket).where(Ticket.number == call.ticket_id))
        handed_to_110 = await session.scalar(select(func.count()).select_from(PoliceHandoff).where(
            PoliceHandoff.call_id == call.id, PoliceHandoff.direction == "to_110"))
        done = [t for t in call.transfers or [] if str(t.get("result", "")).lower() == "success"]
        emergency_transfer = any(t.get("kind") == "police" or str(t.get("target")) in EMERGENCY_NUMBERS
                                 for t in done)
        facts = None
        kb: tuple[tuple[str, str], ...] = ()
        if ticket is not None:
            facts = TicketFacts(number=ticket.number, category=ticket.category, urgent=ticket.urgent,
                                content=ticket.content, location=ticket.location or "",
                                caller_name=ticket.caller_name or "", elements=dict(ticket.elements or {}),
                                rejected=ticket.rejection_reason is not None,
                                resolved_on_call=ticket.resolved_on_call, reply_text=ticket.reply_text or "")
            if ticket.resolved_on_call and ticket.reply_text:
                rows = await session.execute(select(KbEntry.id, KbEntry.answer).where(KbEntry.status == "published"))
                kb = tuple((r[0], r[1]) for r in rows.all())
        segments = tuple(Segment(str(s.get("speaker")), float(s.get("start", 0)), float(s.get("end", 0)),
                                 str(s.get("text", "")))
                         for s in sorted(transcript.segments or [], key=lambda s: float(s.get("start", 0))))
        return Material(call_id=call.id, segments=segments, call_time=call.started_at, holds=call.holds or 0,
                        on_hold_seconds=float(call.on_hold_seconds or 0), transferred=bool(done),
                        emergency_handled=bool(handed_to_110) or emergency_transfer or bool(ticket and ticket.urgent),
                        ticket=facts, kb_answers=kb)

    async def _store(self, call: CallRecord, transcript_id: int, material: Material,
                     findings: list[Finding]) -> dict[str, Any]:
        total = score(findings, self.rules)
        now = self.clock()
        by_key = {f.key: f for f in findings}  # one finding per check and moment
        async with self.sessions.begin() as session:
            inspection = await session.get(QaInspection, call.id)
            if inspection is None:
                inspection = QaInspection(call_id=call.id)
                session.add(inspection)
            inspection.transcript_id = transcript_id
            inspection.ticket_number = material.ticket.number if material.ticket else None
            inspection.agent_id = call.agent_id
            inspection.call_started_at = call.started_at
            inspection.score = total
            inspection.findings = len(by_key)
            inspection.flagged = bool(by_key)
            inspection.rules_source = self.rules.source
            inspection.inspected_at = now
            existing = {f.key: f for f in await session.scalars(select(QaFinding).where(QaFinding.call_id == call.id))}
            for key, row in existing.items():
                if key not in by_key:
                    if row.verdict is None:
                        await session.delete(row)
                    else:
                        row.current = False  # reviewed: kept for calibration, no longer found
            for key, f in by_key.items():
                row = existing.get(key) or QaFinding(call_id=call.id, key=key)
                if key not in existing:
                    session.add(row)
                row.check, row.severity, row.message = f.check, f.severity, f.message
                row.speaker, row.text, row.start_seconds, row.end_seconds = f.speaker, f.text, f.start, f.end
                row.current = True
        return {"call_id": call.id, "score": total, "findings": len(by_key)}

    # ---- supervisors ---------------------------------------------------------------------------------

    async def queue(self, *, limit: int = 50, reviewed: bool = False) -> list[dict[str, Any]]:
        """Flagged calls, worst first; by default those with findings still awaiting a verdict."""
        async with self.sessions() as session:
            query = select(QaInspection).where(QaInspection.flagged.is_(True))
            pending = select(QaFinding.call_id).where(QaFinding.verdict.is_(None), QaFinding.current.is_(True))
            query = query.where(QaInspection.call_id.not_in(pending) if reviewed else
                                QaInspection.call_id.in_(pending))
            inspections = list(await session.scalars(
                query.order_by(QaInspection.score, QaInspection.call_started_at.desc()).limit(limit)))
            ids = [i.call_id for i in inspections]
            rows = list(await session.scalars(select(QaFinding).where(QaFinding.call_id.in_(ids))
                                              .order_by(QaFinding.start_seconds))) if ids else []
        by_call: dict[str, list[dict[str, Any]]] = {}
        for f in rows:
            by_call.setdefault(f.call_id, []).append(_finding(f))
        return [_inspection(i) | {"items": by_call.get(i.call_id, [])} for i in inspections]

    async def call(self, call_id: str) -> dict[str, Any]:
        async with self.sessions() as session:
            inspection = await session.get(QaInspection, call_id)
            if inspection is None:
                raise NotFound(f"call {call_id!r} has not been inspected", error_id="not-inspected")
            rows = await session.scalars(select(QaFinding).where(QaFinding.call_id == call_id)
                                         .order_by(QaFinding.start_seconds))
            return _inspection(inspection) | {"items": [_finding(f) for f in rows]}

    async def review(self, finding_id: int, verdict: str, reviewer: str, note: str | None) -> dict[str, Any]:
        if verdict not in VERDICTS:
            raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}", error_id="invalid-verdict")
        async with self.sessions.begin() as session:
            row = await session.get(QaFinding, finding_id)
            if row is None:
                raise NotFound(f"no finding {finding_id}", error_id="unknown-finding")
            row.verdict, row.reviewer, row.note, row.reviewed_at = verdict, reviewer, note, self.clock()
            return _finding(row)

    async def trend(self, *, days: int = 56, agent_id: str | None = None) -> list[dict[str, Any]]:
        """Per agent and ISO week: calls inspected, mean score, confirmed and dismissed findings."""
        since = self.clock() - timedelta(days=days)
        async with self.sessions() as session:
            query = select(QaInspection.call_id, QaInspection.agent_id, QaInspection.call_started_at,
                           QaInspection.score).where(QaInspection.call_started_at >= since)
            if agent_id is not None:
                query = query.where(QaInspection.agent_id == agent_id)
            inspections = (await session.execute(query)).all()
            verdicts = (await session.execute(
                select(QaFinding.call_id, QaFinding.verdict).join(
                    QaInspection, and_(QaInspection.call_id == QaFinding.call_id,
                                       QaInspection.call_started_at >= since))
                .where(QaFinding.verdict.is_not(None)))).all()
        confirmed: dict[str, int] = {}
        dismissed: dict[str, int] = {}
        for call_id, verdict in verdicts:
            target = confirmed if verdict == "confirmed" else dismissed
            target[call_id] = target.get(call_id, 0) + 1
        groups: dict[tuple[str, str], list[Any]] = {}
        for row in inspections:
            year, week, _ = row.call_started_at.isocalendar()
            groups.setdefault((row.agent_id or "", f"{year}-W{week:02d}"), []).append(row)
        return [{"agent_id": agent or None, "week": week, "calls": len(rows),
                 "mean_score": round(sum(r.score for r in rows) / len(rows), 1),
                 "confirmed": sum(confirmed.get(r.call_id, 0) for r in rows),
                 "dismissed": sum(dismissed.get(r.call_id, 0) for r in rows)}
                for (agent, week), rows in sorted(groups.items())]


def _inspection(i: QaInspection) -> dict[str, Any]:
    return {"call_id": i.call_id, "ticket_number": i.ticket_number, "agent_id": i.agent_id,
            "call_started_at": i.call_started_at, "score": i.score, "findings": i.findings,
            "inspected_at": i.inspected_at}


def _finding(f: QaFinding) -> dict[str, Any]:
    return {"id": f.id, "check": f.check, "severity": f.severity, "message": f.message, "speaker": f.speaker,
            "text": f.text, "start_seconds": f.start_seconds, "end_seconds": f.end_seconds, "current": f.current,
            "verdict": f.verdict, "reviewer": f.reviewer, "note": f.note, "reviewed_at": f.reviewed_at}
