"""Call control over AMI (see README.md): AMI client, call model, agents, operations, KPIs, HTTP."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Routes plus the cleanup_ctx that runs the AMI client, pipeline and recorder."""
    from gateway.calls.http import add_routes
    from gateway.calls.service import calls_context

    app.cleanup_ctx.append(calls_context)
    add_routes(app)
