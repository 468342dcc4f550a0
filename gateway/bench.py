"""``hotline bench <thing>``: benchmarks that print figures measured side by side in one run."""

from __future__ import annotations

import argparse
import importlib

# Modules exposing ``register(subparsers)`` for one benchmark each.
BENCH_MODULES = (
    "gateway.tickets.bench",
    "ivr.bench",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("bench", help="run a benchmark and print side-by-side figures")
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for name in BENCH_MODULES:
        importlib.import_module(name).register(benches)
