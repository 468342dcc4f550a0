"""A real headless Chromium (Debian's chromium + chromium-driver) driven through Selenium/WebDriver.

WebDriver calls block, and the gateway under test runs on the test's event loop: every call goes to a
thread so the server keeps serving while the browser waits for it.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def require_browser() -> None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.skip(f"{path} is missing: install Debian's chromium and chromium-driver (./dev does)")
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[dev]')")


class Browser:
    def __init__(self, profile: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        options = Options()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run",
                     "--window-size=1600,1000", "--lang=zh-CN", f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})  # page errors, for the tests
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def open(self, url: str) -> None:
        await self._run(self.driver.get, url)

    async def js(self, script: str, *args: Any) -> Any:
        return await self._run(self.driver.execute_script, script, *args)

    async def in_time_zone(self, zone: str) -> None:
        """The browser's own clock in another zone (a supervisor's laptop set to UTC, say)."""
        await self._run(self.driver.execute_cdp_cmd, "Emulation.setTimezoneOverride", {"timezoneId": zone})

    async def sign_in(self, base: str, token: str, page: str) -> None:
        """The token as the sign-in form would keep it (sessionStorage of this tab), then the page."""
        await self.open(f"{base}/console/")
        await self.js("sessionStorage.clear(); sessionStorage.setItem('hotline.token', arguments[0])", token)
        await self.open(f"{base}/console/{page}")
        await self.until("document.querySelector('#link').dataset.state === 'online'")

    async def until(self, condition: str, *args: Any, within: float = 10.0) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        script = f"return ({condition});"
        async with asyncio.timeout(within):
            while True:
                value = await self.js(script, *args)
                if value:
                    return value
                await asyncio.sleep(0.1)

    async def text(self, selector: str) -> str:
        return str(await self.js("return document.querySelector(arguments[0])?.innerText ?? ''", selector))

    async def click(self, selector: str) -> None:
        await self.js("document.querySelector(arguments[0]).click()", selector)

    async def set_value(self, selector: str, value: str) -> None:
        """As if typed: the page sees an input event (so it knows the field was edited by hand)."""
        await self.js("const el = document.querySelector(arguments[0]); el.value = arguments[1];"
                      "el.dispatchEvent(new Event('input', {bubbles: true}));"
                      "el.dispatchEvent(new Event('change', {bubbles: true}));", selector, value)

    async def attach(self, selector: str, path: Path) -> None:
        """Choose a file in an <input type=file>, as the file dialog would."""
        from selenium.webdriver.common.by import By

        element = await self._run(self.driver.find_element, By.CSS_SELECTOR, selector)
        await self._run(element.send_keys, str(path))

    async def status(self) -> str:
        return await self.text("#status")

    async def screenshot(self, name: str) -> Path:
        """The whole page, not just the window (Chromium's DevTools protocol)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        size = await self._run(self.driver.execute_cdp_cmd, "Page.getLayoutMetrics", {})
        content = size["cssContentSize"]
        shot = await self._run(self.driver.execute_cdp_cmd, "Page.captureScreenshot", {
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": content["width"], "height": content["height"], "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def console_errors(self) -> list[str]:
        """Script errors on the page. Refused API calls (4xx) are logged by Chromium too: those are expected
        and shown on the page's status line, so they are left out."""
        return [entry["message"] for entry in self.driver.get_log("browser")
                if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]

    def quit(self) -> None:
        self.driver.quit()
