"""``hotline serve``: run the gateway until SIGTERM/SIGINT, then shut down cleanly."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from gateway.app import create_app
from gateway.config import load_settings
from gateway.logs import AccessLogger, install_redaction

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("serve", help="run the gateway")
    add_config_argument(p)
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default 8345)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.host:
        settings.http.host = args.host
    if args.port:
        settings.http.port = args.port
    logging.getLogger().setLevel(settings.log_level.upper())
    install_redaction()
    app = create_app(settings)
    log.info("serving on http://%s:%d (data in %s)", settings.http.host, settings.http.port,
             settings.data_dir.resolve())
    # run_app installs SIGINT/SIGTERM handlers and runs every cleanup_ctx on the way out.
    web.run_app(app, host=settings.http.host, port=settings.http.port, print=None, access_log_class=AccessLogger,
                shutdown_timeout=10)
    log.info("stopped")
    return 0
