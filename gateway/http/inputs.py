"""Bounds every request value must keep, whatever endpoint it reaches.

A field's own model says what it means; these say what the gateway can hold at all, so that a new
endpoint cannot forget them: integers fit a 64-bit column, floats are finite, dates lie in a range where
date arithmetic (time zones, deadlines, periods) cannot overflow, and text carries no control
characters where one line is expected (identifiers, reasons, queue names reaching the PBX).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from gateway.errors import NotFound, Unprocessable
from gateway.http.jsonio import INT64_MAX, INT64_MIN

FIRST_YEAR, LAST_YEAR = 2000, 2100  # a 12345 gateway has no business before or after these
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def out_of_bounds(value: Any) -> str | None:
    """Why ``value`` (or anything inside it) cannot be held, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else "the number does not fit in 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else "the number must be finite"
    if isinstance(value, date):  # datetime too
        return None if FIRST_YEAR <= value.year <= LAST_YEAR else f"the date must lie in {FIRST_YEAR}–{LAST_YEAR}"
    if isinstance(value, BaseModel):
        return out_of_bounds_fields(value)
    if isinstance(value, dict):
        return next((why for v in value.values() if (why := out_of_bounds(v))), None)
    if isinstance(value, list | tuple | set | frozenset):
        return next((why for v in value if (why := out_of_bounds(v))), None)
    return None


def out_of_bounds_fields(model: BaseModel) -> str | None:
    for name in type(model).model_fields:
        if why := out_of_bounds(getattr(model, name)):
            return f"{name}: {why}"
    return None


def check_bounds(model: BaseModel) -> None:
    if why := out_of_bounds_fields(model):
        raise Unprocessable(why, error_id="validation-failed", problems=[{"field": why.split(":")[0], "problem": why}])


def check_time(name: str, value: datetime | date) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise Unprocessable(f"'{name}' must lie in {FIRST_YEAR}–{LAST_YEAR}", error_id="validation-failed")


def one_line(name: str, value: str) -> str:
    """Text that becomes one line somewhere (an AMI header, a log line, a file name): no CR, LF or other
    control characters."""
    if _CONTROL.search(value):
        raise Unprocessable(f"'{name}' must not contain line breaks or control characters",
                            error_id="control-characters", field=name)
    return value


def path_int(request: web.Request, name: str, *, error_id: str, what: str) -> int:
    """A numeric id from the path: anything that is not a 64-bit whole number names nothing (404)."""
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > INT64_MAX:
        raise NotFound(f"no {what} {raw[:40]}", error_id=error_id)
    return int(raw)
