"""SMS providers: how one message leaves the gateway.

``OutboxSmsProvider`` writes it to a table (development and tests; read back via the API).
``HttpSmsProvider`` sends one templated HTTP request to a carrier or cloud SMS gateway that takes a
static token. Gateways that want each request signed (e.g. Aliyun's signature v1) need their own class
with the same ``send`` method.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.config import HttpSmsSettings
from gateway.db.base import utcnow
from gateway.errors import ConfigError
from gateway.http.jsonio import dumps
from gateway.sms.models import SmsOutboxEntry


@dataclass(frozen=True, slots=True)
class ProviderReceipt:
    provider_message_id: str | None


class SmsSendError(Exception):
    """The provider did not take the message. ``permanent``: retrying cannot help (e.g. a 400)."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


class SmsProvider(Protocol):
    async def send(self, to_e164: str, text: str, *, message_id: str) -> ProviderReceipt:
        """Hand one message to the provider; raise ``SmsSendError`` when it is not taken."""
        ...


class OutboxSmsProvider:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    async def send(self, to_e164: str, text: str, *, message_id: str) -> ProviderReceipt:
        try:
            async with self.sessions() as session, session.begin():
                entry = SmsOutboxEntry(message_id=message_id, to_number=to_e164, text=text, created_at=self.clock())
                session.add(entry)
        except IntegrityError:  # the same message again (a resend after a lost lease): stored once
            async with self.sessions() as session:
                entry = (await session.scalars(
                    select(SmsOutboxEntry).where(SmsOutboxEntry.message_id == message_id))).one()
        return ProviderReceipt(f"outbox-{entry.id}")


PLACEHOLDERS = ("to", "text", "message_id")


def render(template: Any, values: dict[str, str], escape: Callable[[str], str] = str) -> Any:
    """Fill ``{to}``, ``{text}``, ``{message_id}`` in every string of a (nested) template.

    Plain replacement, not ``str.format``: other braces in a template stay as written.
    """
    if isinstance(template, str):
        for name in PLACEHOLDERS:
            template = template.replace("{" + name + "}", escape(values[name]))
        return template
    if isinstance(template, dict):
        return {key: render(value, values, escape) for key, value in template.items()}
    if isinstance(template, list):
        return [render(item, values, escape) for item in template]
    return template


def dig(document: Any, dotted: str) -> Any:
    """``dig({"a": {"b": 1}}, "a.b") == 1``; None when the path is absent."""
    for part in dotted.split("."):
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    return document


class HttpSmsProvider:
    def __init__(self, settings: HttpSmsSettings, http: aiohttp.ClientSession) -> None:
        if not settings.url:
            raise ConfigError("sms.provider is \"http\" but sms.http.url is not set")
        self.settings = settings
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout)

    def request_parts(self, to_e164: str, text: str, message_id: str) -> tuple[str, dict[str, str], bytes | None]:
        """URL, headers and body of the request for one message (no I/O: tests read it directly)."""
        s = self.settings
        values = {"to": to_e164, "text": text, "message_id": message_id}
        url = render(s.url, values, lambda v: quote(v, safe=""))
        headers = dict(s.headers)
        token = s.resolved_token()
        if token and s.auth_header:
            headers[s.auth_header] = s.auth_prefix + token
        body: bytes | None = None
        if s.body_format == "json":
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
            body = dumps(render(s.body_template, values)).encode("utf-8")
        elif s.body_format == "form":
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
            fields = render(s.body_template, values)
            body = "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}"
                            for k, v in fields.items()).encode("ascii")
        return url, headers, body

    async def send(self, to_e164: str, text: str, *, message_id: str) -> ProviderReceipt:
        s = self.settings
        url, headers, body = self.request_parts(to_e164, text, message_id)
        try:
            async with self.http.request(s.method, url, data=body, headers=headers, timeout=self.timeout) as resp:
                status = resp.status
                raw = await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SmsSendError(f"{exc.__class__.__name__}: {exc}".rstrip(": ")) from exc
        if not 200 <= status < 300:
            # Client errors other than timeout / rate limit will fail the same way again.
            permanent = 400 <= status < 500 and status not in (408, 429)
            raise SmsSendError(f"HTTP {status} from SMS provider: {raw[:300]}", permanent=permanent, status=status)
        try:
            answer = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            answer = None
        if s.success_field and dig(answer, s.success_field) != s.success_value:
            raise SmsSendError(f"SMS provider refused: {s.success_field}={dig(answer, s.success_field)!r} "
                               f"({raw[:300]})", status=status)
        provider_id = dig(answer, s.message_id_field) if s.message_id_field else None
        return ProviderReceipt(None if provider_id is None else str(provider_id))
