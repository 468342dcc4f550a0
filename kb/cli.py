"""``hotline kb …`` (seed, import, export, search) and ``hotline bench kb``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from gateway.config import load_settings
from gateway.db import create_engine, session_factory, upgrade
from kb.access import Actor
from kb.deadline import WeekdayClock, default_question_limit
from kb.search import SearchFilters
from kb.seed import seed
from kb.segment import Segmenter
from kb.service import KnowledgeBase
from kb.transfer import FORMATS, read_rows, write_rows

CLI_ACTOR = Actor(kind="admin", id="cli")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    kb = sub.add_parser("kb", help="knowledge base: seed, import, export, search")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="ACTION")

    p = kb_sub.add_parser("seed", help="load the starter entries built from the regulations")
    add_config_argument(p)
    p.add_argument("--update", action="store_true",
                   help="also when entries exist: entries whose seed text changed get a new version")
    p.set_defaults(func=lambda a: asyncio.run(_seed(a)))

    p = kb_sub.add_parser("import", help="import entries from a CSV, JSON or XLSX file (as the platform)")
    add_config_argument(p)
    p.add_argument("file", type=Path, help="the file to read")
    p.add_argument("--format", choices=FORMATS, help="default: the file's extension")
    p.add_argument("--strict", action="store_true", help="import nothing if any row is rejected")
    p.set_defaults(func=lambda a: asyncio.run(_import(a)))

    p = kb_sub.add_parser("export", help="export entries to a CSV, JSON or XLSX file")
    add_config_argument(p)
    p.add_argument("file", type=Path, help="the file to write")
    p.add_argument("--format", choices=FORMATS, help="default: the file's extension")
    p.add_argument("--include-inactive", action="store_true", help="also expired and retired entries")
    p.set_defaults(func=lambda a: asyncio.run(_export(a)))

    p = kb_sub.add_parser("search", help="search as an agent would")
    add_config_argument(p)
    p.add_argument("query", help="the question, in Chinese words")
    p.add_argument("--region", action="append", default=[], help="repeatable: prefer entries of this region")
    p.add_argument("--limit", type=int, default=5, help="how many answers")
    p.set_defaults(func=lambda a: asyncio.run(_search(a)))



def register_bench(benches: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``hotline bench kb`` (listed in gateway/bench.py)."""
    bench = benches.add_parser(
        "kb", help="knowledge-base recall@1/@5 and search latency at 50k entries, SQLite and PostgreSQL")
    bench.add_argument("--entries", type=int, default=50_000, help="synthetic entries (default 50000)")
    bench.add_argument("--queries", type=int, default=400, help="timed queries per engine (default 400)")
    bench.add_argument("--pg-url", help="PostgreSQL URL (default: $HOTLINE_TEST_PG_URL); absent = skip PG")
    bench.set_defaults(func=_bench)



@asynccontextmanager
async def _knowledge_base(args: argparse.Namespace) -> AsyncIterator[KnowledgeBase]:
    settings = load_settings(args.config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        segmenter = await asyncio.to_thread(Segmenter.load)
        yield KnowledgeBase(session_factory(engine), segmenter,
                            question_clock=WeekdayClock(default_question_limit()))
    finally:
        await engine.dispose()


def _fmt(args: argparse.Namespace) -> str:
    fmt = args.format or args.file.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise SystemExit(f"hotline kb: say --format ({', '.join(FORMATS)}); '{args.file.suffix}' is unknown")
    return fmt


async def _seed(args: argparse.Namespace) -> int:
    async with _knowledge_base(args) as kb:
        report = await seed(kb, only_if_empty=not args.update)
    if report is None:
        print("the knowledge base already has entries; nothing seeded (use --update to refresh)")
        return 0
    print(f"seeded: {len(report.imported)} written, {len(report.unchanged)} unchanged, "
          f"{len(report.rejected)} rejected")
    return 1 if report.rejected else 0


async def _import(args: argparse.Namespace) -> int:
    rows = read_rows(args.file.read_bytes(), _fmt(args))
    async with _knowledge_base(args) as kb:
        report = await kb.import_rows(CLI_ACTOR, rows, strict=args.strict)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    return 1 if report.rejected else 0


async def _export(args: argparse.Namespace) -> int:
    async with _knowledge_base(args) as kb:
        rows = await kb.export(CLI_ACTOR, include_inactive=args.include_inactive)
    args.file.write_bytes(write_rows(rows, _fmt(args)))
    print(f"exported {len(rows)} entries to {args.file}")
    return 0


async def _search(args: argparse.Namespace) -> int:
    async with _knowledge_base(args) as kb:
        hits = await kb.search.search(args.query, filters=SearchFilters(regions=tuple(args.region)),
                                      limit=args.limit)
    for hit in hits:
        print(f"{hit.score:.3f}  {hit.entry.id}  [{hit.entry.region}] {hit.entry.question}")
    if not hits:
        print("no entry in force matches", file=sys.stderr)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from kb.bench import run

    return asyncio.run(run(entries=args.entries, queries=args.queries, pg_url=args.pg_url))
