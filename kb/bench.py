"""``hotline bench kb``: search quality and latency, side by side on SQLite and PostgreSQL in one run.

For each engine: a fresh database with the seed entries plus N synthetic entries built from the real
vocabulary of the seed (words drawn with their corpus frequencies), then
- recall@1/@5 of the held-out questions (region-filtered and mixed) among those distractors;
- p50/p99 latency of a full search (segmentation + SQL + fuzzy re-ranking) over a mix of held-out
  questions and 1–2 character queries, beside a bare primary-key lookup of an entry on the same engine;
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
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import create_engine, session_factory, upgrade
from kb.deadline import WeekdayClock, default_question_limit
from kb.evaluate import eval_questions, measure
from kb.models import KbEntry, KbEntryVersion, KbSearchTerm
from kb.schemas import EntryContent
from kb.search import SearchFilters
from kb.seed import seed, seed_rows
from kb.segment import STOPWORDS, Segmenter
from kb.service import KnowledgeBase
from kb.store import search_terms

BATCH = 2000


def synthetic_entries(
    segmenter: Segmenter, count: int, seed_value: int = 12345
) -> list[tuple[str, EntryContent]]:
    """Entries made of the seed's own words, drawn with their frequencies: realistic term statistics."""
    rng = random.Random(seed_value)
    rows = [row for _, row in seed_rows()]
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update(w for w in segmenter.words(row["question"] + row["answer"]) if w not in STOPWORDS)
    words, weights = list(counts), list(counts.values())
    regions = sorted({row["region"] for row in rows})
    out = []
    for n in range(count):
        template = rng.choice(rows)
        ending = rng.choice(["?", "怎么办?", "吗?"])
        question = "".join(rng.choices(words, weights, k=rng.randint(3, 6))) + ending
        answer = ",".join("".join(rng.choices(words, weights, k=rng.randint(2, 5)))
                          for _ in range(rng.randint(4, 9))) + "。"
        out.append((f"syn-{n:06d}", EntryContent(
            question=question, answer=answer, alternatives=[], basis_document=template["basis_document"],
            basis_article=template["basis_article"], unit_id=f"unit-{rng.randint(1, 200):03d}",
            region=rng.choice(regions), is_public=rng.random() < 0.8, tags=[],
            effective_at=datetime(2025, 1, 1, tzinfo=UTC))))
    return out


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


def query_mix(count: int, segmenter: Segmenter) -> list[tuple[str, SearchFilters]]:
    """Held-out questions (half with the agent's region) and 1–2 character queries, shuffled."""
    rng = random.Random(7)
    questions = eval_questions()
    short = [w for w in dict.fromkeys(w for item in questions for w in segmenter.terms(item["q"]))
             if len(w) <= 2]
    mix: list[tuple[str, SearchFilters]] = []
    while len(mix) < count:
        item = rng.choice(questions)
        regions = (item["region"],) if rng.random() < 0.5 else ()
        mix.append((item["q"], SearchFilters(regions=regions)))
        mix.append((rng.choice(short), SearchFilters()))
        mix.append((rng.choice(short)[0], SearchFilters()))
    return mix[:count]


async def bench_engine(name: str, engine: AsyncEngine, segmenter: Segmenter,
                       items: list[tuple[str, EntryContent]], terms: list[dict[str, float]],
                       queries: int) -> dict[str, Any]:
    await upgrade(engine)
    kb = KnowledgeBase(session_factory(engine), segmenter,
                       question_clock=WeekdayClock(default_question_limit()))
    await seed(kb)
    started = time.perf_counter()
    await bulk_load(engine, items, terms)
    load_s = time.perf_counter() - started
    by_region = await measure(kb.search, by_region=True)
    mixed = await measure(kb.search, by_region=False)
    mix = query_mix(queries, segmenter)
    for q, f in mix[:20]:  # warm caches and the connection pool
        await kb.search.search(q, filters=f)
    search_p = await timed([functools.partial(kb.search.search, q, filters=f) for q, f in mix])
    ids = [i for i, _ in random.Random(3).choices(items, k=queries)]

    async def lookup(entry_id: str) -> None:
        async with kb.sessions() as session:
            (await session.execute(select(KbEntry).where(KbEntry.id == entry_id))).scalar_one()

    lookup_p = await timed([functools.partial(lookup, i) for i in ids])
    return {"engine": name, "entries": await kb.count(), "load_s": load_s,
            "r1_region": by_region.recall1, "r5_region": by_region.recall5,
            "r1_mixed": mixed.recall1, "r5_mixed": mixed.recall5,
            "search": search_p, "lookup": lookup_p}


async def run(*, entries: int, queries: int, pg_url: str | None) -> int:
    pg_url = pg_url or os.environ.get("HOTLINE_TEST_PG_URL")
    segmenter = await asyncio.to_thread(Segmenter.load)
    seg_samples = []
    for item in eval_questions():
        start = time.perf_counter()
        segmenter.query_terms(item["q"])
        seg_samples.append((time.perf_counter() - start) * 1e6)
    print(f"generating {entries} synthetic entries from the seed vocabulary, segmenting them …", flush=True)
    started = time.perf_counter()
    items = await asyncio.to_thread(synthetic_entries, segmenter, entries)
    terms = await asyncio.to_thread(lambda: [search_terms(segmenter, c) for _, c in items])
    print(f"  {time.perf_counter() - started:.1f} s, {sum(map(len, terms))} index rows", flush=True)

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            results.append(await bench_engine("SQLite", engine, segmenter, items, terms, queries))
        finally:
            await engine.dispose()
    if pg_url:
        schema = f"kb_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(pg_url, connect_args={"server_settings": {"search_path": schema}})
        try:
            results.append(await bench_engine("PostgreSQL", engine, segmenter, items, terms, queries))
        finally:
            await engine.dispose()
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    else:
        print("PostgreSQL skipped: give --pg-url or set HOTLINE_TEST_PG_URL")

    seg50, seg99 = percentiles(seg_samples)
    print(f"\nquery segmentation (rjieba + hotline terms): p50 {seg50:.0f} µs, p99 {seg99:.0f} µs")
    print(f"held-out questions: {len(eval_questions())}; timed queries per engine: {queries}\n")
    header = (f"{'engine':<11}{'entries':>8}{'load s':>8}{'R@1 reg':>9}{'R@5 reg':>9}{'R@1 mix':>9}"
              f"{'R@5 mix':>9}{'search p50/p99 ms':>20}{'pk lookup p50/p99 ms':>23}{'ratio p50':>11}")
    print(header)
    for r in results:
        s50, s99 = r["search"]
        l50, l99 = r["lookup"]
        print(f"{r['engine']:<11}{r['entries']:>8}{r['load_s']:>8.1f}{r['r1_region']:>9.3f}{r['r5_region']:>9.3f}"
              f"{r['r1_mixed']:>9.3f}{r['r5_mixed']:>9.3f}{f'{s50:.2f} / {s99:.2f}':>20}"
              f"{f'{l50:.3f} / {l99:.3f}':>23}{s50 / l50:>10.1f}x")
    return 0
