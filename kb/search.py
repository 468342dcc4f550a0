"""Chinese search over entries in force: segmented terms scored in memory, then fuzzy re-ranking (rapidfuzz).

Why a term table rather than FTS5/tsvector: one ``kb_search_terms`` table of (term, entry, weight),
filled from rjieba words plus the single characters of the short fields, answers 1–2 character queries
(FTS5 trigram cannot) and behaves the same on SQLite and PostgreSQL. Candidates are scored (field
weight × BM25 idf, filtered to entries in force), the best few are re-ranked with rapidfuzz against the
question and its alternative phrasings, and matches are highlighted with ``<mark>``.

Scoring runs on each instance's in-memory copy of that table (kb/index.py), built in the background
on first use; until it is ready the same scoring runs in SQL. The copy stays current by revision:
this instance's writes mark it stale (the next search catches up first), other instances' writes are
seen by a one-row check at most every ``check_every`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from kb.index import CANDIDATES, COMMON_SHARE, FIELD, RECORD, IndexedEntry, MemoryIndex, phrasings_of
from kb.models import KbEntry, KbSearchTerm
from kb.segment import Segmenter, is_cjk, normalize
from kb.store import content_of, current_revision

log = logging.getLogger(__name__)

TERM_SHARE = 0.65  # final score = TERM_SHARE × term score (0–1) + (1 − TERM_SHARE) × fuzzy similarity (0–1)
CHECK_EVERY = 1.0  # seconds: how stale another instance's writes may be in this instance's results
REBUILD_SHARE = 0.1  # catching up on more than this share of the entries rebuilds the index instead
ENTRY_PAGE = 1000  # entries read per query while building
TERM_PAGE = 2000  # terms (with all their postings) read per query while building
SNIPPET = 120  # characters of the answer shown around the first match
TRANSCRIPT_TAIL = 160  # characters of live transcript the suggestion looks at (~40 s of speech)
RECENT_TAIL = 24  # the latest ~6 s of speech: its words count double, callers move on to the real matter
RECENT_BOOST = 2.0


@dataclass(frozen=True, slots=True)
class SearchFilters:
    unit_id: str | None = None
    regions: tuple[str, ...] = ()  # empty = every region
    public_only: bool = False


@dataclass(slots=True)
class Hit:
    entry: KbEntry
    score: float
    terms: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        content = content_of(self.entry)
        return {
            "id": self.entry.id,
            "question": content.question,
            "answer": content.answer,
            "alternatives": content.alternatives,
            "basis": {"document": content.basis_document, "article": content.basis_article},
            "unit_id": content.unit_id,
            "region": content.region,
            "is_public": content.is_public,
            "tags": content.tags,
            "effective_at": content.effective_at,
            "expires_at": content.expires_at,
            "version": self.entry.version,
            "score": round(self.score, 4),
            "highlight": {
                "question": highlight(content.question, self.terms),
                "answer": highlight(content.answer, self.terms, snippet=SNIPPET),
            },
        }


class SearchEngine:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], segmenter: Segmenter,
                 clock: Callable[[], datetime] = utcnow, *, check_every: float = CHECK_EVERY,
                 in_memory: bool = True) -> None:
        """``in_memory=False`` scores every search in SQL (the benchmark's baseline)."""
        self.sessions = sessions
        self.segmenter = segmenter
        self.now = clock
        self.check_every = check_every
        self.in_memory = in_memory
        self._index: MemoryIndex | None = None
        self._building: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stale = False
        self._checked = -math.inf

    def changed(self) -> None:
        """This instance committed a write to entries: the next search catches up before it scores."""
        self._stale = True

    def start_building(self) -> asyncio.Task[None]:
        """Build the in-memory index in the background (start-up); searches use SQL meanwhile. A build
        that failed (database away) is started again by the next search."""
        if self._building is None or (self._building.done() and self._index is None):
            self._building = asyncio.create_task(self._build_logged(), name="kb-index-build")
        return self._building

    async def warm(self) -> None:
        """Build the in-memory index now (benchmarks, tests) rather than in the background."""
        await asyncio.shield(self.start_building())

    async def aclose(self) -> None:
        if self._building is not None and not self._building.done():
            self._building.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._building

    async def search(
        self, query: str, *, filters: SearchFilters = SearchFilters(), at: datetime | None = None,
        limit: int = 10,
    ) -> list[Hit]:
        terms = self.segmenter.query_terms(query)
        return await self._ranked(query, terms, filters, at or self.now(), limit)

    async def suggest(
        self, transcript: str, *, filters: SearchFilters = SearchFilters(), at: datetime | None = None,
        limit: int = 3,
    ) -> list[Hit]:
        """Best entries for what the caller says now: the tail of the live transcript, fillers dropped."""
        tail = "".join(transcript.split())[-TRANSCRIPT_TAIL:]
        terms = self.segmenter.transcript_terms(tail)
        recent = self.segmenter.transcript_terms(tail[-RECENT_TAIL:])
        boosts = {t: RECENT_BOOST for t in recent}
        return await self._ranked(tail[-RECENT_TAIL:], terms, filters, at or self.now(), limit, boosts)

    async def _ranked(
        self, query: str, terms: list[str], filters: SearchFilters, at: datetime, limit: int,
        boosts: dict[str, float] | None = None,
    ) -> list[Hit]:
        if not terms or limit <= 0:
            return []
        index = await self._current()
        if index is None:
            return await self._ranked_in_sql(query, terms, filters, at, limit, boosts)
        weights = index.query(terms, boosts).weights
        if not weights:
            return []
        scored = index.candidates(weights, at, unit_id=filters.unit_id, regions=filters.regions,
                                  public_only=filters.public_only)
        if not scored:
            return []
        best = scored[0][1]
        needle = normalize(query)
        ranked = sorted(
            ((index.ids[p], TERM_SHARE * score / best
              + (1 - TERM_SHARE) * max(fuzz.WRatio(needle, text) for text in index.phrasings[p]) / 100)
             for p, score in scored),
            key=lambda hit: (-hit[1], hit[0]))[:limit]
        async with self.sessions() as session:
            entries = {e.id: e for e in (await session.execute(
                select(KbEntry).where(KbEntry.id.in_([entry_id for entry_id, _ in ranked])))).scalars()}
        # An entry changed since the index saw it is shown as it is now, and only if it still qualifies.
        return [Hit(entries[entry_id], score, list(weights)) for entry_id, score in ranked
                if entry_id in entries and qualifies(entries[entry_id], at, filters)]

    async def _current(self) -> MemoryIndex | None:
        """The in-memory index, caught up if due; None while it is first built (search runs in SQL)."""
        index = self._index
        if not self.in_memory:
            return None
        if index is None:
            self.start_building()
            return None
        if not self._stale and time.monotonic() - self._checked < self.check_every:
            return index
        if self._lock.locked() and not self._stale:
            return index  # another search is catching up; this one may be a second behind
        async with self._lock:
            if self._stale or time.monotonic() - self._checked >= self.check_every:
                self._stale = False  # before awaiting: a write committed meanwhile marks it again
                self._checked = time.monotonic()
                await self._catch_up(index)
        return self._index

    async def _build_logged(self) -> None:
        try:
            await self._build()
        except Exception:  # searches go on in SQL; the next one starts another build
            log.exception("building the knowledge-base search index failed")

    async def _build(self) -> None:
        """Read the index page by page (the event loop only awaits; one page is a few ms of its time)
        and build it in a worker thread. Each term's postings come as one string (entry id and weight
        per posting), so the loop decodes one value per term instead of three per (term, entry) row."""
        started = time.perf_counter()
        index = MemoryIndex()
        async with self.sessions() as session:
            index.revision = await current_revision(session)
            last = ""
            while entries := (await session.execute(
                    select(*ENTRY_COLUMNS).where(KbEntry.status == "published", KbEntry.id > last)
                    .order_by(KbEntry.id).limit(ENTRY_PAGE))).all():
                await asyncio.to_thread(index.apply, [indexed(row, {}) for row in entries])
                last = entries[-1].id
            postings = func.aggregate_strings(
                KbSearchTerm.entry_id + FIELD + cast(KbSearchTerm.weight, String), RECORD)
            last = ""
            while terms := (await session.execute(
                    select(KbSearchTerm.term, postings).where(KbSearchTerm.term > last)
                    .group_by(KbSearchTerm.term).order_by(KbSearchTerm.term).limit(TERM_PAGE))).all():
                await asyncio.to_thread(index.add_packed, terms)
                last = terms[-1][0]
        self._index = index
        self._checked = time.monotonic()
        log.info("knowledge-base search index: %d entries at revision %d, built in %.1f s",
                 index.size, index.revision, time.perf_counter() - started)

    async def _catch_up(self, index: MemoryIndex) -> None:
        """Load the entries written since the index's revision; many of them → rebuild instead."""
        async with self.sessions() as session:
            revision = await current_revision(session)
            if revision == index.revision:
                return
            rows = (await session.execute(select(*ENTRY_COLUMNS, KbEntry.status).where(
                KbEntry.revision > index.revision, KbEntry.revision <= revision))).all()
            if len(rows) > max(1000, REBUILD_SHARE * index.size):
                await self._build()
                return
            published = sorted((row for row in rows if row.status == "published"), key=lambda row: row.id)
            terms: dict[str, dict[str, float]] = {row.id: {} for row in published}
            if published:
                for term, entry_id, weight in await session.execute(
                        select(KbSearchTerm.term, KbSearchTerm.entry_id, KbSearchTerm.weight)
                        .where(KbSearchTerm.entry_id.in_(list(terms)))):
                    terms[entry_id][term] = weight
        index.apply([indexed(row, terms[row.id]) for row in published],
                    gone=[row.id for row in rows if row.status != "published"], revision=revision)

    async def _ranked_in_sql(
        self, query: str, terms: list[str], filters: SearchFilters, at: datetime, limit: int,
        boosts: dict[str, float] | None = None,
    ) -> list[Hit]:
        """The same scoring done by the database: serves while the in-memory index is first built."""
        async with self.sessions() as session:
            weights = await self._term_weights(session, terms)
            for term, boost in (boosts or {}).items():
                if term in weights:
                    weights[term] *= boost
            if not weights:
                return []
            scored = await self._candidates(session, weights, filters, at)
            if not scored:
                return []
            entries = {e.id: e for e in (await session.execute(
                select(KbEntry).where(KbEntry.id.in_(list(scored))))).scalars()}
        best = max(scored.values())
        hits = []
        needle = normalize(query)
        for entry_id, term_score in scored.items():
            entry = entries[entry_id]
            similarity = max(fuzz.WRatio(needle, normalize(text))
                             for text in [entry.question, *entry.alternatives]) / 100
            score = TERM_SHARE * term_score / best + (1 - TERM_SHARE) * similarity
            hits.append(Hit(entry, score, list(weights)))
        hits.sort(key=lambda h: (-h.score, h.entry.id))
        return hits[:limit]

    async def _term_weights(self, session: AsyncSession, terms: list[str]) -> dict[str, float]:
        """idf of each query term worth retrieving by. A word absent from the index falls back to its
        characters (so an unusual word still meets entries sharing its characters). Characters are
        counted only for such words: counting every character of every word scanned many rows."""
        df = await document_frequencies(session, terms)
        missing = [t for t in terms if not df.get(t) and len(t) > 1]
        chars = list(dict.fromkeys(c for t in missing for c in t if is_cjk(c) and c not in df))
        if chars:
            df |= await document_frequencies(session, chars)
        if not any(df.values()):
            return {}
        total = (await session.execute(
            select(func.count()).select_from(KbEntry).where(KbEntry.status == "published"))).scalar_one()
        chosen = [t for t in terms if df.get(t)]
        for term in missing:
            chosen += [c for c in term if df.get(c)]
        chosen = sorted(dict.fromkeys(chosen), key=lambda t: df[t])
        rare = [t for t in chosen if df[t] <= max(50, COMMON_SHARE * total)] or chosen[:1]
        # Pruning further by a row budget (rarest terms first) was measured: at 50k entries it cost
        # a third of recall@5 on the held-out questions, so every term under COMMON_SHARE is kept.
        return {t: math.log(1 + (total - df[t] + 0.5) / (df[t] + 0.5)) for t in rare}

    async def _candidates(
        self, session: AsyncSession, idf: dict[str, float], filters: SearchFilters, at: datetime
    ) -> dict[str, float]:
        if len(idf) == 1:
            # One term: its rows in index order (weight desc) are already ranked, so the database
            # stops after CANDIDATES entries in force instead of scoring every row of the term.
            [(term, term_idf)] = idf.items()
            query = (
                select(KbSearchTerm.entry_id, KbSearchTerm.weight)
                .join(KbEntry, KbEntry.id == KbSearchTerm.entry_id)
                .where(KbSearchTerm.term == term, *in_force(at), *filter_clauses(filters))
                .order_by(KbSearchTerm.weight.desc(), KbSearchTerm.entry_id)
                .limit(CANDIDATES)
            )
            rows = (await session.execute(query)).all()
            return {entry_id: float(weight) * term_idf for entry_id, weight in rows}
        score = func.sum(KbSearchTerm.weight * case(idf, value=KbSearchTerm.term, else_=0.0))
        query = (
            select(KbSearchTerm.entry_id, score.label("score"))
            .join(KbEntry, KbEntry.id == KbSearchTerm.entry_id)
            .where(KbSearchTerm.term.in_(list(idf)), *in_force(at), *filter_clauses(filters))
            .group_by(KbSearchTerm.entry_id)
            .order_by(score.desc(), KbSearchTerm.entry_id)
            .limit(CANDIDATES)
        )
        return {entry_id: float(value) for entry_id, value in (await session.execute(query)).all()}


async def document_frequencies(session: AsyncSession, terms: list[str]) -> dict[str, int]:
    """How many entries each term is indexed for (read from the covering index alone)."""
    query = (select(KbSearchTerm.term, func.count()).where(KbSearchTerm.term.in_(terms))
             .group_by(KbSearchTerm.term))
    return dict((await session.execute(query)).all())


ENTRY_COLUMNS = (KbEntry.id, KbEntry.unit_id, KbEntry.region, KbEntry.is_public, KbEntry.effective_at,
                 KbEntry.expires_at, KbEntry.question, KbEntry.alternatives)


def indexed(row: Any, terms: dict[str, float]) -> IndexedEntry:
    return IndexedEntry(row.id, row.unit_id, row.region, row.is_public, row.effective_at, row.expires_at,
                        phrasings_of(row.question, row.alternatives), terms)


def qualifies(entry: KbEntry, at: datetime, filters: SearchFilters) -> bool:
    """The Python twin of ``in_force`` and ``filter_clauses``."""
    return (entry.status == "published" and entry.effective_at <= at
            and (entry.expires_at is None or entry.expires_at > at)
            and (not filters.unit_id or entry.unit_id == filters.unit_id)
            and (not filters.regions or entry.region in filters.regions)
            and (not filters.public_only or entry.is_public))


def in_force(at: datetime) -> list[Any]:
    """Only entries in force at ``at`` are ever returned; expired ones stay in the table for audit."""
    return [KbEntry.status == "published", KbEntry.effective_at <= at,
            or_(KbEntry.expires_at.is_(None), KbEntry.expires_at > at)]


def filter_clauses(filters: SearchFilters) -> list[Any]:
    clauses: list[Any] = []
    if filters.unit_id:
        clauses.append(KbEntry.unit_id == filters.unit_id)
    if filters.regions:
        clauses.append(KbEntry.region.in_(filters.regions))
    if filters.public_only:
        clauses.append(KbEntry.is_public.is_(True))
    return clauses


def highlight(text: str, terms: list[str], *, snippet: int | None = None) -> str:
    """HTML-escaped ``text`` with each occurrence of ``terms`` wrapped in ``<mark>``; with ``snippet``,
    only a window of that many characters around the first match. Escapes whole runs, not characters."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = lowered.find(term) if term else -1
        while start >= 0:
            spans.append((start, min(start + len(term), len(text))))
            start = lowered.find(term, start + len(term))
    merged: list[list[int]] = []  # overlapping or touching matches make one mark
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    begin, end = 0, len(text)
    if snippet and len(text) > snippet:
        first = merged[0][0] if merged else 0
        begin = max(0, min(first - snippet // 4, len(text) - snippet))
        end = begin + snippet
    out = ["…"] if begin > 0 else []
    at = begin
    for start, stop in merged:
        start, stop = max(start, begin), min(stop, end)
        if start >= stop:
            continue
        out += [html.escape(text[at:start]), "<mark>", html.escape(text[start:stop]), "</mark>"]
        at = stop
    out.append(html.escape(text[at:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)
