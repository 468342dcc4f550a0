"""The search index each instance keeps in memory: ``kb_search_terms`` as postings, scored with numpy.

Why in memory: at 50k entries the index has ~5M (term, entry) rows; scoring a question's terms in SQL
(GROUP BY over tens of thousands of rows, then a join for the filters) took 140 ms (SQLite) and 400 ms
(PostgreSQL) at p99. Here a posting list is two flat arrays (entry position, weight) and scoring is a
scatter-add into one float per entry: about a millisecond, whatever the engine.

The database stays the truth. Every write to an entry takes the next ``kb_revision`` value
(kb/store.py), so an index that has seen revision R catches up by loading the entries with a newer
revision (kb/search.py decides when). A replaced or retired entry's old position is marked dead and
left in place (its postings are not rewritten); a full rebuild drops them.
Building from the database is CPU work (~5M rows at 50k entries): done in a worker thread.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from kb.segment import is_cjk, normalize

# Shared with the SQL fallback in kb/search.py, so both rank alike.
CANDIDATES = 40  # how many term-scored entries the fuzzy re-ranking looks at
COMMON_SHARE = 0.25  # a term found in more than this share of entries is too common to retrieve by
NEVER = math.inf
# Separators of a term's packed postings ("id FIELD weight RECORD id FIELD weight …"): ASCII unit and
# record separators, never part of an entry id.
FIELD, RECORD = "\x1f", "\x1e"


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    """What search needs of one published entry: its filters, validity, phrasings and terms."""

    id: str
    unit_id: str
    region: str
    is_public: bool
    effective_at: datetime
    expires_at: datetime | None
    phrasings: tuple[str, ...]  # normalised question and alternatives, for fuzzy re-ranking
    terms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Query:
    weights: dict[str, float]  # chosen term → idf (× boost)
    total: int  # published entries


def epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class MemoryIndex:
    def __init__(self, revision: int = 0) -> None:
        self.revision = revision  # every write up to this kb_revision is in
        self.ids: list[str] = []
        self.positions: dict[str, int] = {}  # live entry id → position
        self.phrasings: list[tuple[str, ...]] = []
        self.alive = np.zeros(0, dtype=bool)
        self.public = np.zeros(0, dtype=bool)
        self.region = np.zeros(0, dtype=np.int32)
        self.unit = np.zeros(0, dtype=np.int32)
        self.effective = np.zeros(0, dtype=np.float64)
        self.expires = np.zeros(0, dtype=np.float64)
        self.codes: dict[str, int] = {}  # region / unit name → small integer
        self.postings: dict[str, tuple[array[int], array[float]]] = {}

    @property
    def size(self) -> int:
        return len(self.positions)

    @property
    def dead(self) -> int:
        return len(self.ids) - len(self.positions)

    # ---- writing --------------------------------------------------------------------------------

    def apply(self, entries: Sequence[IndexedEntry], gone: Iterable[str] = (), revision: int | None = None) -> None:
        """(Re)index ``entries`` and drop ``gone`` (retired): old positions die, new ones are appended."""
        for entry_id in [*gone, *(e.id for e in entries)]:
            old = self.positions.pop(entry_id, None)
            if old is not None:
                self.alive[old] = False
        start = len(self.ids)
        for offset, entry in enumerate(entries):
            self.ids.append(entry.id)
            self.positions[entry.id] = start + offset
            self.phrasings.append(entry.phrasings)
            for term, weight in entry.terms.items():
                self._post(term, start + offset, weight)
        self._grow(entries)
        if revision is not None:
            self.revision = revision

    def add_packed(self, rows: Iterable[tuple[str, str]]) -> None:
        """Postings of entries already applied, from (term, packed postings) rows (the bulk load)."""
        positions = self.positions
        for term, packed in rows:
            where, weights = array("i"), array("f")
            for posting in packed.split(RECORD):
                entry_id, _, weight = posting.partition(FIELD)
                position = positions.get(entry_id)
                if position is not None:
                    where.append(position)
                    weights.append(float(weight))
            if where:
                self.postings[term] = (where, weights)

    def _post(self, term: str, position: int, weight: float) -> None:
        posting = self.postings.get(term)
        if posting is None:
            posting = self.postings[term] = (array("i"), array("f"))
        posting[0].append(position)
        posting[1].append(weight)

    def _code(self, name: str) -> int:
        return self.codes.setdefault(name, len(self.codes))

    def _grow(self, entries: Sequence[IndexedEntry]) -> None:
        self.alive = np.concatenate([self.alive, np.ones(len(entries), dtype=bool)])
        self.public = np.concatenate([self.public, np.array([e.is_public for e in entries], dtype=bool)])
        self.region = np.concatenate([self.region, np.array([self._code(e.region) for e in entries], np.int32)])
        self.unit = np.concatenate([self.unit, np.array([self._code(e.unit_id) for e in entries], np.int32)])
        self.effective = np.concatenate([self.effective, np.array([epoch(e.effective_at) for e in entries])])
        self.expires = np.concatenate(
            [self.expires, np.array([NEVER if e.expires_at is None else epoch(e.expires_at) for e in entries])]
        )

    # ---- reading --------------------------------------------------------------------------------

    def document_frequency(self, term: str) -> int:
        posting = self.postings.get(term)
        if posting is None:
            return 0
        return int(np.count_nonzero(self.alive[np.frombuffer(posting[0], dtype=np.int32)]))

    def query(self, terms: list[str], boosts: dict[str, float] | None = None) -> Query:
        """idf of each query term worth retrieving by (BM25 idf). A word absent from the index falls
        back to its characters; terms in more than COMMON_SHARE of the entries are left out unless
        nothing else is left."""
        df = {t: self.document_frequency(t) for t in terms}
        missing = [t for t in terms if not df[t] and len(t) > 1]
        for char in dict.fromkeys(c for t in missing for c in t if is_cjk(c) and c not in df):
            df[char] = self.document_frequency(char)
        total = self.size
        if not any(df.values()):
            return Query({}, total)
        chosen = [t for t in terms if df.get(t)]
        for term in missing:
            chosen += [c for c in term if df.get(c)]
        chosen = sorted(dict.fromkeys(chosen), key=lambda t: df[t])
        rare = [t for t in chosen if df[t] <= max(50, COMMON_SHARE * total)] or chosen[:1]
        weights = {t: math.log(1 + (total - df[t] + 0.5) / (df[t] + 0.5)) for t in rare}
        for term, boost in (boosts or {}).items():
            if term in weights:
                weights[term] *= boost
        return Query(weights, total)

    def candidates(
        self,
        weights: dict[str, float],
        at: datetime,
        *,
        unit_id: str | None = None,
        regions: tuple[str, ...] = (),
        public_only: bool = False,
    ) -> list[tuple[int, float]]:
        """The CANDIDATES best (position, term score) among entries in force at ``at`` that pass the
        filters; ties broken by entry id among these (by position at the cut, see below)."""
        scores = np.zeros(len(self.ids), dtype=np.float64)
        for term, idf in weights.items():
            positions, term_weights = self.postings[term]
            where = np.frombuffer(positions, dtype=np.int32)
            scores[where] += np.frombuffer(term_weights, dtype=np.float32) * idf  # unique per term
        found = np.flatnonzero(scores)
        moment = epoch(at)
        keep = self.alive[found] & (self.effective[found] <= moment) & (self.expires[found] > moment)
        if unit_id:
            keep &= self.unit[found] == self.codes.get(unit_id, -1)
        if regions:
            keep &= np.isin(self.region[found], [self.codes.get(r, -1) for r in regions])
        if public_only:
            keep &= self.public[found]
        found = found[keep]
        if len(found) > CANDIDATES:
            values = scores[found]
            cut = np.partition(values, len(values) - CANDIDATES)[len(values) - CANDIDATES]
            above = found[values > cut]
            # Ties at the cut (thousands for a one-character query) are taken in position order, which
            # is id order for a built index (entries are read by id) — the SQL path's tie-break — and
            # then write order for entries added since. Sorting thousands of ids took milliseconds.
            tied = found[values == cut][: CANDIDATES - len(above)]
            found = np.concatenate([above, tied])
        ranked = sorted(found.tolist(), key=lambda p: (-scores[p], self.ids[p]))
        return [(p, float(scores[p])) for p in ranked]


def phrasings_of(question: str, alternatives: Iterable[str]) -> tuple[str, ...]:
    return tuple(normalize(text) for text in [question, *alternatives])
