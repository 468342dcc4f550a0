"""Fixtures for the console tests: a fake AMI server, a gateway wired to it, and Debian's Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.consoles.browser import Browser, require_browser
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


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """At 1366×768, the screen the pages must be usable on; no script error on any page it opened."""
    require_browser()
    chromium = Browser(tmp_path / "chromium-profile")
    chromium.driver.set_window_size(1366, 768)
    yield chromium
    errors = chromium.console_errors()
    chromium.quit()
    assert errors == [], errors
