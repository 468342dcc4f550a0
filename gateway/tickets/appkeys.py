from aiohttp import web

from gateway.tickets.service import TicketService

TICKETS = web.AppKey("tickets", TicketService)
