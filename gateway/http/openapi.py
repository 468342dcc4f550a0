"""The OpenAPI 3 document at /api/v1/openapi.json (read through Swagger UI at /api/v1/docs, see apidocs.py).

Built from the live router and each handler's ``@endpoint`` declaration, so the document cannot drift
from the code; ``undocumented(app)`` lists API routes that lack a declaration (a test keeps it empty).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from gateway.http.api import API_PREFIX, EndpointSpec, add_endpoints, endpoint
from gateway.http.apidocs import add_asset_routes, docs_page
from gateway.http.jsonio import json_response

ERROR_TEXT = {
    400: "Malformed request (invalid JSON, bad value)",
    401: "Missing or invalid API token",
    403: "The token may not do this (kind, scope, or another unit's ticket)",
    404: "Unknown id",
    409: "The current state does not allow it (the body names the state and the allowed actions)",
    413: "Body too large",
    422: "Well-formed but invalid (unknown fields, wrong types, a rule of the policy)",
    429: "Too many failed authentications, or over a per-token rate limit (see Retry-After)",
    503: "A dependency is down (e.g. asterisk-unavailable)",
}


def api_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith(API_PREFIX) and route.method != "HEAD":
            routes.append((route.method, path, route.handler))
    return routes


def undocumented(app: web.Application) -> list[str]:
    return [f"{m} {p}" for m, p, h in api_routes(app) if not hasattr(h, "__api__")]


def build_document(app: web.Application, title: str = "12345 hotline gateway API") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for method, path, handler in api_routes(app):
        spec: EndpointSpec | None = getattr(handler, "__api__", None)
        if spec is None:
            continue
        paths.setdefault(path, {})[method.lower()] = _operation(spec, path, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1",
                 "description": "Agents, handling units (承办单位) and reviewers work tickets (工单) here. "
                                "Authenticate with `Authorization: Bearer <token>` (see `hotline tokens`). "
                                "Every POST accepts an `Idempotency-Key` header. Errors are "
                                '`{"error_id", "message", "details"}`.'},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(spec: EndpointSpec, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": f"{spec.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path[len(API_PREFIX):].lower()).strip('_')}",
        "tags": list(spec.tags),
        "responses": {str(spec.status): {"description": "OK"}},
    }
    if spec.description:
        op["description"] = spec.description
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
              for n in re.findall(r"{(\w+)}", path)]
    if spec.query is not None:
        for name, field in spec.query.model_fields.items():
            params.append({"name": name, "in": "query", "required": field.is_required(),
                           "description": field.description or "", "schema": {"type": "string"}})
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": _schema_ref(spec.body, schemas)}}}
    if spec.kinds is not None:
        op["security"] = [{"bearer": []}]
        op["x-token-kinds"] = list(spec.kinds)
        if spec.scope:
            op["x-scope"] = spec.scope
    codes = set(spec.errors) | ({401, 403} if spec.kinds is not None else set())
    if spec.body is not None:
        codes |= {400, 413, 422}
    if "{" in path:
        codes.add(404)
    if spec.method == "POST":
        codes.add(409)
    for code in sorted(codes):
        op["responses"][str(code)] = {"description": ERROR_TEXT.get(code, "Error"),
                                      "content": {"application/json": {"schema": {
                                          "$ref": "#/components/schemas/Error"}}}}
    schemas.setdefault("Error", {"type": "object", "required": ["error_id", "message"], "properties": {
        "error_id": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}})
    return op


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


@endpoint("GET", "/openapi.json", summary="This OpenAPI document", kinds=None, tags=("meta",))
async def openapi_json(request: web.Request) -> web.Response:
    return json_response(build_document(request.app))


def setup(app: web.Application) -> None:
    add_endpoints(app, openapi_json, docs_page)
    add_asset_routes(app)
