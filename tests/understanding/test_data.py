"""The shipped corpus and the held-out evaluation set, as the issue specifies them."""

import json
from collections import Counter
from pathlib import Path

from gateway.understanding.classifier import read_corpus
from gateway.understanding.taxonomy import Taxonomy

EVAL = Path(__file__).parent / "data" / "eval.jsonl"


def test_the_taxonomy_has_two_levels_and_at_least_40_matters():
    tax = Taxonomy.load()
    assert len(tax.matters) >= 40
    assert all(m.domain and m.name for m in tax.matters.values())
    assert tax.categories == ("咨询", "求助", "投诉", "举报", "建议", "致谢", "其他")


def test_the_corpus_has_1500_utterances_over_every_category_and_40_matters():
    corpus = read_corpus()
    assert len(corpus) >= 1500
    assert set(Counter(e.category for e in corpus)) == set(Taxonomy.load().categories)
    assert len({e.matter for e in corpus}) >= 40
    assert not any(ch in e.text for e in corpus for ch in "，。？！")  # unpunctuated, like ASR output


def test_no_evaluation_text_is_in_the_training_corpus():
    trained = {e.text for e in read_corpus()}
    evaluated = [json.loads(line)["text"] for line in EVAL.read_text(encoding="utf-8").splitlines()]
    assert len(evaluated) >= 300
    assert not trained.intersection(evaluated)
