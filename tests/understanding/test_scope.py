"""Calls a 12345 hotline does not accept are recognised with their reason and evidence; ordinary
requests, including ones that mention courts, money or officials, stay in scope."""

from __future__ import annotations

import pytest

from gateway.understanding.scope import describe, out_of_scope


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
])
def test_ordinary_requests_stay_in_scope(text: str) -> None:
    assert out_of_scope(text) is None


def test_abuse_inside_a_real_request_is_still_a_request() -> None:
    assert out_of_scope("你们都是吃干饭的我们小区路灯坏了三个月了一直没人来修到底管不管") is None


def test_each_reason_says_where_to_send_the_caller() -> None:
    assert describe("litigation").label == "涉诉涉法"
    assert "12388" in describe("discipline").redirect
