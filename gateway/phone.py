"""Phone numbers as E.164, the one form stored and compared everywhere (tickets, SMS, surveys, IVR)."""

from __future__ import annotations

import phonenumbers

from gateway.errors import InvalidInput

WITHHELD = frozenset({"", "anonymous", "unknown", "unavailable", "restricted"})


def to_e164(number: str, region: str = "CN") -> str:
    """``"138 0013 8000"`` → ``"+8613800138000"``, ``"0934-8612345"`` → ``"+869348612345"``; refuses
    what is not a valid number (12345 itself is a valid *short* number, not a full one)."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{number!r} is not a phone number", error_id="invalid-phone-number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"{number!r} is not a valid phone number", error_id="invalid-phone-number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def caller_e164(raw: str | None, region: str = "CN") -> str | None:
    """A caller id as E.164, or None when the number is withheld."""
    if raw is None or raw.strip().lower() in WITHHELD:
        return None
    return to_e164(raw.strip(), region)
