"""Response header values built from data, never by string formatting at the call site."""

from __future__ import annotations

import re
from urllib.parse import quote

_UNSAFE_ASCII = re.compile(r'[^A-Za-z0-9._-]')


def attachment(filename: str) -> str:
    """``Content-Disposition`` for a download named ``filename`` (which may hold anything: a unit id from
    the query, Chinese text, CR/LF). RFC 6266: an ASCII-only ``filename`` fallback with every unsafe
    character replaced, and the exact name percent-encoded in ``filename*`` — so no quote, semicolon or
    line break can ever end the value or start another header."""
    fallback = _UNSAFE_ASCII.sub("_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
