"""并案 candidates for a new matter: open tickets from the same caller, or about the same place and matter.

Implements ``gateway.speech.drafts.OpenTicketLookup`` so live drafts can flag a likely duplicate, and
serves any other intake channel the same way.
"""

from __future__ import annotations

from datetime import timedelta

from rapidfuzz import fuzz
from sqlalchemy import or_, select

from gateway.speech.drafts import Candidate
from gateway.tickets.lifecycle import OPEN
from gateway.tickets.models import Ticket
from gateway.tickets.schemas import normalise_phone
from gateway.tickets.service import TicketService


class TicketDuplicates:
    def __init__(self, tickets: TicketService, window: timedelta = timedelta(days=30), min_score: float = 60,
                 limit: int = 5) -> None:
        self.tickets = tickets
        self.window = window
        self.min_score = min_score
        self.limit = limit

    async def similar(self, caller: str | None, place: str | None, text: str) -> list[Candidate]:
        try:
            number = normalise_phone(caller) if caller else None
        except Exception:  # a malformed caller id must not stop draft extraction
            number = None
        since = self.tickets.clock() - self.window
        clauses = []
        if number:
            clauses.append(Ticket.caller_number == number)
        if place:
            clauses.append(or_(Ticket.location.contains(place), Ticket.content.contains(place)))
        if not clauses:
            return []
        async with self.tickets.sessions() as session:
            rows = list(await session.scalars(
                select(Ticket).where(Ticket.status.in_([s.value for s in OPEN]), Ticket.created_at >= since,
                                     or_(*clauses)).order_by(Ticket.created_at.desc()).limit(200)))
        found = []
        for t in rows:
            score = fuzz.partial_ratio(text, t.content)
            if number and t.caller_number == number:
                found.append(Candidate(t.number, "same-caller", max(score, 80.0), t.content[:80]))
            elif score >= self.min_score:
                found.append(Candidate(t.number, "same-place-and-matter", score, t.content[:80]))
        return sorted(found, key=lambda c: -c.score)[: self.limit]
