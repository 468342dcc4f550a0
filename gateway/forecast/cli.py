"""``hotline forecast``: the next days' calls per half hour, the seats they need, tomorrow's half hours at
risk and a roster; the back-test error of both forecasters comes first, so the numbers can be judged."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from gateway.db.cli import cli_database
from gateway.forecast.service import ForecastService
from gateway.http.jsonio import dumps
from gateway.policies import load_pack
from gateway.workcalendar import WorkCalendar


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from gateway.cli import add_config_argument

    p = sub.add_parser("forecast", help="call-volume forecast, staffing and roster (话务预测与排班)")
    add_config_argument(p)
    p.add_argument("--days", type=int, default=None, help="horizon in days (default: forecast.horizon_days)")
    p.add_argument("--now", type=datetime.fromisoformat, default=None,
                   help="pretend it is this moment (ISO 8601 with offset): re-run a past day's forecast")
    p.add_argument("--json", action="store_true", help="the API's JSON answer instead of the summary")
    p.set_defaults(func=lambda args: asyncio.run(_run(args)))


async def _run(args: argparse.Namespace) -> int:
    if args.days is not None and not 1 <= args.days <= 56:
        print("hotline forecast: --days must be 1..56", file=sys.stderr)
        return 2
    if args.now is not None and args.now.tzinfo is None:
        print("hotline forecast: --now needs a UTC offset (e.g. +08:00)", file=sys.stderr)
        return 2
    async with cli_database(args.config) as (settings, sessions):
        calendar = WorkCalendar.for_pack(load_pack(settings.policy), settings.calendar_overrides)
        service = ForecastService(sessions, calendar, settings.forecast,
                                  answer_target_seconds=settings.calls.answer_target_seconds,
                                  wrapup_seconds=settings.calls.wrapup_seconds)
        result = await service.run(args.now or datetime.now(UTC), horizon_days=args.days)
    if args.json:
        sys.stdout.write(dumps(result) + "\n")
    else:
        sys.stdout.write(summary(json.loads(dumps(result))))
    return 0


def summary(r: dict[str, Any]) -> str:
    lines = [f"history: {r['history_days']} days; model used: {r['method']}"]
    if r["backtest"]:
        lines.append(f"back-test, last {r['backtest'][0]['days']} days held out, per half hour:")
        lines += [f"  {b['method']:<15} WAPE {b['wape']:.1%}  MAPE {b['mape']:.1%}" for b in r["backtest"]]
    else:
        lines.append("back-test: not run (needs 8 weeks of history); seasonal naive used")
    b = r["behaviour"]
    lines.append(f"handle time {b['aht_seconds']:.0f} s, patience {b['patience_seconds']:.0f} s"
                 + ("" if b["measured"] else " (defaults: too few calls to measure)"))
    t = r["targets"]
    lines.append(f"targets: {t['service_level']:.0%} answered within {t['answer_seconds']:.0f} s, "
                 f"≤ {t['abandon_rate']:.0%} abandoned, shrinkage {t['shrinkage']:.0%}")
    if r["calendar_assumed_days"]:
        lines.append(f"calendar: no holiday data for {r['calendar_assumed_days'][0][:4]}: "
                     f"{len(r['calendar_assumed_days'])} days assumed Monday–Friday working "
                     "(add the year to the calendar overrides file)")
    lines.append("")
    lines.append("date        kind           calls  peak seats (Erlang A / C)  rostered agent-half-hours")
    for d in r["days"]:
        lines.append(f"{d['date']}  {d['kind']:<13} {d['calls']:>6.0f}  {max(d['required_agents']):>6} / "
                     f"{max(d['required_agents_erlang_c']):<6}            {sum(d['rostered_agents']):>6}"
                     + (f"  [{d['event']}]" if d["event"] else ""))
    tomorrow = r["tomorrow"]
    lines.append("")
    if not tomorrow["slots"]:
        lines.append(f"tomorrow {tomorrow['date']}: staffing {tomorrow['staffing_basis']}")
    else:
        lines.append(f"tomorrow {tomorrow['date']}: {len(tomorrow['misses'])} half hours miss a target with last "
                     f"week's staffing" + (f": {', '.join(tomorrow['misses'])}" if tomorrow["misses"] else ""))
    roster = r["roster"]
    lines.append(f"roster for tomorrow ({roster['agent_hours']:.0f} agent-hours):")
    lines += [f"  {s['start']}  {s['pattern']:<6} × {s['agents']}" for s in roster["shifts"]]
    return "\n".join(lines) + "\n"
