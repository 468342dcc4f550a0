"""The OpenAPI document says enough for a client (or a fuzzer) to know the real API: parameter types and
bounds, every request body, the 2xx answers, and every error status the layers in front of a handler give.
tests/security/test_schemathesis.py checks the running API against it; these pin down what it states."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.support import Api, running_gateway
from tests.tickets.support import FakeClock


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    async with running_gateway(tmp_path, clock) as api:
        yield api


@pytest.fixture
async def doc(api: Api) -> dict[str, Any]:
    return dict(await api.ok("", "GET", "/openapi.json"))


def op(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(doc["paths"]["/api/v1" + path][method.lower()])


def params(operation: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == where}


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return dict(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]) if "$ref" in schema else schema


async def test_query_parameters_carry_the_types_bounds_and_patterns_of_their_models(doc: dict[str, Any]) -> None:
    tickets = params(op(doc, "GET", "/tickets"), "query")
    assert tickets["limit"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}
    assert tickets["active"]["type"] == "boolean"
    assert tickets["caller"] == {"type": "string"}  # never null: an absent parameter is how it is unset
    stats = op(doc, "GET", "/stats/tickets")
    assert params(stats, "query")["start"] == {"type": "string", "format": "date-time"}
    assert {p["name"] for p in stats["parameters"] if p.get("required")} == {"start", "end"}
    assert params(op(doc, "GET", "/reports/{period}"), "query")["format"]["pattern"] == "^(json|html|xlsx|csv)$"
    assert params(op(doc, "GET", "/kb/search"), "query")["limit"]["maximum"] == 50
    assert params(op(doc, "GET", "/calls/kpi"), "query")["since"]["format"] == "date-time"
    # A path segment with its own pattern in the router says so.
    assert params(op(doc, "POST", "/kb/changes/{change_id}/approve"), "path")["change_id"]["pattern"] == r"^\d{1,18}$"


@pytest.mark.parametrize(("method", "path", "fields"), [
    ("POST", "/calls/outbound", {"kind", "number", "agent_id", "ticket_id"}),
    ("POST", "/calls/{call_id}/transfer", {"target"}),
    ("POST", "/calls/{call_id}/police", {"summary", "location"}),
    ("PUT", "/agents/{agent_id}", {"name", "interface", "queues"}),
    ("POST", "/agents/{agent_id}/pause", {"reason"}),
    ("PUT", "/agents/{agent_id}/queues", {"queues"}),
    ("POST", "/agents/{agent_id}/spy", {"supervisor", "mode"}),
    ("POST", "/kb/suggest", {"text", "unit_id", "region", "public", "limit"}),
    ("POST", "/kb/changes", {"kind", "entry_id", "content", "base_version", "question_id", "publish"}),
    ("POST", "/kb/questions", {"unit_id", "text"}),
])
async def test_every_route_that_takes_a_body_documents_it(doc: dict[str, Any], method: str, path: str,
                                                          fields: set[str]) -> None:
    body = op(doc, method, path)["requestBody"]["content"]["application/json"]["schema"]
    assert set(resolve(doc, body)["properties"]) == fields


async def test_a_body_of_optional_fields_may_be_left_out(doc: dict[str, Any]) -> None:
    assert op(doc, "POST", "/tickets/{number}/accept")["requestBody"]["required"] is False
    assert op(doc, "POST", "/tickets")["requestBody"]["required"] is True


@pytest.mark.parametrize(("method", "path", "status", "fields"), [
    ("GET", "/tickets", "200", {"items", "limit", "offset"}),
    ("GET", "/tickets/{number}", "200", {"number", "status", "version", "caller", "allowed_actions"}),
    ("POST", "/tickets", "201", {"number", "status"}),
    ("GET", "/calls", "200", {"calls", "pbx"}),
    ("GET", "/calls/{call_id}", "200", {"call_id", "live"}),
    ("GET", "/agents", "200", {"agents"}),
    ("GET", "/agents/{agent_id}", "200", {"agent_id", "interface", "queues", "state"}),
    ("GET", "/kb/search", "200", {"results"}),
    ("POST", "/kb/changes", "201", {"id", "kind", "status"}),
])
async def test_the_main_answers_have_a_schema(doc: dict[str, Any], method: str, path: str, status: str,
                                              fields: set[str]) -> None:
    answer = op(doc, method, path)["responses"][status]["content"]["application/json"]["schema"]
    schema = resolve(doc, answer)
    assert fields <= set(schema["required"])
    assert schema["additionalProperties"] is True  # more fields may follow


async def test_each_operation_lists_the_error_statuses_it_can_answer_with(doc: dict[str, Any]) -> None:
    assert {"400", "401", "403", "404", "409", "413", "422", "429", "503"} <= set(
        op(doc, "POST", "/calls/{call_id}/transfer")["responses"])
    assert {"400", "401", "403", "422", "429"} <= set(op(doc, "GET", "/tickets")["responses"])
    assert "202" in op(doc, "POST", "/calls/outbound")["responses"]  # what it really answers
    assert {"200", "201", "401"} <= set(op(doc, "POST", "/channels/{kind}/tickets")["responses"])
    error = op(doc, "GET", "/tickets")["responses"]["401"]["content"]["application/json"]["schema"]
    assert set(resolve(doc, error)["properties"]) == {"error_id", "message", "details"}


async def test_a_wrong_method_is_a_405_that_names_the_allowed_ones(api: Api) -> None:
    resp = await api.call("agent", "DELETE", "/tickets")
    body = await resp.json()
    assert (resp.status, body["error_id"]) == (405, "method-not-allowed")
    assert sorted(resp.headers["Allow"].split(",")) == ["GET", "POST"]
    # /calls/outbound is not a call id: only POST is allowed there.
    resp = await api.call("agent", "GET", "/calls/outbound")
    assert (resp.status, resp.headers["Allow"]) == (405, "POST")


async def test_an_idempotency_key_without_a_token_gets_the_401_not_a_replay(api: Api) -> None:
    headers = {"Idempotency-Key": "k-1"}
    first = await api.call("", "POST", "/tickets/x/sign", headers=headers)
    again = await api.call("", "POST", "/tickets/x/sign", json={"other": 1}, headers=headers)
    assert first.status == again.status == 401


async def test_an_idempotency_key_outside_visible_ascii_is_refused(api: Api) -> None:
    resp = await api.call("water", "POST", "/tickets/x/sign", headers={"Idempotency-Key": "k\u00e9y"})
    assert (resp.status, (await resp.json())["error_id"]) == (400, "bad-idempotency-key")
