"""README's "Using it" walkthrough, run exactly as written against a freshly started gateway."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- walkthrough -->\n```sh\n(.*?)```", readme, re.S)
    assert found, "README has no walkthrough block"
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    port = _free_port()
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_HTTP__PORT": str(port),
           "HOTLINE_SMS__INBOUND__SECRET": "dev-only-secret", "HOTLINE_AMI__PORT": str(_free_port()),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    log = (tmp_path / "serve.log").open("w")  # a file, not a pipe: nobody reads a pipe while the test runs
    server = subprocess.Popen([sys.executable, "-m", "gateway", "serve"], env=env, cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        else:
            pytest.fail("the gateway did not start listening")
        yield port, env
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def test_the_readme_walkthrough_takes_a_ticket_from_call_to_closure(gateway: tuple[int, dict[str, str]]) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: ./dev installs it (Debian package {tool})")
    port, env = gateway
    script = walkthrough().replace("127.0.0.1:8345", f"127.0.0.1:{port}")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line in {"accepted", "dispatched", "signed", "replied", "surveying"}] == [
        "accepted", "dispatched", "signed", "replied", "surveying"]
    assert any("1非常满意" in line for line in lines)  # the survey text the citizen received
    assert lines[-1].endswith("closed"), lines
