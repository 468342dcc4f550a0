"""The gateway starts on the embedded SQLite store, answers health probes and stops cleanly."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.auth.middleware import TOKENS
from gateway.config import load_settings
from tests.api.support import operator_headers


async def test_healthz_and_readyz(tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path, ami={"enabled": False}))  # no PBX here
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 200
        public = await client.get("/readyz")
        assert (public.status, await public.json()) == (200, {"status": "ready"})  # the verdict, no details
        resp = await client.get("/readyz", headers=await operator_headers(app))
        body = await resp.json()
        assert resp.status == 200, body
        assert body["checks"]["database"] == "ok"
        assert (await client.get("/metrics")).status == 401
        agent = {"Authorization": f"Bearer {(await app[TOKENS].create('agent', 'a1'))[1]}"}
        assert (await client.get("/metrics", headers=agent)).status == 403
        assert (await client.get("/readyz", headers=agent)).status == 200  # a verdict for anyone
        missing = await client.get("/no/such/path")
        assert missing.status == 404
        assert (await missing.json())["error_id"] == "no-such-route"
    assert (tmp_path / "hotline.sqlite3").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
async def test_serve_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "data")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--port", str(port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        for _ in range(600):  # start-up imports take seconds on a loaded machine
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("gateway did not start listening")
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, output.decode()
    text = output.decode()
    assert "stopped" in text
    # The URLs are announced once everything has started, not before.
    assert text.index("database ready") < text.index(f"ready: consoles http://127.0.0.1:{port}/console/")
    assert (tmp_path / "data" / "hotline.sqlite3").exists()


async def test_pbx_down_is_degraded_not_unready(tmp_path: Path) -> None:
    """Without Asterisk the gateway still serves tickets; /readyz says plainly that the PBX link is down."""
    app = create_app(load_settings(data_dir=tmp_path, ami={"port": _free_port(), "reconnect_delay": 0.05}))
    async with TestClient(TestServer(app)) as client:
        body = {}
        operator = await operator_headers(app)
        for _ in range(50):
            resp = await client.get("/readyz", headers=operator)
            body = await resp.json()
            if body["checks"].get("pbx", "ok") != "ok":
                break
            await asyncio.sleep(0.05)
        assert resp.status == 200 and body["status"] == "degraded", body
        assert "AMI" in body["checks"]["pbx"] and body["checks"]["database"] == "ok"


async def test_the_root_leads_to_the_consoles(tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path, ami={"enabled": False}))
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/", allow_redirects=False)
        assert (resp.status, resp.headers["Location"]) == (302, "/console/")


@pytest.mark.slow
@pytest.mark.parametrize(("option", "setting"), [("HOTLINE_HTTP__PORT", "http.port"),
                                                 ("HOTLINE_IVR__PORT", "ivr.port")])
def test_a_busy_port_stops_start_up_with_one_line_naming_the_setting(
        tmp_path: Path, option: str, setting: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "data"), "HOTLINE_AMI__ENABLED": "false",
               "HOTLINE_IVR__ENABLED": "true",
               "HOTLINE_HTTP__PORT": str(_free_port()), "HOTLINE_IVR__PORT": str(_free_port()), option: str(port)}
        done = subprocess.run([sys.executable, "-m", "gateway", "serve"], env=env, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"hotline serve: cannot listen on 127.0.0.1:{port}")
    assert setting in last and option in last
