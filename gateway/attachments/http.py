"""Upload, list and download a ticket's attachments (who sees what: gateway/tickets/views.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from gateway.appkeys import SETTINGS
from gateway.attachments import store
from gateway.attachments.models import TicketAttachment
from gateway.errors import NotFound, PayloadTooLarge
from gateway.http.api import RequestActor, actor_of, add_endpoints, authorize, declare, endpoint
from gateway.http.headers import attachment
from gateway.http.inputs import path_int
from gateway.http.jsonio import json_response
from gateway.tickets.appkeys import TICKETS
from gateway.tickets.models import Ticket
from gateway.tickets.views import Audience, access

ANY = ("agent", "admin", "unit")
UNIT = ("unit",)
FOLDER = "attachments"
INT32_MAX = 2**31 - 1


class AttachmentRef(BaseModel):
    """What an upload answers: the metadata `/return` (``evidence``) and `/reply` (``attachments``) take
    as it is."""

    name: str
    size: int
    sha256: str
    content_type: str
    url: str


class AttachmentOut(AttachmentRef):
    model_config = ConfigDict(extra="allow")
    id: int
    uploaded_by: dict[str, str] = Field(description="kind and id of who uploaded it")
    at: datetime


class AttachmentList(BaseModel):
    items: list[AttachmentOut]


MULTIPART = {"type": "object", "required": ["file"],
             "properties": {"file": {"type": "string", "format": "binary",
                                     "description": f"an image, PDF or office document of at most "
                                                    f"{store.MAX_BYTES} bytes"}}}


def _root(request: web.Request) -> Path:
    return Path(request.app[SETTINGS].data_dir) / FOLDER


def _ref(a: TicketAttachment, number: str) -> dict[str, Any]:
    return {"name": a.name, "size": a.size, "sha256": a.sha256, "content_type": a.content_type,
            "url": f"/api/v1/tickets/{number}/attachments/{a.id}"}


def _view(a: TicketAttachment, number: str) -> dict[str, Any]:
    return {**_ref(a, number), "id": a.id, "uploaded_by": {"kind": a.uploader_kind, "id": a.uploader_id},
            "at": a.created_at}


def _may_see(actor: RequestActor, ticket: Ticket, a: TicketAttachment) -> bool:
    """A unit sees its own uploads, and the others' when it may read the ticket's content."""
    seen = access(Audience.of(actor), ticket)
    if seen is None:
        return False
    return seen.content or (a.uploader_kind == actor.kind and a.uploader_id == actor.id)


async def _ticket(request: web.Request, actor: RequestActor) -> Ticket:
    number = request.match_info["number"]
    ticket = await request.app[TICKETS].get(number)
    if access(Audience.of(actor), ticket) is None:
        raise NotFound(f"no ticket {number}", error_id="ticket-not-found")  # as for one that does not exist
    return ticket


@declare("POST", "/tickets/{number}/attachments", summary="Upload a file for a 退单 or 答复 (multipart, one "
         "'file' part): images, PDF, office documents", kinds=UNIT, scope="tickets", status=201,
         tags=("units",), errors=(400, 404, 413, 422), response=AttachmentRef,
         raw_body=(("multipart/form-data", MULTIPART),))
async def upload(request: web.Request) -> web.Response:
    actor = authorize(request, UNIT, "tickets")
    ticket = await _ticket(request, actor)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"a file may have at most {store.MAX_BYTES} bytes",
                              error_id="attachment-too-large") from exc
    got = await asyncio.to_thread(store.parse, request.headers.get("Content-Type", ""), body)
    root = _root(request)
    stored = await asyncio.to_thread(store.save, root, got.data)
    service = request.app[TICKETS]
    try:
        async with service.sessions() as session, session.begin():
            row = TicketAttachment(ticket_id=ticket.id, stored_name=stored, name=got.name,
                                   content_type=got.content_type, size=len(got.data), sha256=got.sha256,
                                   uploader_kind=actor.kind, uploader_id=actor.id, created_at=service.clock())
            session.add(row)
            await session.flush()
            out = _ref(row, ticket.number)
    except BaseException:
        await asyncio.to_thread(store.remove, root, stored)  # no row, no file
        raise
    return json_response(out, status=201)


@endpoint("GET", "/tickets/{number}/attachments", summary="The ticket's attachments the caller may see",
          kinds=ANY, scope="tickets", tags=("tickets",), errors=(404,), response=AttachmentList)
async def list_attachments(request: web.Request) -> web.Response:
    actor = actor_of(request)
    ticket = await _ticket(request, actor)
    async with request.app[TICKETS].sessions() as session:
        rows = list(await session.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id)
                                          .order_by(TicketAttachment.id)))
    return json_response({"items": [_view(a, ticket.number) for a in rows if _may_see(actor, ticket, a)]})


@endpoint("GET", "/tickets/{number}/attachments/{id}", summary="Download one attachment", kinds=ANY,
          scope="tickets", tags=("tickets",), errors=(404,), media_types=(("application/octet-stream", {}),))
async def download(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    ticket = await _ticket(request, actor)
    wanted = path_int(request, "id", error_id="attachment-not-found", what="attachment")
    row = None
    if wanted <= INT32_MAX:  # the column is a 32-bit integer on PostgreSQL: a larger id names nothing
        async with request.app[TICKETS].sessions() as session:
            row = await session.get(TicketAttachment, wanted)
    if row is None or row.ticket_id != ticket.id or not _may_see(actor, ticket, row):
        raise NotFound(f"no attachment {wanted} on ticket {ticket.number}", error_id="attachment-not-found")
    path = _root(request) / row.stored_name
    if not await asyncio.to_thread(path.is_file):
        raise NotFound(f"attachment {wanted} is missing from storage", error_id="attachment-not-found")
    return web.FileResponse(path, headers={"Content-Type": row.content_type,
                                           "Content-Disposition": attachment(row.name),
                                           "X-Content-Type-Options": "nosniff"})


def setup(app: web.Application) -> None:
    add_endpoints(app, upload, list_attachments, download)
