"""Fixtures for the call-control tests: a fake AMI server and an AmiClient connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.calls.ami import AmiClient
from gateway.config import AmiSettings
from tests.fakes.fake_ami import FakeAmi


def fast_ami_settings(port: int, **overrides: object) -> AmiSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "action_timeout": 0.5,
        "ping_interval": 0.3,
        "reconnect_delay": 0.05,
        "reconnect_max_delay": 0.2,
    }
    return AmiSettings.model_validate({**values, **overrides})


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def ami(fake_ami: FakeAmi) -> AsyncIterator[AmiClient]:
    client = AmiClient(fast_ami_settings(fake_ami.port), secret=fake_ami.secret)
    client.start()
    await client.wait_connected(5)
    yield client
    await client.close()
