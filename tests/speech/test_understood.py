"""The live draft carries the trained understanding pipeline's fields once it is loaded: category,
matter, place, urgency, the top-3 units with reasons and the emergency flag, each with evidence (spans
of the draft's own text) and confidence; the word-list draft stands in while it loads or if it fails."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.speech.drafts import DraftBuilder
from gateway.speech.extract import Segmenter
from gateway.speech.lexicon import Lexicon, ResponsibilityList

SAID = "嗯那个递铺街道胜利西路的路灯坏了半个月了没人修"


class FakeUnderstander:
    """What gateway.understanding.pipeline.Understander.understand returns, on its normalised text
    (the filler 嗯 dropped, so its offsets are one less than the draft's)."""

    def __init__(self, *, fail: bool = False, emergency: bool = False) -> None:
        self.fail = fail
        self.emergency = emergency
        self.texts: list[str] = []

    def understand(self, text: str) -> dict[str, Any]:
        self.texts.append(text)
        if self.fail:
            raise RuntimeError("model file corrupt")
        said = text.removeprefix("嗯")
        at = said.find
        return {
            "text": said,
            "category": {
                "value": "投诉",
                "confidence": 0.96,
                "evidence": {"start": at("半个月了"), "end": at("半个月了") + 4, "text": "半个月了"},
            },
            "matter": {
                "code": "CJ01",
                "name": "路灯照明",
                "domain": "城乡建设",
                "confidence": 0.8,
                "evidence": {"start": at("路灯"), "end": at("路灯") + 2, "text": "路灯"},
                "alternatives": [],
            },
            "urgency": {"value": "normal", "evidence": None, "confidence": 0.6},
            "emergency": {"service": "119", "evidence": "着火", "start": 0, "end": 2, "confidence": 0.9, "others": []}
            if self.emergency
            else None,
            "out_of_scope": None,
            "place": {
                "text": "递铺街道胜利西路",
                "levels": {"county": "安吉县", "township": "递铺街道", "road": "胜利西路"},
                "evidence": {"start": at("递铺"), "end": at("递铺") + 8, "text": "递铺街道胜利西路"},
                "confidence": 0.85,
            },
            "time": [],
            "people": [],
            "organisations": [],
            "units": [
                {"name": "县综合行政执法局", "score": 0.801, "reasons": ["职责清单：路灯照明", "辖区：递铺街道"]},
                {"name": "孝丰镇人民政府", "score": 0.12, "reasons": ["职责清单：路灯照明", "不在其辖区（递铺街道）"]},
            ],
        }


@pytest.fixture(scope="module")
def parts() -> dict[str, object]:
    return {"lexicon": Lexicon.load(), "duties": ResponsibilityList.load(), "segmenter": Segmenter()}


async def test_the_draft_shows_the_pipelines_fields_with_evidence_in_the_drafts_own_text(parts) -> None:
    builder = DraftBuilder(**parts, understander=FakeUnderstander())
    data = (await builder.build(SAID, call_key="c1")).as_dict()
    assert data["category"]["value"] == "投诉" and data["category"]["confidence"] == 0.96
    [evidence] = data["category"]["evidence"]
    assert SAID[evidence["start"] : evidence["end"]] == "半个月了"
    assert data["matter"]["value"] == {"code": "CJ01", "name": "路灯照明", "domain": "城乡建设"}
    assert [SAID[e["start"] : e["end"]] for e in data["matter"]["evidence"]] == ["路灯"]
    assert data["place"]["value"]["township"] == "递铺街道" and data["place"]["value"]["text"] == "递铺街道胜利西路"
    assert [SAID[e["start"] : e["end"]] for e in data["place"]["evidence"]] == ["递铺街道胜利西路"]
    assert data["unit"]["value"] == "县综合行政执法局" and data["unit"]["confidence"] == 0.8
    assert [u["value"]["name"] for u in data["units"]] == ["县综合行政执法局", "孝丰镇人民政府"]
    assert data["units"][0]["value"]["reasons"] == ["职责清单：路灯照明", "辖区：递铺街道"]
    assert data["summary"]["value"].startswith("【投诉】")


async def test_an_emergency_from_the_pipeline_is_the_flag_the_consoles_and_ivr_read(parts) -> None:
    builder = DraftBuilder(**parts, understander=FakeUnderstander(emergency=True))
    draft = await builder.build("着火了 快来人", call_key="c2")
    assert draft.flags["emergency"].value == {"key": "119", "label": "火警"}
    assert [e.text for e in draft.flags["emergency"].evidence] == ["着火"]


async def test_a_failing_pipeline_leaves_the_word_list_draft(parts) -> None:
    builder = DraftBuilder(**parts, understander=FakeUnderstander(fail=True))
    data = (await builder.build(SAID, call_key="c3")).as_dict()
    assert "matter" not in data and "confidence" not in data["category"]
    assert data["category"]["value"]  # the word lists' category still reaches the agent


async def test_without_the_pipeline_the_draft_is_the_word_list_draft_unchanged(parts) -> None:
    plain = (await DraftBuilder(**parts).build(SAID, call_key="c4")).as_dict()
    assert "matter" not in plain and "units" not in plain
