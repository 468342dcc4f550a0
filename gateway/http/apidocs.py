"""The readable API reference at /api/v1/docs: Swagger UI over /api/v1/openapi.json, served by the gateway.

Swagger UI's built files are vendored in ``static/swagger-ui`` (see its README: version, licence, how to
update), so the page works on a centre's network with no Internet access and loads nothing from a CDN.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.http.api import endpoint

STATIC = Path(__file__).parent / "static"
ASSETS_PREFIX = "/api-docs"
# The only files served under ASSETS_PREFIX: name → path (a fixed list, so no path from the URL is ever
# joined to the file system).
ASSETS = {
    "swagger-ui-bundle.js": STATIC / "swagger-ui" / "swagger-ui-bundle.js",
    "swagger-ui.css": STATIC / "swagger-ui" / "swagger-ui.css",
    "docs.js": STATIC / "docs.js",
}
# Swagger UI sets styles from script (allowed by style-src 'self') and fetches only the document.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


@endpoint("GET", "/docs", summary="Human-readable API reference (Swagger UI over /api/v1/openapi.json)",
          kinds=None, tags=("meta",))
async def docs_page(request: web.Request) -> web.StreamResponse:
    response = web.FileResponse(STATIC / "docs.html", headers={"Content-Type": "text/html; charset=utf-8"})
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


async def docs_asset(request: web.Request) -> web.StreamResponse:
    path = ASSETS.get(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound(text="no such file")
    response = web.FileResponse(path)
    # Revalidated each time: cheap (304 by ETag), and an upgrade of Swagger UI is seen at once.
    response.headers["Cache-Control"] = "no-cache"
    return response


def add_asset_routes(app: web.Application) -> None:
    app.router.add_get(ASSETS_PREFIX + "/{name}", docs_asset)
