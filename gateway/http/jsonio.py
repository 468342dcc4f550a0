"""JSON in and out: Chinese stays readable (no \\u escapes), datetimes as ISO 8601 with offset.

Every instant the gateway shows — API, webhooks, consoles, federation documents — is in the centre's local
time, China Standard Time (+08:00), which is what agents and units read; stored values are UTC (naive ones
from SQLite are UTC too). One place decides this, so one object never mixes offsets.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

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
    return json.dumps(obj, ensure_ascii=False, default=_default, indent=indent)


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps)
