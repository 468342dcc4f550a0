"""Who is acting, and what they may touch.

The token middleware puts a ``RequestActor`` on ``request[ACTOR_KEY]``; it is read here as a kb ``Actor``.
Units act only within their own scope: their own unit's entries, questions and reminders. Agents read
(search, suggest, entries in force). The platform ("admin") reviews and publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.errors import Forbidden, Unauthenticated
from gateway.http.api import ACTOR_KEY, RequestActor, with_article

ACTOR = ACTOR_KEY  # tests may put a kb Actor here directly

KINDS = frozenset({"unit", "agent", "admin"})


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "unit" | "agent" | "admin"
    id: str  # the person or client, written into the audit trail
    unit_id: str | None = None  # required for kind "unit"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if self.kind == "unit" and not self.unit_id:
            raise ValueError("a unit actor needs a unit_id")

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}" + (f"@{self.unit_id}" if self.unit_id else "")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Actor:
        return cls(kind=str(data["kind"]), id=str(data.get("id") or data.get("unit_id") or data["kind"]),
                   unit_id=data.get("unit_id"))


def actor_of(request: web.Request) -> Actor:
    """The caller as the knowledge base sees it, from the token middleware's ``RequestActor``."""
    raw = request.get(ACTOR_KEY)
    if isinstance(raw, Actor):
        return raw
    if isinstance(raw, RequestActor):
        if raw.kind not in KINDS:
            raise Forbidden(f"{with_article(raw.kind)} token cannot use the knowledge base",
                            error_id="wrong-token-kind")
        if not raw.allows("kb"):
            raise Forbidden("your token lacks the 'kb' scope", error_id="missing-scope")
        return Actor(kind=raw.kind, id=raw.id, unit_id=raw.id if raw.kind == "unit" else None)
    if isinstance(raw, Mapping):
        try:
            return Actor.from_mapping(raw)
        except (KeyError, ValueError) as exc:
            raise Unauthenticated(f"unusable identity on the request: {exc}") from exc
    raise Unauthenticated("this endpoint needs an identity (agent, unit or platform token)", error_id="token-required")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only the platform may do this", error_id="platform-only")


def require_scope(actor: Actor, unit_id: str) -> None:
    """Admins act on any unit; a unit only on itself; agents on none."""
    if actor.is_admin:
        return
    if actor.kind != "unit":
        raise Forbidden("agents may read the knowledge base but not change it", error_id="read-only")
    if actor.unit_id != unit_id:
        raise Forbidden(f"unit {actor.unit_id} cannot act for unit {unit_id}", error_id="not-your-unit")
