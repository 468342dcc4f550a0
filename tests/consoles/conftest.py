"""Fixtures for the console tests: a fake AMI server and a gateway wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.consoles.support import Gateway, running_gateway
from tests.fakes.fake_ami import FakeAmi


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def gateway(tmp_path: Path, fake_ami: FakeAmi) -> AsyncIterator[Gateway]:
    async with running_gateway(tmp_path, fake_ami) as gw:
        yield gw
