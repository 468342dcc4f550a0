"""``hotline bench search``: the workspace's ticket search over a large store (100 k tickets by default),
p50/p95 per kind of query, beside a bare indexed query (status = …, newest 50) on the same data, same run.

A search here is what the API does for a page: the filtered statement (search.py), loading the tickets
with their assignments, the pending requests, and the projection each item gets (views.py, SLA state).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.db import create_engine, session_factory, upgrade
from gateway.db.scratch import scratch_schema, search_path_args
from gateway.policies import Category, Duration, load_pack
from gateway.tickets import views
from gateway.tickets.actions import actions_now, pending_kinds
from gateway.tickets.lifecycle import Actor, Status
from gateway.tickets.models import Assignment, Ticket, TicketRequest, Unit
from gateway.tickets.search import Moment, SearchQuery, search
from gateway.tickets.sla import SlaClock
from gateway.tickets.textindex import search_text
from gateway.workcalendar import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=SH)
PLACES = ["幸福路", "人民路", "解放街", "建设巷", "城关镇", "新华村", "滨江小区", "东方花园", "南门口", "北环路"]
MATTERS = ["路灯不亮", "停水", "噪音扰民", "占道经营", "垃圾清运", "井盖缺失", "供暖不热", "拖欠工资", "违章停车",
           "物业纠纷"]
STATUSES = [Status.NEW, Status.ACCEPTED, Status.DISPATCHED, Status.SIGNED, Status.REPLIED, Status.SURVEYING,
            Status.CLOSED, Status.CLOSED, Status.CLOSED, Status.CLOSED, Status.RETURN_REQUESTED, Status.REJECTED]
CHANNELS = ["phone", "phone", "phone", "web", "wechat", "app"]
UNITS = [f"unit-{i:02d}" for i in range(30)]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("search", help="ticket search p50/p95 over 100 k tickets vs a bare indexed query")
    p.add_argument("--tickets", type=int, default=100_000, help="tickets in the store searched (default 100 000)")
    p.add_argument("--repeat", type=int, default=30, help="runs of each query")
    p.add_argument("--pg-url", help="PostgreSQL URL (default: $HOTLINE_TEST_PG_URL; skipped if unset)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pg = args.pg_url or os.environ.get("HOTLINE_TEST_PG_URL")
    print(f"{'engine':<11} {'query':<34} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in (("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'search.sqlite3'}"), ("postgresql", pg)):
            if url is None:
                print(f"{name:<11} skipped: give --pg-url or set HOTLINE_TEST_PG_URL")
                continue
            asyncio.run(_bench(name, url, args.tickets, args.repeat))
    return 0


async def _bench(name: str, url: str, tickets: int, repeat: int) -> None:
    if not url.startswith("postgresql"):
        await _bench_on(name, create_engine(url), tickets, repeat)
        return
    async with scratch_schema(url, "bench_search") as schema:
        await _bench_on(name, create_engine(url, connect_args=search_path_args(schema)), tickets, repeat)


async def _bench_on(name: str, engine: AsyncEngine, tickets: int, repeat: int) -> None:
    try:
        await upgrade(engine)
        await _fill(engine, tickets)
        pack = load_pack("national")
        sla = SlaClock(pack, WorkCalendar.for_pack(pack))
        at = Moment(NOW, sla.calendar.add(NOW, Duration(amount=1, unit="working_days")))
        sessions = session_factory(engine)
        rng = random.Random(7)
        callers = await _sample_callers(sessions, rng)

        async def bare() -> None:
            async with sessions() as session:
                await session.execute(text("SELECT id, number FROM tickets WHERE status = :s "
                                           "ORDER BY id DESC LIMIT 51"), {"s": "accepted"})

        queries: dict[str, Callable[[], dict[str, Any]]] = {
            "caller number": lambda: {"caller": rng.choice(callers)},
            "ticket number prefix": lambda: {"number": "2026111"},
            "text (common words)": lambda: {"text": rng.choice(MATTERS)},
            "text (no match)": lambda: {"text": "不存在的词语"},
            "category + status + 30 days": lambda: {"category": "complaint", "status": "closed",
                                                    "start": NOW - timedelta(days=30), "end": NOW},
            "unit + status": lambda: {"unit": rng.choice(UNITS), "status": "signed"},
            "channel + 7 days": lambda: {"channel": "web", "start": NOW - timedelta(days=7)},
            "worklist 待转派": lambda: {"worklist": "to_dispatch"},
            "worklist 待审核": lambda: {"worklist": "to_review"},
            "worklist 即将超时": lambda: {"worklist": "due_soon"},
            "worklist 已超时": lambda: {"worklist": "overdue"},
            "worklist 督办中": lambda: {"worklist": "supervised"},
            "worklist 待并案": lambda: {"worklist": "to_merge"},
        }
        everything: list[float] = []
        _print(name, "bare indexed query (status, 50)", await _times(bare, repeat))
        for label, make in queries.items():
            async def one(make: Callable[[], dict[str, Any]] = make) -> None:
                async with sessions() as session:
                    await _page(session, SearchQuery(**make()), at, sla)
            latencies = await _times(one, repeat)
            everything += latencies
            _print(name, f"search: {label}", latencies)
        _print(name, "search: all of the above", everything)
    finally:
        await engine.dispose()


async def _page(session: AsyncSession, q: SearchQuery, at: Moment, sla: SlaClock) -> list[dict[str, Any]]:
    audience = views.Audience("agent", "bench")
    category = Category.parse(q.category).value if q.category else None
    tickets, _ = await search(session, q, audience, at, category)
    pending = await pending_kinds(session, [t.id for t in tickets])
    out = []
    for t in tickets:
        state = sla.state(t, at.now) if t.dispatched_at else None
        out.append(views.ticket_view(t, audience, views.FULL, sla=state.as_dict() if state else None,
                                     allowed_actions=actions_now(t, Actor.AGENT, "bench", pending[t.id])))
    return out


async def _times(op: Callable[[], Awaitable[None]], repeat: int) -> list[float]:
    await op()  # warm the caches once
    latencies = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await op()
        latencies.append(time.perf_counter() - t0)
    return latencies


def _print(engine: str, label: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000
    print(f"{engine:<11} {label:<34} {len(ordered):>4} {statistics.median(ordered) * 1000:>8.2f} {p95:>8.2f}")


async def _sample_callers(sessions: Any, rng: random.Random) -> list[str]:
    async with sessions() as session:
        rows = list(await session.scalars(select(Ticket.caller_number).limit(2000)))
    return [r for r in rows if r] or ["+8613800000000"]


async def _fill(engine: AsyncEngine, n: int) -> None:
    """``n`` tickets over 180 days: statuses, channels, units, callers (about 3 tickets each) and places
    drawn at random; running deadlines and pending requests where the status has them."""
    rng = random.Random(12345)
    async with engine.begin() as conn:
        await conn.execute(insert(Unit), [{"id": u, "name": f"单位{u}", "active": True,
                                           "created_at": NOW} for u in UNITS])
    categories = [c.value for c in Category]
    chunk = 5000
    for start in range(0, n, chunk):
        tickets, assignments, requests = [], [], []
        for i in range(start, min(n, start + chunk)):
            status = rng.choice(STATUSES)
            handled = status not in (Status.NEW, Status.ACCEPTED, Status.REJECTED)
            unit = rng.choice(UNITS) if handled else None
            place, matter = rng.choice(PLACES), rng.choice(MATTERS)
            running = status in (Status.DISPATCHED, Status.SIGNED, Status.RETURN_REQUESTED)
            # A running clock started days ago (a handling limit is a few working days); others any time.
            created = NOW - timedelta(minutes=rng.randrange((12 if running else 180) * 24 * 60))
            due = created + timedelta(days=rng.choice((5, 10, 15))) if running else None
            tickets.append({
                "id": i + 1, "number": f"{created:%Y%m%d}{i + 1:06d}"[:20], "version": 1, "status": status.value,
                "policy_id": "national", "channel": rng.choice(CHANNELS), "category": rng.choice(categories),
                "urgent": False, "provincial": False, "title": matter, "content": (content := f"{place}附近{matter}，"
                "已经好几天了，请尽快处理"), "elements": {"matter": matter}, "location": f"城关镇{place}",
                "search_text": search_text(matter, content, f"城关镇{place}"),
                "caller_number": f"+86139{rng.randrange(n // 3 + 1):08d}", "confidential": False,
                "disclose_caller": False, "lead_unit_id": unit, "reply_attachments": [], "created_at": created,
                "updated_at": created, "dispatched_at": created if handled else None,
                "clock_started_at": created if due else None, "due_at": due,
                "sign_by": created + timedelta(days=1) if due and status is Status.DISPATCHED else None,
                "supervise_level": 2 if rng.random() < 0.01 else 0, "resolved_on_call": False,
                "deemed_signed": False, "extension_count": 0, "reopen_count": 0, "return_count": 0})
            if unit:
                assignments.append({"ticket_id": i + 1, "unit_id": unit, "role": "lead", "round": 1,
                                    "active": status not in (Status.CLOSED,), "dispatched_at": created,
                                    "deemed_signed": False})
            if status is Status.RETURN_REQUESTED:
                requests.append({"ticket_id": i + 1, "kind": "return", "unit_id": unit, "status": "pending",
                                 "requested_at": NOW, "reason": "不属于本单位职责", "evidence": []})
        async with engine.begin() as conn:
            await conn.execute(insert(Ticket), tickets)
            if assignments:
                await conn.execute(insert(Assignment), assignments)
            if requests:
                await conn.execute(insert(TicketRequest), requests)
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), :n)"), {"n": n})
        await conn.execute(text("ANALYZE"))
