"""Fixtures for the real-Asterisk end-to-end tests (marker ``asterisk``).

Each test gets its own Asterisk (asterisk_conf/ as shipped, site values on loopback), the AMI user the
gateway uses, and a SIPp runner playing citizens, seats and trunks. Skipped, with the reason, when
Asterisk or SIPp is not installed; set HOTLINE_KEEP_ASTERISK=1 to keep the run directories.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from pbx_ami import Ami
from pbx_harness import Pbx, find_asterisk, missing_sounds, new_pbx
from pbx_sipp import SippRunner, find_sipp

StartPbx = Callable[..., Awaitable[Pbx]]


@pytest.fixture
async def start_pbx() -> AsyncIterator[StartPbx]:
    """Start an Asterisk, optionally with dialplan globals of site/extensions.conf overridden."""
    binary = find_asterisk()
    if binary is None:
        pytest.skip("Asterisk not found on PATH: install Asterisk 20 or 22 (see asterisk_conf/README.md) "
                    "or set ASTERISK_BIN")
    if find_sipp() is None:
        pytest.skip("SIPp not found: install the Debian package sip-tester (./dev does)")
    if problem := missing_sounds(binary):
        pytest.fail(problem)
    started: list[Pbx] = []

    async def start(**globals_: str) -> Pbx:
        pbx = new_pbx(binary, **globals_)
        started.append(pbx)
        print(f"Asterisk run directory: {pbx.root}")
        await pbx.start()
        return pbx

    yield start
    for pbx in started:
        await pbx.stop()
        if not os.environ.get("HOTLINE_KEEP_ASTERISK"):
            shutil.rmtree(pbx.root, ignore_errors=True)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_pbx() -> AsyncIterator[Pbx]:
    """One Asterisk shared by the tests of a module (they run in the module's event loop: mark the module
    ``pytest.mark.asyncio(loop_scope="module")``) and leave it as they found it."""
    binary = find_asterisk()
    if binary is None:
        pytest.skip("Asterisk not found on PATH: install Asterisk 20 or 22 (see asterisk_conf/README.md) "
                    "or set ASTERISK_BIN")
    if find_sipp() is None:
        pytest.skip("SIPp not found: install the Debian package sip-tester (./dev does)")
    if problem := missing_sounds(binary):
        pytest.fail(problem)
    pbx = new_pbx(binary)
    print(f"Asterisk run directory: {pbx.root}")
    try:
        await pbx.start()
        yield pbx
    finally:
        await pbx.stop()
        if not os.environ.get("HOTLINE_KEEP_ASTERISK"):
            shutil.rmtree(pbx.root, ignore_errors=True)


@pytest.fixture
async def pbx(start_pbx: StartPbx) -> Pbx:
    return await start_pbx()


@pytest.fixture
async def ami(pbx: Pbx) -> AsyncIterator[Ami]:
    client = await Ami.connect(pbx.ami_port, "gateway", pbx.ami_secret)
    yield client
    await client.close()


@pytest.fixture
async def sipp(pbx: Pbx) -> AsyncIterator[SippRunner]:
    runner = SippRunner(pbx, pbx.root / "sipp")
    yield runner
    await runner.stop_all()
