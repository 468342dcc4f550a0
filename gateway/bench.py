"""``hotline bench <thing>``: benchmarks that print figures measured side by side in one run.

``hotline bench`` alone (or ``hotline bench all``) runs every benchmark with its defaults, one after the other,
showing each one's own output, and ends with ONE table: per benchmark its ratio lines (product ÷ the baseline
that does the same work minus the product, measured in the same run), or why it did not run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import sys
import time
from typing import Any

# "module" (its ``register``) or "module:function", each adding one benchmark.
BENCH_MODULES = (
    "gateway.tickets.bench",
    "gateway.tickets.bench_api",
    "gateway.http.bench_roundtrips",
    "gateway.http.bench_http",
    "gateway.tickets.bench_search",
    "gateway.speech.cli:register_bench",
    "kb.cli:register_bench",
    "gateway.calls.bench",
    "ivr.bench",
    "gateway.consoles.bench",
    "gateway.understanding.bench",
    "gateway.leadership.bench",
)
SUMMARY = re.compile(r"ratio|÷", re.IGNORECASE)  # the lines a benchmark states its comparison on


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("bench", help="run a benchmark (or all of them) and print side-by-side figures")
    benches = parser.add_subparsers(dest="bench", metavar="BENCH")
    for entry in BENCH_MODULES:
        module, _, function = entry.partition(":")
        getattr(importlib.import_module(module), function or "register")(benches)
    every = dict(benches.choices)
    benches.add_parser("all", help="every benchmark with its defaults, then one table").set_defaults(
        func=lambda _args: run_all(every))
    parser.set_defaults(func=lambda _args: run_all(every))


class _Tee(io.TextIOBase):
    def __init__(self, *targets: Any) -> None:
        self.targets = targets

    def write(self, text: str) -> int:
        for target in self.targets:
            target.write(text)
        return len(text)

    def flush(self) -> None:
        for target in self.targets:
            target.flush()


def run_all(benches: dict[str, argparse.ArgumentParser]) -> int:
    table: list[tuple[str, str, str]] = []  # bench, seconds, line
    for name, parser in benches.items():
        print(f"\n===== hotline bench {name} =====", flush=True)
        try:
            args = parser.parse_args([])
        except SystemExit:
            table.append((name, "-", "not run: needs arguments (see hotline bench " + name + " -h)"))
            continue
        args.collected = []
        output = io.StringIO()
        started = time.monotonic()
        try:
            with contextlib.redirect_stdout(_Tee(sys.stdout, output)):
                status = args.func(args)
            outcome = None if not status else f"exit status {status}"
        except Exception as exc:  # one failing benchmark must not hide the others' figures
            outcome = f"failed: {exc.__class__.__name__}: {exc}"
        seconds = f"{time.monotonic() - started:.0f}"
        lines = [line.strip() for line in output.getvalue().splitlines() if SUMMARY.search(line)]
        if outcome:
            lines.append(outcome)
        for line in lines or ["(no ratio line; see its output above)"]:
            table.append((name, seconds, line))
    print("\n===== summary: product ÷ same-work baseline, same run =====")
    width = max(len(name) for name, _, _ in table)
    for name, seconds, line in table:
        print(f"{name:<{width}}  {seconds:>5} s  {line}")
    return 0
