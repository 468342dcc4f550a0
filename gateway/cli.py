"""The ``hotline`` command. Each capability adds its own subcommands through a ``register`` function."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from gateway.errors import ConfigError, HotlineError

# Modules exposing ``register(subparsers)``; each sets ``func`` on its parsers.
COMMAND_MODULES = (
    "gateway.serve",
    "gateway.bench",
    "gateway.auth.cli",
    "gateway.policies.cli",
    "gateway.speech.cli",
    "gateway.understanding.cli",
    "kb.cli",
    "ivr.cli",
    "gateway.reports.cli",
    "gateway.federation.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="12345 hotline voice gateway")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML settings file (env HOTLINE_* wins over it)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
