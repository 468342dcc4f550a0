"""Admin HTTP API of the webhooks: endpoints, deliveries by status (the dead letters), replay.

    GET   /api/v1/webhooks/endpoints[?owner=]           list subscribers
    POST  /api/v1/webhooks/endpoints                    {id, owner, url, events?, description?, generate_secret?}
    PATCH /api/v1/webhooks/endpoints/{id}               {active?, url?, events?, description?}
    POST  /api/v1/webhooks/endpoints/{id}/replay        replay all dead deliveries of the endpoint
    GET   /api/v1/webhooks/deliveries[?status=dead&endpoint=&limit=]
    GET   /api/v1/webhooks/deliveries/{id}
    POST  /api/v1/webhooks/deliveries/{id}/replay
"""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import InvalidInput
from gateway.http.api import authorize, declare, parse_body
from gateway.http.jsonio import json_response
from gateway.webhooks.keys import WEBHOOKS
from gateway.webhooks.models import WebhookDelivery, WebhookEndpoint

Body = TypeVar("Body", bound=BaseModel)


def require_admin(request: web.Request, scope: str) -> str:
    """The id of the administrator making the request, whose token must carry ``scope``."""
    return authorize(request, ("admin",), scope).id


async def read_body(request: web.Request, model: type[Body]) -> Body:
    return await parse_body(request, model)  # type: ignore[return-value]


def query_int(request: web.Request, name: str, default: int, maximum: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a whole number", error_id="invalid-query") from exc
    return max(1, min(value, maximum))


class NewEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    owner: str = Field(min_length=1, max_length=64)
    url: str = Field(pattern=r"^https?://", max_length=2000)
    events: list[str] = ["*"]
    description: str | None = None
    generate_secret: bool = False


class EndpointChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool | None = None
    url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    events: list[str] | None = None
    description: str | None = None


def endpoint_json(e: WebhookEndpoint) -> dict[str, Any]:
    return {"id": e.id, "owner": e.owner, "url": e.url, "events": e.events, "active": e.active,
            "description": e.description, "created_at": e.created_at, "updated_at": e.updated_at}


def delivery_json(d: WebhookDelivery) -> dict[str, Any]:
    return {"id": d.id, "endpoint_id": d.endpoint_id, "event": d.event_kind, "event_id": d.event_id,
            "status": d.status, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
            "last_status": d.last_status, "last_error": d.last_error, "created_at": d.created_at,
            "delivered_at": d.completed_at, "replay_count": d.replay_count,
            "last_replayed_at": d.last_replayed_at, "last_replayed_by": d.last_replayed_by,
            "payload": d.payload}


async def list_endpoints(request: web.Request) -> web.Response:
    require_admin(request, "webhooks")
    found = await request.app[WEBHOOKS].endpoints(owner=request.query.get("owner"))
    return json_response({"endpoints": [endpoint_json(e) for e in found]})


async def create_endpoint(request: web.Request) -> web.Response:
    require_admin(request, "webhooks")
    body = await read_body(request, NewEndpoint)
    endpoint, secret = await request.app[WEBHOOKS].create_endpoint(
        body.id, body.owner, body.url, body.events, body.description, body.generate_secret)
    answer = endpoint_json(endpoint)
    if secret is not None:
        answer["secret"] = secret  # shown this once; it lives in the secrets directory from now on
    return json_response(answer, status=201)


async def update_endpoint(request: web.Request) -> web.Response:
    require_admin(request, "webhooks")
    body = await read_body(request, EndpointChanges)
    endpoint = await request.app[WEBHOOKS].update_endpoint(request.match_info["id"], **body.model_dump())
    return json_response(endpoint_json(endpoint))


async def replay_endpoint(request: web.Request) -> web.Response:
    actor = require_admin(request, "webhooks")
    ids = await request.app[WEBHOOKS].replay_endpoint(request.match_info["id"], actor)
    return json_response({"replayed": ids})


async def list_deliveries(request: web.Request) -> web.Response:
    require_admin(request, "webhooks")
    found = await request.app[WEBHOOKS].deliveries(
        status=request.query.get("status"), endpoint_id=request.query.get("endpoint"),
        limit=query_int(request, "limit", 100, 1000))
    return json_response({"deliveries": [delivery_json(d) for d in found]})


async def get_delivery(request: web.Request) -> web.Response:
    require_admin(request, "webhooks")
    return json_response(delivery_json(await request.app[WEBHOOKS].delivery(request.match_info["id"])))


async def replay_delivery(request: web.Request) -> web.Response:
    actor = require_admin(request, "webhooks")
    delivery = await request.app[WEBHOOKS].replay_delivery(request.match_info["id"], actor)
    return json_response(delivery_json(delivery))


def add_routes(app: web.Application) -> None:
    base = "/api/v1/webhooks"
    t = ("webhooks",)
    routes = [
        ("GET", "/endpoints", list_endpoints, "List webhook endpoints", None),
        ("POST", "/endpoints", create_endpoint, "Register an endpoint (unit or peer); its secret is shown once",
         NewEndpoint),
        ("PATCH", "/endpoints/{id}", update_endpoint, "Change or disable an endpoint", EndpointChanges),
        ("POST", "/endpoints/{id}/replay", replay_endpoint, "Replay every dead delivery of an endpoint", None),
        ("GET", "/deliveries", list_deliveries, "Deliveries by status (dead letters: status=dead)", None),
        ("GET", "/deliveries/{id}", get_delivery, "One delivery with its last error", None),
        ("POST", "/deliveries/{id}/replay", replay_delivery, "Replay one dead delivery", None),
    ]
    for method, path, handler, summary, body in routes:
        spec = declare(method, path.replace("/endpoints", "/webhooks/endpoints", 1)
                       .replace("/deliveries", "/webhooks/deliveries", 1), summary=summary, scope="webhooks",
                       body=body, tags=t)
        app.router.add_route(method, base + path, spec(handler))
