from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from gateway.errors import Conflict, HotlineError, Unprocessable
from gateway.http.jsonio import json_response

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Set once a response has started on the wire (a websocket, a stream): too late for an error body then.
RESPONSE_STARTED: web.RequestKey[bool] = web.RequestKey("response_started", bool)


async def note_response_started(request: web.Request, _response: web.StreamResponse) -> None:
    """``on_response_prepare`` signal handler (wired in gateway/app.py)."""
    request[RESPONSE_STARTED] = True


def error_response(status: int, error_id: str, message: str, **details: object) -> web.Response:
    body: dict[str, object] = {"error_id": error_id, "message": message}
    if details:
        body["details"] = details
    return json_response(body, status=status)


def as_hotline_error(exc: Exception) -> HotlineError | None:
    """The client's fault hidden in a lower-level error, or None for a bug.

    A constraint the database enforces (an unknown parent id, a duplicate key) is bad input the handler
    did not foresee; the transaction is rolled back, so nothing changed. The message never repeats the
    driver's text (it holds the SQL and its parameters).
    """
    if isinstance(exc, HotlineError):
        return exc
    if isinstance(exc, IntegrityError):
        text = str(exc.orig).lower()
        if "foreign key" in text or getattr(exc.orig, "sqlstate", None) == "23503":
            return Unprocessable("the request refers to something that does not exist", error_id="unknown-reference")
        return Conflict("this conflicts with data already stored (it may exist already)", error_id="integrity-conflict")
    return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as ``{"error_id", "message"}`` JSON: domain errors with their status, aiohttp's
    own HTTP errors with theirs, and anything unexpected as a 500 ``internal-error`` (logged with a
    traceback, never shown to the client)."""
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "payload-too-large", "the request body is too large")
    except web.HTTPNotFound:
        return error_response(404, "no-such-route", f"no such path: {request.path}")
    except web.HTTPMethodNotAllowed as exc:
        response = error_response(405, "method-not-allowed", f"{request.method} is not allowed here",
                                  allowed=sorted(exc.allowed_methods))
        response.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
        return response
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like are answers, not errors
            raise
        return error_response(exc.status, f"http-{exc.status}", exc.reason)
    except Exception as exc:
        error = as_hotline_error(exc)
        if error is None:
            log.exception("%s %s failed", request.method, request.path)
            if request.get(RESPONSE_STARTED):
                raise  # headers are out: aiohttp can only drop the connection
            return error_response(500, "internal-error", "the gateway failed to handle this request")
        if error.status >= 500:
            log.warning("%s %s → %s: %s", request.method, request.path, error.error_id, error.message)
        response = error_response(error.status, error.error_id, error.message, **error.details)
        if error.status == 429 and "retry_after" in error.details:
            response.headers["Retry-After"] = str(error.details["retry_after"])
        return response
