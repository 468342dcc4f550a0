"""``hotline reports build``: a periodic report from the configured database, as HTML, XLSX, CSV or JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import exists, func, select

from gateway.config import load_settings
from gateway.db import create_engine, session_factory, upgrade, utcnow
from gateway.http.jsonio import dumps
from gateway.policies import load_pack
from gateway.reports.models import TicketMatter
from gateway.reports.periodic import PERIODS, ReportBuilder, last_closed_start
from gateway.reports.render import render_csv, render_html, render_xlsx
from gateway.tickets.models import Ticket


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("reports", help="periodic reports (周报/月报/季报/年报)")
    add_config_argument(p)
    actions = p.add_subparsers(dest="reports_action", required=True)
    b = actions.add_parser("build", help="build one report")
    b.add_argument("--period", choices=PERIODS, default="month", help="the period the report covers (default: month)")
    b.add_argument("--start", type=date.fromisoformat, help="first day (default: the last ended period)")
    b.add_argument("--unit", help="a unit's report instead of the platform's")
    b.add_argument("--format", choices=("html", "xlsx", "csv", "json"), default="html",
                   help="output format (default: html)")
    b.add_argument("--out", type=Path, help="file to write (default: standard output; required for xlsx)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.format == "xlsx" and args.out is None:
        print("hotline reports build: --out is required for xlsx", file=sys.stderr)
        return 2
    pack = load_pack(settings.policy)
    excluded = [e.category.value for e in pack.satisfaction_exclusions if e.category is not None]
    builder = ReportBuilder(platform_id=settings.federation.platform_id, level=settings.federation.level,
                            excluded_categories=excluded)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        start = args.start or last_closed_start(args.period, utcnow())
        async with session_factory(engine)() as session:
            report = json.loads(dumps(await builder.build(session, args.period, start, utcnow(), args.unit)))
            unread = await session.scalar(select(func.count()).select_from(Ticket).where(
                ~exists().where(TicketMatter.ticket_id == Ticket.id)))
        if unread:  # topics are what the running gateway's hot-issue worker has read
            print(f"hotline reports build: {unread} ticket(s) not read by the gateway's hot-issue worker yet; "
                  "their matters are not in the topics", file=sys.stderr)
    finally:
        await engine.dispose()
    if args.format == "xlsx":
        args.out.write_bytes(render_xlsx(report))
        return 0
    text = {"html": render_html, "csv": render_csv, "json": lambda r: dumps(r)}[args.format](report)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
