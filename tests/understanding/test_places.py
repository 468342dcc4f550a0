"""Places resolve against the deployment's county; times are instants relative to the call."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.understanding.ner import Tagger
from gateway.understanding.places import Gazetteer, PlaceFinder, Region, find_times

ANJI = Region("浙江省", "湖州市", "安吉县")


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger()


@pytest.fixture(scope="module")
def finder() -> PlaceFinder:
    return PlaceFinder(Gazetteer(ANJI))


def test_a_short_township_and_a_village_resolve_to_the_full_address_of_the_county(tagger, finder):
    text = "我是孝丰白杨村的我们这边停水了"
    place = finder.find(text, tagger.tag(text))
    assert place is not None
    assert place.levels == {
        "province": "浙江省",
        "city": "湖州市",
        "county": "安吉县",
        "township": "孝丰镇",
        "community": "白杨村",
    }
    assert place.text == "孝丰白杨村" and text[place.start : place.end] == "孝丰白杨村"


def test_an_estate_and_building_after_the_street_is_the_building_level_without_the_filler(tagger, finder):
    text = "递铺那个锦绣花园三号楼门口的路灯坏了"
    place = finder.find(text, tagger.tag(text))
    assert place.levels["township"] == "递铺街道"
    assert place.levels["building"] == "锦绣花园三号楼"


def test_a_road_in_a_township_is_kept_as_the_road_level(tagger, finder):
    text = "梅溪镇人民路上的井盖没了"
    assert finder.find(text, tagger.tag(text)).levels["road"] == "人民路"


def test_a_place_in_another_province_is_resolved_by_the_national_dictionary(tagger, finder):
    text = "我在上海市浦东新区张江镇那个阳光小区"
    levels = finder.find(text, tagger.tag(text)).levels
    assert (levels["province"], levels["county"], levels["township"]) == ("上海市", "浦东新区", "张江镇")
    assert levels["building"] == "阳光小区"


def test_another_countys_township_and_village_come_from_the_same_dictionary(tagger, finder):
    text = "我在奉节县公平镇龙王村 村口的水塘全是死鱼"
    place = finder.find(text, tagger.tag(text))
    assert place is not None
    assert place.levels["county"] == "奉节县"
    assert place.levels["township"] == "公平镇" and place.levels["community"] == "龙王村"


def test_a_county_name_is_not_read_again_as_a_township_of_the_same_name(tagger, finder):
    text = "我这边是玉田县散水头镇的敬老院"
    place = finder.find(text, tagger.tag(text))
    assert place is not None and place.levels.get("township") != "玉田镇"


def test_a_village_or_community_said_after_its_township_is_the_community_level(tagger, finder):
    text = "我家在绍兴市柯桥区安昌街道白洋社区 停水了"
    levels = finder.find(text, tagger.tag(text)).levels
    assert (levels["county"], levels["township"], levels["community"]) == ("柯桥区", "安昌街道", "白洋社区")


def test_a_community_name_inside_an_estate_name_is_the_estate_not_the_community(tagger, finder):
    for text, estate in [("我是孝丰镇的 就住在玉兰新村", "玉兰新村"), ("我在递铺街道阳光新村三幢这边", "阳光新村三幢")]:
        levels = finder.find(text, tagger.tag(text)).levels
        assert "community" not in levels and levels["building"] == estate, text


def test_an_estate_swallowed_by_the_place_entity_is_still_the_building_and_stops_at_the_street(tagger, finder):
    text = "住在南京市江宁区秣陵街道翠屏城十二栋"
    levels = finder.find(text, tagger.tag(text)).levels
    assert (levels["township"], levels["building"]) == ("秣陵街道", "翠屏城十二栋")


def test_another_county_named_first_wins_over_a_same_named_village_of_the_deployment(tagger, finder):
    text = "我在名山区蒙阳镇双河村这边 路灯坏了"
    levels = finder.find(text, tagger.tag(text)).levels
    assert (levels["county"], levels["township"], levels["community"]) == ("名山区", "蒙阳镇", "双河村")


def test_a_township_name_not_of_the_county_is_a_township_not_a_guessed_county_and_the_road_follows_it(
        tagger, finder):
    # 城关镇 / 城南街道 are townships in hundreds of counties; jionlp reads 城关 as a county (城关区).
    for text, town, road in (("城关镇幸福路23号路灯坏了", "城关镇", "幸福路23号"),
                             ("城南街道解放路口的井盖没了", "城南街道", "解放路")):
        place = finder.find(text, tagger.tag(text))
        assert place is not None and "county" not in place.levels
        assert (place.levels.get("township"), place.levels.get("road")) == (town, road), text


def test_no_place_is_invented_from_a_phrase_that_only_ends_like_one(tagger, finder):
    text = "到处都是广场舞的声音吵死了"
    assert finder.find(text, tagger.tag(text)) is None


def test_relative_times_become_intervals_relative_to_the_call(tagger):
    call = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    text = "昨天晚上开始就没水了"
    times = find_times(text, tagger.tag(text), call)
    assert times[0].text == "昨天晚上"
    assert times[0].instant[0].startswith("2026-12-03")


def test_times_are_the_callers_clock_in_china_whatever_zone_the_call_time_is_given_in(tagger):
    # 2026-12-04 01:30 in Shanghai is still 12-03 17:30 in UTC: 昨天 must be the 3rd, not the 2nd.
    call = datetime(2026, 12, 3, 17, 30, tzinfo=ZoneInfo("UTC"))
    text = "昨天晚上开始就没水了"
    [said] = find_times(text, tagger.tag(text), call)
    assert said.instant is not None
    assert said.instant[0].startswith("2026-12-03T")
    assert said.instant[0].endswith("+08:00")


def test_the_deployment_zone_decides_what_yesterday_means(tagger):
    call = datetime(2026, 12, 3, 17, 30, tzinfo=ZoneInfo("UTC"))
    text = "昨天晚上开始就没水了"
    [said] = find_times(text, tagger.tag(text), call, ZoneInfo("Europe/London"))
    assert said.instant is not None
    assert said.instant[0].startswith("2026-12-02T") and said.instant[0].endswith("+00:00")


@pytest.mark.parametrize(("text", "estate"), [
    ("地点在玉兰新村五号楼二楼卫生院的医生看病一直玩手机", "玉兰新村五号楼"),
    ("喂 我住金色家园六栋 楼下天天有人烧垃圾", "金色家园六栋"),
    ("就是阳光小区门口那个井盖没了", "阳光小区"),
])
def test_the_words_that_lead_up_to_an_estate_are_not_part_of_its_name(tagger, finder, text, estate):
    place = finder.find(text, tagger.tag(text))
    assert place is not None and place.levels.get("building") == estate


def test_a_bare_kind_of_place_after_a_verb_is_no_estate(tagger, finder):
    text = "有辆车天天停在小区消防通道上好几天没动"
    place = finder.find(text, tagger.tag(text))
    assert place is None or "building" not in place.levels


@pytest.mark.parametrize("text, building", [
    ("我们是梅溪那个锦绣花园 五号楼 楼下天天唱歌", "五号楼"),
    ("三号楼这边下水道堵了 我们是凤凰社区的", "三号楼"),
    ("递铺那个盛世华庭八号楼的电梯又坏了", "八号楼"),
])
def test_a_building_number_said_apart_from_its_estate_or_community_is_the_building_level(
        tagger, finder, text, building):
    place = finder.find(text, tagger.tag(text))
    assert place is not None and building in place.levels["building"]


@pytest.mark.parametrize("text, road", [
    ("每天从灵峰大道下班回来路灯太暗", "灵峰大道"),
    ("在昌硕路上那块广告牌挡住红绿灯", "昌硕路"),
])
def test_a_road_named_after_a_township_is_the_road_not_the_township(tagger, finder, text, road):
    place = finder.find(text, tagger.tag(text))
    assert place is not None and place.levels.get("road") == road and "township" not in place.levels


def test_a_village_named_after_its_township_is_the_village(tagger, finder):
    text = "村里的居家养老中心能不能送饭 我们是杭垓村的"
    place = finder.find(text, tagger.tag(text))
    assert place is not None
    assert (place.levels["township"], place.levels["community"]) == ("杭垓镇", "杭垓村")


@pytest.mark.parametrize("text", ["我每个礼拜要去县城看病", "今年城里房价又涨了"])
def test_a_trip_to_town_is_no_estate(tagger, finder, text):
    place = finder.find(text, tagger.tag(text))
    assert place is None or "building" not in place.levels


@pytest.mark.parametrize("text, road", [
    ("每次经过天目路口那个红绿灯都要等好久", "天目路"),
    ("胜利西路那边下水道堵了", "胜利西路"),
])
def test_a_road_said_on_its_own_is_the_road_level_even_when_not_tagged_a_place(tagger, finder, text, road):
    place = finder.find(text, tagger.tag(text))
    assert place is not None and place.levels == {"road": road}


@pytest.mark.parametrize("text", ["这条水泥路上全是坑", "村里那条机耕路被雨冲坏了", "马路上全是坑"])
def test_a_kind_of_road_is_not_a_road_name(tagger, finder, text):
    assert finder.find(text, tagger.tag(text)) is None


@pytest.mark.parametrize("text, township, community, said", [
    ("地铺那个菜场门口摆摊的把路都堵死了", "递铺街道", None, "地铺"),
    ("我们常硕街道这边停水了", "昌硕街道", None, "常硕街道"),
    ("我住在孝丰西南村 路灯坏了", "孝丰镇", "溪南村", "孝丰西南村"),
])
def test_a_name_of_ours_written_with_other_characters_of_the_same_sound_is_still_the_place(
        tagger, finder, text, township, community, said):
    place = finder.find(text, tagger.tag(text))
    assert place is not None
    assert (place.levels["township"], place.levels.get("community")) == (township, community)
    assert place.text == said and text[place.start : place.end] == said  # the caller's own words
    assert place.confidence < 0.85  # a guess by sound


def test_a_township_name_by_sound_alone_needs_words_that_say_a_place(tagger, finder):
    text = "猫爬上树下不来了"  # 上树 sounds like 上墅 (a township) but nothing says a place
    assert finder.find(text, tagger.tag(text)) is None


@pytest.mark.parametrize("text", ["我住锦绣花园三号楼楼上天天装修", "坐五号线过来的", "在二号窗口排了一个钟头"])
def test_a_numbered_building_line_or_counter_is_not_a_date(tagger, text):
    call = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert [t.text for t in find_times(text, tagger.tag(text), call) if "号" in t.text] == []


@pytest.mark.parametrize("text, township, community", [
    ("屋里进水了 孝丰镇溪南村 老人出不来", "孝丰镇", "溪南村"),  # jionlp alone reads 孝丰镇 as 丰镇市
    ("新丰村的路灯坏了好几天", "溪龙乡", "新丰村"),  # 新丰 is also a county's stem (新丰县)
    ("阿拉横柏村的路灯不亮", "孝丰镇", "横柏村"),  # 阿拉 ("we") glued to the village by LAC
    ("是邻居和村里的干部一起帮的忙 在报福镇深溪坞村", "报福镇", "深溪坞村"),  # 和|村里 is no village 和村
])
def test_a_village_of_ours_is_read_as_ours_whatever_the_words_around_it(tagger, finder, text, township, community):
    levels = finder.find(text, tagger.tag(text)).levels
    assert (levels["county"], levels["township"], levels["community"]) == ("安吉县", township, community)


@pytest.mark.parametrize("text, road", [
    ("文昌路上有个井盖没了", "文昌路"),
    ("振兴路上的垃圾没人收", "振兴路"),  # not 辽宁 丹东 振兴区
    ("沪渝高速上两车追尾了", "沪渝高速"),
    ("318国道边上有人倒垃圾", "318国道"),
    ("孝丰老街上有个卖水果的", "老街"),
])
def test_a_road_is_read_however_lac_cuts_its_name_from_its_kind(tagger, finder, text, road):
    assert finder.find(text, tagger.tag(text)).levels["road"] == road


@pytest.mark.parametrize("text", [
    "我在上班路上看到有人摔倒",
    "大树倒下来挡住路了",
    "往杭州方向的车道上堵死了",  # where the traffic was heading, not where it happened
])
def test_a_way_to_somewhere_is_no_place(tagger, finder, text):
    assert finder.find(text, tagger.tag(text)) is None


def test_the_words_after_a_village_are_no_road_of_their_own(tagger, finder):
    for text in ("天荒坪镇那条盘山公路上落石了", "深溪坞村那个路边的垃圾桶满了"):
        assert "road" not in finder.find(text, tagger.tag(text)).levels


def test_a_two_character_village_heard_by_sound_needs_words_of_place_and_the_township_said(tagger, finder):
    text = "镇里说要村里先开证明才给办 我是鄣吴镇的"  # 要村 sounds like 姚村, a village of 杭垓镇
    levels = finder.find(text, tagger.tag(text)).levels
    assert levels["township"] == "鄣吴镇" and "community" not in levels


def test_a_county_said_in_full_stands_even_with_a_one_character_stem(tagger, finder):
    levels = finder.find("我在礼县桥头镇", tagger.tag("我在礼县桥头镇")).levels
    assert (levels["province"], levels["county"], levels["township"]) == ("甘肃省", "礼县", "桥头镇")


def test_lac_words_start_where_their_characters_do_not_at_the_pause_before_them(tagger):
    tokens = tagger.tag("白天又不排 古苑村这边")
    assert [t.word for t in tokens if "古苑村" in t.word] == ["古苑村"]
    assert "".join(t.word for t in tokens) == "白天又不排 古苑村这边"


@pytest.mark.parametrize("text, said", [
    ("你好请问是热线吧上个礼拜楼下的井盖就松了", "上个礼拜"),  # glued to the words before it
    ("前阵子下大雨车库进水 物业到现在不管", "前阵子"),
    ("包工头说过年前结工钱 到现在人都找不到", "过年前"),
    ("汛期快到了 河堤那段塌了能不能早点修", "汛期"),
])
def test_spoken_times_lac_leaves_untagged_are_still_times(tagger, said, text):
    call = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert said in [t.text for t in find_times(text, tagger.tag(text), call)]


def test_a_road_or_a_floor_named_after_a_holiday_is_no_time(tagger):
    call = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for text in ("五一路上的路灯坏了", "我住十一楼 电梯又停了"):
        assert not any(t.text in ("五一", "十一") for t in find_times(text, tagger.tag(text), call)), text


@pytest.mark.parametrize("text, township, community", [
    ("两辆车撞了 在天子湖镇 高禹那个十字路口", "天子湖镇", "高禹村"),  # a village said without 村
    ("网吧里全是小孩子 递铺 长乐那边", "递铺街道", "长乐社区"),
])
def test_a_community_said_short_right_after_its_township_is_that_community(tagger, finder, text, township,
                                                                            community):
    levels = finder.find(text, tagger.tag(text)).levels
    assert (levels["township"], levels["community"]) == (township, community)


def test_where_someone_was_heading_is_the_place_only_when_nothing_else_is_named(tagger, finder):
    text = "一辆车翻在路边 在孝丰往章村去的路上"
    levels = finder.find(text, tagger.tag(text)).levels
    assert levels["township"] == "孝丰镇" and "community" not in levels and "road" not in levels
    levels = finder.find("那路往孝丰去的公交车开得太猛", tagger.tag("那路往孝丰去的公交车开得太猛")).levels
    assert levels["township"] == "孝丰镇"


@pytest.mark.parametrize("text, township, road", [
    ("货车烧起来了 在318国道杭垓那段", "杭垓镇", "318国道"),
    ("我在杭长高速 往杭州方向 安吉出口过来一点", None, "杭长高速"),
])
def test_a_road_said_beside_the_named_place_joins_it(tagger, finder, text, township, road):
    levels = finder.find(text, tagger.tag(text)).levels
    assert levels["road"] == road and levels.get("township") == township


def test_a_road_inside_a_schools_or_markets_name_is_where_it_is(tagger, finder):
    text = "老人被车撞了 在灵芝路小学门口"
    assert finder.find(text, tagger.tag(text)).levels["road"] == "灵芝路"


def test_a_common_word_that_is_also_a_districts_name_is_no_place_elsewhere(tagger, finder):
    text = "去矿区那条公路全是坑 梅溪镇三山村那段"  # 矿区 is also a district of 阳泉
    levels = finder.find(text, tagger.tag(text)).levels
    assert (levels["province"], levels["community"]) == ("浙江省", "三山村")


def test_the_evaluation_reads_a_building_number_in_either_numerals():
    from gateway.understanding.evaluate import place_right

    got = {"levels": {"township": "递铺街道", "community": "东滨社区", "building": "七幢"}}
    assert place_right({"township": "递铺街道", "community": "东滨社区", "building": "7幢"}, got)
    assert not place_right({"township": "递铺街道", "community": "东滨社区", "building": "8幢"}, got)
