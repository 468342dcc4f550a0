"""The strict JSON reader, the bounds every request value keeps, safe download headers and the
last-resort error answer (issue 20, items 6 and 10)."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.errors import InvalidInput
from gateway.http.errors import error_middleware
from gateway.http.headers import attachment
from gateway.http.inputs import out_of_bounds
from gateway.http.jsonio import MAX_DEPTH, dumps, loads, loads_object


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_refused() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(InvalidInput, match="nested deeper"):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(InvalidInput, match="nested deeper"):
        loads('{"a":' * 100_000 + "1" + "}" * 100_000)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", '{"x": NaN}', "1e999", "9" * 5001,
                                  str(2**63), str(-(2**63) - 1)])
def test_numbers_the_gateway_cannot_hold_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        loads(text)
    assert caught.value.error_id == "invalid-json"


def test_numbers_within_64_bits_are_read() -> None:
    assert loads(f"[{2**63 - 1}, {-(2**63)}, 1.5]") == [2**63 - 1, -(2**63), 1.5]


@pytest.mark.parametrize("text", ["[]", '"text"', "3", "null"])
def test_a_body_must_be_an_object(text: str) -> None:
    with pytest.raises(InvalidInput, match="JSON object"):
        loads_object(text)


def test_nan_is_never_written_as_json() -> None:
    with pytest.raises(ValueError):
        dumps({"x": math.nan})


@pytest.mark.parametrize(("value", "bad"), [
    (2**63, True), (2**63 - 1, False), (math.inf, True), (1.5, False), (date(1, 1, 1), True),
    (date(9999, 12, 31), True), (date(2026, 11, 16), False), ({"a": [math.nan]}, True), (True, False),
])
def test_bounds_every_value_keeps(value: object, bad: bool) -> None:
    assert (out_of_bounds(value) is not None) is bad


@pytest.mark.parametrize("name", ["report.csv", "周报-水务.xlsx", 'a"b;c\r\nSet-Cookie: x=1', ""])
def test_a_download_header_holds_only_safe_characters_and_keeps_the_exact_name(name: str) -> None:
    value = attachment(name)
    assert value.isascii() and value.isprintable()
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    assert all(c.isalnum() or c in "._-" for c in fallback)
    from urllib.parse import unquote
    assert unquote(value.split("filename*=UTF-8''", 1)[1]) == name


async def test_an_unexpected_failure_is_a_json_500_with_an_error_id() -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/broken", broken)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/broken")
        assert resp.status == 500
        assert json.loads(await resp.text()) == {"error_id": "internal-error",
                                                 "message": "the gateway failed to handle this request"}
        resp = await client.post("/broken")
        assert resp.status == 405 and resp.headers["Allow"] == "GET,HEAD"


async def test_a_failure_after_the_response_started_is_not_followed_by_a_second_response() -> None:
    from aiohttp import ClientPayloadError

    from gateway.http.errors import note_response_started

    async def streaming(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"part of a download")
        raise RuntimeError("a bug half way")

    app = web.Application(middlewares=[error_middleware])
    app.on_response_prepare.append(note_response_started)
    app.router.add_get("/stream", streaming)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/stream")
        assert resp.status == 200
        try:
            received = await resp.read()
        except ClientPayloadError:
            received = b""
        assert b"internal-error" not in received and b"HTTP/1.1" not in received
