"""A `hotline serve` process on a data directory that outlives it, and how tests read what it stored: shared
by the kill tests on the fake AMI (tests/calls) and on the real Asterisk (tests/e2e_asterisk)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.auth.tokens import TokenStore
from gateway.calls.models import CallRecord
from gateway.db import create_engine, session_factory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """``hotline serve`` as its own process with ``env``; killed with SIGKILL and started again on the same
    data. ``port``: keep one port across restarts (clients hold its URL); else a free one at each start."""

    def __init__(self, env: dict[str, str], *, port: int | None = None) -> None:
        self.env = env
        self.port = port or 0
        self._fixed = port is not None
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        if not self._fixed:
            self.port = free_port()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "serve", "--port", str(self.port),
            env=self.env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()


class Gateway(Served):
    """A gateway driving a (fake or real) Asterisk's AMI, on a data directory that outlives it."""

    def __init__(self, data_dir: Path, ami_port: int, secret: str) -> None:
        env = {**os.environ, "HOTLINE_DATA_DIR": str(data_dir), "HOTLINE_AMI__PORT": str(ami_port),
               "HOTLINE_AMI__SECRET": secret, "HOTLINE_AMI__RECONNECT_DELAY": "0.1",
               "HOTLINE_IVR__PORT": "0", "HOTLINE_WEBHOOKS__ENABLED": "false"}
        env.pop("HOTLINE_DB__URL", None)
        super().__init__(env)


async def rows(data_dir: Path) -> dict[str, CallRecord]:
    engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'hotline.sqlite3'}")
    try:
        async with session_factory(engine)() as session:
            return {row.id: row for row in await session.scalars(select(CallRecord))}
    finally:
        await engine.dispose()


async def until(check: Any, data_dir: Path, within: float) -> dict[str, CallRecord]:
    found: dict[str, CallRecord] = {}
    async with asyncio.timeout(within):
        while True:
            try:
                found = await rows(data_dir)
            except Exception:  # the first run has not created its tables yet
                found = {}
            if check(found):
                return found
            await asyncio.sleep(0.2)


async def admin_token(data_dir: Path) -> str:
    """An admin token in the gateway's database, once its first run has created the tables."""
    async with asyncio.timeout(60):
        while True:
            try:
                await rows(data_dir)
                break
            except Exception:  # not created yet
                await asyncio.sleep(0.2)
    engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'hotline.sqlite3'}")
    try:
        return (await TokenStore(session_factory(engine)).create("admin", "burst-test"))[1]
    finally:
        await engine.dispose()
