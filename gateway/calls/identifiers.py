"""The strict shapes of every identifier that reaches AMI or the dialplan, checked at the HTTP edge.

A value from a request (ticket id, phone number, queue, agent id, interface, pause reason, extension,
channel, call id, member name) becomes an AMI header, a ``Local/<number>@context`` dial string or a
channel variable the dialplan reads. Each is checked here, once, against an allow-list pattern: a bad one
is a 422 with ``invalid-<what>`` and nothing is sent to Asterisk. The AMI encoder (``ami.encode_action``)
is the second line: it refuses control characters whatever the caller did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gateway.errors import Unprocessable


class InvalidIdentifier(Unprocessable):
    default_error_id = "invalid-identifier"


@dataclass(frozen=True, slots=True)
class Identifier:
    what: str  # in the error message: "a phone number"
    pattern: re.Pattern[str]
    error_id: str

    def check(self, value: Any, field: str) -> str:
        """``value`` if it is a string of this shape, else ``InvalidIdentifier`` (422)."""
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise InvalidIdentifier(
                f"'{field}' must be {self.what}", error_id=self.error_id, field=field, pattern=self.pattern.pattern
            )
        return value

    def optional(self, value: Any, field: str) -> str | None:
        return None if value is None else self.check(value, field)

    def check_list(self, value: Any, field: str) -> list[str]:
        if not isinstance(value, list):
            raise InvalidIdentifier(f"'{field}' must be a list of {self.what}", error_id=self.error_id, field=field)
        return [self.check(item, field) for item in value]


# ASCII only: str.isdigit() would let "١٢٣" or "²" through to the carrier.
PHONE_NUMBER = Identifier("a phone number of 3 to 20 digits", re.compile(r"[0-9]{3,20}"), "invalid-number")
EXTENSION = Identifier("a seat extension (1 to 20 letters or digits)", re.compile(r"[0-9A-Za-z]{1,20}"),
                       "invalid-extension")
TICKET_ID = Identifier(
    "a ticket id (letters, digits, '-', '_', '.', up to 64)",
    re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}"),
    "invalid-ticket-id",
)
AGENT_ID = Identifier(
    "an agent id (letters, digits, '-', '_', '.', up to 64)",
    re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}"),
    "invalid-agent-id",
)
CALL_ID = Identifier(
    "a call id (letters, digits, '-', '_', '.', up to 64)",
    re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,63}"),
    "invalid-call-id",
)
QUEUE = Identifier(
    "a queue name (letters, digits, '-', '_', up to 64)", re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}"),
    "invalid-queues",
)
# One device, never a list: '&' would make Dial/Queue ring several; ',' would start the options.
INTERFACE = Identifier(
    "one device such as PJSIP/1001",
    re.compile(r"(PJSIP|SIP|IAX2|Local)/[0-9A-Za-z][0-9A-Za-z_.@+-]{0,79}"),
    "invalid-interface",
)
# Words a person types (a pause reason, a seat's display name): letters of any script, digits, spaces
# and light punctuation ('·' joins the parts of many names: 阿依古丽·买买提); no control characters, none of
# ',' '|' '&' '$' '{' '}' ':' that mean something to Asterisk.
_WORDS = r"[\w\-.()'· ]"
PAUSE_REASON = Identifier(
    "a pause reason of 1 to 64 letters, digits, spaces or - . ( ) ' ·",
    re.compile(rf"(?=.*\w){_WORDS}{{1,64}}"),
    "invalid-pause-reason",
)
MEMBER_NAME = Identifier(
    "a name of up to 64 letters, digits, spaces or - . ( ) ' ·", re.compile(rf"{_WORDS}{{0,64}}"), "invalid-name"
)
