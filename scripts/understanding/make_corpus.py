"""Writes gateway/understanding/data/corpus/calls.jsonl, the shipped training corpus.

    python scripts/understanding/make_corpus.py

Utterances are composed from independent pieces (opening, who and where, when, the matter in the
caller's words, how they frame it, closing) in several orders, then made ASR-like (compose.noisy).
Places come from the training half of jionlp's division dictionary (compose.split_of).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from compose import SAMPLE, noisy, say_place, split_of, villages
from train_fragments import OTHER, M

OUT = Path(__file__).parents[2] / "gateway" / "understanding" / "data" / "corpus" / "calls.jsonl"

OPEN = ["喂", "喂你好", "你好", "哎你好", "喂喂", "您好", "嗯你好", "", "", "", "那个", "喂是十二三四五吗"]
WHO = ["我是{place}的", "我住在{place}", "我们{place}这边", "我家在{place}", "我是{place}的居民", "在{place}"]
NAMES_SUR = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
NAMES_GIVEN = [
    "建国",
    "秀英",
    "桂兰",
    "志强",
    "海燕",
    "国华",
    "丽娟",
    "春生",
    "小红",
    "德明",
    "玉梅",
    "家豪",
    "伟",
    "敏",
    "磊",
]
WHEN = [
    "昨天",
    "前天晚上",
    "今天早上",
    "这两天",
    "上个礼拜",
    "已经一个多月了",
    "从上周开始",
    "最近",
    "半个月了",
    "今天下午",
    "大前天",
    "这几天晚上",
]
FRAME = {
    "投诉": [
        "我要投诉{p}",
        "{p}反映好几次了都没人管",
        "{p}你们到底管不管",
        "{p}太不像话了",
        "我投诉一下{p}",
        "{p}打了好多次电话都没用",
        "{p}这个事情必须要有个说法",
        "{p}我很不满意",
    ],
    "求助": [
        "{p}能不能帮忙找人来弄一下",
        "麻烦你们派人来看看{p}",
        "{p}我们老人也没办法请你们帮帮忙",
        "{p}帮我们协调一下吧",
        "{p}怎么办啊你们帮帮忙",
        "{p}能不能尽快处理一下",
        "求求你们帮忙{p}",
    ],
    "咨询": [
        "我想问一下{q}",
        "请问{q}",
        "咨询一下{q}",
        "{q}我想了解一下",
        "问一下啊{q}",
        "{q}这个你们知道吗",
        "我想咨询{q}",
    ],
    "举报": ["我要举报{r}", "实名举报{r}", "{r}你们查一查", "举报一下{r}", "我发现{r}", "{r}我要反映这个违法的事情"],
    "建议": ["我提个建议{s}", "我建议{s}", "{s}这是我的一个建议", "给政府提个意见{s}", "希望{s}", "有个想法{s}"],
    "致谢": [
        "上次反映的事{t}谢谢你们",
        "我打电话来表扬一下{t}",
        "{t}真的非常感谢",
        "专门打电话感谢一下{t}",
        "{t}给你们点个赞",
        "{t}辛苦你们了谢谢谢谢",
    ],
}
CLOSE = ["", "", "", "谢谢", "好的谢谢啊", "麻烦你们了", "就这个事", "你们记一下", "尽快啊", "我电话就是这个号码"]
HOMOPHONES = {
    "路灯": ["路等"],
    "物业": ["物叶"],
    "投诉": ["头诉"],
    "举报": ["局报"],
    "停水": ["挺水"],
    "漏水": ["楼水"],
    "社保": ["社宝"],
    "医保": ["一保"],
    "垃圾": ["拉鸡", "乐色"],
    "噪音": ["早音"],
    "电梯": ["电题"],
    "工资": ["公司"],
    "红绿灯": ["红路灯"],
    "井盖": ["景盖"],
    "油烟": ["有烟"],
    "低保": ["底保"],
    "宽带": ["宽待"],
    "户口": ["护口"],
}
DIALECT = {
    "什么": ["啥", "啥子", "么子"],
    "怎么": ["咋", "咋个", "怎么个"],
    "没有": ["冇", "莫得", "没得"],
    "我们": ["俺们", "阿拉"],
    "知道": ["晓得"],
    "很": ["蛮", "老"],
    "不好": ["不灵"],
    "这个": ["这个这个", "介个"],
    "孩子": ["娃", "伢"],
}
DOMESTIC_ESTATES = "锦绣|阳光|金色|翠湖|丽景|东方|华府|和平|幸福|万象|滨江|桂花|紫荆|碧水|御景|星河|银杏|梧桐|书香|江南"
ESTATE_SUFFIX = "小区|花园|家园|新村|公寓|苑|名都|嘉园"
ROADS = "人民路|解放路|中山路|建设路|胜利路|文化路|北大街|南门街|环城东路|健康路|迎宾大道|新华路|工农路|体育路|府前街"


def main() -> None:
    rng = random.Random(14)
    all_v = [v for v in villages() if split_of(v) == "train"]
    home = [v for v in all_v if v.county == SAMPLE[2]]
    away = [v for v in all_v if v.county != SAMPLE[2]]
    estates = [a + b for a in DOMESTIC_ESTATES.split("|") for b in ESTATE_SUFFIX.split("|")]
    roads = ROADS.split("|")
    rows = []
    for matter, kinds in M.items():
        frags = {k: v.split("|") for k, v in kinds.items()}
        for category, key in (("投诉", "p"), ("求助", "p"), ("咨询", "q"), ("举报", "r"), ("建议", "s"), ("致谢", "t")):
            if key not in frags:
                continue
            n = {"投诉": 9, "求助": 7, "咨询": 7, "举报": 5, "建议": 3, "致谢": 2}[category]
            for _ in range(n):
                rows.append(utterance(rng, category, matter, rng.choice(frags[key]), home, away, estates, roads))
    for text in OTHER.split("|"):
        for _ in range(3):
            opening = rng.choice(OPEN)
            rows.append({"text": noisy(rng, opening + text, HOMOPHONES, DIALECT), "category": "其他", "matter": "QT01"})
    rng.shuffle(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} utterances → {OUT}")


def utterance(rng, category, matter, body, home, away, estates, roads) -> dict:
    at_home = rng.random() < 0.7
    v = rng.choice(home if at_home else away)
    place = say_place(rng, v, estates, roads, at_home)
    frame = rng.choice(FRAME[category])
    slot = frame[frame.index("{") + 1]
    matter_text = frame.replace("{" + slot + "}", body)
    pieces = []
    who = rng.choice(WHO).format(place=place.text) if rng.random() < 0.75 else ""
    if who and rng.random() < 0.3:
        who = (
            f"我姓{rng.choice(NAMES_SUR)}" + who
            if rng.random() < 0.5
            else f"我叫{rng.choice(NAMES_SUR)}{rng.choice(NAMES_GIVEN)}" + who
        )
    when = rng.choice(WHEN) if category in ("投诉", "求助", "举报") and rng.random() < 0.5 else ""
    order = rng.random()
    if order < 0.5:
        pieces = [rng.choice(OPEN), who, when, matter_text, rng.choice(CLOSE)]
    elif order < 0.8:
        pieces = [rng.choice(OPEN), when, matter_text, ("地址是" + place.text) if who else "", rng.choice(CLOSE)]
    else:
        pieces = [rng.choice(OPEN), matter_text, "就在" + place.text if who else "", when, rng.choice(CLOSE)]
    text = noisy(rng, "".join(pieces), HOMOPHONES, DIALECT)
    return {"text": text, "category": category, "matter": matter, "place": place.levels if who else None}


if __name__ == "__main__":
    main()
