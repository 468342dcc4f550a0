"""The project's error hierarchy.

Every error the product raises on purpose is a ``HotlineError``. Each subclass fixes the HTTP status it
maps to; each raise site gives a stable ``error_id`` (kebab-case, documented in the API) and a message in
plain words for the person at the other end. Handlers never catch bare ``Exception`` to hide a bug.

    HotlineError
    ├── ConfigError          bad settings or policy pack (start-up; exit code 2, no HTTP)
    ├── InvalidInput     400 malformed request or value           e.g. "invalid-json", "unknown-category"
    ├── Unauthenticated  401 missing / wrong credentials
    ├── Forbidden        403 authenticated but not allowed         e.g. "not-your-ticket"
    ├── NotFound         404 unknown id
    ├── Conflict         409 the state does not allow it           e.g. "illegal-transition", "version-conflict"
    ├── PayloadTooLarge  413
    ├── Unprocessable    422 well-formed but breaks a rule         e.g. "extension-limit-reached"
    ├── TooManyRequests  429 over a rate limit (``retry_after`` s)  e.g. "rate-limited"
    └── Unavailable      503 a dependency is down                  e.g. "asterisk-unavailable"
"""

from __future__ import annotations

from typing import Any, ClassVar


class HotlineError(Exception):
    status: ClassVar[int] = 500
    default_error_id: ClassVar[str] = "internal-error"

    def __init__(self, message: str, *, error_id: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.error_id = error_id or self.default_error_id
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error_id": self.error_id, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ConfigError(HotlineError):
    default_error_id = "config-error"


class InvalidInput(HotlineError):
    status = 400
    default_error_id = "invalid-input"


class Unauthenticated(HotlineError):
    status = 401
    default_error_id = "unauthenticated"


class Forbidden(HotlineError):
    status = 403
    default_error_id = "forbidden"


class NotFound(HotlineError):
    status = 404
    default_error_id = "not-found"


class Conflict(HotlineError):
    status = 409
    default_error_id = "conflict"


class PayloadTooLarge(HotlineError):
    status = 413
    default_error_id = "payload-too-large"


class Unprocessable(HotlineError):
    status = 422
    default_error_id = "unprocessable"


class TooManyRequests(HotlineError):
    """Give ``retry_after=<seconds>``: the error middleware also sends it as the Retry-After header."""

    status = 429
    default_error_id = "too-many-requests"


class Unavailable(HotlineError):
    status = 503
    default_error_id = "unavailable"
