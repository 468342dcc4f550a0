"""/api/v1/docs is Swagger UI over the gateway's own OpenAPI document, every file served by the gateway."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api.support import Api, running_gateway
from tests.consoles.browser import Browser, require_browser
from tests.tickets.support import FakeClock

EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+", re.IGNORECASE)


@pytest.fixture
async def api(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Api]:
    async with running_gateway(tmp_path, clock) as api:
        yield api


def referenced(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


async def test_the_page_and_every_file_it_loads_come_from_the_gateway(api: Api) -> None:
    page = await api.client.get("/api/v1/docs")
    html = await page.text()
    assert page.status == 200 and page.content_type == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert EXTERNAL.search(html) is None, html
    urls = referenced(html)
    assert {"/api-docs/swagger-ui-bundle.js", "/api-docs/swagger-ui.css", "/api-docs/docs.js"} <= set(urls)
    types = {}
    for url in urls:
        assert urlsplit(url).netloc == "" and url.startswith("/"), url
        asset = await api.client.get(url)
        assert asset.status == 200, url
        types[url] = asset.content_type
        body = await asset.text()
        if url == "/api-docs/docs.js":  # our start-up script: the gateway's document, no validator
            assert '"/api/v1/openapi.json"' in body and "validatorUrl: null" in body
            assert EXTERNAL.search(body) is None, body
        if url.endswith(".css"):  # a stylesheet that imports fonts or images from elsewhere would leak
            assert re.search(r"url\(\s*['\"]?(?:https?:)?//", body) is None
            assert "@import" not in body
    assert types["/api-docs/swagger-ui.css"] == "text/css"
    assert types["/api-docs/swagger-ui-bundle.js"] in ("application/javascript", "text/javascript")


async def test_only_the_listed_files_are_served(api: Api) -> None:
    for name in ("README.md", "LICENSE", "..%2Fapidocs.py", "swagger-ui%2FLICENSE", "docs.html"):
        assert (await api.client.get(f"/api-docs/{name}")).status == 404, name


def test_the_vendored_swagger_ui_carries_its_licence() -> None:
    folder = Path(__file__).resolve().parents[2] / "gateway" / "http" / "static" / "swagger-ui"
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "SmartBear" in (folder / "NOTICE").read_text()
    readme = (folder / "README.md").read_text()
    assert re.search(r"swagger-ui-dist` \*\*\d+\.\d+\.\d+\*\*", readme), "README names the vendored version"


@pytest.mark.slow
async def test_swagger_ui_renders_the_operations_in_a_browser(api: Api, tmp_path: Path) -> None:
    """A real Chromium: the operations of our document are shown, one can be tried with a token, the page
    raised no error (a CSP refusal is one), and every request the page made went to the gateway."""
    require_browser()
    browser = Browser(tmp_path / "chromium-profile")
    try:
        base = str(api.client.make_url("")).rstrip("/")
        await browser.open(f"{base}/api/v1/docs")
        await browser.until("document.querySelectorAll('.opblock').length > 20")
        paths = await browser.js("return [...document.querySelectorAll('.opblock-summary-path')]"
                                 ".map(e => e.getAttribute('data-path'))")
        assert "/api/v1/tickets/{number}/sign" in paths
        # Try it out, with the bearer token given as the Authorize dialog would.
        await browser.js("window.ui.preauthorizeApiKey('bearer', arguments[0])", api.tokens["agent"])
        await browser.click("#operations-tickets-get_tickets .opblock-summary-control")
        await browser.until("document.querySelector('#operations-tickets-get_tickets .try-out__btn')")
        await browser.click("#operations-tickets-get_tickets .try-out__btn")
        await browser.until("document.querySelector('#operations-tickets-get_tickets .execute')")
        await browser.click("#operations-tickets-get_tickets .execute")
        status = await browser.until("document.querySelector('#operations-tickets-get_tickets "
                                     ".live-responses-table tbody .response-col_status')?.innerText")
        assert status.strip() == "200"
        origins = await browser.js("return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)")
        assert origins and set(origins) == {base}
        await browser.screenshot("api-docs")
        errors = browser.console_errors()
    finally:
        browser.quit()
    assert errors == [], errors
