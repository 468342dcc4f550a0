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
from gateway.http.examples import example
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


ERROR_SCHEMA = {"type": "object", "required": ["error_id", "message"], "properties": {
    "error_id": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}, "message": {"type": "string"},
    "details": {"type": "object"}}}
# aiohttp's default for a path segment: anything but a slash (and braces).
DEFAULT_SEGMENT = "[^{}/]+"


def api_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    return [(m, p, h) for m, p, h, _ in _routes(app)]


def _routes(app: web.Application) -> list[tuple[str, str, Any, dict[str, str]]]:
    """(method, path, handler, {path parameter: its regular expression}) for every route under /api/v1."""
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith(API_PREFIX) and route.method != "HEAD":
            segments = _segments(info["pattern"].pattern) if "pattern" in info else {}
            routes.append((route.method, path, route.handler, segments))
    return routes


def _segments(pattern: str) -> dict[str, str]:
    """The regular expression of each named group in a route's pattern (groups may nest)."""
    found = {}
    for match in re.finditer(r"\(\?P<(\w+)>", pattern):
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(pattern[end], 0) if pattern[end - 1] != "\\" else 0
            end += 1
        found[match.group(1)] = pattern[match.end():end - 1]
    return found


def undocumented(app: web.Application) -> list[str]:
    return [f"{m} {p}" for m, p, h in api_routes(app) if not hasattr(h, "__api__")]


def build_document(app: web.Application, title: str = "12345 hotline gateway API") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for method, path, handler, segments in _routes(app):
        spec: EndpointSpec | None = getattr(handler, "__api__", None)
        if spec is None:
            continue
        paths.setdefault(path, {})[method.lower()] = _operation(spec, path, segments, schemas)
    for operation in (op for ops in paths.values() for op in ops.values()):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:  # once every schema is known: examples follow references
            body["example"] = example(body["schema"], schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1",
                 "description": "Agents, handling units (承办单位) and reviewers work tickets (工单) here. "
                                "Authenticate with `Authorization: Bearer <token>` (see `hotline tokens`). "
                                "Every POST accepts an `Idempotency-Key` header. Errors are "
                                '`{"error_id", "message", "details"}`; a wrong method is a 405 with `Allow`.'},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(spec: EndpointSpec, path: str, segments: dict[str, str], schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": f"{spec.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path[len(API_PREFIX):].lower()).strip('_')}",
        "tags": list(spec.tags),
        "responses": {str(spec.status): _success(spec, schemas)},
    }
    if spec.description:
        op["description"] = spec.description
    params = [{"name": n, "in": "path", "required": True, "schema": _segment_schema(segments.get(n))}
              for n in re.findall(r"{(\w+)}", path)]
    if spec.query is not None:
        params += _query_parameters(spec.query, schemas)
    if spec.method == "POST":
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "resending a POST with the same key returns the first answer",
                       "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"}})
    if params:
        op["parameters"] = params
    if spec.body is not None:
        # A body whose fields are all optional may be left out (it reads as ``{}``).
        required = any(f.is_required() for f in spec.body.model_fields.values())
        op["requestBody"] = {"required": required, "content": {"application/json": {
            "schema": _schema_ref(spec.body, schemas)}}}
    elif spec.raw_body:
        op["requestBody"] = {"required": True, "content": {t: {"schema": s} for t, s in spec.raw_body}}
    if spec.kinds is not None:
        op["security"] = [{"bearer": []}]
        op["x-token-kinds"] = list(spec.kinds)
        if spec.scope:
            op["x-scope"] = spec.scope
    error = {"$ref": "#/components/schemas/Error"}
    for code in sorted(_error_codes(spec, path)):
        op["responses"][str(code)] = {"description": ERROR_TEXT.get(code, "Error"),
                                      "content": {"application/json": {"schema": error}}}
    for code in spec.also:
        answer = _success(spec, schemas)
        if str(code) in op["responses"]:  # either the error or the route's own answer
            schema = answer["content"]["application/json"]["schema"]
            answer["content"]["application/json"]["schema"] = {"anyOf": [error, schema]}
            answer["description"] = ERROR_TEXT.get(code, "OK")
        op["responses"][str(code)] = answer
    return op


def _error_codes(spec: EndpointSpec, path: str) -> set[int]:
    """Every error status the layers in front of a handler can answer with, plus the route's own."""
    codes = set(spec.errors)
    if spec.kinds is not None:
        codes |= {401, 403, 429}  # token middleware (and its failed-attempt limiter), kind/scope check
    if spec.body is not None or spec.raw_body:
        codes |= {400, 413, 422}
    if spec.query is not None:
        codes |= {400, 422}
    if "{" in path:
        codes.add(404)
    if spec.method == "POST":
        codes |= {400, 409, 422}  # Idempotency-Key: malformed, still running, reused for another body
    if spec.method in ("PUT", "PATCH", "DELETE"):
        codes.add(409)
    return codes


def _success(spec: EndpointSpec, schemas: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if isinstance(spec.response, dict):
        content["application/json"] = {"schema": spec.response}
    elif spec.response is not None:
        content["application/json"] = {"schema": _schema_ref(spec.response, schemas)}
    for media_type, schema in spec.media_types:
        content[media_type] = {"schema": schema}
    return {"description": "OK", "content": content} if content else {"description": "OK"}


def _segment_schema(regex: str | None) -> dict[str, Any]:
    if regex is None or regex == DEFAULT_SEGMENT:
        return {"type": "string", "minLength": 1}
    return {"type": "string", "pattern": f"^{regex}$"}


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    """One parameter per field of the query model, with the field's own JSON schema (type, bounds,
    enum, pattern). A query parameter cannot be null: absent is how a client leaves it unset."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(prop)
        params.append({"name": name, "in": "query", "required": name in required,
                       "description": prop.pop("description", ""), "schema": prop})
    return params


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    schema = {k: v for k, v in schema.items() if k != "title"}
    if schema.get("default", 0) is None:
        del schema["default"]
    options = [o for o in schema.get("anyOf", ()) if o != {"type": "null"}]
    if "anyOf" in schema and len(options) == 1:
        del schema["anyOf"]
        schema.update(options[0])
    elif "anyOf" in schema:
        schema["anyOf"] = options
    return schema


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
