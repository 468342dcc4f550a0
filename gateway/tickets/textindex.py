"""Words-in-text search over 100 k tickets without scanning them all.

Chinese has no spaces, so the index holds overlapping character pairs (bigrams): "路灯坏了" is stored as
"路灯 灯坏 坏了" in ``tickets.search_text`` (kept by a mapper hook on every insert and update). A query is cut
the same way and looked up in an index — SQLite: an FTS5 table over that column, as a phrase (the pairs in
order); PostgreSQL: a GIN index over its words, as containment — and every hit is then confirmed with the
plain substring test, so the answer is exactly "contains these words". A one-character query has no pair
to look up and falls back to the scan.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, column, event, func, literal_column, or_, select, table
from sqlalchemy.dialects import postgresql

from gateway.tickets.models import Ticket

RUN = re.compile(r"\w+")  # letters (CJK included) and digits; everything else separates
FTS_TABLE = "tickets_fts"


def grams(text: str | None) -> list[list[str]]:
    """Per run of word characters, its overlapping pairs (a one-character run: itself)."""
    out = []
    for run in RUN.findall((text or "").lower()):
        out.append([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    return out


def search_text(*texts: str | None) -> str:
    return " ".join(g for text in texts for run in grams(text) for g in run)


def _fill(mapper: Any, connection: Any, target: Ticket) -> None:
    target.search_text = search_text(target.title, target.content, target.location)


def keep_search_text() -> None:
    """Called once at import: every ticket written through the ORM carries its index text."""
    if not event.contains(Ticket, "before_insert", _fill):
        event.listen(Ticket, "before_insert", _fill)
        event.listen(Ticket, "before_update", _fill)


keep_search_text()


def text_clause(words: str, dialect: str) -> ColumnElement[bool]:
    """Tickets whose title, content or place contains ``words``."""
    contains = or_(Ticket.title.contains(words, autoescape=True), Ticket.content.contains(words, autoescape=True),
                   Ticket.location.contains(words, autoescape=True))
    runs = [run for run in grams(words) if len(run[0]) == 2]  # runs with at least one pair
    if not runs:
        return contains
    if dialect == "sqlite":
        phrase = " AND ".join('"' + " ".join(run) + '"' for run in runs)  # pairs are \w only: no quoting issue
        fts = table(FTS_TABLE, column("rowid"))
        hits = select(fts.c.rowid).where(literal_column(FTS_TABLE).op("MATCH")(phrase))
        return and_(Ticket.id.in_(hits), contains)
    if dialect == "postgresql":
        pairs = sorted({g for run in runs for g in run})
        words_of = func.string_to_array(Ticket.search_text, literal_column("' '"), type_=postgresql.ARRAY(Text))
        return and_(words_of.op("@>")(cast(postgresql.array(pairs), postgresql.ARRAY(Text))), contains)
    return contains
