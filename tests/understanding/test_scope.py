"""Calls a 12345 hotline does not accept are recognised with their reason and evidence; ordinary
requests, including ones that mention courts, money or officials, stay in scope."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from gateway.understanding.emergency_model import FALSE_ALARM_CAP, MAX_CONFIDENCE, ModelHit, NgramModel
from gateway.understanding.scope import ScopeJudge, describe, out_of_scope
from gateway.understanding.scoring import read
from gateway.understanding.vocabulary import load


@pytest.mark.parametrize("text, reason", [
    ("办证窗口那个人说给他三千块钱才能给我批", "discipline"),
    ("我们镇长上班时间在棋牌室打麻将", "discipline"),
    ("我想知道隔壁那家户口上几口人", "secrets_privacy"),
    ("我爸去世了留下的房子我哥一个人占着不给我们分", "private_dispute"),
    ("我姐一分钱不出老娘全是我在养", "private_dispute"),
    ("我在商场门口摔了一跤是商场的责任还是我自己的你们帮我判判", "legal_verdict"),
    ("邻居的鸭子吃了我的菜你们说应该赔多少", "legal_verdict"),
])
def test_reasons_told_without_their_name_are_recognised(text: str, reason: str) -> None:
    found = out_of_scope(text)
    assert found is not None and found.reason == reason


@pytest.mark.parametrize("text", ["去民政局办结婚登记要预约吗", "我要打官司请不起律师法律援助去哪里申请"])
def test_an_appointment_or_legal_aid_stays_in_scope(text: str) -> None:
    assert out_of_scope(text) is None


@pytest.mark.parametrize("text, reason", [
    ("法院已经判了对方不执行你们管一管", "litigation"),
    ("举报我们村支书挪用扶贫款贪污", "discipline"),
    ("我的事信访局已经受理了", "petition"),
    ("想给政协委员递一个提案", "other_organs"),
    ("帮我查一下那个人住在哪里", "secrets_privacy"),
    ("同学借了我三万块钱不还", "private_dispute"),
    ("你们评评理到底是谁的错", "legal_verdict"),
    ("我老家外省那边村里的路坏了", "other_jurisdiction"),
    ("你们都是废物", "harassment"),
    ("美女 你几点下班 出来陪我喝一杯嘛", "harassment"),
    ("你报一下工号 我要骂你一顿", "harassment"),
])
def test_each_reason_is_recognised_with_the_words_that_justify_it(text: str, reason: str) -> None:
    found = out_of_scope(text)
    assert found is not None and found.reason == reason
    assert found.evidence in text and 0 < found.confidence <= 1


@pytest.mark.parametrize("text", [
    "老板拖欠工资三个月了",  # wages owed: 人社, in scope
    "离婚登记要带什么材料",  # a public service
    "我想咨询一下法律援助中心在哪里",
    "退役军人优待证怎么办理",
    "热线电话是多少",
    "路灯坏了三天了",
    "喂喂 听得到吗 我换了个新手机 测试测试",  # a test call is 其他, not turned away
    "哎呀不好意思 打错了 我要打给我儿子的",  # so is a wrong number
    "我们小区想成立业主委员会 要去哪里备案",  # a residents' body, not an organ of state
    "外地来打工的 老板欠了工资跑了",  # the caller comes from elsewhere; the matter is here
])
def test_ordinary_requests_stay_in_scope(text: str) -> None:
    assert out_of_scope(text) is None


def test_abuse_inside_a_real_request_is_still_a_request() -> None:
    assert out_of_scope("你们都是吃干饭的我们小区路灯坏了三个月了一直没人来修到底管不管") is None


def test_each_reason_says_where_to_send_the_caller() -> None:
    assert describe("litigation").label == "涉诉涉法"
    assert "12388" in describe("discipline").redirect


# --- the classifier for wording the phrases do not know -----------------------------------------------

class _Fixed(NgramModel):
    """Stands in for the classifier: sees ``label`` with ``probability`` in any text."""

    def __init__(self, label: str, probability: float) -> None:
        super().__init__({"classes": [label, "none"], "intercept": [0.0, 0.0], "features": {}})
        self.label, self.probability = label, probability

    def predict(self, text: str, threshold: float | None = None) -> ModelHit | None:
        return ModelHit(self.label, self.probability, 0, 2) if self.probability > self.threshold else None


def test_where_no_phrase_matches_the_classifier_gives_its_reason_with_a_low_confidence() -> None:
    judge = ScopeJudge(load("scope.toml"), _Fixed("private_dispute", 0.9))
    found = judge.judge("他拿了我的东西一直不给")
    assert found is not None and found.reason == "private_dispute" and found.confidence <= MAX_CONFIDENCE
    assert found.evidence in "他拿了我的东西一直不给"


def test_the_classifier_is_held_to_each_reasons_guards() -> None:
    assert ScopeJudge(load("scope.toml"), _Fixed("private_dispute", 0.9)).judge("老板拖欠工资三个月了") is None
    long_request = "我打电话来就是想问一下我们小区门口那条路挖开三个多月了到底什么时候能修好"  # > max_chars
    assert ScopeJudge(load("scope.toml"), _Fixed("harassment", 0.9)).judge(long_request) is None


def test_ordinary_calls_are_rarely_judged_out_of_scope() -> None:
    # eval_written.jsonl: 432 ordinary calls written apart from every training set.
    rows = read(Path(__file__).parent / "data" / "eval_written.jsonl")
    judged = [row["text"] for row in rows if out_of_scope(row["text"]) is not None]
    assert len(judged) / len(rows) <= 0.03, judged


def test_the_shipped_classifier_flags_at_most_its_cap_of_ordinary_calls_out_of_fold() -> None:
    weights = json.loads(resources.files("gateway.understanding").joinpath("data", "scope_model.json")
                         .read_text(encoding="utf-8"))
    assert weights["trained_on"] > 2000
    assert weights["out_of_fold"][str(weights["threshold"])]["false_alarm_rate"] <= FALSE_ALARM_CAP


def test_a_callback_asked_for_is_not_someone_elses_number() -> None:
    found = out_of_scope("违建举报三个月了 城管来看了一眼就走了 也没人给我回个电话")
    assert found is None or found.reason != "secrets_privacy"


@pytest.mark.parametrize("text", [
    "我不知道打哪个电话 我家孩子放学到现在没回来",  # no one's details asked for
    "路边贴满了办证的小广告 你们查一下那个电话",
    "外地来玩的 在山上看到有辆车冲出护栏了",  # tourists are in our county
])
def test_asking_about_a_number_or_being_from_elsewhere_is_not_out_of_scope(text: str) -> None:
    found = out_of_scope(text)
    assert found is None or found.reason not in ("secrets_privacy", "other_jurisdiction")


def test_someone_elses_details_asked_for_are_still_private() -> None:
    assert out_of_scope("你们帮我查一下那个房东的电话 他押金不退").reason == "secrets_privacy"


@pytest.mark.parametrize("text", [
    "你们这帮人就知道拿工资 我就是要骂你 打了也没用 你敢挂我电话试试",
    "美女你声音真好听 有没有男朋友 加个微信呗 我没事就想跟你聊",
])
def test_abuse_and_flirting_are_recognised_at_a_phone_calls_length(text: str) -> None:
    found = out_of_scope(text)
    assert found is not None and found.reason == "harassment"


@pytest.mark.parametrize("text", ["我是打给电信的 怎么打到你们这里了", "我一个人在家 没人说话 想找个人聊聊"])
def test_a_wrong_number_or_a_lonely_caller_is_not_harassment(text: str) -> None:
    found = out_of_scope(text)
    assert found is None or found.reason != "harassment"
