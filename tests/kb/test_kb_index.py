"""The in-memory search index: ranks exactly like the SQL scoring it replaces, and stays current with
this instance's writes at once and with other instances' writes at its next revision check."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import session_factory
from kb.evaluate import eval_questions
from kb.search import Hit, SearchEngine, SearchFilters
from kb.seed import seed
from kb.segment import Segmenter
from kb.service import KnowledgeBase
from tests.kb.conftest import ADMIN, Clock, WorkingDayCalendar, content, publish


def instance(engine: AsyncEngine, segmenter: Segmenter, clock: Clock, check_every: float) -> KnowledgeBase:
    """Another gateway instance on the same database."""
    kb = KnowledgeBase(session_factory(engine), segmenter, question_clock=WorkingDayCalendar(2), clock=clock)
    kb.search.check_every = check_every
    return kb


async def ids(engine: SearchEngine, query: str, **filters: object) -> list[str]:
    return [h.entry.id for h in await engine.search(query, filters=SearchFilters(**filters))]  # type: ignore[arg-type]


def ranking(hits: list[Hit]) -> list[tuple[float, list[str]]]:
    """Scores (as shown: 4 decimals) in order, each with its entries. Entries whose scores differ only in
    the last float bits may come in either order (the database sums in its own order); the last group
    is dropped, as the limit may cut it anywhere."""
    groups: dict[float, list[str]] = {}
    for hit in hits:
        groups.setdefault(round(hit.score, 4), []).append(hit.entry.id)
    return [(score, sorted(ids)) for score, ids in groups.items()][:-1]


async def test_the_index_ranks_every_held_out_question_as_sql_does(
    kb: KnowledgeBase, engine: AsyncEngine, segmenter: Segmenter, clock: Clock
) -> None:
    await seed(kb)
    in_sql = SearchEngine(kb.sessions, segmenter, clock, in_memory=False)
    for item in eval_questions():
        for regions in [(), (item["region"],)]:
            memory = await kb.search.search(item["q"], filters=SearchFilters(regions=regions))
            sql = await in_sql.search(item["q"], filters=SearchFilters(regions=regions))
            assert ranking(memory) == ranking(sql), item["q"]
    for query in ["热线", "工单", "延", "12345", "单"]:  # short and common terms, ties broken by id
        assert await ids(kb.search, query) == await ids(in_sql, query), query


async def test_this_instances_writes_are_searchable_at_once(kb: KnowledgeBase) -> None:
    kb.search.check_every = 3600  # no periodic check: the write itself must bring the index up to date
    await publish(kb, "water", question="小区停水了找哪个单位?")
    assert await ids(kb.search, "停水") == ["water"]
    await publish(kb, "heating", question="暖气不热向谁反映?", tags=["供热"])
    assert await ids(kb.search, "暖气") == ["heating"]
    change = await kb.submit(ADMIN, "retire", entry_id="water", publish=True)
    assert change.status == "approved"
    assert "water" not in await ids(kb.search, "停水")


async def test_another_instance_catches_up_at_its_revision_check(
    kb: KnowledgeBase, engine: AsyncEngine, segmenter: Segmenter, clock: Clock
) -> None:
    lagging = instance(engine, segmenter, clock, check_every=3600)
    checking = instance(engine, segmenter, clock, check_every=0)
    await lagging.search.warm()
    await checking.search.warm()
    await publish(kb, "water", question="小区停水了找哪个单位?")
    assert await ids(checking.search, "停水") == ["water"]
    assert await ids(lagging.search, "停水") == []  # not checked yet: the revision check is what updates
    lagging.search.check_every = 0
    assert await ids(lagging.search, "停水") == ["water"]

    await kb.submit(
        ADMIN,
        "update",
        entry_id="water",
        publish=True,
        content=content(question="家里没有自来水了怎么办?", alternatives=[], tags=[]),
    )
    assert await ids(checking.search, "自来水") == ["water"]
    assert await ids(checking.search, "小区") == []  # the old version's terms are gone
    await kb.submit(ADMIN, "retire", entry_id="water", publish=True)
    assert await ids(checking.search, "自来水") == []


async def test_an_entry_leaves_results_when_it_expires_without_any_write(kb: KnowledgeBase, clock: Clock) -> None:
    await publish(kb, "water", question="小区停水了找哪个单位?", expires_at="2026-11-21T00:00:00+08:00")
    assert await ids(kb.search, "停水") == ["water"]
    clock.advance(days=2)
    assert await ids(kb.search, "停水") == []


async def test_searches_run_in_sql_until_the_index_is_built(
    kb: KnowledgeBase, engine: AsyncEngine, segmenter: Segmenter, clock: Clock
) -> None:
    await publish(kb, "water", question="小区停水了找哪个单位?")
    cold = instance(engine, segmenter, clock, check_every=3600)
    assert await ids(cold.search, "停水") == ["water"]  # answered by SQL while the build starts
    await cold.search.warm()
    assert await ids(cold.search, "停水") == ["water"]
