"""What an operator installs with: the systemd unit and the Prometheus alert rules in deploy/.

The unit is checked by ``systemd-analyze verify`` (Debian package systemd), the rules by ``promtool check
rules`` and ``promtool test rules`` (Debian package prometheus); ./dev installs both. Every metric the
rules use must be one the gateway exposes.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.support import operator_headers, running_gateway
from tests.tickets.support import FakeClock

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "hotline.service"
RULES = DEPLOY / "hotline-alerts.yml"
INSTALLED_BINARY = "/opt/hotline/.venv/bin/hotline"  # where deploy/README.md installs it


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed: Debian package {package} (./dev installs it)")
    return path


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("systemd-analyze", "systemd"), "verify", str(unit)], capture_output=True,
                          text=True, timeout=60)


def unit_here(tmp_path: Path, text: str) -> Path:
    """The unit as installed, but starting this checkout's ``hotline`` (verify checks that ExecStart exists)."""
    here = Path(sys.executable).parent / "hotline"
    assert here.exists(), f"{here}: install the project into its venv (pip install -e .)"
    path = tmp_path / "hotline.service"
    path.write_text(text.replace(INSTALLED_BINARY, str(here)))
    return path


def test_the_systemd_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    probe = tmp_path / "probe.service"
    probe.write_text("[Service]\nExecStart=/bin/true\n")
    if (ran := verify(probe)).returncode != 0:  # the tool itself cannot work here: say what it said
        pytest.skip(f"systemd-analyze verify cannot run here: {ran.stderr.strip() or ran.stdout.strip()}")
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED_BINARY} serve --config /etc/hotline/hotline.toml" in text
    result = verify(unit_here(tmp_path, text))
    # verify exits 0 on unknown or malformed settings, only printing "…, ignoring": any output is a fault.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_verify_would_report_a_misspelt_setting(tmp_path: Path) -> None:
    """The check above can fail: a setting systemd does not know is reported."""
    result = verify(unit_here(tmp_path, UNIT.read_text().replace("ProtectHome=yes", "ProtectHomes=yes")))
    assert "Unknown key 'ProtectHomes'" in result.stdout + result.stderr


def test_the_unit_is_sandboxed() -> None:
    settings = {tuple(line.split("=", 1)) for line in UNIT.read_text().splitlines()
                if "=" in line and not line.startswith("#")}
    for wanted in [("DynamicUser", "yes"), ("StateDirectory", "hotline"), ("ProtectSystem", "strict"),
                   ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"), ("ProtectHome", "yes"),
                   ("PrivateDevices", "yes"), ("CapabilityBoundingSet", ""), ("RestrictNamespaces", "yes"),
                   ("Environment", "HOTLINE_DATA_DIR=/var/lib/hotline"), ("Restart", "on-failure")]:
        assert wanted in settings, wanted
    keys = {key for key, _ in settings}
    assert {"RestrictAddressFamilies", "SystemCallFilter", "MemoryMax", "MemoryHigh", "LimitNOFILE"} <= keys


def test_the_alert_rules_are_valid_and_fire_as_their_tests_say() -> None:
    promtool = tool("promtool", "prometheus")
    check = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "SUCCESS" in check.stdout, check.stdout + check.stderr
    test = subprocess.run([promtool, "test", "rules", "hotline-alerts.test.yml"], cwd=DEPLOY,
                          capture_output=True, text=True, timeout=60)
    assert test.returncode == 0, test.stdout + test.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_every_metric_the_rules_use_is_exposed(tmp_path: Path, clock: FakeClock) -> None:
    used = set(re.findall(r"\b((?:hotline|process)_[a-z0-9_]+)", RULES.read_text()))
    assert {"hotline_pbx_up", "hotline_tickets_open", "hotline_sms_backlog_oldest_seconds"} <= used
    # PBX and ASR configured (and down), so that their gauges exist.
    async with running_gateway(tmp_path, clock, ami={"port": _free_port(), "reconnect_delay": 60},
                               speech={"model_path": tmp_path / "no-such-model"}) as api:
        text = await (await api.client.get("/metrics", headers=await operator_headers(api.app))).text()
    exposed = set()
    for family in text_string_to_metric_families(text):
        exposed |= {family.name, *(s.name for s in family.samples)}
        if family.type == "counter":
            exposed.add(family.name + "_total")  # a labelled counter has no sample before its first count
    assert used - exposed == set()
