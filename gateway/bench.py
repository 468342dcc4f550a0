"""``hotline bench <thing>``: benchmarks that print figures measured side by side in one run."""

from __future__ import annotations

import argparse
import importlib

# "module" (its ``register``) or "module:function", each adding one benchmark.
BENCH_MODULES = (
    "gateway.tickets.bench",
    "gateway.tickets.bench_api",
    "gateway.tickets.bench_search",
    "gateway.speech.cli:register_bench",
    "kb.cli:register_bench",
    "gateway.calls.bench",
    "ivr.bench",
    "gateway.consoles.bench",
    "gateway.understanding.bench",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("bench", help="run a benchmark and print side-by-side figures")
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for entry in BENCH_MODULES:
        module, _, function = entry.partition(":")
        getattr(importlib.import_module(module), function or "register")(benches)
