"""Writing entries: every write bumps the version, keeps a snapshot and refreshes the search terms.

These functions work inside the caller's session (one transaction per business operation); they never
commit. The segmenter is passed in because it is built once by the composition root.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kb.models import KbEntry, KbEntryVersion, KbRevision, KbSearchTerm
from kb.schemas import CONTENT_FIELDS, EntryContent
from kb.segment import Segmenter, cjk_chars

# How much a match in each field counts. Single characters of the short fields are indexed too (so
# one-character queries work), at a fraction of the word weight.
FIELD_WEIGHTS = {"question": 3.0, "alternatives": 2.5, "tags": 2.0, "region": 2.0, "answer": 1.0,
                 "basis": 0.5}
CHAR_FIELDS = ("question", "alternatives", "tags")
CHAR_FACTOR = 0.3


def content_of(entry: KbEntry) -> EntryContent:
    return EntryContent.model_validate({name: getattr(entry, name) for name in CONTENT_FIELDS})


def entry_dict(entry: KbEntry, at: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": entry.id, **content_of(entry).as_json(), "status": entry.status,
                            "version": entry.version, "updated_at": entry.updated_at}
    if at is not None:
        body["in_force"] = is_in_force(entry, at)
    return body


def is_in_force(entry: KbEntry, at: datetime) -> bool:
    return entry.status == "published" and content_of(entry).in_force(at)


def search_terms(segmenter: Segmenter, content: EntryContent) -> dict[str, float]:
    """term → weight for one entry (the best field wins when a term appears in several)."""
    fields = {
        "question": content.question,
        "alternatives": "\n".join(content.alternatives),
        "tags": "\n".join(content.tags),
        "region": content.region,  # callers name the place ("庆阳这边…"): it should count like a tag
        "answer": content.answer,
        "basis": f"{content.basis_document} {content.basis_article}",
    }
    weights: dict[str, float] = {}
    for field, text in fields.items():
        weight = FIELD_WEIGHTS[field]
        for term in segmenter.terms(text):
            weights[term] = max(weights.get(term, 0.0), weight)
        if field in CHAR_FIELDS:
            for char in cjk_chars(text):
                weights[char] = max(weights.get(char, 0.0), weight * CHAR_FACTOR)
    return weights


async def next_revision(session: AsyncSession) -> int:
    """This transaction's revision: the counter is bumped once per transaction (a 50k-row import is
    one revision) and its row stays locked until commit, which orders revisions as commits."""
    transaction = id(session.sync_session.get_transaction())
    cached = session.info.get("kb_revision")
    if cached is not None and cached[0] == transaction:
        return int(cached[1])
    await session.execute(update(KbRevision).where(KbRevision.id == 1).values(value=KbRevision.value + 1))
    value = (await session.execute(select(KbRevision.value).where(KbRevision.id == 1))).scalar_one()
    session.info["kb_revision"] = (transaction, value)
    return int(value)


async def current_revision(session: AsyncSession) -> int:
    return int((await session.execute(select(KbRevision.value).where(KbRevision.id == 1))).scalar_one())


async def load_entry(session: AsyncSession, entry_id: str, *, for_update: bool = False) -> KbEntry | None:
    query = select(KbEntry).where(KbEntry.id == entry_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def write_entry(
    session: AsyncSession,
    segmenter: Segmenter,
    entry_id: str,
    content: EntryContent,
    *,
    changed_by: str,
    now: datetime,
    change_id: int | None = None,
    terms: dict[str, float] | None = None,
) -> KbEntry:
    """Create or replace an entry's content as a new version. ``terms`` may be precomputed (bulk import
    segments in a thread)."""
    entry = await load_entry(session, entry_id, for_update=True)
    values = {**content.model_dump(), "revision": await next_revision(session)}
    if entry is None:
        entry = KbEntry(id=entry_id, version=1, status="published", created_at=now, updated_at=now, **values)
        session.add(entry)
        changed = list(CONTENT_FIELDS)
    else:
        before = content_of(entry).model_dump()
        changed = [name for name in CONTENT_FIELDS if before[name] != values[name]]
        for name, value in values.items():
            setattr(entry, name, value)
        entry.version += 1
        entry.status = "published"
        entry.updated_at = now
    session.add(KbEntryVersion(entry_id=entry_id, version=entry.version, content=content.as_json(),
                               changed_fields=changed, changed_by=changed_by, change_id=change_id,
                               changed_at=now))
    await session.flush()
    await replace_terms(session, entry_id, terms if terms is not None else search_terms(segmenter, content))
    return entry


async def retire_entry(
    session: AsyncSession, entry: KbEntry, *, changed_by: str, now: datetime, change_id: int | None = None
) -> KbEntry:
    """Withdraw an entry from search for good; the row and its history stay for audit."""
    entry.status = "retired"
    entry.revision = await next_revision(session)
    entry.version += 1
    entry.updated_at = now
    session.add(KbEntryVersion(entry_id=entry.id, version=entry.version, content=content_of(entry).as_json(),
                               changed_fields=["status"], changed_by=changed_by, change_id=change_id,
                               changed_at=now))
    await session.execute(delete(KbSearchTerm).where(KbSearchTerm.entry_id == entry.id))
    await session.flush()
    return entry


async def replace_terms(session: AsyncSession, entry_id: str, terms: dict[str, float]) -> None:
    await session.execute(delete(KbSearchTerm).where(KbSearchTerm.entry_id == entry_id))
    if terms:
        await session.execute(insert(KbSearchTerm), [
            {"term": term, "entry_id": entry_id, "weight": weight} for term, weight in terms.items()])


async def versions(session: AsyncSession, entry_id: str) -> list[KbEntryVersion]:
    rows = await session.execute(select(KbEntryVersion).where(KbEntryVersion.entry_id == entry_id)
                                 .order_by(KbEntryVersion.version))
    return list(rows.scalars())
