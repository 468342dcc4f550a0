"""The knowledge base's workflow: units submit, the platform reviews and publishes, every change is versioned.

- ``submit`` records a creation / update / retirement as a pending change (a unit: its own entries only).
- ``approve`` applies it as a new version (refused if the entry moved on since: ``version-conflict``);
  ``reject`` closes it with a note. The platform's own submissions may be approved at once.
- ``ask`` sends a unit a knowledge question (知识提问) due per the injected ``QuestionClock``; the unit
  answers by submitting an entry for it.
- ``scan_reminders`` (run periodically) reminds owning units of entries nearing their 下架 time, entries
  untouched for long, and questions gone yellow or red; each reminder is made once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.bus import EventBus
from gateway.db.base import utcnow
from gateway.errors import Conflict, Forbidden, InvalidInput, NotFound
from kb import store
from kb.access import Actor, require_admin, require_scope
from kb.deadline import QuestionClock
from kb.models import KbChange, KbEntry, KbQuestion, KbReminder
from kb.schemas import EntryContent, check_entry_id, parse_content
from kb.search import SearchEngine
from kb.segment import Segmenter
from kb.transfer import Checked, Rejected, check_rows, flat_row, new_entry_id

log = logging.getLogger(__name__)

CHANGE_KINDS = ("create", "update", "retire")


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    expiring_within: timedelta = timedelta(days=14)
    stale_after: timedelta = timedelta(days=365)


@dataclass(slots=True)
class ImportReport:
    imported: list[str]
    rejected: list[dict[str, Any]]
    strict: bool
    published: bool
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"imported": len(self.imported), "ids": self.imported, "rejected": self.rejected,
                "unchanged": len(self.unchanged), "strict": self.strict, "published": self.published}


class KnowledgeBase:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        segmenter: Segmenter,
        *,
        question_clock: QuestionClock,
        bus: EventBus | None = None,
        reminders: ReminderPolicy = ReminderPolicy(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.segmenter = segmenter
        self.search = SearchEngine(sessions, segmenter, clock)
        self.question_clock = question_clock
        self.bus = bus
        self.reminder_policy = reminders
        self.now = clock

    # ---- changes and review ----------------------------------------------------------------------

    async def submit(
        self,
        actor: Actor,
        kind: str,
        *,
        entry_id: str | None = None,
        content: Any = None,
        base_version: int | None = None,
        question_id: int | None = None,
        publish: bool = False,
    ) -> KbChange:
        """Record a change for review. ``publish`` (platform only) approves it in the same transaction."""
        if kind not in CHANGE_KINDS:
            raise InvalidInput(f"unknown change kind {kind!r}", error_id="unknown-change-kind")
        if publish:
            require_admin(actor)
        parsed = parse_content(content) if kind != "retire" else None
        async with self.sessions.begin() as session:
            if kind == "create":
                entry_id = check_entry_id(entry_id) if entry_id else new_entry_id()
                if await store.load_entry(session, entry_id) is not None:
                    raise Conflict(f"entry {entry_id} already exists; submit an update",
                                   error_id="entry-exists")
                assert parsed is not None
                unit_id = parsed.unit_id
            else:
                if not entry_id:
                    raise InvalidInput(f"a {kind} needs the entry's id", error_id="missing-entry-id")
                entry = await self._entry(session, entry_id)
                unit_id = entry.unit_id
                if parsed is not None and parsed.unit_id != entry.unit_id:
                    require_scope(actor, parsed.unit_id)  # moving an entry needs rights on both units
                base_version = entry.version if base_version is None else base_version
            require_scope(actor, unit_id)
            question = await self._answer_question(session, actor, question_id) if question_id else None
            change = KbChange(kind=kind, entry_id=entry_id, unit_id=unit_id, base_version=base_version,
                              content=parsed.as_json() if parsed else None, question_id=question_id,
                              status="pending", submitted_by=actor.label, submitted_at=self.now())
            session.add(change)
            await session.flush()
            if question is not None:
                question.answer_change_id = change.id
            if publish:
                await self._apply(session, change, actor, note="")
        self._publish("kb.change.submitted", change_id=change.id, entry_id=change.entry_id, unit_id=unit_id)
        if publish:
            self.search.changed()
            self._publish("kb.entry.published", entry_id=change.entry_id, change=change.kind)
        return change

    async def approve(self, actor: Actor, change_id: int, note: str = "") -> KbChange:
        require_admin(actor)
        async with self.sessions.begin() as session:
            change = await self._pending_change(session, change_id)
            await self._apply(session, change, actor, note)
        self.search.changed()
        self._publish("kb.entry.published", entry_id=change.entry_id, change=change.kind)
        return change

    async def reject(self, actor: Actor, change_id: int, note: str) -> KbChange:
        require_admin(actor)
        if not note.strip():
            raise InvalidInput("say why the change is rejected", error_id="missing-review-note")
        async with self.sessions.begin() as session:
            change = await self._pending_change(session, change_id)
            change.status, change.reviewed_by, change.reviewed_at = "rejected", actor.label, self.now()
            change.review_note = note.strip()
        self._publish("kb.change.rejected", change_id=change.id, unit_id=change.unit_id)
        return change

    async def _apply(self, session: AsyncSession, change: KbChange, reviewer: Actor, note: str,
                     terms: dict[str, float] | None = None) -> None:
        now = self.now()
        entry = await store.load_entry(session, change.entry_id, for_update=True)
        if change.kind == "create" and entry is not None:
            raise Conflict(f"entry {change.entry_id} was created meanwhile", error_id="entry-exists")
        if change.kind != "create":
            if entry is None:
                raise NotFound(f"no entry {change.entry_id}", error_id="unknown-entry")
            if entry.version != change.base_version:
                raise Conflict(f"entry {entry.id} is at version {entry.version}, the change was made on "
                               f"version {change.base_version}; resubmit it", error_id="version-conflict",
                               current_version=entry.version)
        who = f"{change.submitted_by} (approved by {reviewer.label})"
        if change.kind == "retire":
            assert entry is not None
            await store.retire_entry(session, entry, changed_by=who, now=now, change_id=change.id)
        else:
            content = EntryContent.model_validate(change.content)
            await store.write_entry(session, self.segmenter, change.entry_id, content, changed_by=who,
                                    now=now, change_id=change.id, terms=terms)
        change.status, change.reviewed_by, change.reviewed_at = "approved", reviewer.label, now
        change.review_note = note

    async def _pending_change(self, session: AsyncSession, change_id: int) -> KbChange:
        change = await session.get(KbChange, change_id, with_for_update=True)
        if change is None:
            raise NotFound(f"no change {change_id}", error_id="unknown-change")
        if change.status != "pending":
            raise Conflict(f"change {change_id} is already {change.status}", error_id="change-not-pending")
        return change

    async def _entry(self, session: AsyncSession, entry_id: str) -> KbEntry:
        entry = await store.load_entry(session, entry_id)
        if entry is None:
            raise NotFound(f"no entry {entry_id}", error_id="unknown-entry")
        return entry

    # ---- reading ---------------------------------------------------------------------------------

    async def entry(self, actor: Actor, entry_id: str) -> dict[str, Any]:
        """An entry as it is now. Agents (and other units) see only entries in force that they may see;
        the owning unit and the platform also see expired or retired ones, for audit."""
        now = self.now()
        async with self.sessions() as session:
            entry = await self._entry(session, entry_id)
        owner = actor.is_admin or (actor.kind == "unit" and actor.unit_id == entry.unit_id)
        hidden = not store.is_in_force(entry, now) or (actor.kind == "unit" and not entry.is_public)
        if not owner and hidden:
            raise NotFound(f"no entry {entry_id} in force", error_id="unknown-entry")
        return store.entry_dict(entry, now)

    async def history(self, actor: Actor, entry_id: str) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            entry = await self._entry(session, entry_id)
            if not actor.is_admin:
                require_scope(actor, entry.unit_id)
            rows = await store.versions(session, entry_id)
        return [{"version": v.version, "changed_at": v.changed_at, "changed_by": v.changed_by,
                 "changed_fields": v.changed_fields, "change_id": v.change_id, "content": v.content}
                for v in rows]

    async def changes(self, actor: Actor, *, status: str | None = None) -> list[dict[str, Any]]:
        query = select(KbChange).order_by(KbChange.id)
        if status:
            query = query.where(KbChange.status == status)
        if not actor.is_admin:
            require_scope(actor, actor.unit_id or "")
            query = query.where(KbChange.unit_id == actor.unit_id)
        async with self.sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [change_dict(c) for c in rows]

    # ---- knowledge questions (知识提问) -------------------------------------------------------------

    async def ask(self, actor: Actor, unit_id: str, text: str) -> KbQuestion:
        require_admin(actor)
        if len(text.strip()) < 2:
            raise InvalidInput("the question is empty", error_id="empty-question")
        asked_at = self.now()
        question = KbQuestion(unit_id=unit_id, text=text.strip(), asked_by=actor.label, asked_at=asked_at,
                              due_at=self.question_clock.due_for(asked_at), status="open")
        async with self.sessions.begin() as session:
            session.add(question)
        self._publish("kb.question.asked", question_id=question.id, unit_id=unit_id, due_at=question.due_at)
        return question

    async def _answer_question(self, session: AsyncSession, actor: Actor, question_id: int) -> KbQuestion:
        question = await session.get(KbQuestion, question_id, with_for_update=True)
        if question is None:
            raise NotFound(f"no question {question_id}", error_id="unknown-question")
        require_scope(actor, question.unit_id)
        if question.status != "open":
            raise Conflict(f"question {question_id} is already answered", error_id="question-answered")
        question.status, question.answered_at = "answered", self.now()
        return question

    async def questions(self, actor: Actor, *, status: str | None = None) -> list[dict[str, Any]]:
        query = select(KbQuestion).order_by(KbQuestion.id)
        if status:
            query = query.where(KbQuestion.status == status)
        if not actor.is_admin:
            require_scope(actor, actor.unit_id or "")
            query = query.where(KbQuestion.unit_id == actor.unit_id)
        async with self.sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        now = self.now()
        return [question_dict(q, self.question_clock, now) for q in rows]

    # ---- reminders -------------------------------------------------------------------------------

    async def scan_reminders(self) -> list[KbReminder]:
        """Make the reminders due now (idempotent: each is made once). Returns the new ones."""
        now = self.now()
        policy = self.reminder_policy
        wanted: list[KbReminder] = []
        async with self.sessions.begin() as session:
            expiring = await session.execute(select(KbEntry).where(
                KbEntry.status == "published", KbEntry.expires_at > now,
                KbEntry.expires_at <= now + policy.expiring_within))
            for e in expiring.scalars():
                assert e.expires_at is not None
                wanted.append(KbReminder(unit_id=e.unit_id, kind="entry-expiring", subject_id=e.id,
                                         level=f"expires-{e.expires_at:%Y%m%dT%H%M}",
                                         message=f"条目“{e.question}”将于{e.expires_at:%Y-%m-%d}下架,请确认是否续期或更新"))
            stale = await session.execute(select(KbEntry).where(  # expired entries no longer matter
                KbEntry.status == "published", KbEntry.updated_at <= now - policy.stale_after,
                or_(KbEntry.expires_at.is_(None), KbEntry.expires_at > now)))
            for e in stale.scalars():
                wanted.append(KbReminder(unit_id=e.unit_id, kind="entry-stale", subject_id=e.id,
                                         level=f"v{e.version}",
                                         message=f"条目“{e.question}”自{e.updated_at:%Y-%m-%d}起未更新,请核对是否仍然准确"))
            open_questions = await session.execute(select(KbQuestion).where(KbQuestion.status == "open"))
            for q in open_questions.scalars():
                level = self.question_clock.warning_level(q.asked_at, q.due_at, now)
                if level in ("yellow", "red"):
                    state = "已超期" if level == "red" else "即将到期"
                    message = f"知识提问“{q.text}”{state}(期限{q.due_at:%Y-%m-%d %H:%M})"
                    wanted.append(KbReminder(unit_id=q.unit_id, kind="question-overdue", subject_id=str(q.id),
                                             level=level, message=message))
            existing = {tuple(row) for row in await session.execute(select(
                KbReminder.kind, KbReminder.subject_id, KbReminder.level))}
            new = [r for r in wanted if (r.kind, r.subject_id, r.level) not in existing]
            for reminder in new:
                reminder.created_at = now
                session.add(reminder)
        for reminder in new:
            self._publish("kb.reminder", reminder_id=reminder.id, unit_id=reminder.unit_id,
                          reminder=reminder.kind, subject_id=reminder.subject_id, level=reminder.level,
                          message=reminder.message)
        return new

    async def reminders(self, actor: Actor) -> list[dict[str, Any]]:
        query = select(KbReminder).order_by(KbReminder.id)
        if not actor.is_admin:
            require_scope(actor, actor.unit_id or "")
            query = query.where(KbReminder.unit_id == actor.unit_id)
        async with self.sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [{"id": r.id, "unit_id": r.unit_id, "kind": r.kind, "subject_id": r.subject_id,
                 "level": r.level, "message": r.message, "created_at": r.created_at} for r in rows]

    # ---- import / export -------------------------------------------------------------------------

    async def import_rows(self, actor: Actor, rows: list[tuple[int, dict[str, Any]]], *,
                          strict: bool = False) -> ImportReport:
        """Validate every row, then write the valid ones in one transaction (strict: none if any is bad).
        The platform's rows are published at once; a unit's rows become pending changes of its own unit."""
        if actor.kind == "agent":
            raise Forbidden("agents may read the knowledge base but not change it", error_id="read-only")
        checked = check_rows(rows, unit_scope=None if actor.is_admin else actor.unit_id)
        publish = actor.is_admin
        # Segmenting thousands of rows is CPU work: off the event loop, before the transaction opens.
        terms: dict[int, dict[str, float]] = {}
        if publish:
            terms = await asyncio.to_thread(
                lambda: {v.row: store.search_terms(self.segmenter, v.content) for v in checked.valid})
        async with self.sessions.begin() as session:
            await self._check_against_store(session, actor, checked)
            if checked.rejected and strict:
                return ImportReport([], [r.as_dict() for r in checked.rejected], strict, publish)
            unchanged: list[str] = []
            now = self.now()
            for row in checked.valid:
                current = await store.load_entry(session, row.entry_id)
                same = current is not None and store.content_of(current) == row.content
                if same and current is not None and current.status == "published":
                    unchanged.append(row.entry_id)
                    continue
                change = KbChange(kind="update" if current else "create", entry_id=row.entry_id,
                                  unit_id=row.content.unit_id,
                                  base_version=current.version if current else None,
                                  content=row.content.as_json(), status="pending", submitted_by=actor.label,
                                  submitted_at=now, review_note=f"import row {row.row}")
                session.add(change)
                await session.flush()
                if publish:
                    await self._apply(session, change, actor, note=f"import row {row.row}",
                                      terms=terms[row.row])
        ids = [v.entry_id for v in checked.valid if v.entry_id not in unchanged]
        if publish:
            self.search.changed()
        self._publish("kb.imported", by=actor.label, count=len(ids), published=publish)
        return ImportReport(ids, [r.as_dict() for r in checked.rejected], strict, publish, unchanged)

    async def _check_against_store(self, session: AsyncSession, actor: Actor, checked: Checked) -> None:
        """Rows updating an existing entry of another unit are rejected for a unit importer."""
        if actor.is_admin or not checked.valid:
            return
        ids = [v.entry_id for v in checked.valid]
        owners = dict((await session.execute(
            select(KbEntry.id, KbEntry.unit_id).where(KbEntry.id.in_(ids)))).all())
        keep = []
        for row in checked.valid:
            owner = owners.get(row.entry_id)
            if owner is not None and owner != actor.unit_id:
                reason = f"id: entry belongs to unit {owner}"
                checked.rejected.append(Rejected(row.row, row.entry_id, [reason]))
            else:
                keep.append(row)
        checked.valid = keep
        checked.rejected.sort(key=lambda r: r.row)

    async def export(self, actor: Actor, *, include_inactive: bool = False) -> list[dict[str, Any]]:
        """Entries as flat rows: the platform's all, a unit's its own. By default only entries in force."""
        if actor.kind == "agent":
            raise Forbidden("export is for the platform and the units", error_id="read-only")
        now = self.now()
        query = select(KbEntry).order_by(KbEntry.id)
        if not actor.is_admin:
            query = query.where(KbEntry.unit_id == actor.unit_id)
        async with self.sessions() as session:
            entries = (await session.execute(query)).scalars().all()
        shown = [e for e in entries if include_inactive or store.is_in_force(e, now)]
        return [flat_row(store.entry_dict(e)) for e in shown]

    async def count(self) -> int:
        async with self.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(KbEntry))).scalar_one())

    def _publish(self, event: str, **data: Any) -> None:
        if self.bus is not None:
            self.bus.publish(event, **data)


def change_dict(c: KbChange) -> dict[str, Any]:
    return {"id": c.id, "kind": c.kind, "entry_id": c.entry_id, "unit_id": c.unit_id,
            "base_version": c.base_version, "content": c.content, "question_id": c.question_id,
            "status": c.status, "submitted_by": c.submitted_by, "submitted_at": c.submitted_at,
            "reviewed_by": c.reviewed_by, "reviewed_at": c.reviewed_at, "review_note": c.review_note}


def question_dict(q: KbQuestion, clock: QuestionClock, now: datetime) -> dict[str, Any]:
    level = clock.warning_level(q.asked_at, q.due_at, now) if q.status == "open" else "normal"
    return {"id": q.id, "unit_id": q.unit_id, "text": q.text, "asked_by": q.asked_by, "asked_at": q.asked_at,
            "due_at": q.due_at, "status": q.status, "answered_at": q.answered_at, "warning_level": level}
