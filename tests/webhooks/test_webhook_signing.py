"""A receiver accepts only our signature, over exactly these bytes, sent within the last few minutes."""

from __future__ import annotations

import hashlib
import hmac

from gateway.webhooks.signing import sign, signature_headers, verify_signature

BODY = '{"event":"ticket.dispatched","data":{"title":"路灯不亮"}}'.encode()
NOW = 1_795_000_000


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", str(NOW).encode() + b"." + BODY, hashlib.sha256).hexdigest()
    assert sign("k", NOW, BODY) == f"sha256={expected}"
    assert signature_headers("k", BODY, timestamp=NOW) == {
        "X-Hotline-Timestamp": str(NOW), "X-Hotline-Signature": f"sha256={expected}"}


def test_the_right_signature_is_accepted() -> None:
    assert verify_signature("k", str(NOW), BODY, sign("k", NOW, BODY), now=NOW + 299)


def test_a_wrong_secret_a_changed_body_or_a_moved_timestamp_is_refused() -> None:
    good = sign("k", NOW, BODY)
    assert not verify_signature("other", str(NOW), BODY, good, now=NOW)
    assert not verify_signature("k", str(NOW), BODY.replace(b"ticket", b"tickef"), good, now=NOW)
    assert not verify_signature("k", str(NOW + 1), BODY, good, now=NOW)


def test_an_old_or_future_request_is_refused_even_when_signed() -> None:
    assert not verify_signature("k", str(NOW), BODY, sign("k", NOW, BODY), now=NOW + 301)
    assert not verify_signature("k", str(NOW + 400), BODY, sign("k", NOW + 400, BODY), now=NOW)


def test_missing_or_malformed_headers_are_refused() -> None:
    assert not verify_signature("k", None, BODY, sign("k", NOW, BODY), now=NOW)
    assert not verify_signature("k", str(NOW), BODY, None, now=NOW)
    assert not verify_signature("k", "yesterday", BODY, sign("k", NOW, BODY), now=NOW)
    assert not verify_signature("k", str(NOW), BODY, "sha256=签名", now=NOW)
