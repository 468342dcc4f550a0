"""Draft extraction from Chinese transcripts: each field, with the words that justify it."""

from __future__ import annotations

import pytest

from gateway.speech.extract import Draft, DraftField, Segmenter, extract_draft
from gateway.speech.lexicon import Lexicon, ResponsibilityList


@pytest.fixture(scope="module")
def extract() -> object:
    segmenter, lexicon, duties = Segmenter(), Lexicon.load(), ResponsibilityList.load()

    def run(text: str, lex: Lexicon | None = None) -> Draft:
        return extract_draft(text, lexicon=lex or lexicon, duties=duties, segmenter=segmenter)

    return run


def evidence_is_honest(text: str, field: DraftField) -> None:
    for ev in field.evidence:
        assert text[ev.start : ev.end] == ev.text


STREETLIGHT = (
    "喂你好，我想投诉一下，我家在城关镇幸福路二十三号，门口的路灯坏了三天了，晚上黑乎乎的，老人出门很危险。"
)


def test_a_broken_streetlight_complaint(extract) -> None:
    d = extract(STREETLIGHT)
    assert d.category.value == "投诉"
    assert [e.text for e in d.category.evidence] == ["投诉"]
    assert d.urgency.value == "urgent" and [e.text for e in d.urgency.evidence] == ["危险"]
    assert d.place is not None
    assert d.place.value == {"street": "城关镇", "road": "幸福路23号", "text": "城关镇幸福路23号"}
    assert d.place.evidence[0].text == "城关镇幸福路二十三号"
    assert [(t.value["normalised"], t.value["kind"]) for t in d.times] == [
        ("3天了", "duration"),
        ("晚上", "point"),
    ]
    assert d.unit is not None and d.unit.value == "县城市管理局"
    assert [e.text for e in d.unit.evidence] == ["路灯"]
    assert d.summary.value.startswith("【投诉】来电人反映：我想投诉一下，我家在城关镇幸福路二十三号")
    assert "喂" not in d.summary.value
    assert d.flags == {}
    for f in [d.category, d.urgency, d.place, d.unit, d.summary, *d.times]:
        evidence_is_honest(STREETLIGHT, f)


def test_a_full_address_with_numerals_read_digit_by_digit(extract) -> None:
    text = "杭州市西湖区文三路街道学院路社区翠苑一区十二幢三单元五零二室漏水两个星期了，物业公司不给修"
    d = extract(text)
    assert d.place is not None
    assert d.place.value["city"] == "杭州市"
    assert d.place.value["district"] == "西湖区"
    assert d.place.value["street"] == "文三路街道"
    assert d.place.value["community"] == "学院路社区"
    assert d.place.value["building"] == "翠苑1区12幢3单元502室"
    assert [o.value for o in d.organisations] == ["物业公司"]
    assert d.people == []  # 翠苑 is tagged as a name by the segmenter but sits inside the address
    assert d.unit is not None and d.unit.value == "县住房和城乡建设局"
    assert d.times[0].value["normalised"] == "2个星期了"


def test_people_organisations_and_a_point_in_time(extract) -> None:
    text = "我是张建国，昨天下午三点在人民医院门口被电动车撞了，交警大队不管"
    d = extract(text)
    assert [p.value for p in d.people] == ["张建国"]
    assert [o.value for o in d.organisations] == ["人民医院", "交警大队"]
    assert [(t.value["normalised"], t.value["kind"]) for t in d.times] == [("昨天下午3点", "point")]
    for f in [*d.people, *d.organisations, *d.times]:
        evidence_is_honest(text, f)


def test_an_enquiry_goes_to_the_unit_named_by_the_matter(extract) -> None:
    d = extract("你好，我想咨询一下，孩子入学需要什么材料，在哪里办")
    assert d.category.value == "咨询"
    assert d.urgency.value == "normal"
    assert d.unit is not None and d.unit.value == "县教育局"
    assert d.place is None


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("楼下饭店着火了，冒黑烟，快来人啊，在新华街道光明社区", "119"),
        ("我爸突然晕倒了，叫不醒，在幸福路", "120"),
        ("路口两辆车追尾了，有人受伤", "122"),
        ("有人拿刀在小区门口打架", "110"),
    ],
)
def test_emergencies_are_flagged_with_their_service(extract, text: str, service: str) -> None:
    d = extract(text)
    assert d.flags["emergency"].value["key"] == service
    assert d.urgency.value == "emergency"
    evidence_is_honest(text, d.flags["emergency"])


def test_fire_emergency_still_names_the_local_unit_by_place(extract) -> None:
    d = extract("楼下饭店着火了，冒黑烟，快来人啊，在新华街道光明社区")
    assert d.category.value == "求助"
    assert d.unit is not None and d.unit.value == "新华街道办事处"
    assert "着火" in d.summary.value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("我跟公司的劳动纠纷已经申请劳动仲裁了，想问问进度", "arbitration"),
        ("法院判决都下来了，对方就是不执行，我要起诉", "litigation"),
        ("我要去信访局上访", "petition"),
        ("我举报我们村支书贪污受贿", "discipline"),
    ],
)
def test_out_of_scope_matters_are_flagged(extract, text: str, reason: str) -> None:
    assert extract(text).flags["out_of_scope"].value["key"] == reason


def test_a_policy_pack_can_supply_its_own_out_of_scope_list(extract) -> None:
    text = "我要投诉物业乱收停车费"
    assert "out_of_scope" not in extract(text).flags
    pack = Lexicon.load().with_pack(
        out_of_scope={"parking": {"label": "停车收费（本地由价格主管部门热线受理）", "keywords": ["停车费"]}}
    )
    flagged = extract(text, pack).flags["out_of_scope"]
    assert flagged.value == {"key": "parking", "label": "停车收费（本地由价格主管部门热线受理）"}
    assert [e.text for e in flagged.evidence] == ["停车费"]


def test_asr_homophones_still_reach_the_right_unit(extract) -> None:
    d = extract("我家门口的路等坏了好几天")  # 路灯 recognised as 路等
    assert d.unit is not None and d.unit.value == "县城市管理局"
    assert [e.text for e in d.unit.evidence] == ["路等"]
    assert d.times[0].value["normalised"] == "好几天"


def test_praise_and_suggestion(extract) -> None:
    assert extract("我想表扬一下城管局的王师傅，路灯修得很快").category.value == "致谢"
    assert extract("我建议在幸福路口增设一个公交站").category.value == "建议"


def test_nothing_recognisable_is_other_with_the_text_as_summary(extract) -> None:
    d = extract("嗯嗯好的")
    assert d.category.value == "其他"
    assert d.unit is None and d.place is None
    assert "嗯嗯好的" in d.summary.value


def test_the_draft_is_json_ready(extract) -> None:
    data = extract(STREETLIGHT).as_dict()
    assert data["place"]["evidence"] == [{"start": 14, "end": 24, "text": "城关镇幸福路二十三号"}]
    assert data["category"] == {"value": "投诉", "evidence": [{"start": 6, "end": 8, "text": "投诉"}]}
