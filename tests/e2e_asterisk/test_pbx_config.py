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
