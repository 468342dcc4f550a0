"""Call recordings: the one place that turns a call's recording path into a file to serve, and the
ticket page's view of its calls, each with its transcript (the post-call one where it exists, else the live
one). The path comes from the PBX, never from the caller, and only a file inside ``calls.recording_dir`` is
served. Recordings are the platform's: agents and supervisors hear a call linked to a ticket they can see;
units never get recordings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.appkeys import SETTINGS
from gateway.calls.models import CallRecord
from gateway.errors import NotFound
from gateway.http.api import actor_of, add_endpoints, endpoint
from gateway.http.jsonio import json_response
from gateway.speech.models import Transcript
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.models import Ticket, TicketLink
from gateway.tickets.views import Audience, access

PLATFORM = ("agent", "admin")
CALL_ID = r"{call_id:[A-Za-z0-9][A-Za-z0-9_.-]{0,63}}"
WAV: tuple[tuple[str, dict[str, Any]], ...] = (("audio/wav", {}),)


def inside(path: Path, root: Path) -> Path | None:
    """``path`` resolved, when it is a file inside ``root`` (blocking: run it in a thread)."""
    resolved = path.resolve()
    return resolved if resolved.is_relative_to(root.resolve()) and resolved.is_file() else None


async def recording_file(call: CallRecord | None, recording_dir: Path) -> Path:
    """The call's recording to serve, or 404 ``no-recording``."""
    path = None
    if call is not None and call.recording:
        path = await asyncio.to_thread(inside, Path(call.recording), recording_dir)
    if path is None:
        raise NotFound(f"no recording for call {call.id if call else ''!r}", error_id="no-recording")
    return path


def recording_response(path: Path) -> web.FileResponse:
    return web.FileResponse(path, headers={"Content-Type": "audio/wav", "X-Content-Type-Options": "nosniff"})


async def ticket_calls(session: AsyncSession, ticket: Ticket) -> list[CallRecord]:
    """The calls linked to ``ticket`` (a ``call`` link) or registered with it, oldest first."""
    linked = select(TicketLink.ref).where(TicketLink.ticket_id == ticket.id, TicketLink.kind == "call")
    rows = await session.scalars(select(CallRecord).where(
        or_(CallRecord.id.in_(linked), CallRecord.ticket_id == ticket.number)).order_by(CallRecord.started_at))
    return list(rows)


class TicketCall(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    recording_url: str | None
    transcript: list[dict[str, Any]]


async def transcripts_of(session: AsyncSession, call_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per call, what was said, in order (speaker, seconds from the start, words): the post-call
    transcript (both recorded legs) where it exists, else the live one; newest of each kind."""
    if not call_ids:
        return {}
    rows = await session.scalars(select(Transcript).where(Transcript.call_key.in_(call_ids))
                                 .order_by(Transcript.created_at))
    best: dict[str, Transcript] = {}
    for t in rows:  # oldest first: a later one of the same rank, or a post-call one, wins
        if t.call_key not in best or t.source == "post_call" or best[t.call_key].source != "post_call":
            best[t.call_key] = t
    return {key: [{"speaker": seg.get("speaker"), "start": seg.get("start"), "text": seg.get("text", "")}
                  for seg in t.segments or []] or ([{"speaker": None, "start": None, "text": t.text}] if t.text else [])
            for key, t in best.items()}


class TicketCalls(BaseModel):
    items: list[TicketCall]


async def _ticket(request: web.Request) -> Ticket:
    number = request.match_info["number"]
    ticket = await request.app[TICKETS].get(number)
    if access(Audience.of(actor_of(request)), ticket) is None:  # a territory seat outside its region
        raise NotFound(f"no ticket {number}", error_id="ticket-not-found")
    return ticket


@endpoint("GET", "/tickets/{number}/calls", summary="The ticket's calls, with a recording link where one "
          "exists (agents and supervisors)", kinds=PLATFORM, scope="tickets", tags=("tickets",), errors=(404,),
          response=TicketCalls)
async def list_ticket_calls(request: web.Request) -> web.Response:
    ticket = await _ticket(request)
    async with request.app[TICKETS].sessions() as session:
        calls = await ticket_calls(session, ticket)
        said = await transcripts_of(session, [c.id for c in calls])
    base = f"/api/v1/tickets/{ticket.number}/calls"
    return json_response({"items": [
        {"id": c.id, "direction": c.direction, "agent_id": c.agent_id, "started_at": c.started_at,
         "answered_at": c.answered_at, "ended_at": c.ended_at, "talk_seconds": c.talk_seconds,
         "recording_url": f"{base}/{c.id}/recording" if c.recording else None,
         "transcript": said.get(c.id, [])} for c in calls]})


@endpoint("GET", f"/tickets/{{number}}/calls/{CALL_ID}/recording", summary="The recording of a call linked to "
          "the ticket (seekable)", kinds=PLATFORM, scope="tickets", tags=("tickets",), errors=(404,),
          media_types=WAV)
async def ticket_call_recording(request: web.Request) -> web.StreamResponse:
    ticket = await _ticket(request)
    call_id = request.match_info["call_id"]
    async with request.app[TICKETS].sessions() as session:
        call = next((c for c in await ticket_calls(session, ticket) if c.id == call_id), None)
    return recording_response(await recording_file(call, Path(request.app[SETTINGS].calls.recording_dir)))


def setup(app: web.Application) -> None:
    add_endpoints(app, list_ticket_calls, ticket_call_recording)
