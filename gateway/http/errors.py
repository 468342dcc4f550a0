from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.errors import HotlineError
from gateway.http.jsonio import json_response

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, error_id: str, message: str, **details: object) -> web.Response:
    body: dict[str, object] = {"error_id": error_id, "message": message}
    if details:
        body["details"] = details
    return json_response(body, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn domain errors and aiohttp's own HTTP errors into ``{"error_id", "message"}`` bodies."""
    try:
        return await handler(request)
    except HotlineError as exc:
        if exc.status >= 500:
            log.warning("%s %s → %s: %s", request.method, request.path, exc.error_id, exc.message)
        return error_response(exc.status, exc.error_id, exc.message, **exc.details)
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "payload-too-large", "the request body is too large")
    except web.HTTPNotFound:
        return error_response(404, "no-such-route", f"no such path: {request.path}")
    except web.HTTPMethodNotAllowed as exc:
        allowed = sorted(exc.allowed_methods)
        response = error_response(405, "method-not-allowed", f"{request.method} is not allowed here",
                                  allowed=allowed)
        response.headers["Allow"] = ", ".join(allowed)  # RFC 9110: a 405 names the methods that are
        return response
