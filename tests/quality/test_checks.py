"""Each check on a small call written for it: the fault is found with its evidence and time, and the
near miss beside it (announced, handled, reworded) is not."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from gateway.quality.checks import Finding, Material, Mentions, Segment, TicketFacts, inspect, score
from gateway.quality.rules import Rules
from tests.tickets.support import SH

RULES = Rules.load()
AT = datetime(2026, 11, 18, 10, 0, tzinfo=SH)


def call(*lines: tuple[str, float, float, str], **fields: object) -> Material:
    segments = tuple(Segment(speaker, start, end, text) for speaker, start, end, text in lines)
    return Material(call_id="c1", segments=segments, call_time=AT, **fields)  # type: ignore[arg-type]


GOOD = call(("agent", 1, 4, "您好，12345热线，请讲。"),
            ("citizen", 5, 9, "我想问一下医保怎么报销"),
            ("agent", 10, 14, "好的，您慢慢说。"),
            ("agent", 15, 19, "感谢您的来电，再见。"))
TICKET = TicketFacts(number="T1", category="consultation", urgent=False, content="咨询医保报销")


def checks(material: Material, extract: object = None) -> set[str]:
    return {f.check for f in inspect(material, RULES, extract)}  # type: ignore[arg-type]


def test_a_well_handled_call_has_no_findings_and_scores_100() -> None:
    findings = inspect(replace(GOOD, ticket=TICKET), RULES)
    assert findings == [] and score(findings, RULES) == 100.0


def test_missing_greeting_and_closing() -> None:
    rude = call(("agent", 1, 3, "喂，说吧。"), ("citizen", 4, 8, "我家停水了"), ("agent", 9, 11, "知道了。"))
    found = {f.check: f for f in inspect(rude, RULES)}
    assert set(found) == {"greeting", "closing"}
    assert (found["greeting"].text, found["greeting"].start) == ("喂，说吧。", 1)


def test_forbidden_words_from_the_editable_list_with_their_time() -> None:
    bad = call(*[(s.speaker, s.start, s.end, s.text) for s in GOOD.segments[:3]],
               ("agent", 12, 16, "这个不归我们管，你打别的电话"), ("agent", 17, 19, "感谢您的来电，再见。"))
    (finding,) = inspect(bad, RULES)
    assert (finding.check, finding.severity, finding.start, finding.end) == ("forbidden_words", "high", 12, 16)
    custom = replace(RULES, forbidden=("别的电话",))
    assert [f.message for f in inspect(bad, custom)] == ["服务禁语：别的电话"]


def test_talking_over_the_citizen_from_the_legs_timings() -> None:
    over = call(("agent", 1, 4, "您好，请讲。"), ("citizen", 5, 12, "我跟你说那个路灯坏了好几天了"),
                ("agent", 7, 10, "你先别说了"), ("agent", 13, 15, "感谢您的来电，再见。"))
    (finding,) = inspect(over, RULES)
    assert (finding.check, finding.start, finding.end) == ("talk_over", 7, 10)
    # A short "嗯" overlapping half a second is listening, not talking over.
    listening = call(("agent", 1, 4, "您好，请讲。"), ("citizen", 5, 12, "我跟你说那个路灯坏了好几天了"),
                     ("agent", 7, 7.5, "嗯"), ("agent", 13, 15, "感谢您的来电，再见。"))
    assert checks(listening) == set()


def test_a_long_silence_is_found_unless_the_agent_announced_it() -> None:
    silent = call(("agent", 1, 4, "您好，请讲。"), ("citizen", 5, 8, "医保怎么报销"), ("agent", 9, 10, "嗯。"),
                  ("agent", 40, 44, "感谢您的来电，再见。"))
    (finding,) = inspect(silent, RULES)
    assert (finding.check, finding.start, finding.end) == ("long_silence", 10, 40)
    announced = call(("agent", 1, 4, "您好，请讲。"), ("citizen", 5, 8, "医保怎么报销"),
                     ("agent", 9, 10, "请稍等，我帮您查一下。"), ("agent", 40, 44, "感谢您的来电，再见。"))
    assert checks(announced) == set()


def test_holds_and_an_unannounced_transfer() -> None:
    assert checks(replace(GOOD, holds=3, on_hold_seconds=60)) == {"holds"}
    assert checks(replace(GOOD, holds=1, on_hold_seconds=200)) == {"holds"}
    assert checks(replace(GOOD, holds=1, on_hold_seconds=40)) == set()
    assert checks(replace(GOOD, transferred=True)) == {"transfer_unannounced"}
    told = call(*[(s.speaker, s.start, s.end, s.text) for s in GOOD.segments],
                ("agent", 20, 24, "我帮您转接到医保专线，请不要挂机"), transferred=True)
    assert checks(told) == set()


def ticket_call(citizen: str, ticket: TicketFacts, **fields: object) -> Material:
    return call(("agent", 1, 4, "您好，12345热线，请讲。"), ("citizen", 5, 12, citizen),
                ("agent", 13, 15, "感谢您的来电，再见。"), ticket=ticket, **fields)


def test_a_category_lowered_against_the_citizens_words() -> None:
    lowered = ticket_call("我要投诉物业，电梯坏了一个月", replace(TICKET, category="consultation"))
    (finding,) = inspect(lowered, RULES)
    assert (finding.check, finding.speaker, finding.start) == ("category_lowered", "citizen", 5)
    assert checks(ticket_call("我要投诉物业，电梯坏了一个月", replace(TICKET, category="complaint"))) == set()


def test_urgency_and_emergencies() -> None:
    assert checks(ticket_call("楼道里很危险，赶紧派人来", TICKET)) == {"urgency_lowered"}
    assert checks(ticket_call("楼道里很危险，赶紧派人来", replace(TICKET, urgent=True))) == set()
    gas = "我家厨房煤气泄漏了，味道很大"
    assert checks(ticket_call(gas, TICKET)) == {"emergency_unhandled"}
    assert checks(ticket_call(gas, TICKET, emergency_handled=True)) == set()


def test_an_out_of_scope_matter_accepted_but_not_one_refused() -> None:
    court = "法院判决我不服，想让你们帮我改判"
    assert checks(ticket_call(court, TICKET)) == {"out_of_scope_accepted"}
    assert checks(ticket_call(court, replace(TICKET, rejected=True))) == set()


def fake_extract(text: str, when: datetime) -> Mentions:
    """Stands in for the LAC reading (tests/quality/test_eval_set.py runs the real one)."""
    places = [p for p in ("阳光小区5栋",) if p in text]
    times = [t for t in ("昨天晚上八点", "晚上") if t in text]
    people = [p for p in ("王建国",) if p in text]
    return Mentions(places, times, people)


def test_a_place_time_or_person_said_but_missing_from_the_ticket() -> None:
    said = "阳光小区5栋昨天晚上八点路灯坏了，我邻居王建国也看到了"
    complete = replace(TICKET, content="阳光小区5栋路灯损坏，昨天晚上八点发现，证人王建国")
    assert checks(ticket_call(said, complete), fake_extract) == set()
    bare = replace(TICKET, content="路灯损坏")
    assert checks(ticket_call(said, bare), fake_extract) == {"place_missing", "time_missing", "person_missing"}
    vague = ticket_call("晚上路灯不亮", bare)  # "晚上" says when it happens, not a moment to record
    assert checks(vague, fake_extract) == set()


KB = (("kb-1", "医保异地就医需先办理备案，一般3个工作日内办结，不需要到窗口办理。"),
      ("kb-2", "小学报名一般为每年6月，不收费。"))


def answered(reply: str) -> Material:
    return ticket_call("医保异地备案怎么办", replace(TICKET, resolved_on_call=True, reply_text=reply), kb_answers=KB)


def test_an_on_call_answer_that_contradicts_the_kb_entry_it_quotes() -> None:
    assert checks(answered("您在网上备案就行，一般三个工作日办好，不需要到窗口。")) == set()  # reworded, same facts
    (number,) = inspect(answered("一般10个工作日内办结，不需要到窗口办理。"), RULES)
    assert number.check == "answer_contradicts_kb" and "kb-1" in number.message and "10" in number.message
    (polarity,) = inspect(answered("一般3个工作日内办结，需要到窗口办理。"), RULES)
    assert polarity.check == "answer_contradicts_kb" and "需要" in polarity.message
    assert checks(answered("这个您可以去社保局问问。")) == set()  # not quoted from any entry


def test_a_transfer_announced_as_the_last_words_stands_in_for_the_farewell() -> None:
    handed = call(("agent", 1, 4, "您好，12345热线，请讲。"), ("citizen", 5, 9, "我家燃气表不走了"),
                  ("agent", 10, 14, "我给您连线燃气公司，请别挂机"), transferred=True)
    assert checks(handed) == set()
    dropped = call(("agent", 1, 4, "您好，12345热线，请讲。"), ("citizen", 5, 9, "我家燃气表不走了"),
                   ("agent", 10, 11, "好。"), transferred=True)
    assert checks(dropped) == {"transfer_unannounced", "closing"}


def test_a_silence_announced_in_other_words_or_asked_for_by_the_citizen() -> None:
    for speaker, words in (("agent", "您稍等，我核实一下"), ("citizen", "你等一下，我去拿户口本")):
        paused = call(("agent", 1, 4, "您好，请讲。"), ("citizen", 5, 8, "我想办个证明"), (speaker, 9, 12, words),
                      ("agent", 40, 44, "感谢您的来电，再见。"))
        assert checks(paused) == set(), speaker
    unannounced = call(("agent", 1, 4, "您好，请讲。"), ("citizen", 5, 8, "你等一下"), ("agent", 9, 10, "嗯。"),
                       ("agent", 40, 44, "感谢您的来电，再见。"))
    assert checks(unannounced) == {"long_silence"}


def test_a_category_word_said_of_a_past_case_or_asked_about_does_not_name_the_call() -> None:
    consult = replace(TICKET, category="consultation")
    assert checks(ticket_call("去年举报过一次，想问问结果", consult)) == set()
    assert checks(ticket_call("想了解一下投诉噪音找谁", consult)) == set()
    assert checks(ticket_call("我要投诉，这事到底找谁", consult)) == {"category_lowered"}


def test_urgency_in_other_words_but_not_negated() -> None:
    assert checks(ticket_call("家里没水了我们很着急", TICKET)) == {"urgency_lowered"}
    assert checks(ticket_call("不着急，您慢慢查", TICKET)) == set()


def test_habitual_and_whole_year_times_are_not_facts_the_ticket_must_carry() -> None:
    def extract(text: str, when: datetime) -> Mentions:
        return Mentions([], [t for t in ("每晚晚上", "前年", "昨天晚上八点") if t in text], [])

    bare = replace(TICKET, content="路灯损坏")
    assert checks(ticket_call("每晚晚上路灯都不亮，前年就这样", bare), extract) == set()
    assert checks(ticket_call("昨天晚上八点路灯不亮", bare), extract) == {"time_missing"}


def test_kb_units_and_polarity_are_read_in_their_other_forms() -> None:
    kb = (("kb-9", "公共浴室水温不低于38摄氏度，需本人预约，周一闭馆。"), KB[1])
    reply = "公共浴室水温不低于35度，需本人预约，周一闭馆。"
    heat = ticket_call("浴室水温多少", replace(TICKET, resolved_on_call=True, reply_text=reply), kb_answers=kb)
    assert checks(heat) == {"answer_contradicts_kb"}
    proxy = "公共浴室水温不低于38度，无需本人预约，周一闭馆。"
    by_proxy = ticket_call("浴室水温多少", replace(TICKET, resolved_on_call=True, reply_text=proxy), kb_answers=kb)
    assert checks(by_proxy) == {"answer_contradicts_kb"}
    same = "公共浴室水温不低于38度，需要本人预约，周一闭馆。"
    reworded = ticket_call("浴室水温多少", replace(TICKET, resolved_on_call=True, reply_text=same), kb_answers=kb)
    assert checks(reworded) == set()


def test_the_score_is_the_documented_weighted_sum() -> None:
    findings = [Finding("forbidden_words", "high", ""), Finding("greeting", "low", "")]
    expected = 100 - RULES.weights["forbidden_words"] * 1.5 - RULES.weights["greeting"] * 0.5
    assert score(findings, RULES) == pytest.approx(expected)
    assert score([Finding("emergency_unhandled", "high", "")] * 3, RULES) == 0.0


def test_the_rules_file_is_checked_when_loaded(tmp_path: object) -> None:
    from pathlib import Path

    from gateway.errors import ConfigError

    broken = Path(str(tmp_path)) / "rules.toml"
    broken.write_text("[conduct]\ngreeting = ['您好']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules\.toml"):
        Rules.load(broken)
