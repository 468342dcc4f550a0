"""``hotline qa eval [FILE…]``: precision and recall of every check on labelled sets, side by side;
``hotline qa run``: inspect the finished calls not inspected yet (what the gateway's timer does)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from gateway.config import load_settings
from gateway.db.base import utcnow
from gateway.db.cli import cli_database
from gateway.quality.evaluate import EVAL_SET, HOLDOUT_SET, evaluate, load
from gateway.quality.mentions import MentionFinder
from gateway.quality.rules import CHECKS, Rules
from gateway.quality.service import QualityService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("qa", help="quality inspection of calls (智能质检)")
    actions = p.add_subparsers(dest="qa_action", required=True, metavar="ACTION")
    e = actions.add_parser("eval", help="precision/recall per check on a labelled set")
    add_config_argument(e)
    e.add_argument("files", nargs="*", type=Path,
                   help=f"JSONL labelled calls, each set in its own columns (default: {EVAL_SET.name} and "
                        f"{HOLDOUT_SET.name}, in-sample and held-out side by side)")
    e.set_defaults(func=_eval)
    r = actions.add_parser("run", help="inspect the finished calls not inspected yet")
    add_config_argument(r)
    r.add_argument("--call", help="inspect this call (again) only")
    r.set_defaults(func=lambda args: asyncio.run(_run(args)))


def _eval(args: argparse.Namespace) -> int:
    settings = load_settings(getattr(args, "config", None))
    rules = Rules.load(settings.quality.rules_file)
    extract = MentionFinder(settings.timezone)
    paths = args.files or [EVAL_SET, HOLDOUT_SET]
    sets = [(path, load(path)) for path in paths]
    results = [evaluate(records, rules, extract) for _, records in sets]
    out = [f"{len(records)} calls ({sum(1 for r in records if r['labels'])} with planted faults): {path.name}"
           for path, records in sets]
    out.append(f"rules: {rules.source}")
    cell = "{:>10}{:>8}{:>5}{:>5}{:>5}"
    out.append(f"{'':<24}" + "".join(f"  {path.name[:36]:<36}" for path, _ in sets))
    out.append(f"{'check':<24}" + "  ".join(cell.format("precision", "recall", "tp", "fp", "fn") for _ in sets))
    for check in CHECKS:
        cells = []
        for result in results:
            row = result["checks"][check]
            p = "—" if row["precision"] is None else f"{row['precision']:.1%}"
            r = "—" if row["recall"] is None else f"{row['recall']:.1%}"
            cells.append(cell.format(p, r, row["tp"], row["fp"], row["fn"]))
        out.append(f"{check:<24}" + "  ".join(cells))
    sys.stdout.write("\n".join(line.rstrip() for line in out) + "\n")
    return 0


async def _run(args: argparse.Namespace) -> int:
    async with cli_database(getattr(args, "config", None)) as (settings, sessions):
        service = QualityService(sessions, Rules.load(settings.quality.rules_file),
                                 MentionFinder(settings.timezone), utcnow, batch=settings.quality.batch)
        if args.call:
            done = await service.inspect_call(args.call)
            print(f"call {done['call_id']}: score {done['score']}, {done['findings']} findings")
            return 0
        total = 0
        while (n := await service.sweep()) > 0:
            total += n
        print(f"inspected {total} calls")
    return 0
