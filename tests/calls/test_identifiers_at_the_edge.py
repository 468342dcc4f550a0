"""Every identifier that reaches AMI or the dialplan is checked at the HTTP edge: a bad one is a 422 with
the project's error shape and a stable error_id, never a 500, and not one AMI action leaves the gateway."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.calls.identifiers import INTERFACE, MEMBER_NAME, PAUSE_REASON, PHONE_NUMBER, InvalidIdentifier
from tests.calls.conftest import Env, answered

# Issue 20, item 1, verbatim: an agent token put a second AMI action behind this ticket id.
ISSUE_20_BODY = {
    "kind": "survey",
    "number": "13800000000",
    "ticket_id": "T1\r\n\r\nAction: Originate\r\nChannel: Local/s@default\r\nApplication: System\r\n"
    "Data: touch pwned\r\nActionID: x",
}

CRLF = "x\r\nAction: Originate"
# (method, path, body, error_id): one row per identifier per route that carries it.
BAD_REQUESTS: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("POST", "/api/v1/calls/outbound", ISSUE_20_BODY, "invalid-ticket-id"),
    ("POST", "/api/v1/calls/outbound", {"kind": "survey", "number": "138&PJSIP/9999"}, "invalid-number"),
    ("POST", "/api/v1/calls/outbound", {"kind": "survey", "number": "١٣٨٠٠٠٠٠٠٠٠"}, "invalid-number"),
    ("POST", "/api/v1/calls/outbound", {"kind": "survey", "number": "13800000000", "ticket_id": 7},
     "invalid-ticket-id"),
    ("POST", "/api/v1/calls/outbound", {"kind": "callback", "number": "13800000000", "agent_id": CRLF},
     "invalid-agent-id"),
    ("POST", "/api/v1/calls/outbound", {"kind": "callback", "number": "13800000000", "agent_id": ["1001"]},
     "invalid-agent-id"),
    ("POST", "/api/v1/calls/{call}/conference", {"party": "110,,t"}, "invalid-number"),
    ("PUT", "/api/v1/calls/{call}/ticket", {"ticket_id": CRLF}, "invalid-ticket-id"),
    ("POST", "/api/v1/calls/1795346000.10%0D%0AAction:%20Hangup/hangup", None, "invalid-call-id"),
    ("PUT", "/api/v1/agents/1001", {"interface": "PJSIP/1001&PJSIP/1002"}, "invalid-interface"),
    ("PUT", "/api/v1/agents/1001", {"interface": {"a": "b"}}, "invalid-interface"),
    ("PUT", "/api/v1/agents/1001", {"name": "李娜\r\nAction: Hangup"}, "invalid-name"),
    ("PUT", "/api/v1/agents/1001", {"queues": ["hotline", "vip\r\nAction: Hangup"]}, "invalid-queues"),
    ("PUT", "/api/v1/agents/10%2601", {"name": "x"}, "invalid-agent-id"),
    ("POST", "/api/v1/agents/1001/login", {"queues": "hotline"}, "invalid-queues"),
    ("POST", "/api/v1/agents/1001/pause", {"reason": "午休\r\nAction: Originate"}, "invalid-pause-reason"),
    ("POST", "/api/v1/agents/1001/pause", {"reason": "x" * 65}, "invalid-pause-reason"),
    ("PUT", "/api/v1/agents/1001/queues", {"queues": ["hotline,1"]}, "invalid-queues"),
    ("PUT", "/api/v1/agents/1001/queues", {"queues": [{"q": 1}]}, "invalid-queues"),
    ("POST", "/api/v1/agents/1001/spy", {"supervisor": "1090\r\nAction: Originate", "mode": "listen"},
     "invalid-extension"),
    ("GET", "/api/v1/calls/kpi?queue=hotline%0D%0A", None, "invalid-queues"),
]


@pytest.mark.parametrize(("method", "path", "body", "error_id"), BAD_REQUESTS)
async def test_a_bad_identifier_is_a_422_and_nothing_reaches_asterisk(
    env: Env, method: str, path: str, body: dict[str, Any] | None, error_id: str
) -> None:
    await env.client.put("/api/v1/agents/1001", json={"name": "李娜"})
    await env.post("/api/v1/agents/1001/login")
    call_id = await answered(env)
    sent_before = len(env.fake.received)
    resp = await env.client.request(method, path.replace("{call}", call_id), json=body)
    answer = await resp.json()
    assert resp.status == 422, answer
    # The documented body model answers first (validation-failed, naming the field); identifiers that only
    # the handler sees answer with their own id.
    assert answer["error_id"] in (error_id, "validation-failed"), answer
    assert isinstance(answer["message"], str)
    await env.settle()
    assert [a["Action"] for a in env.fake.received[sent_before:] if a["Action"] != "Ping"] == []


async def test_the_issue_20_payload_puts_no_action_on_the_ami_socket(env: Env) -> None:
    resp = await env.client.post("/api/v1/calls/outbound", json=ISSUE_20_BODY)
    assert resp.status == 422
    await env.settle()
    assert env.fake.actions("Originate") == []
    # The same request with a well-formed ticket id goes through, as one Originate with one ticket variable.
    ok = await env.post("/api/v1/calls/outbound", {**ISSUE_20_BODY, "ticket_id": "T1"}, status=202)
    (originate,) = env.fake.actions("Originate")
    assert originate["ChannelId"] == ok["call_id"]
    assert originate["Channel"] == "Local/13800000000@hotline-outbound"


@pytest.mark.parametrize("number", ["110", "12345", "13800000000", "02112345678"])
def test_phone_numbers_are_ascii_digits(number: str) -> None:
    assert PHONE_NUMBER.check(number, "number") == number


@pytest.mark.parametrize("reason", ["午休", "培训 (2h)", "lunch", "after-call work"])
def test_a_pause_reason_may_be_plain_words_in_any_script(reason: str) -> None:
    assert PAUSE_REASON.check(reason, "reason") == reason


@pytest.mark.parametrize("interface", ["PJSIP/1001", "Local/1001@hotline-agents", "SIP/trunk-1"])
def test_an_interface_is_one_device(interface: str) -> None:
    assert INTERFACE.check(interface, "interface") == interface


@pytest.mark.parametrize("name", ["李娜", "阿依古丽·买买提", "O'Brien", "Agent 1001 (night)", ""])
def test_a_seat_name_may_be_a_real_name(name: str) -> None:
    assert MEMBER_NAME.check(name, "name") == name


@pytest.mark.parametrize("value", ["李娜\u2028x", "a,b", "${SHELL(id)}", "a|b", "x\t", "a&b"])
def test_words_never_carry_what_asterisk_would_read_as_syntax(value: str) -> None:
    with pytest.raises(InvalidIdentifier):
        MEMBER_NAME.check(value, "name")
