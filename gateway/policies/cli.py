"""``hotline sla`` (a ticket's deadlines) and ``hotline policies list|show|bench`` (for operators)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.errors import InvalidInput
from gateway.http.jsonio import dumps
from gateway.policies import Category, available_packs, load_pack


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sla = sub.add_parser("sla", help="print a ticket's deadlines (sign_by, due, max_due …) as JSON")
    sla.add_argument("--policy", required=True, help="policy pack id, e.g. chuxiong")
    sla.add_argument("--category", required=True, help="咨询/求助/投诉/… or consultation/help/complaint/…")
    sla.add_argument("--urgent", action="store_true", help="an emergency (紧急) ticket")
    sla.add_argument("--provincial", action="store_true", help="handed down by the provincial hotline")
    sla.add_argument("--reopened", action="store_true", help="a reopened (重办) ticket")
    sla.add_argument("--dispatched", required=True, help="dispatch time, ISO 8601 with offset")
    sla.add_argument("--signed", help="sign time, ISO 8601 with offset (packs whose clock starts at signing)")
    sla.add_argument("--now", help="also print the warning level at this instant (ISO 8601 with offset)")
    sla.add_argument("--calendar-overrides", type=Path, help="deployment calendar override file (.toml/.csv)")
    sla.set_defaults(func=run_sla)

    policies = sub.add_parser("policies", help="list, show or benchmark policy packs")
    actions = policies.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the available packs").set_defaults(func=run_list)
    show = actions.add_parser("show", help="one pack, resolved over national, as JSON")
    show.add_argument("id", help="pack id, e.g. qingyang (see: hotline policies list)")
    show.set_defaults(func=run_show)
    bench = actions.add_parser("bench", help="time deadline arithmetic over many tickets")
    bench.add_argument("--tickets", type=int, default=5000, help="tickets whose deadlines are computed")
    bench.set_defaults(func=run_bench)


def parse_instant(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {text!r} is not an ISO 8601 time (e.g. 2026-10-09T16:00:00+08:00)",
                           error_id="invalid-time") from exc
    if value.tzinfo is None:
        raise InvalidInput(f"{what}: {text!r} has no UTC offset; add one, e.g. +08:00", error_id="naive-time")
    return value


def run_sla(args: argparse.Namespace) -> int:
    from gateway.workcalendar import WorkCalendar
    from gateway.workcalendar.sla import deadlines

    pack = load_pack(args.policy)
    category = Category.parse(args.category)
    dispatched = parse_instant(args.dispatched, "--dispatched")
    signed = parse_instant(args.signed, "--signed") if args.signed else None
    now = parse_instant(args.now, "--now") if args.now else None
    cal = WorkCalendar.for_pack(pack, args.calendar_overrides)
    # strict=False as the ticket API: a latest-due date in a year without holiday data is shown as unknown
    result = deadlines(pack, cal, category, args.urgent, dispatched, provincial=args.provincial,
                       reopened=args.reopened, signed_at=signed, strict=False)
    body: dict[str, Any] = {"policy": pack.id, "category": category.value, "category_zh": category.zh,
                            "urgent": args.urgent, "clock_starts_at": pack.clock_start, **result.as_json()}
    if now is not None:
        body["now"] = now
        body["warning"] = result.warning(cal, now)
    print(dumps(body, indent=2))
    return 0


def run_list(args: argparse.Namespace) -> int:
    for pack_id in available_packs():
        pack = load_pack(pack_id)
        print(f"{pack.id:10} {pack.name}  [{pack.document}]")
    return 0


def run_show(args: argparse.Namespace) -> int:
    pack = load_pack(args.id)
    print(json.dumps(pack.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2))
    return 0


def run_bench(args: argparse.Namespace) -> int:
    """Shared (warm) calendar vs a fresh one per ticket vs a per-minute reference walk, in one run."""
    from gateway.workcalendar import WorkCalendar
    from gateway.workcalendar.sla import deadlines

    rng = random.Random(12345)
    packs = [load_pack(p) for p in ("chuxiong", "qingyang", "liaoyang", "hanbin")]
    calendars = {p.id: WorkCalendar.for_pack(p) for p in packs}
    tz = calendars["chuxiong"].tz
    origin = datetime(2025, 1, 1, tzinfo=tz)
    tickets = [(rng.choice(packs), rng.choice(list(Category)), rng.random() < 0.05,
                origin + timedelta(seconds=rng.randrange(500 * 86_400))) for _ in range(args.tickets)]

    def timed(label: str, per: int, fn: Any) -> float:
        began = time.perf_counter()
        fn()
        micros = (time.perf_counter() - began) / per * 1e6
        print(f"{label:44} {micros:10.1f} µs each", file=sys.stdout)
        return micros

    warm = timed(f"deadlines(), shared calendar ×{len(tickets)}", len(tickets), lambda: [
        deadlines(p, calendars[p.id], c, u, t) for p, c, u, t in tickets])
    cold = timed(f"deadlines(), fresh calendar ×{len(tickets)}", len(tickets), lambda: [
        deadlines(p, WorkCalendar.for_pack(p), c, u, t) for p, c, u, t in tickets])
    spans = [(t, t + timedelta(days=rng.randrange(1, 10))) for _, _, _, t in tickets[:20]]
    cal = calendars["chuxiong"]
    fast = timed(f"working_seconds_between() ×{len(spans)}", len(spans), lambda: [
        cal.working_seconds_between(a, b) for a, b in spans])
    slow = timed(f"per-minute reference walk ×{len(spans)}", len(spans), lambda: [
        _minute_walk(cal, a, b) for a, b in spans])
    print(f"fresh/shared calendar: {cold / warm:.1f}×   per-minute walk/working_seconds_between: "
          f"{slow / fast:.0f}×")
    return 0


def _minute_walk(cal: Any, a: datetime, b: datetime) -> int:
    total, step = 0, timedelta(minutes=1)
    while a < b:
        total += 60 if cal.is_working_time(a) else 0
        a += step
    return total
