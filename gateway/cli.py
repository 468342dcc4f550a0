"""The ``hotline`` command. Each capability adds its own subcommands through a ``register`` function."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

from gateway.errors import ConfigError, HotlineError
from gateway.logs import install_redaction

# Modules exposing ``register(subparsers)``; each sets ``func`` on its parsers.
COMMAND_MODULES = (
    "gateway.serve",
    "gateway.bench",
    "gateway.auth.cli",
    "gateway.tickets.cli",
    "gateway.calls.cli",
    "gateway.sms.cli",
    "gateway.policies.cli",
    "gateway.speech.cli",
    "gateway.understanding.cli",
    "kb.cli",
    "ivr.cli",
    "gateway.reports.cli",
    "gateway.federation.cli",
    "gateway.forecast.cli",
    "gateway.quality.cli",
)


CONFIG_HELP = "TOML settings file (env HOTLINE_* wins over it)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 hotline voice gateway")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--config", type=Path, default=None, help=CONFIG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for leaf in _leaves(parser):
        if not any("--config" in action.option_strings for action in leaf._actions):
            # SUPPRESS: a command that reads no settings still accepts --config where every other one does.
            leaf.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)
    return parser


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps `hotline --config F tokens list` working: a leaf's default must not hide the global value.
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for action in subs for child in dict.fromkeys(action.choices.values()) for leaf in _leaves(child)]


def _version() -> str:
    try:
        return metadata.version("hotline12345")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_redaction()
    if args.command != "serve":
        logging.getLogger("alembic").setLevel(logging.WARNING)  # schema upgrades are not news on a command line
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (ConfigError, HotlineError) as exc:
        print(f"hotline {args.command}: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
