"""并案 candidates for a new matter: open tickets from the same caller, or about the same matter in the same
place, within the window.

Implements ``gateway.speech.drafts.OpenTicketLookup`` so live drafts can flag a likely duplicate, and
serves any other intake channel the same way. The matter and place come from the shared understanding
pipeline (in a thread); open tickets' own are what the hot-issue worker stored (``ticket_matters``), read
on the spot for tickets it has not reached yet.

Score (0–100), the sum of what matches: the same caller 45; the same matter 35; the same place 20 at an
estate or community, 15 on a road, 8 in a township only. A candidate needs the same caller, or the same
matter at the same place: a caller's second, unrelated matter still shows (45: the agent decides), a
neighbour's same matter in the same estate scores 55, the same caller about the same thing there 100.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import exists, or_, select

from gateway.reports.models import TicketMatter
from gateway.reports.topics import Reading, read_ticket
from gateway.speech.drafts import Candidate
from gateway.tickets.lifecycle import OPEN
from gateway.tickets.models import Ticket
from gateway.tickets.schemas import normalise_phone
from gateway.tickets.service import TicketService
from gateway.understanding.shared import SharedUnderstanding

SAME_CALLER, SAME_MATTER = 45.0, 35.0
SAME_PLACE = {"building": 20.0, "community": 20.0, "road": 15.0, "township": 8.0}
UNREAD_LIMIT = 50  # tickets too new for the worker, read here (the newest first)


@dataclass(frozen=True, slots=True)
class Scored:
    score: float
    reasons: tuple[str, ...]
    same_caller: bool


def score(same_caller: bool, mine: Reading | None, theirs: Reading | None) -> Scored | None:
    """How alike two matters are; None when neither the caller nor matter-and-place match."""
    points, reasons = 0.0, []
    if same_caller:
        points += SAME_CALLER
        reasons.append("同一来电号码")
    place = _same_place(mine, theirs)
    same_matter = mine is not None and theirs is not None and mine.matter_code == theirs.matter_code
    if same_matter and place is not None:
        assert mine is not None
        points += SAME_MATTER + SAME_PLACE[place[0]]
        reasons += [f"同一事项：{mine.matter_name}", f"同一地点：{place[1]}"]
    elif same_caller and same_matter:
        assert mine is not None
        points += SAME_MATTER
        reasons.append(f"同一事项：{mine.matter_name}")
    if not reasons:
        return None
    return Scored(points, tuple(reasons), same_caller)


def _same_place(a: Reading | None, b: Reading | None) -> tuple[str, str] | None:
    """(the level they share, its name): the same estate/community/road, or one's township holding the other."""
    if a is None or b is None or a.place_level is None or b.place_level is None:
        return None
    if (a.place_level, a.place_name) == (b.place_level, b.place_name):
        return a.place_level, a.place_label or a.place_name or ""
    for town, other in ((a, b), (b, a)):
        if town.place_level == "township" and town.place_name and (other.place_label or "").startswith(town.place_name):
            return "township", town.place_name
    return None


class TicketDuplicates:
    def __init__(self, tickets: TicketService, understanding: SharedUnderstanding | None = None,
                 window: timedelta = timedelta(days=30), limit: int = 5) -> None:
        self.tickets = tickets
        self.understanding = understanding
        self.window = window
        self.limit = limit

    async def similar(self, caller: str | None, place: str | None, text: str) -> list[Candidate]:
        try:
            number = normalise_phone(caller) if caller else None
        except Exception:  # a malformed caller id must not stop draft extraction
            number = None
        mine = await self._read(text, place) if text.strip() else None
        clauses = []
        if number:
            clauses.append(Ticket.caller_number == number)
        if mine is not None:
            clauses.append(Ticket.id.in_(select(TicketMatter.ticket_id).where(
                TicketMatter.matter_code == mine.matter_code)))
        if not clauses:
            return []
        since = self.tickets.clock() - self.window
        live = (Ticket.status.in_([s.value for s in OPEN]), Ticket.created_at >= since)
        async with self.tickets.sessions() as session:
            known = (await session.execute(
                select(Ticket, TicketMatter).join(TicketMatter, TicketMatter.ticket_id == Ticket.id, isouter=True)
                .where(*live, or_(*clauses)).order_by(Ticket.created_at.desc()).limit(200))).all()
            unread = [] if mine is None else list(await session.scalars(
                select(Ticket).where(*live, ~exists().where(TicketMatter.ticket_id == Ticket.id))
                .order_by(Ticket.created_at.desc()).limit(UNREAD_LIMIT)))
        readings = {t.id: _reading_of(m) for t, m in known if m is not None}
        todo = [t for t in unread if t.id not in readings]
        if todo and self.understanding is not None:
            u = await self.understanding.get()
            read = [partial(read_ticket, u, content=t.content, title=t.title, location=t.location,
                            elements=t.elements) for t in todo]
            done = await asyncio.get_running_loop().run_in_executor(None, lambda: [r() for r in read])
            readings.update({t.id: r for t, r in zip(todo, done, strict=True)})
        tickets = {t.id: t for t, _ in known} | {t.id: t for t in todo}
        found = []
        for t in tickets.values():
            scored = score(bool(number) and t.caller_number == number, mine, readings.get(t.id))
            if scored is not None:
                found.append((scored, t))
        found.sort(key=lambda item: (-item[0].score, -item[1].created_at.timestamp()))
        return [Candidate(t.number, "same-caller" if s.same_caller else "same-place-and-matter", s.score,
                          "" if t.confidential else t.content[:80], s.reasons) for s, t in found[: self.limit]]

    async def _read(self, text: str, place: str | None) -> Reading | None:
        if self.understanding is None:
            return None
        u = await self.understanding.get()
        return await asyncio.get_running_loop().run_in_executor(
            None, partial(read_ticket, u, content=text, location=place))


def _reading_of(m: TicketMatter) -> Reading:
    return Reading(m.matter_code, m.matter_name, m.place_level, m.place_name, m.place_label, m.place_full)
