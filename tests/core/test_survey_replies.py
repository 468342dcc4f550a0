"""Citizens answer surveys in many ways; each is understood or honestly not."""

import pytest

from gateway.surveys.replies import parse_reply
from gateway.tickets.schemas import SatisfactionLevel as L


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("1", L.VERY_SATISFIED), ("2", L.SATISFIED), ("３", L.BASICALLY_SATISFIED), ("４", L.DISSATISFIED),
        (" 5 ", L.VERY_DISSATISFIED), ("回复2", L.SATISFIED), ("2 谢谢你们", L.SATISFIED),
        ("我选4。", L.DISSATISFIED), ("满意", L.SATISFIED), ("非常满意！", L.VERY_SATISFIED),
        ("基本满意吧", L.BASICALLY_SATISFIED), ("不满意", L.DISSATISFIED), ("非常不满意", L.VERY_DISSATISFIED),
        ("不太满意，路灯还是不亮", L.DISSATISFIED), ("很不满意", L.VERY_DISSATISFIED),
        ("问题没有解决", L.DISSATISFIED), ("【回复】1【结束】", L.VERY_SATISFIED), ("满意 2", L.SATISFIED),
    ],
)
def test_understood(text: str, level: L) -> None:
    assert parse_reply(text) is level


@pytest.mark.parametrize("text", ["", "   ", "你好", "6", "12345", "1 或 4", "满意 5", "13800138000", "0"])
def test_not_understood(text: str) -> None:
    assert parse_reply(text) is None
