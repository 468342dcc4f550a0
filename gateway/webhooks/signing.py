"""The signature on every webhook we send (and on SMS replies a provider forwards to us).

    X-Hotline-Timestamp: 1795000000                        (Unix seconds when the request was signed)
    X-Hotline-Signature: sha256=<hex HMAC-SHA256(secret, b"<timestamp>." + body)>

Signing the timestamp with the body lets a receiver refuse a captured request replayed later: it checks
the signature, then that the timestamp is within a few minutes of its own clock, then (for exactly-once
handling) that it has not seen the ``X-Hotline-Delivery`` id before.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"
EVENT_HEADER = "X-Hotline-Event"
DELIVERY_HEADER = "X-Hotline-Delivery"
ATTEMPT_HEADER = "X-Hotline-Attempt"
SCHEME = "sha256="


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SCHEME + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, body)}


def verify_signature(
    secret: str,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """True when ``signature`` is ours for ``body`` and ``timestamp`` is within ``tolerance`` seconds."""
    if not timestamp or not signature:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    # compare_digest takes the same time whatever the first differing byte: no timing oracle.
    return hmac.compare_digest(sign(secret, ts, body).encode("ascii"), signature.strip().encode("ascii", "replace"))
