"""Reading and writing transcripts and post-call jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db.base import utcnow
from gateway.speech.models import PostCallJob, Transcript

Sessions = async_sessionmaker[AsyncSession]


async def save_transcript(
    sessions: Sessions,
    *,
    call_key: str,
    source: str,
    segments: list[dict[str, Any]],
    draft: dict[str, Any] | None = None,
    ticket_id: str | None = None,
) -> int:
    text = " ".join(s["text"] for s in segments if s.get("text"))
    async with sessions.begin() as session:
        row = Transcript(
            call_key=call_key, source=source, text=text, segments=segments, draft=draft, ticket_id=ticket_id
        )
        session.add(row)
        await session.flush()
        return row.id


async def transcripts_for_call(sessions: Sessions, call_key: str) -> list[Transcript]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Transcript).where(Transcript.call_key == call_key).order_by(Transcript.id)
        )
        return list(rows)


async def attach_ticket(sessions: Sessions, call_key: str, ticket_id: str) -> int:
    """Link a call's transcripts to the ticket made from it; the number of transcripts linked."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(Transcript).where(Transcript.call_key == call_key).values(ticket_id=ticket_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def note_missing_live_text(sessions: Sessions, call_key: str, reason: str) -> int:
    """The call had no live text: its recordings are awaited at hang-up."""
    async with sessions.begin() as session:
        job = PostCallJob(call_key=call_key, status="awaiting_recordings", reason=reason)
        session.add(job)
        await session.flush()
        return job.id


async def enqueue_recordings(
    sessions: Sessions, call_key: str, legs: dict[str, str], reason: str = "hangup"
) -> int:
    """Queue a call's recordings; a job already awaiting them takes them."""
    async with sessions.begin() as session:
        job = await session.scalar(
            select(PostCallJob)
            .where(PostCallJob.call_key == call_key, PostCallJob.status == "awaiting_recordings")
            .limit(1)
        )
        if job is None:
            job = PostCallJob(call_key=call_key, reason=reason, status="pending", legs=legs)
            session.add(job)
        else:
            job.status, job.legs = "pending", legs
        await session.flush()
        return job.id


async def claim_next(sessions: Sessions) -> PostCallJob | None:
    """Take the oldest pending job (marked "running", so a second worker or instance skips it)."""
    while True:
        async with sessions.begin() as session:
            found: PostCallJob | None = await session.scalar(
                select(PostCallJob).where(PostCallJob.status == "pending").order_by(PostCallJob.id).limit(1)
            )
            if found is None:
                return None
            claimed = await session.execute(
                update(PostCallJob)
                .where(PostCallJob.id == found.id, PostCallJob.status == "pending")
                .values(status="running", updated_at=utcnow())
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                found.status = "running"
                return found


async def finish_job(
    sessions: Sessions, job_id: int, *, transcript_id: int | None = None, error: str | None = None
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(PostCallJob)
            .where(PostCallJob.id == job_id)
            .values(
                status="failed" if error else "done",
                error=error,
                transcript_id=transcript_id,
                updated_at=utcnow(),
            )
        )


async def job(sessions: Sessions, job_id: int) -> PostCallJob | None:
    async with sessions() as session:
        return await session.get(PostCallJob, job_id)
