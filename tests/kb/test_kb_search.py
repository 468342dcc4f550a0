"""Chinese search: segmented words with the hotline dictionary, 1–2 character queries, filters,
highlighting, fuzzy re-ranking, and suggestions from live transcript text."""

from __future__ import annotations

import pytest

from kb.search import SearchFilters, highlight
from kb.segment import Segmenter
from kb.service import KnowledgeBase
from tests.kb.conftest import publish


def test_hotline_terms_stay_whole_words(segmenter: Segmenter) -> None:
    assert segmenter.terms("知识库一问一答") == ["知识", "知识库", "一问一答"]
    assert "退单" in segmenter.terms("承办单位申请退单")
    assert "首接负责制" in segmenter.terms("实行首接负责制")


def test_query_terms_drop_stopwords_but_keep_a_query_made_only_of_them(segmenter: Segmenter) -> None:
    assert segmenter.query_terms("请问我家停水了怎么办") == ["我家", "停水"]
    assert segmenter.query_terms("怎么") == ["怎么"]
    assert segmenter.query_terms("１２３４５") == ["12345"]  # full-width digits normalised


def test_transcript_fillers_are_dropped(segmenter: Segmenter) -> None:
    assert segmenter.transcript_terms("喂 你好 嗯 那个 就是 我们 小区 停水 了") == ["小区", "停水"]


@pytest.fixture
async def stocked(kb: KnowledgeBase) -> KnowledgeBase:
    await publish(kb, "water", question="小区停水了找哪个单位?", tags=["停水"])
    await publish(kb, "tax", question="个人所得税怎么申报?", answer="通过个人所得税APP办理年度汇算。",
                  alternatives=["个税汇算"], tags=["税务"], unit_id="tax-bureau", region="辽阳市",
                  basis_document="《个人所得税法》", basis_article="第十条")
    await publish(kb, "heating", question="暖气不热向谁反映?", answer="供热企业负责,供热期内24小时受理。",
                  alternatives=[], tags=["供热"], unit_id="heat-company", is_public=False,
                  basis_document="《城市供热管理办法》", basis_article="第十五条")
    return kb


async def ids(kb: KnowledgeBase, query: str, **filters: object) -> list[str]:
    return [h.entry.id for h in await kb.search.search(query, filters=SearchFilters(**filters))]  # type: ignore[arg-type]


async def test_one_and_two_character_queries_find_entries(stocked: KnowledgeBase) -> None:
    assert await ids(stocked, "税") == ["tax"]
    assert await ids(stocked, "暖") == ["heating"]
    assert await ids(stocked, "个税") == ["tax"]
    assert await ids(stocked, "停水") == ["water"]
    assert await ids(stocked, "煤") == []


async def test_a_word_missing_from_the_index_falls_back_to_its_characters(stocked: KnowledgeBase) -> None:
    # "暖气片" is not in any entry, but its characters are in the heating question.
    assert (await ids(stocked, "暖气片坏了"))[:1] == ["heating"]


async def test_filters_by_unit_region_and_public(stocked: KnowledgeBase) -> None:
    assert await ids(stocked, "反映", unit_id="heat-company") == ["heating"]
    assert await ids(stocked, "税", regions=("庆阳市",)) == []
    assert await ids(stocked, "税", regions=("辽阳市", "庆阳市")) == ["tax"]
    assert await ids(stocked, "暖气", public_only=True) == []


async def test_results_carry_basis_and_highlighted_matches(stocked: KnowledgeBase) -> None:
    [hit] = await stocked.search.search("个人所得税申报")
    body = hit.to_dict()
    assert body["basis"] == {"document": "《个人所得税法》", "article": "第十条"}
    assert "<mark>申报</mark>" in body["highlight"]["question"]
    assert "<mark>个人所得税</mark>" in body["highlight"]["answer"]


def test_highlight_escapes_html_and_cuts_a_snippet_around_the_first_match() -> None:
    assert highlight("<b>退单</b>时限", ["退单"]) == "&lt;b&gt;<mark>退单</mark>&lt;/b&gt;时限"
    text = "甲" * 200 + "退单" + "乙" * 200
    snippet = highlight(text, ["退单"], snippet=40)
    assert snippet.startswith("…") and snippet.endswith("…") and "<mark>退单</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 42


async def test_fuzzy_reranking_prefers_the_closest_question(kb: KnowledgeBase) -> None:
    await publish(kb, "a", question="停水多久恢复供水?", answer="一般停水当天恢复。",
                  alternatives=[], tags=[])
    await publish(kb, "b", question="停水要提前通知吗?", answer="计划停水提前公告。",
                  alternatives=[], tags=[])
    assert (await ids(kb, "停水要提前通知吗"))[0] == "b"
    assert (await ids(kb, "停水多久能恢复"))[0] == "a"


async def test_suggest_reads_the_latest_speech_of_a_live_transcript(stocked: KnowledgeBase) -> None:
    transcript = ("喂 你好 我想问一下 嗯 个人所得税 的事 算了 先不说这个 那个 我们 小区 今天 早上 开始 "
                  "一直 停水 了 到现在 还没 来水 应该 找 谁")
    hits = await stocked.search.suggest(transcript)
    assert hits[0].entry.id == "water"
    assert await stocked.search.suggest("嗯 喂 你好") == []
