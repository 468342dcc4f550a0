"""A standby serves the API: call control goes to the leader with the caller's own token and key; with no
leader reachable it answers 503 not-leader with Retry-After. SQLite refuses a second instance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.errors import ConfigError
from gateway.http.errors import error_middleware
from gateway.leadership.forward import CLIENT, FORWARDED_BY, leader_forwarding, leader_only
from gateway.leadership.keys import LEADERSHIP
from gateway.leadership.lease import Holder
from gateway.leadership.service import Leadership
from gateway.leadership.single_instance import exclusive

SEEN = web.AppKey("seen", list)


async def leader_transfer(request: web.Request) -> web.Response:
    request.app[SEEN].append(
        {name: request.headers.get(name) for name in ("Authorization", "Idempotency-Key", FORWARDED_BY)}
        | {"body": await request.json()}
    )
    return web.json_response(
        {"call_id": request.match_info["call_id"], "action": "transfer"}, headers={"Idempotent-Replayed": "false"}
    )


async def standby_handler(request: web.Request) -> web.Response:
    raise AssertionError("a standby must not run call control itself")


async def tickets(request: web.Request) -> web.Response:
    return web.json_response({"items": []})


def standby(leader_url: str | None) -> web.Application:
    app = web.Application(middlewares=[error_middleware, leader_forwarding])
    leadership = Leadership("ami:test", "standby-1", "http://standby:8345", lease_seconds=3.0, renew_interval=1.0)
    if leader_url is not None:
        leadership.leader = Holder("leader-1", 4, leader_url, datetime(2026, 12, 4, tzinfo=UTC), live=True)
    app[LEADERSHIP] = leadership
    app.router.add_post("/api/v1/calls/{call_id}/transfer", standby_handler)
    app.router.add_get("/api/v1/tickets", tickets)

    async def client(app: web.Application) -> AsyncIterator[None]:
        app[CLIENT] = aiohttp.ClientSession()
        yield
        await app[CLIENT].close()

    app.cleanup_ctx.append(client)
    return app


async def test_the_standby_forwards_call_control_to_the_leader_with_the_callers_token_and_key() -> None:
    leader = web.Application()
    leader[SEEN] = []
    leader.router.add_post("/api/v1/calls/{call_id}/transfer", leader_transfer)
    async with TestServer(leader) as leader_server:
        async with TestClient(TestServer(standby(str(leader_server.make_url(""))))) as client:
            answer = await client.post(
                "/api/v1/calls/1790000000.1/transfer",
                json={"target": "12315"},
                headers={"Authorization": "Bearer agent-token", "Idempotency-Key": "k-1"},
            )
            body: dict[str, Any] = await answer.json()
    assert answer.status == 200
    assert body == {"call_id": "1790000000.1", "action": "transfer"}
    assert answer.headers["Idempotent-Replayed"] == "false"
    assert leader[SEEN] == [
        {
            "Authorization": "Bearer agent-token",
            "Idempotency-Key": "k-1",
            FORWARDED_BY: "standby-1",
            "body": {"target": "12315"},
        }
    ]


async def test_with_no_leader_known_call_control_answers_503_not_leader_with_retry_after() -> None:
    async with TestClient(TestServer(standby(None))) as client:
        answer = await client.post("/api/v1/calls/1790000000.1/transfer", json={"target": "12315"})
        body = await answer.json()
    assert answer.status == 503
    assert body["error_id"] == "not-leader"
    assert answer.headers["Retry-After"] == "1"


async def test_a_leader_that_does_not_answer_gives_503_not_leader() -> None:
    async with TestClient(TestServer(standby("http://127.0.0.1:9"))) as client:  # nothing listens on port 9
        answer = await client.post("/api/v1/calls/1790000000.1/transfer", json={"target": "12315"})
        body = await answer.json()
    assert (answer.status, body["error_id"]) == (503, "not-leader")


async def test_a_forwarded_request_reaching_a_standby_is_refused_not_bounced() -> None:
    async with TestClient(TestServer(standby("http://127.0.0.1:9"))) as client:
        answer = await client.post(
            "/api/v1/calls/1790000000.1/transfer", json={"target": "12315"}, headers={FORWARDED_BY: "other"}
        )
    assert answer.status == 503


async def test_everything_else_is_served_by_the_standby_itself() -> None:
    async with TestClient(TestServer(standby(None))) as client:
        answer = await client.get("/api/v1/tickets")
    assert answer.status == 200


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/calls", True),
        ("/api/v1/calls/1.2/hold", True),
        ("/api/v1/agents/1001/login", True),
        ("/api/v1/console/wallboard", True),
        ("/api/v1/console/calls/1.2", True),
        ("/api/v1/callsx", False),
        ("/api/v1/tickets", False),
        ("/api/v1/console/config", False),
        ("/api/v1/ws", False),
    ],
)
def test_what_only_the_leader_answers(path: str, expected: bool) -> None:
    assert leader_only(path) is expected


def test_a_second_instance_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "hotline.sqlite3"
    with exclusive(database), pytest.raises(ConfigError, match="exactly one instance"), exclusive(database):
        pass
    with exclusive(database):  # released with the first instance
        pass


async def test_a_leader_elected_a_moment_ago_answers_503_until_its_resync_is_done() -> None:
    app = standby(None)
    leadership = app[LEADERSHIP]
    leadership.needs_sync = True
    leadership._leading, leadership._deadline, leadership.synced = True, float("inf"), False
    async with TestClient(TestServer(app)) as client:
        answer = await client.post("/api/v1/calls/1790000000.1/transfer", json={"target": "12315"})
        body = await answer.json()
    assert (answer.status, body["error_id"], answer.headers["Retry-After"]) == (503, "not-leader", "1")
    assert leadership.describe()["in_control"] is False


def test_the_deploy_example_for_two_instances_loads_and_leads_per_asterisk() -> None:
    from gateway.config import load_settings
    from gateway.leadership import enabled, scope_of

    settings = load_settings(Path(__file__).parents[2] / "deploy" / "hotline-active-standby.toml")
    assert enabled(settings)
    assert scope_of(settings) == "ami:pbx.internal:5038"


def test_leadership_on_sqlite_is_refused_with_the_reason(tmp_path: Path) -> None:
    from gateway.config import load_settings
    from gateway.leadership import enabled

    with pytest.raises(ConfigError, match="single-instance"):
        enabled(load_settings(data_dir=tmp_path, leadership={"enabled": True}))
    assert not enabled(load_settings(data_dir=tmp_path))
