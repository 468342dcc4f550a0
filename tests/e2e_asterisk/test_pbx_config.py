"""asterisk_conf/ as shipped loads cleanly on a real Asterisk and provides what the gateway relies on."""

from __future__ import annotations

import re

import pytest
from pbx_ami import Ami
from pbx_harness import CONF_DIR, Pbx

pytestmark = pytest.mark.asterisk

GATEWAY_CONTEXTS = [
    "hotline-entry",
    "hotline-queue",
    "hotline-transfer",
    "hotline-expert",
    "hotline-police",
    "hotline-conference",
    "hotline-spy",
    "hotline-outbound",
    "hotline-callback",
    "hotline-survey",
    "hotline-speech",
    "from-carrier",
    "from-police110",
    "from-subcentre",
]


async def test_startup_log_has_no_warnings_or_errors(pbx: Pbx) -> None:
    problems = [line for line in pbx.full_log().splitlines() if re.search(r"\] (WARNING|ERROR)\[", line)]
    assert problems == []
    assert "Invalid keyword" not in pbx.full_log()


async def test_every_module_in_modules_conf_is_running(pbx: Pbx) -> None:
    wanted = re.findall(r"^load = (\S+)\.so", (CONF_DIR / "modules.conf").read_text(), re.M)
    loaded = await pbx.cli("module show")
    missing = [name for name in wanted if not re.search(rf"^{name}\.so\s.*Running", loaded, re.M)]
    assert missing == []


async def test_endpoints_queues_and_contexts_exist(pbx: Pbx) -> None:
    endpoints = await pbx.cli("pjsip show endpoints")
    for name in ("carrier", "police110", "subcentre", "1001", "1002", "2001", "3001", "3002"):
        assert re.search(rf"Endpoint:\s+{name}\b", endpoints), name
    queues = await pbx.cli("queue show")
    for queue in ("hotline", "hotline-en", "hotline-supervisor"):
        assert re.search(rf"^{queue} has 0 calls", queues, re.M), queue
    dialplan = await pbx.cli("dialplan show")
    for context in GATEWAY_CONTEXTS:
        assert f"'{context}'" in dialplan, context


async def test_gateway_ami_user_has_least_privilege(pbx: Pbx, ami: Ami) -> None:
    user = await pbx.cli("manager show user gateway")
    perms = dict(re.findall(r"(read|write) perm: (\S+)", user))
    assert set(perms["read"].split(",")) == {"system", "call", "agent", "user"}
    assert set(perms["write"].split(",")) == {"call", "agent", "originate", "reporting"}
    # No CLI commands, no config access.
    refused = await ami.action("Command", Command="core show version")
    assert refused["Response"] == "Error"
    assert "Permission denied" in refused.get("Message", "")


async def test_wrong_ami_secret_is_refused(pbx: Pbx) -> None:
    with pytest.raises(PermissionError):
        await Ami.connect(pbx.ami_port, "gateway", "not-the-secret")


# ---- static checks of the shipped files (no Asterisk needed) ------------------------------------------


def sections(text: str) -> dict[str, list[str]]:
    """Every ``[name](templates)`` block of an Asterisk config: its ``key = value`` lines (comments dropped)."""
    out: dict[str, list[str]] = {}
    name = ""
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if header := re.match(r"\[([^\]]+)\](\(([^)]*)\))?", line):
            name = header.group(1) + (f"({header.group(3)})" if header.group(3) else "")
            out.setdefault(name, [])
        elif line:
            out.setdefault(name, []).append(re.sub(r"\s*=>?\s*", " = ", line, count=1))
    return out


def test_trunks_are_identified_by_address_only_and_only_they_trust_caller_ids() -> None:
    pjsip = sections((CONF_DIR / "pjsip.conf").read_text())
    assert "identify_by = ip" in pjsip["trunk(!,endpoint-common)"]
    assert "trust_id_inbound = yes" in pjsip["trunk(!,endpoint-common)"]
    for trunk in ("carrier", "police110", "subcentre"):
        endpoint = pjsip[f"{trunk}(trunk)"]
        assert not any(line.startswith(("identify_by", "trust_id_inbound")) for line in endpoint), trunk
    assert "identify_by = username" in pjsip["seat(!,endpoint-common)"]
    trusting = [name for name, lines in pjsip.items() if "trust_id_inbound = yes" in lines]
    assert trusting == ["trunk(!,endpoint-common)"]
    assert pjsip["global"].count("endpoint_identifier_order = username,ip") == 1


def test_no_seat_identity_goes_out_on_a_trunk() -> None:
    pjsip = sections((CONF_DIR / "pjsip.conf").read_text())
    trunk = pjsip["trunk(!,endpoint-common)"]
    for line in ("send_connected_line = no", "send_pai = no", "send_rpid = no", "trust_id_outbound = no"):
        assert line in trunk
    for trunk_name in ("carrier", "police110", "subcentre"):
        assert not any(line.startswith(("send_", "trust_id_outbound")) for line in pjsip[f"{trunk_name}(trunk)"])
    queue = " ".join(sections((CONF_DIR / "extensions.conf").read_text())["hotline-queue"])
    assert "Queue(${HOTLINE_QUEUE},tI)" in queue


def test_no_dial_string_takes_an_unfiltered_exten_from_a_catch_all_pattern() -> None:
    dialplan = (CONF_DIR / "extensions.conf").read_text()
    # The steps of every extension whose pattern matches any character (`.` or `!`).
    blocks = re.findall(r"^exten => (_[^,]*[.!]),1,(.*(?:\n same => .*)*)", dialplan, re.M)
    assert len(blocks) >= 8
    for pattern, steps in blocks:
        for use in re.findall(r"(Dial|Goto|ConfBridge|Queue)\(([^\n]*)", steps):
            assert "${EXTEN}" not in use[1].replace("FILTER(0-9,${EXTEN})", ""), (pattern, use)


def test_seats_dial_out_only_through_the_restricted_context() -> None:
    dialplan = sections((CONF_DIR / "extensions.conf").read_text())
    agents = " ".join(dialplan["hotline-agents"])
    assert "hotline-outbound" not in agents and "@carrier" not in agents
    assert "Goto(hotline-seat-outbound,${EXTEN:1},1)" in agents
    seat_outbound = dialplan["hotline-seat-outbound"]
    assert not any(line.startswith("exten = _00") or line.startswith("exten = _9") for line in seat_outbound)
    assert "exten = _X.,1,Goto(refused,1)" in seat_outbound
    site = sections((CONF_DIR / "site" / "extensions.conf").read_text())["globals"]
    assert "SEAT_OUTBOUND_DEFAULT = local" in site


def test_the_gateway_ami_user_may_not_run_programs() -> None:
    manager = sections((CONF_DIR / "manager.conf").read_text())
    gateway = manager["gateway(site-manager-gateway)"]
    (write,) = [line for line in gateway if line.startswith("write =")]
    assert set(write.split(" = ")[1].split(",")) == {"call", "agent", "originate", "reporting"}
    options = sections((CONF_DIR / "asterisk.conf").read_text())["options"]
    assert "live_dangerously = no" in options
    # The dialplan, not the gateway, starts MixMonitor (the AMI action needs `system`).
    assert "Gosub(hotline-record,s,1)" in (CONF_DIR / "extensions.conf").read_text()


async def test_the_running_pbx_has_no_default_secret_and_keeps_escalation_protection(pbx: Pbx) -> None:
    from gateway.calls.site_check import default_secrets

    assert default_secrets(pbx.etc) == []
    assert "live_dangerously = no" in (pbx.etc / "asterisk.conf").read_text()
    # Asterisk logs this WARNING whenever asterisk.conf turns the protection off.
    assert "Privilege escalation protection disabled" not in pbx.full_log()
