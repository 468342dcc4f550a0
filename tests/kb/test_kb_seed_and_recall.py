"""The starter entries built from the regulations, and search quality on held-out paraphrased questions.

Thresholds: measured on this set with the shipped entries (SQLite and PostgreSQL give the same ranking):
filtered to the agent's region, recall@1 = 0.879 and recall@5 = 1.000; unfiltered (five regions mixed),
recall@1 = 0.655 and recall@5 = 0.966. The asserts sit a little below, so a real regression fails."""

from __future__ import annotations

from kb.evaluate import eval_questions, measure
from kb.seed import seed, seed_rows
from kb.service import KnowledgeBase
from kb.transfer import check_rows
from tests.kb.conftest import AGENT


def test_every_seed_entry_is_valid_and_names_its_basis() -> None:
    checked = check_rows(seed_rows())
    assert checked.rejected == []
    assert len(checked.valid) >= 50
    for row in checked.valid:
        assert row.content.basis_document.startswith("《") and row.content.basis_article
    regions = {row.content.region for row in checked.valid}
    assert regions == {"楚雄州", "河南省", "庆阳市", "辽阳市", "汉滨区"}


def test_the_held_out_questions_are_worded_apart_from_the_entries() -> None:
    phrasings = {row["question"] for _, row in seed_rows()} | {
        alt for _, row in seed_rows() for alt in row["alternatives"]}
    ids = {row["id"] for _, row in seed_rows()}
    for item in eval_questions():
        assert item["expected"] in ids
        assert item["q"] not in phrasings and item["q"] + "?" not in phrasings


async def test_seeding_fills_an_empty_knowledge_base_once(kb: KnowledgeBase) -> None:
    report = await seed(kb)
    assert report is not None and report.rejected == [] and len(report.imported) == len(seed_rows())
    assert await seed(kb) is None  # not empty any more
    again = await seed(kb, only_if_empty=False)
    assert again is not None and again.imported == [] and len(again.unchanged) == len(seed_rows())
    entry = await kb.entry(AGENT, "qy-limits")
    assert "2个工作日" in entry["answer"] and entry["basis_article"] == "第二十一条第(一)项"


async def test_recall_on_held_out_questions(kb: KnowledgeBase) -> None:
    await seed(kb)
    by_region = await measure(kb.search, by_region=True)
    mixed = await measure(kb.search, by_region=False)
    assert by_region.total == mixed.total >= 50
    assert by_region.recall1 >= 0.82, by_region.misses
    assert by_region.recall5 >= 0.96, by_region.misses
    assert mixed.recall1 >= 0.60, mixed.misses
    assert mixed.recall5 >= 0.92, mixed.misses
