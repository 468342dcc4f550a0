"""``hotline qa eval [FILE]``: precision and recall of every check on a labelled set;
``hotline qa run``: inspect the finished calls not inspected yet (what the gateway's timer does)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from gateway.config import load_settings
from gateway.db.base import utcnow
from gateway.db.cli import cli_database
from gateway.quality.evaluate import EVAL_SET, evaluate, load
from gateway.quality.mentions import MentionFinder
from gateway.quality.rules import Rules
from gateway.quality.service import QualityService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("qa", help="quality inspection of calls (智能质检)")
    actions = p.add_subparsers(dest="qa_action", required=True, metavar="ACTION")
    e = actions.add_parser("eval", help="precision/recall per check on a labelled set")
    add_config_argument(e)
    e.add_argument("files", nargs="*", type=Path, help=f"JSONL labelled calls (default: {EVAL_SET.name})")
    e.set_defaults(func=_eval)
    r = actions.add_parser("run", help="inspect the finished calls not inspected yet")
    add_config_argument(r)
    r.add_argument("--call", help="inspect this call (again) only")
    r.set_defaults(func=lambda args: asyncio.run(_run(args)))


def _eval(args: argparse.Namespace) -> int:
    settings = load_settings(getattr(args, "config", None))
    rules = Rules.load(settings.quality.rules_file)
    records = [r for path in (args.files or [EVAL_SET]) for r in load(path)]
    result = evaluate(records, rules, MentionFinder(settings.timezone))
    flagged = sum(1 for r in records if r["labels"])
    out = [f"{result['calls']} calls ({flagged} with planted faults); rules: {rules.source}",
           f"{'check':<24}{'precision':>10}{'recall':>8}{'tp':>5}{'fp':>5}{'fn':>5}"]
    for check, row in result["checks"].items():
        p = "—" if row["precision"] is None else f"{row['precision']:.1%}"
        r = "—" if row["recall"] is None else f"{row['recall']:.1%}"
        out.append(f"{check:<24}{p:>10}{r:>8}{row['tp']:>5}{row['fp']:>5}{row['fn']:>5}")
    sys.stdout.write("\n".join(out) + "\n")
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
