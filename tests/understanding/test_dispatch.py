"""Dispatch: matter × township through the 职责清单, lowered by approved 退单."""

from gateway.understanding.dispatch import ResponsibilityList, suggest
from gateway.understanding.taxonomy import Taxonomy

TAX = Taxonomy.load()
DUTIES = ResponsibilityList.load(taxonomy=TAX)


def names(suggestions):
    return [s.unit for s in suggestions]


def test_the_sample_list_covers_at_least_30_units_and_every_matter_of_the_taxonomy():
    assert len({d.unit for d in DUTIES.duties}) >= 30
    assert {m for d in DUTIES.duties for m in d.matters} == set(TAX.matters)


def test_street_lights_in_a_rural_town_go_to_the_town_government_and_in_the_city_to_the_bureau():
    assert names(suggest(DUTIES, TAX, [("CJ01", 0.9)], "孝丰镇"))[0] == "孝丰镇人民政府"
    assert names(suggest(DUTIES, TAX, [("CJ01", 0.9)], "递铺街道"))[0] == "县综合行政执法局"


def test_a_county_wide_matter_goes_to_its_unit_wherever_the_caller_is():
    assert names(suggest(DUTIES, TAX, [("LD01", 0.8)], None))[0] == "县人力资源和社会保障局"


def test_the_second_likeliest_matter_gives_the_second_unit_with_reasons():
    top = suggest(DUTIES, TAX, [("CJ03", 0.6), ("DL01", 0.3)], "梅溪镇")
    assert names(top)[:2] == ["安吉县水务有限公司", "国网安吉县供电公司"]
    assert "职责清单：供水" in top[0].reasons


def test_approved_returns_lower_a_unit_for_that_matter_and_township_only():
    returns = {("孝丰镇人民政府", "CJ01", "孝丰镇"): 3}
    assert names(suggest(DUTIES, TAX, [("CJ01", 0.9)], "孝丰镇", returns))[0] != "孝丰镇人民政府"
    assert names(suggest(DUTIES, TAX, [("CJ02", 0.9)], "孝丰镇", returns))[0] == "孝丰镇人民政府"
