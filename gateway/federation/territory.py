"""Remote seats (远程坐席): a county without its own platform works in its parent's deployment with tokens
scoped to its territory. A ticket is in a territory when its location names it, or its lead unit is a
unit of that region."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from gateway.appkeys import SESSIONS
from gateway.errors import NotFound
from gateway.http.api import ACTOR_KEY, API_PREFIX
from gateway.http.errors import Handler
from gateway.tickets.models import Ticket
from gateway.tickets.views import territory_clause

# One-ticket routes: the tickets API's and the channel details (lists, reports and hot issues filter
# their rows with ``gateway.tickets.views.ticket_filter`` instead).
TICKET_ROUTES = (API_PREFIX + "/tickets/{number}", API_PREFIX + "/channels/tickets/{number}",
                 API_PREFIX + "/federation/tickets/{number}")


@web.middleware
async def territory_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a territory-scoped token 404 on any one-ticket route of a ticket outside its territory."""
    actor = request.get(ACTOR_KEY)
    number = request.match_info.get("number")
    canonical = request.match_info.route.resource.canonical if request.match_info.route.resource else ""
    if actor is not None and actor.territory and number and canonical.startswith(TICKET_ROUTES):
        async with request.app[SESSIONS]() as session:
            inside = await session.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.number == number, territory_clause(actor.territory)))
        if not inside:
            # 404 like a ticket that does not exist: a remote seat does not learn what lies outside it.
            raise NotFound(f"no ticket {number}", error_id="ticket-not-found")
    return await handler(request)
