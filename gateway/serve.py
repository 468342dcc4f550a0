"""``hotline serve``: run the gateway until SIGTERM/SIGINT, then shut down cleanly."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from gateway.app import create_app
from gateway.calls.site_check import check_deployment
from gateway.config import Settings, load_settings
from gateway.listening import bind_errors
from gateway.logs import access_logger, install_redaction

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 10.0


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
    check_deployment(settings)  # no start with the placeholder secrets asterisk_conf/site ships
    asyncio.run(serve(settings))
    log.info("stopped")
    return 0


async def serve(settings: Settings) -> None:
    """Start everything, then listen, then say where: the URLs are logged only once they answer."""
    logger = access_logger(settings.http.access_log_sample, settings.http.access_log_slow_ms / 1000)
    runner = web.AppRunner(create_app(settings), shutdown_timeout=SHUTDOWN_TIMEOUT, access_log_class=logger)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.setup()  # every cleanup_ctx: database, AMI, FastAGI, AudioSocket … (ConfigError stops here)
        site = web.TCPSite(runner, settings.http.host, settings.http.port)
        with bind_errors("the HTTP API and consoles", settings.http.host, settings.http.port, "http.port",
                         " (or give --port)"):
            await site.start()
        base = _base_url(settings)
        log.info("ready: consoles %s/console/  API reference %s/api/v1/docs  metrics %s/metrics  (data in %s)",
                 base, base, base, settings.data_dir.resolve())
        await stop.wait()
        log.info("stopping")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
        await runner.cleanup()


def _base_url(settings: Settings) -> str:
    host = settings.http.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    return f"http://{shown}:{settings.http.port}"
