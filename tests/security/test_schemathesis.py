"""Schemathesis, every check, against a live gateway: what /api/v1/openapi.json promises is what the API does.

Every operation is fuzzed from the served document (examples, coverage of boundaries and of methods the
document does not list, then random valid and invalid inputs) and each generated request is sent with an
admin, an agent and a unit token. A 5xx, an undocumented status or content type, a body that does not match
its schema, invalid input that is accepted, or a 405 without ``Allow`` fails the test, naming the operation.

The gateway runs on 127.0.0.1 on a free port in a thread of its own (schemathesis' client is synchronous),
with the fake AMI the call tests use standing in for Asterisk: call and seat actions reach a PBX that
answers, never a real one.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from schemathesis.config._checks import PositiveDataAcceptanceConfig

from gateway.app import create_app
from gateway.auth.middleware import LIMITER, TOKENS, FailedAuthLimiter
from gateway.config import load_settings
from gateway.http.openapi import build_document
from gateway.tickets.appkeys import TICKETS
from tests.fakes.fake_ami import FakeAmi

# Fuzzed examples per operation and generation mode (the coverage phase adds its boundary cases): the whole
# run stays within about three minutes on a busy two-core machine.
MAX_EXAMPLES = 6
TOKEN_KINDS = (("admin", "reviewer"), ("agent", "1001"), ("unit", "water"))
# The websocket is no request/response operation: it is tested in tests/consoles.
NOT_FUZZED = r"^/api/v1/ws$"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class LiveGateway:
    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    stop: Callable[[], object] = lambda: None  # from the test's thread: shut the gateway down


def _serve(tmp: Path, started: Future[LiveGateway]) -> None:
    live = LiveGateway(url="")

    async def main() -> None:
        fake = FakeAmi()
        await fake.start()
        settings = load_settings(
            data_dir=tmp, timer_interval=3600, ivr={"enabled": False},
            ami={"port": fake.port, "secret": fake.secret, "action_timeout": 0.2, "reconnect_delay": 0.05},
            calls={"recording_dir": str(tmp / "rec"), "wrapup_seconds": 0.3},
            sms={"inbound": {"secret": "fuzz-inbound-secret"}},  # else it answers 503 by design
        )
        app = create_app(settings)
        # The fuzzer sends thousands of requests without a token from one address on purpose.
        app[LIMITER] = FailedAuthLimiter(limit=10**9)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        for kind, subject in TOKEN_KINDS:
            _, live.tokens[kind] = await app[TOKENS].create(kind, subject)
        for unit_id, name in [("water", "市水务局"), ("roads", "市住建局")]:
            await app[TICKETS].add_unit(unit_id, name)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        live.url = f"http://127.0.0.1:{port}"
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        live.stop = lambda: loop.call_soon_threadsafe(stopping.set)
        started.set_result(live)
        await stopping.wait()
        await runner.cleanup()
        await fake.stop()

    try:
        asyncio.run(main())  # also cancels and awaits what is left (the fake's sessions)
    except BaseException as exc:  # surface a failed start-up in the test, not as a hung thread
        if not started.done():
            started.set_exception(exc)
        raise


@pytest.fixture(scope="module")
def live_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    started: Future[LiveGateway] = Future()
    thread = threading.Thread(target=_serve, args=(tmp_path_factory.mktemp("gw"), started), daemon=True)
    thread.start()
    live = started.result(timeout=60)
    yield live
    live.stop()
    thread.join(timeout=30)


def _document() -> dict[str, Any]:
    """The document as the gateway builds it from its routes (no start-up needed); the first test checks
    that the live gateway serves exactly this. (Loading it from the live server through
    ``schemathesis.pytest.from_fixture`` would be neater, but that breaks on pytest 9.)"""
    return build_document(create_app(load_settings(data_dir=Path(tempfile.gettempdir()) / "unused",
                                                   ivr={"enabled": False})))


DOCUMENT = _document()
# Spreadsheets go on the wire as the raw bytes generated for them.
schemathesis.serializer.alias(XLSX, "application/octet-stream")
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path_regex=NOT_FUZZED)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
# Schema-valid input may still break a rule the document cannot state (an unknown category of the policy
# pack, a transfer target that is not configured, merging a ticket into itself): the domain refuses it
# with a documented 400/422 and an error_id. Everything else about positive data is still checked.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "400", "401", "403", "404", "409", "422", "429"])


def test_the_fuzzed_document_is_the_one_the_gateway_serves(live_gateway: LiveGateway) -> None:
    with urllib.request.urlopen(live_gateway.url + "/api/v1/openapi.json") as response:
        assert json.load(response) == DOCUMENT


def _callers(operation: dict[str, Any]) -> list[str]:
    """Every token kind the operation admits, and the first one it refuses (its 403 is checked too)."""
    admitted = operation.get("x-token-kinds")
    if admitted is None:
        return ["admin"]  # public (or signed): a token changes nothing
    kinds = [kind for kind, _ in TOKEN_KINDS if kind in admitted]
    return kinds + [kind for kind, _ in TOKEN_KINDS if kind not in admitted][:1]


@pytest.mark.slow  # about 2 minutes of CPU for the ~100 operations; CI (./dev test) runs it
@schema.parametrize()
def test_the_api_keeps_the_promises_of_its_openapi_document(case: Any, live_gateway: LiveGateway) -> None:
    for kind in _callers(case.operation.definition.raw):
        case.call_and_validate(base_url=live_gateway.url,
                               headers={"Authorization": f"Bearer {live_gateway.tokens[kind]}"})
