"""Logs never keep a citizen's full phone number (issue 20, item 5)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gateway.db import create_engine
from gateway.logs import AccessLogger, RedactPhoneNumbers, access_logger, redact
from tests.core.test_app import _free_port


@pytest.mark.parametrize(("raw", "logged"), [
    ("caller 13812345678 called", "caller *******5678 called"),
    ("from +8613812345678.", "from **********5678."),
    ("tel 010-87654321 and 0571 8765432", "tel ********4321 and ********5432"),
    ("?caller=19912345678&limit=1", "?caller=*******5678&limit=1"),
])
def test_phone_numbers_are_masked_to_their_last_four_digits(raw: str, logged: str) -> None:
    assert redact(raw) == logged


@pytest.mark.parametrize("kept", ["ticket 20261116000123", "call 1731744000.42", "12345 and 110", "id 123456789012"])
def test_other_numbers_are_kept(kept: str) -> None:
    assert redact(kept) == kept


def test_the_filter_redacts_message_arguments_and_traceback() -> None:
    try:
        raise ValueError("bad number 13812345678")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "caller %s", ("13900001111",), sys.exc_info())
    assert RedactPhoneNumbers().filter(record)
    formatted = logging.Formatter().format(record)
    assert "13812345678" not in formatted and "13900001111" not in formatted
    assert "*******1111" in formatted and "*******5678" in formatted


async def test_the_access_log_keeps_the_path_without_its_query(caplog: pytest.LogCaptureFixture) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/tickets", hello)
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    runner = web.AppRunner(app, access_log_class=AccessLogger)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{port}/tickets",
                                                     params={"caller": "13812345678"}) as resp:
            assert resp.status == 200
    finally:
        await runner.cleanup()
    assert '"GET /tickets" 200' in caplog.text
    assert "caller" not in caplog.text and "5678" not in caplog.text


async def test_by_default_the_access_log_keeps_failed_and_slow_requests_only(caplog: pytest.LogCaptureFixture) -> None:
    async def hello(request: web.Request) -> web.Response:
        if request.query.get("slow"):
            await asyncio.sleep(0.06)
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/ok", hello)
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    runner = web.AppRunner(app, access_log_class=access_logger(sample=0.0, slow_seconds=0.05))
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with ClientSession() as http:
            for path in ("/ok", "/missing", "/ok?slow=1"):
                async with http.get(f"http://127.0.0.1:{port}{path}") as resp:
                    await resp.read()
    finally:
        await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 2
    assert '"GET /missing" 404' in lines[0]
    assert '"GET /ok" 200' in lines[1]  # the slow one


async def test_a_failed_statement_does_not_carry_its_parameters(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as caught:
                await conn.execute(text("SELECT :number FROM no_such_table"), {"number": "13812345678"})
    finally:
        await engine.dispose()
    assert "13812345678" not in str(caught.value)


@pytest.mark.slow
async def test_the_served_gateway_logs_no_phone_number(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "data")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--port", str(port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz"):
                        break
                except OSError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("gateway did not start listening")
            async with http.get(f"http://127.0.0.1:{port}/api/v1/tickets", params={"caller": "13812345678"},
                                headers={"Authorization": "Bearer nope"}) as resp:
                assert resp.status == 401
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = output.decode()
    assert '"GET /api/v1/tickets" 401' in log
    assert "13812345678" not in log
