from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.errors import Conflict, HotlineError, Unavailable, Unprocessable
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


# How long a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER = 5
_DRIVER_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.")
try:  # the PostgreSQL driver is an optional extra
    import asyncpg

    _ASYNCPG_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
        asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
        asyncpg.AdminShutdownError)
except ImportError:  # pragma: no cover - SQLite-only install
    _ASYNCPG_CONNECTION_ERRORS = ()


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (not: the statement was wrong).

    SQLAlchemy wraps most driver failures (OperationalError, InterfaceError, a DBAPIError it marks as a
    lost connection, its pool's timeout); asyncpg's own connection errors and a socket error from the
    pool's connect may surface raw, so an OSError counts only when raised inside a database driver.
    """
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        # A connect refused while the server shuts down or starts ("the database system is shutting
        # down", SQLSTATE 57P03) arrives as a plain DBAPIError, not marked as a lost connection: look at
        # the driver's error under it.
        return bool(exc.connection_invalidated) or _connection_failure(exc.orig)
    if isinstance(exc, _ASYNCPG_CONNECTION_ERRORS):
        return True
    if isinstance(exc, OSError):
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_globals.get("__name__", "").startswith(_DRIVER_MODULES):
                return True
            tb = tb.tb_next
    return False


def _connection_failure(error: BaseException | None) -> bool:
    """A driver error (or one it was raised from) that means no usable connection: asyncpg's connection
    errors, or SQLSTATE class 08 (connection exception) / 57P (operator intervention: shutdown)."""
    for _ in range(5):  # the driver's error, the adapter's, and what they were raised from
        if error is None:
            return False
        sqlstate = str(getattr(error, "sqlstate", "") or "")
        if isinstance(error, _ASYNCPG_CONNECTION_ERRORS) or sqlstate.startswith(("08", "57P")):
            return True
        error = error.__cause__
    return False


def as_hotline_error(exc: Exception) -> HotlineError | None:
    """The client's fault hidden in a lower-level error, or None for a bug.

    A constraint the database enforces (an unknown parent id, a duplicate key) is bad input the handler
    did not foresee; the transaction is rolled back, so nothing changed. The message never repeats the
    driver's text (it holds the SQL and its parameters).
    """
    if isinstance(exc, HotlineError):
        return exc
    if database_unavailable(exc):
        # Each transaction rolled back when its connection failed: nothing half-written to report.
        return Unavailable("the database is unreachable; retry shortly", error_id="database-unavailable",
                                  retry_after=DATABASE_RETRY_AFTER)
    if isinstance(exc, IntegrityError):
        text = str(exc.orig).lower()
        if "foreign key" in text or getattr(exc.orig, "sqlstate", None) == "23503":
            return Unprocessable("the request refers to something that does not exist", error_id="unknown-reference")
        return Conflict("this conflicts with data already stored (it may exist already)", error_id="integrity-conflict")
    return None


def _dropped_connection(exc: BaseException) -> bool:
    """A pooled connection that had died (the server restarted, a proxy cut it): SQLAlchemy has invalidated
    it and every connection pooled before it, so a second try gets a fresh one."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


async def _retry_on_dropped_connection(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Once, and only where repeating cannot do anything twice: a read, or a POST with an Idempotency-Key
    (its first try rolled back or committed with its stored answer, which the second try then replays)."""
    try:
        return await handler(request)
    except Exception as exc:
        repeatable = request.method in ("GET", "HEAD") or (
            request.method == "POST" and "Idempotency-Key" in request.headers)
        if not (_dropped_connection(exc) and repeatable) or request.get(RESPONSE_STARTED):
            raise
        log.info("%s %s: the database connection had dropped; trying once more", request.method, request.path)
    return await handler(request)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as ``{"error_id", "message"}`` JSON: domain errors with their status, aiohttp's
    own HTTP errors with theirs, and anything unexpected as a 500 ``internal-error`` (logged with a
    traceback, never shown to the client)."""
    try:
        return await _retry_on_dropped_connection(request, handler)
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
        if error.status in (429, 503) and "retry_after" in error.details:
            response.headers["Retry-After"] = str(error.details["retry_after"])
        return response
