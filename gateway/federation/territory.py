"""Remote seats (远程坐席): a county without its own platform works in its parent's deployment with tokens
scoped to its territory. A ticket is in a territory when its location names it, or its lead unit is a
unit of that region."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import ColumnElement, func, or_, select

from gateway.appkeys import SESSIONS
from gateway.errors import Forbidden
from gateway.http.api import ACTOR_KEY, API_PREFIX
from gateway.http.errors import Handler
from gateway.tickets.models import Ticket, Unit

TICKET_ROUTES = API_PREFIX + "/tickets/{number}"


def territory_clause(territory: str) -> ColumnElement[bool]:
    return or_(Ticket.location.contains(territory),
               Ticket.lead_unit_id.in_(select(Unit.id).where(Unit.region == territory)))


@web.middleware
async def territory_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a territory-scoped token any one-ticket route of a ticket outside its territory."""
    actor = request.get(ACTOR_KEY)
    number = request.match_info.get("number")
    canonical = request.match_info.route.resource.canonical if request.match_info.route.resource else ""
    if actor is not None and actor.territory and number and canonical.startswith(TICKET_ROUTES):
        async with request.app[SESSIONS]() as session:
            inside = await session.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.number == number, territory_clause(actor.territory)))
        if not inside:
            raise Forbidden(f"ticket {number} is outside your territory ({actor.territory})",
                            error_id="outside-territory")
    return await handler(request)
