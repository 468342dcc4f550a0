"""JSON in and out: Chinese stays readable (no \\u escapes), datetimes as ISO 8601 with offset.

Every instant the gateway shows — API, webhooks, consoles, federation documents — is in the centre's local
time, China Standard Time (+08:00), which is what agents and units read; stored values are UTC (naive ones
from SQLite are UTC too). One place decides this, so one object never mixes offsets.

Reading is strict so that no handler ever meets a value the standard library accepts but the rest of the
gateway cannot hold: NaN and Infinity (not JSON at all, and re-emitted as invalid JSON), integers beyond
64 bits (databases overflow; 4,300+ digits even raise inside ``int()``), and nesting deeper than
``MAX_DEPTH`` (the decoder recurses). Writing refuses NaN too, so invalid JSON never leaves the gateway.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.errors import InvalidInput

MAX_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

CENTRE_TIME = ZoneInfo("Asia/Shanghai")


def local_instant(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(CENTRE_TIME)


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return local_instant(obj).isoformat()
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, default=_default, indent=indent, allow_nan=False)


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps)


class _Refused(ValueError):
    """A literal the decoder accepted but the gateway does not (raised from the parse hooks)."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:  # before int(): 4,300+ digits raise and millions take seconds
        raise _Refused(f"the number {text[:20]}… is too large")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _Refused(f"the number {value} does not fit in 64 bits")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:20]} is out of range")
    return value


def _parse_constant(name: str) -> float:
    raise _Refused(f"{name} is not a JSON number")


def loads(raw: bytes | str) -> Any:
    """Parse a request body; ``InvalidInput`` (400, ``invalid-json``) for anything the gateway would not hold."""
    try:
        data = json.loads(raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except _Refused as exc:
        raise InvalidInput(f"the body has a value out of range: {exc}", error_id="invalid-json") from None
    except RecursionError:
        raise InvalidInput(f"the body is nested deeper than {MAX_DEPTH} levels", error_id="invalid-json") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}", error_id="invalid-json") from exc
    if _depth(data) > MAX_DEPTH:
        raise InvalidInput(f"the body is nested deeper than {MAX_DEPTH} levels", error_id="invalid-json")
    return data


def loads_object(raw: bytes | str) -> dict[str, Any]:
    """A request body that must be a JSON object (an empty body counts as ``{}``)."""
    data = loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", error_id="invalid-json")
    return data


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                break
            stack.extend((child, level + 1) for child in (value.values() if isinstance(value, dict) else value))
    return deepest
