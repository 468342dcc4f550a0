"""The draft interface (`hotline understanding draft`): every field present with its evidence and
confidence; the shipped model trains on first use in seconds; cue words carry unseen wording."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.understanding.pipeline import Understander

DRAFT_KEYS = {
    "text", "category", "matter", "urgency", "emergency", "out_of_scope",
    "place", "time", "people", "organisations", "units",
}  # fmt: skip


@pytest.fixture(scope="module")
def understander(tmp_path_factory) -> Understander:
    return Understander.load(data_dir=tmp_path_factory.mktemp("understanding"))


def test_a_draft_has_every_field_of_the_interface_with_evidence_inside_the_text(understander):
    draft = understander.understand("喂 梅溪镇那边的路灯坏了快一个月了 晚上黑乎乎的")
    assert set(draft) == DRAFT_KEYS
    text = draft["text"]
    for field in ("category", "matter"):
        assert 0 < draft[field]["confidence"] <= 1
    span = draft["matter"]["evidence"]
    assert span is not None and text[span["start"] : span["end"]] == span["text"]
    assert draft["matter"]["code"] == "CJ01"
    assert draft["place"]["levels"]["township"] == "梅溪镇"
    assert 1 <= len(draft["units"]) <= 3 and all(u["reasons"] for u in draft["units"])


def test_a_matter_named_only_by_a_cue_word_misheard_by_the_asr_is_still_found(understander):
    # 电题 is how Vosk hears 电梯; the sentence is worded unlike any corpus line.
    draft = understander.understand("五号楼的电题今天早上又不动了")
    assert draft["matter"]["code"] == "SC05"
    assert draft["matter"]["evidence"]["text"] == "电题"


def test_the_model_file_records_when_and_from_what_it_was_trained(understander):
    meta = understander.model.meta
    assert meta["examples"] >= 2000 and meta["matters"] == 54
    assert datetime.fromisoformat(meta["trained_at"]).tzinfo is not None


def test_an_emergency_is_flagged_with_its_service_and_evidence(understander):
    draft = understander.understand("隔壁家里冒出好大的烟 里面还有老人")
    assert draft["emergency"] is not None and draft["emergency"]["service"] == "119"
    assert draft["urgency"]["value"] == "emergency"


def test_the_call_time_defaults_to_now_in_the_deployment_zone(understander):
    assert understander.zone == ZoneInfo("Asia/Shanghai")


def test_the_published_line_gives_category_and_urgency_as_plain_values_with_their_evidence_beside(understander):
    from gateway.understanding.cli import published

    line = published(understander.understand("我想问一下灵活就业人员的社保在哪里交"))
    assert line["category"] == "咨询" and line["urgency"] == "normal"
    assert set(line["category_detail"]) == {"confidence", "evidence"}
    assert {"code", "name"} <= set(line["matter"]) and set(DRAFT_KEYS) <= set(line)


def _small_model(data_dir, source: str):
    from gateway.understanding.classifier import MODEL_FILE, Example, train
    from gateway.understanding.ner import Tagger

    rows = [("路灯坏了", "投诉", "CJ01"), ("请问水费怎么交", "咨询", "CJ03"), ("路灯不亮好几天", "投诉", "CJ01"),
            ("停水了什么时候来水", "咨询", "CJ03"), ("灯杆倒了", "求助", "CJ01"), ("水管爆了快来人", "求助", "CJ03")]
    model = train([Example(*r) for r in rows], Tagger().tag, source=source, holdout=0.0)
    model.meta["shipped_data"] = "an older version"
    model.save(data_dir / MODEL_FILE)
    return model.meta


@pytest.mark.slow
def test_a_model_trained_on_an_older_shipped_corpus_is_retrained_after_an_upgrade(tmp_path):
    from gateway.understanding.classifier import shipped_data_version

    old = _small_model(tmp_path, "shipped corpus")
    model = Understander.load(data_dir=tmp_path).model
    assert model.meta["shipped_data"] == shipped_data_version() != old["shipped_data"]
    assert model.meta["examples"] > 2000


def test_a_model_the_deployment_trained_on_its_own_tickets_is_kept_after_an_upgrade(tmp_path, caplog):
    mine = _small_model(tmp_path, "shipped corpus, 40 closed tickets (0 without a matter left out)")
    assert Understander.load(data_dir=tmp_path).model.meta == mine
    assert "train --from-tickets" in caplog.text


def test_a_time_phrase_jionlp_cannot_read_is_left_out_without_an_error_in_the_log(understander, caplog):
    draft = understander.understand("厂里让我们每天干十二个小时 工资每个月几号发也不说")
    assert draft["category"]["value"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_the_bench_times_100_character_turns_made_of_consecutive_utterances():
    from gateway.understanding.bench import long_turns

    turns = long_turns(["路灯坏了" * 5, "停水三天了" * 20, "请问怎么办", "垃圾没人收" * 20])
    assert [len(t) >= 100 for t in turns] == [True, True]
    assert turns[0].startswith("路灯坏了") and "停水三天了" in turns[0]


def test_a_matter_in_another_city_the_caller_names_is_that_citys_hotlines(understander):
    out = understander.understand("我在嘉兴桐乡的店里买的冰箱坏了店里不给修")
    assert out["out_of_scope"]["reason"] == "other_jurisdiction"
    assert out["out_of_scope"]["evidence"] in "我在嘉兴桐乡的店里买的冰箱坏了店里不给修"


@pytest.mark.parametrize("text", [
    "我妈在上海住院回来医保怎么报销",  # reimbursed here
    "我在长兴县上班社保怎么转到安吉",  # the same city
    "滨江公园的路灯晚上九点就关了",  # 滨江 is not said as a district
    "县里医院说要去杭州看病我们不晓得怎么转诊",  # a destination, not where the matter is
])
def test_a_place_elsewhere_does_not_turn_away_a_matter_that_is_ours(understander, text):
    assert understander.understand(text)["out_of_scope"] is None


def test_an_emergency_is_never_taken_for_a_call_with_no_request(understander):
    out = understander.understand("喂喂听得到吗 屋里全是烟 门口都是火")
    assert out["emergency"]["service"] == "119"
    assert out["out_of_scope"] is None


def test_a_classifier_suspicion_gives_way_to_an_out_of_scope_reason_its_phrases_found():
    from gateway.understanding.emergency import Emergency
    from gateway.understanding.pipeline import _reconciled
    from gateway.understanding.scope import OutOfScope

    suspicion = Emergency("110", "个人", 0, 2, 0.26, source="classifier")
    heard = Emergency("110", "打我", 0, 2, 0.9)
    quarrel = OutOfScope("private_dispute", "遗产", 0.75)
    assert _reconciled(suspicion, quarrel) == (None, quarrel)
    assert _reconciled(heard, quarrel) == (heard, quarrel)  # words the vocabulary is sure of stand


def test_a_car_burning_on_a_motorway_toward_another_city_is_an_emergency_not_their_business(understander):
    out = understander.understand("高速上有辆车烧起来了 停在应急车道上 往杭州方向")
    assert out["emergency"]["service"] == "122"
    assert out["out_of_scope"] is None


def test_the_evaluation_scores_a_field_only_on_the_cases_that_label_it(understander) -> None:
    from gateway.understanding.evaluate import evaluate

    cases = [
        {"text": "路灯坏了三天了", "category": "投诉", "matter": "CJ01"},
        {"text": "有人晕倒了快来", "category": None, "matter": None, "emergency": "120"},  # null: not labelled
    ]
    result = evaluate(understander, cases)
    assert result["totals"]["category"] == result["totals"]["matter"] == 1


def test_the_evaluation_counts_an_emergency_sent_to_another_service_as_found_but_not_as_right(understander) -> None:
    from gateway.understanding.evaluate import evaluate

    cases = [{"text": "他倒在地上不动了 叫也叫不醒 快来人", "emergency": "110", "out_of_scope": None}]
    result = evaluate(understander, cases)
    hits, totals = result["hits"], result["totals"]
    assert totals["emergency:any:positives"] == totals["emergency:110:positives"] == 1
    assert hits["emergency:any:recall"] == 1  # flagged: a human hears it at once
    assert hits.get("emergency:110:recall", 0) == 0  # but not to the labeller's service
    assert totals["emergency:any:flagged"] == hits["emergency:any:precision"] == 1


def test_another_county_of_our_own_city_is_that_countys_business(understander) -> None:
    # 德清 is in 湖州 like 安吉, but a county hotline answers for its county.
    scope = understander.understand("德清那边的一条路坑坑洼洼的 你们叫人修一下")["out_of_scope"]
    assert scope is not None and scope["reason"] == "other_jurisdiction"
    assert understander.understand("我去德清那边看病 回来医保怎么报")["out_of_scope"] is None


def test_a_classifiers_guess_of_another_jurisdiction_gives_way_when_the_call_names_our_county(
        understander, monkeypatch):
    from gateway.understanding import pipeline
    from gateway.understanding.scope import OutOfScope

    guess = OutOfScope("other_jurisdiction", "我在", 0.22)  # what the n-gram classifier gives, ≤ 0.55
    monkeypatch.setattr(pipeline, "out_of_scope", lambda text: guess)
    assert understander.understand("我在长兴上班 社保怎么转到安吉")["out_of_scope"] is None
    assert understander.understand("我在长兴上班 社保怎么转过来")["out_of_scope"]["reason"] == "other_jurisdiction"


def test_our_county_named_as_who_the_caller_is_or_where_they_came_back_to_is_not_where_the_matter_is():
    from gateway.understanding.pipeline import _names_as_here

    assert _names_as_here("我在安吉上班 社保怎么转过来", "安吉")
    assert not _names_as_here("我是安吉人 现在在杭州上班", "安吉")
    assert not _names_as_here("去宁波旅游被宰了 现在回安吉了", "安吉")
