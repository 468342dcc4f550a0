"""Declaring API endpoints: who may call them, what body they take, and how they are documented.

    @endpoint("POST", "/tickets/{number}/sign", summary="签收", kinds=(UNIT,), scope="tickets")
    async def sign(request: web.Request) -> web.Response: ...

    @endpoint("POST", "/tickets", summary="Create", body=NewTicket, status=201)
    async def create(request: web.Request, body: NewTicket) -> web.Response: ...

The decorator checks the caller (401 without a valid token, 403 for the wrong kind or scope), parses
and validates the JSON body (400 malformed, 413 too large, 422 wrong fields or types) before the
handler runs, so bad input never reaches the domain and changes nothing. The OpenAPI document is
built from these declarations and the live router (see ``openapi.py``); a test fails when a route
under /api/v1 has no declaration.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from gateway.errors import Forbidden, InvalidInput, PayloadTooLarge, Unauthenticated, Unprocessable
from gateway.http.inputs import check_bounds
from gateway.http.jsonio import loads_object

API_PREFIX = "/api/v1"

Handler = Callable[..., Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RequestActor:
    """The authenticated caller, set on ``request["actor"]`` by the token middleware."""

    kind: str  # "agent" | "unit" | "admin" | "peer"
    id: str  # agent id, unit id, admin name or peer platform id
    scopes: frozenset[str] = frozenset()
    token_id: str | None = None
    territory: str | None = None  # remote seats: tickets of this region only

    def allows(self, scope: str | None) -> bool:
        return scope is None or "*" in self.scopes or scope in self.scopes

    # Mapping-style access, for handlers written against ``request["actor"]["kind"]``.
    def __getitem__(self, key: str) -> Any:
        if key == "unit_id":
            return self.id if self.kind == "unit" else None
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except AttributeError:
            return default


# Where the token middleware puts the caller (None: no token was sent).
ACTOR_KEY: web.RequestKey[RequestActor | None] = web.RequestKey("actor", object)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EndpointSpec:
    method: str
    path: str  # relative to /api/v1
    summary: str
    kinds: tuple[str, ...] | None  # None: public (no token)
    scope: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    status: int
    tags: tuple[str, ...]
    description: str = ""
    errors: tuple[int, ...] = field(default=())
    # The 2xx body: a pydantic model, a JSON schema, or None (undocumented). ``media_types`` names
    # other representations the route can answer with (exports), each with its JSON schema.
    response: type[BaseModel] | dict[str, Any] | None = None
    media_types: tuple[tuple[str, dict[str, Any]], ...] = ()
    # A body that is not a JSON object (file uploads): media type -> JSON schema, instead of ``body``.
    raw_body: tuple[tuple[str, dict[str, Any]], ...] = ()
    # Other statuses that answer with the ``response`` body too (200 for a repeated message; 422 with a
    # report that says what was refused).
    also: tuple[int, ...] = ()

    @property
    def full_path(self) -> str:
        return API_PREFIX + self.path


def endpoint(
    method: str,
    path: str,
    *,
    summary: str,
    kinds: Sequence[str] | None = ("agent", "admin"),
    scope: str | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    tags: Sequence[str] = (),
    errors: Sequence[int] = (),
    response: type[BaseModel] | dict[str, Any] | None = None,
    media_types: Sequence[tuple[str, dict[str, Any]]] = (),
) -> Callable[[Handler], Handler]:
    def decorate(fn: Handler) -> Handler:
        spec = EndpointSpec(method.upper(), path, summary, tuple(kinds) if kinds is not None else None, scope,
                            body, query, status, tuple(tags), (fn.__doc__ or "").strip(), tuple(errors),
                            response, tuple(media_types))

        @functools.wraps(fn)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            if spec.kinds is not None:
                authorize(request, spec.kinds, spec.scope)
            args: list[Any] = []
            if spec.body is not None:
                args.append(await parse_body(request, spec.body))
            if spec.query is not None:
                args.append(parse_query(request, spec.query))
            return await fn(request, *args)

        wrapper.__api__ = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


def declare(method: str, path: str, *, summary: str, kinds: Sequence[str] | None = ("admin",),
            scope: str | None = None, body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
            status: int = 200, tags: Sequence[str] = (), errors: Sequence[int] = (),
            response: type[BaseModel] | dict[str, Any] | None = None,
            media_types: Sequence[tuple[str, dict[str, Any]]] = (),
            raw_body: Sequence[tuple[str, dict[str, Any]]] = (), also: Sequence[int] = ()
            ) -> Callable[[Handler], Handler]:
    """Document a handler that checks its caller and parses its body itself (with ``authorize`` and
    ``parse_body``): it gets the same OpenAPI entry as an ``@endpoint`` one, unwrapped."""

    def decorate(fn: Handler) -> Handler:
        fn.__api__ = EndpointSpec(method.upper(), path, summary, tuple(kinds) if kinds is not None else None,  # type: ignore[attr-defined]
                                  scope, body, query, status, tuple(tags), (fn.__doc__ or "").strip(),
                                  tuple(errors), response, tuple(media_types), tuple(raw_body), tuple(also))
        return fn

    return decorate


def add_endpoints(app: web.Application, *handlers: Handler) -> None:
    for handler in handlers:
        spec: EndpointSpec = handler.__api__  # type: ignore[attr-defined]
        app.router.add_route(spec.method, spec.full_path, handler)


def actor_of(request: web.Request) -> RequestActor:
    actor = request.get(ACTOR_KEY)
    if actor is None:
        raise Unauthenticated("a valid API token is required (Authorization: Bearer …)",
                              error_id="token-required")
    return actor


def with_article(word: str) -> str:
    return ("an " if word[:1] in "aeio" else "a ") + word  # a unit, an agent, an admin


def authorize(request: web.Request, kinds: Sequence[str], scope: str | None) -> RequestActor:
    actor = actor_of(request)
    if actor.kind not in kinds:
        needed, yours = with_article(" or ".join(kinds)), with_article(actor.kind)
        raise Forbidden(f"this needs {needed} token; yours is {yours} token",
                        error_id="wrong-token-kind")
    if not actor.allows(scope):
        raise Forbidden(f"your token lacks the '{scope}' scope", error_id="missing-scope")
    return actor


async def parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"the request body is larger than {request.app._client_max_size} bytes",
                              error_id="payload-too-large") from exc
    if request.content_type not in ("application/json", "") and raw:
        raise InvalidInput("send the body as application/json", error_id="unsupported-media-type")
    return validate(model, loads_object(raw))


def parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    return validate(model, dict(request.query))


def validate(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """The model's own rules, then the bounds every value must keep (64-bit ints, finite floats, sane
    dates — see ``inputs.py``), so that no endpoint can forget them."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        first = problems[0]
        raise Unprocessable(f"{first['field']}: {first['problem']}", error_id="validation-failed",
                            problems=problems) from exc
    check_bounds(parsed)
    return parsed
