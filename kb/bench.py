"""``hotline bench kb``: search quality and latency, side by side on SQLite and PostgreSQL in one run.

For each engine: a fresh database with the seed entries plus N entries re-issued by real places
(kb/benchdata.py: the same matters, each place's name, time limits and wording), then
- recall@1/@5 of the held-out questions on the shipped KB alone and among the bench entries
  (region-filtered and mixed), and of probes: held-out questions re-asked for a re-issued entry;
- p50/p99 latency of a full search (segmentation + scoring + fuzzy re-ranking + loading the hits) over
  a mix of agents' questions and 1–2 character queries, beside a bare primary-key lookup of an entry on
  the same engine;
each twice: scored by the database (the baseline) and by the per-instance in-memory index.
- p50/p99 of segmenting the query alone.
PostgreSQL needs --pg-url or HOTLINE_TEST_PG_URL (a throwaway schema is made and dropped); without it
PostgreSQL is skipped with a message.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import create_engine, session_factory, upgrade
from kb.benchdata import Probe, realistic_entries
from kb.deadline import WeekdayClock, default_question_limit
from kb.evaluate import Recall, eval_questions, measure
from kb.models import KbEntry, KbEntryVersion, KbSearchTerm
from kb.schemas import EntryContent
from kb.search import SearchFilters
from kb.seed import seed
from kb.segment import Segmenter
from kb.service import KnowledgeBase
from kb.store import search_terms

BATCH = 2000


async def probe_recall(kb: KnowledgeBase, probes: list[Probe]) -> Recall:
    """recall@1/@5 of questions on re-issued entries, each asked by an agent of the entry's region."""
    recall = Recall()
    for probe in probes:
        hits = await kb.search.search(probe.query, filters=SearchFilters(regions=(probe.region,)), limit=5)
        ids = [hit.entry.id for hit in hits]
        recall.total += 1
        recall.at1 += ids[:1] == [probe.expected]
        recall.at5 += probe.expected in ids
    return recall


async def bulk_load(engine: AsyncEngine, items: list[tuple[str, EntryContent]],
                    terms: list[dict[str, float]]) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            await conn.execute(insert(KbEntry), [
                {"id": i, **c.model_dump(), "status": "published", "version": 1, "created_at": now,
                 "updated_at": now} for i, c in chunk])
            await conn.execute(insert(KbEntryVersion), [
                {"entry_id": i, "version": 1, "content": c.as_json(), "changed_fields": [],
                 "changed_by": "bench", "change_id": None, "changed_at": now} for i, c in chunk])
            await conn.execute(insert(KbSearchTerm), [
                {"term": t, "entry_id": i, "weight": w}
                for (i, _), ts in zip(chunk, terms[start:start + BATCH], strict=True) for t, w in ts.items()])
        await conn.execute(text("ANALYZE"))  # fresh statistics, as a long-running database would have


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


async def timed(calls: list[Callable[[], Awaitable[Any]]]) -> tuple[float, float]:
    samples = []
    for call in calls:
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def query_mix(count: int, segmenter: Segmenter, probes: list[Probe]) -> list[tuple[str, SearchFilters]]:
    """Questions agents ask (held-out ones and probes, half with the agent's region) and the 1–2
    character queries of someone typing, shuffled."""
    rng = random.Random(7)
    questions = [(item["q"], item["region"]) for item in eval_questions()]
    questions += [(p.query, p.region) for p in probes]
    short = [w for w in dict.fromkeys(w for q, _ in questions for w in segmenter.terms(q)) if len(w) <= 2]
    mix: list[tuple[str, SearchFilters]] = []
    while len(mix) < count:
        query, region = rng.choice(questions)
        mix.append((query, SearchFilters(regions=(region,) if rng.random() < 0.5 else ())))
        mix.append((rng.choice(short), SearchFilters()))
        mix.append((rng.choice(short)[0], SearchFilters()))
    return mix[:count]


async def quality_and_speed(kb: KnowledgeBase, probes: list[Probe], mix: list[tuple[str, SearchFilters]]
                            ) -> dict[str, Any]:
    by_region = await measure(kb.search, by_region=True)
    mixed = await measure(kb.search, by_region=False)
    probed = await probe_recall(kb, probes)
    for q, f in mix[:20]:  # warm caches and the connection pool
        await kb.search.search(q, filters=f)
    latency = await timed([functools.partial(kb.search.search, q, filters=f) for q, f in mix])
    return {"held_out": (by_region, mixed), "probes": probed, "search": latency}


async def bench_engine(name: str, engine: AsyncEngine, segmenter: Segmenter,
                       items: list[tuple[str, EntryContent]], terms: list[dict[str, float]],
                       probes: list[Probe], queries: int) -> list[dict[str, Any]]:
    """Two rows: the SQL scoring (baseline) and the in-memory index, same database, same questions."""
    await upgrade(engine)

    def instance(in_memory: bool) -> KnowledgeBase:
        kb = KnowledgeBase(session_factory(engine), segmenter,
                           question_clock=WeekdayClock(default_question_limit()))
        kb.search.in_memory = in_memory
        return kb

    shipped_kb = instance(in_memory=True)
    await seed(shipped_kb)
    started = time.perf_counter()
    await bulk_load(engine, items, terms)
    load_s = time.perf_counter() - started
    mix = query_mix(queries, segmenter, probes)
    rows = []
    for in_memory in (False, True):
        kb = instance(in_memory)
        shipped = await measure_shipped(kb, segmenter)
        started, rss = time.perf_counter(), rss_mib()
        if in_memory:
            await kb.search.warm()  # what a starting instance does in the background
        build_s, index_mib = time.perf_counter() - started, rss_mib() - rss
        rows.append({"engine": name, "scoring": "memory" if in_memory else "SQL", "entries": await kb.count(),
                     "load_s": load_s, "build_s": build_s, "index_mib": index_mib, "shipped": shipped,
                     **await quality_and_speed(kb, probes, mix)})
    ids = [i for i, _ in random.Random(3).choices(items, k=queries)]

    async def lookup(entry_id: str) -> None:
        async with shipped_kb.sessions() as session:
            (await session.execute(select(KbEntry).where(KbEntry.id == entry_id))).scalar_one()

    lookup_p = await timed([functools.partial(lookup, i) for i in ids])
    for row in rows:
        row["lookup"] = lookup_p
    return rows


async def measure_shipped(kb: KnowledgeBase, segmenter: Segmenter) -> tuple[Recall, Recall]:
    """Recall on the shipped entries alone: a scratch database holding only them, same scoring."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'shipped.sqlite3'}")
        try:
            await upgrade(scratch)
            alone = KnowledgeBase(session_factory(scratch), segmenter,
                                  question_clock=WeekdayClock(default_question_limit()))
            alone.search.in_memory = kb.search.in_memory
            await seed(alone)
            if alone.search.in_memory:
                await alone.search.warm()
            return await measure(alone.search, by_region=True), await measure(alone.search, by_region=False)
        finally:
            await scratch.dispose()


async def run(*, entries: int, queries: int, pg_url: str | None, probes: int = 300) -> int:
    pg_url = pg_url or os.environ.get("HOTLINE_TEST_PG_URL")
    segmenter = await asyncio.to_thread(Segmenter.load)
    seg_samples = []
    for item in eval_questions():
        start = time.perf_counter()
        segmenter.query_terms(item["q"])
        seg_samples.append((time.perf_counter() - start) * 1e6)
    print(f"generating {entries} entries re-issued by real places, segmenting them …", flush=True)
    started = time.perf_counter()
    items, all_probes = await asyncio.to_thread(realistic_entries, entries)
    asked = random.Random(11).sample(all_probes, k=min(probes, len(all_probes)))
    terms = await asyncio.to_thread(lambda: [search_terms(segmenter, c) for _, c in items])
    print(f"  {time.perf_counter() - started:.1f} s, {sum(map(len, terms))} index rows", flush=True)

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            results += await bench_engine("SQLite", engine, segmenter, items, terms, asked, queries)
        finally:
            await engine.dispose()
    if pg_url:
        schema = f"kb_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(pg_url, connect_args={"server_settings": {"search_path": schema}})
        try:
            results += await bench_engine("PostgreSQL", engine, segmenter, items, terms, asked, queries)
        finally:
            await engine.dispose()
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    else:
        print("PostgreSQL skipped: give --pg-url or set HOTLINE_TEST_PG_URL")

    seg50, seg99 = percentiles(seg_samples)
    print(f"\nquery segmentation (rjieba + hotline terms): p50 {seg50:.0f} µs, p99 {seg99:.0f} µs")
    print(f"held-out questions: {len(eval_questions())} (shipped KB alone, then among the bench entries, "
          f"region-filtered 'reg' and all regions 'mix'); probes: {len(asked)} questions on re-issued "
          f"entries (region-filtered); timed queries per engine: {queries}\n")
    print(f"{'engine':<11}{'scoring':>8}{'entries':>8}{'index':>11}{'shipped R@1/R@5 reg':>21}{'mix':>12}"
          f"{'held-out R@1/R@5 reg':>22}{'mix':>12}{'probes R@1/R@5':>16}"
          f"{'search p50/p99 ms':>20}{'pk lookup p50/p99 ms':>23}{'ratio p99':>11}")
    for r in results:
        s50, s99 = r["search"]
        l50, l99 = r["lookup"]
        cells = [*r["shipped"], *r["held_out"]]
        reg, mix, hreg, hmix = (f"{c.recall1:.3f}/{c.recall5:.3f}" for c in cells)
        probed = f"{r['probes'].recall1:.3f}/{r['probes'].recall5:.3f}"
        built = f"{r['build_s']:.1f}s {r['index_mib']:.0f}M" if r["scoring"] == "memory" else "-"
        print(f"{r['engine']:<11}{r['scoring']:>8}{r['entries']:>8}{built:>11}{reg:>21}{mix:>12}{hreg:>22}"
              f"{hmix:>12}{probed:>16}{f'{s50:.2f} / {s99:.2f}':>20}{f'{l50:.3f} / {l99:.3f}':>23}"
              f"{s99 / l99:>10.1f}x")
    print("\nscoring: SQL = the same scoring done by the database (the baseline, and what serves while an "
          "instance builds its index); memory = the per-instance index (kb/index.py). 'index' = building it "
          "from the database: seconds, RSS growth. Target: search p99 ≤ 20 ms at 50k entries on both engines.")
    return 0
