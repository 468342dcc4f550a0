"""Writes gateway/quality/data/eval.jsonl: a labelled set of calls for `hotline qa eval`.

Each call has the two legs' transcript segments with their times, the call record's holds and transfer,
the ticket the agent wrote and the knowledge-base entries in force; ``labels`` lists the faults planted in
it. Half the calls are clean — and the clean ones hold the near misses a check must not flag: a silence
the agent announced, a transfer the agent explained, an urgent call marked urgent, an emergency handed to
110/119/120, an out-of-scope matter refused, a KB answer reworded without changing its facts.

Calls are composed (seeded) from hand-written stories and agent lines below; the checks' word lists are
in gateway/quality/data/rules.toml and were not consulted for the faults' wording beyond the standard
phrases (greeting/closing) the centre's script prescribes. Run: python scripts/quality/make_eval.py
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "gateway" / "quality" / "data" / "eval.jsonl"
CALL_TIME = datetime.fromisoformat("2026-11-18T10:00:00+08:00")

# (category, citizen lines, place, time, person, ticket content without the elements, urgent words?)
STORIES = [
    (
        "complaint",
        [
            "我要投诉一下，{place}门口那个烧烤摊",
            "{time}一直吵到半夜，油烟全飘到我家里",
            "找过摊主{person}好几次了都没用",
        ],
        "递铺街道阳光小区",
        "昨天晚上十一点",
        "张德明",
        "烧烤摊夜间噪声油烟扰民",
    ),
    (
        "complaint",
        ["你好，我投诉物业", "{place}的电梯坏了一个礼拜了", "{time}我妈差点被关在里面，物业经理{person}说没钱修"],
        "昌硕街道凤凰小区3幢",
        "上周五下午",
        "刘志强",
        "电梯故障长期未修",
    ),
    (
        "report",
        ["我要举报，{place}那边有个厂", "{time}偷偷往河里排黑水，味道很冲", "老板好像叫{person}"],
        "孝丰镇横溪坞村",
        "前天凌晨两点",
        "陈国华",
        "企业向河道偷排污水",
    ),
    (
        "report",
        ["我举报一个无证经营的黑诊所", "就在{place}", "{time}我去看过，坐诊的叫{person}，没有执照"],
        "灵峰街道剑山村",
        "上个礼拜三",
        "周海涛",
        "无证行医",
    ),
    (
        "help",
        ["帮帮忙吧，{place}我家停水了", "从{time}到现在一滴水都没有", "家里就我和老伴，我叫{person}"],
        "天荒坪镇大溪村",
        "今天早上六点",
        "王桂兰",
        "居民家中停水",
    ),
    (
        "help",
        ["我是{person}，想求助一下", "{place}路口的窨井盖没了", "{time}有个小孩差点掉下去"],
        "递铺街道胜利西路",
        "今天上午九点多",
        "李春梅",
        "道路窨井盖缺失",
    ),
    (
        "consultation",
        ["请问一下医保异地备案怎么办", "我在{place}交的医保，{time}要去上海住院", "我爸叫{person}"],
        "溪龙乡黄杜村",
        "下个月初",
        "吴建平",
        "咨询医保异地就医备案",
    ),
    (
        "consultation",
        ["问一下，孩子上小学报名", "我们户口在{place}", "{time}报名要带什么材料，孩子叫{person}"],
        "昌硕街道天使小镇",
        "明年六月",
        "赵晓雨",
        "咨询小学入学报名材料",
    ),
    (
        "suggestion",
        ["我有个建议", "{place}这个公交站没有遮雨棚", "{time}下大雨好多老人在那淋着，像{person}阿姨就淋病了"],
        "递铺街道万达广场",
        "上周二",
        "孙秀英",
        "建议公交站增设雨棚",
    ),
    (
        "complaint",
        ["投诉外卖店", "{place}那家卖的盒饭吃出虫子了", "{time}买的，店员{person}态度还很差"],
        "灵峰街道浦源大道",
        "昨天中午十二点",
        "郑小军",
        "餐饮店食品安全问题",
    ),
    (
        "help",
        ["你好，我是{person}", "{place}的路灯全坏了，黑漆漆的", "{time}开始就不亮了，晚上不敢出门"],
        "孝源街道南北庄村",
        "三天前",
        "钱玉珍",
        "路灯故障",
    ),
    (
        "consultation",
        ["我想问一下公积金提取", "我在{place}买的房子", "{time}签的合同，房产证上写的是{person}"],
        "递铺街道金域蓝湾",
        "今年三月",
        "冯志刚",
        "咨询购房提取公积金",
    ),
    (
        "complaint",
        ["我投诉{place}那个工地", "{time}还在打桩，吵得人睡不着", "工地负责人{person}说有许可证"],
        "昌硕街道高铁新城",
        "昨晚十点半",
        "何伟",
        "工地夜间施工噪声",
    ),
    (
        "report",
        ["我要举报有人占用消防通道", "{place}楼下", "{time}开始一直停着一辆车，车主好像姓{person}"],
        "灵峰街道碧桂园2期",
        "前天晚上",
        "马丽",
        "车辆占用消防通道",
    ),
    (
        "help",
        ["求助，我工资被拖欠了", "在{place}的一个工地干活", "{time}到现在没发，包工头{person}跑了"],
        "递铺街道鹤鹿溪村",
        "今年八月份",
        "黄宝山",
        "农民工工资拖欠",
    ),
]
KB = [
    ("kb-yb-01", "医保异地就医需先办理备案，可通过浙里办线上备案，一般3个工作日内办结，不需要到窗口办理。"),
    ("kb-jy-02", "小学新生报名需要户口簿、房产证或租房合同、出生证明，报名时间一般为每年6月，不收费。"),
    ("kb-gjj-03", "购房提取公积金需在购房合同签订后2年内申请，提供购房合同和发票，15个工作日内到账。"),
]
REWORD = {  # the same facts, said as an agent says them
    "kb-yb-01": "您可以在浙里办上直接备案，不需要到窗口，一般3个工作日就能办好。",
    "kb-jy-02": "报名需要户口簿、房产证或者租房合同、出生证明，一般6月报名，这个不收费的。",
    "kb-gjj-03": "合同签了2年内都能申请提取，带上购房合同和发票，大概15个工作日到账。",
}
WRONG = {  # a number or a polarity changed
    "kb-yb-01": [
        "您得到窗口现场备案，需要到窗口办理，一般3个工作日。",
        "您在浙里办备案就行，一般10个工作日内办结，不需要到窗口。",
    ],
    "kb-jy-02": [
        "报名要户口簿和房产证，一般6月报名，报名要收费200元。",
        "报名需要户口簿、出生证明，一般9月报名，不收费。",
    ],
    "kb-gjj-03": [
        "合同签了5年内都能申请，带上合同和发票，大概15个工作日到账。",
        "合同签了2年内申请，带上合同发票，大概30个工作日到账。",
    ],
}
KB_OF_STORY = {6: "kb-yb-01", 7: "kb-jy-02", 11: "kb-gjj-03"}

GREETINGS = [
    "您好，12345政务服务便民热线，请讲。",
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "你好，这里是12345热线，工号1032为您服务。",
]
NO_GREETING = ["喂，说吧。", "嗯，什么事？", "讲。"]
CLOSINGS = [
    "好的，您反映的问题已经记录，感谢您的来电，再见。",
    "请问还有其他问题吗？没有的话感谢来电，再见。",
    "已经给您登记了，祝您生活愉快，再见。",
]
NO_CLOSING = ["行，就这样。", "好了好了。", "知道了。"]
ACK = ["好的，您慢慢说。", "嗯，我记一下。", "明白，请继续。", "好的，我这边在记录。"]
CONFIRM = ["我跟您核对一下，地点是{place}，对吧？", "您说的情况我已经记下来了。", "这个我们会转给相关部门处理。"]
RUDE = [
    "这个不归我们管，你打别的电话。",
    "跟我说没用，你自己去找街道。",
    "你听不懂吗，我都说了好几遍了。",
    "这事我也没办法，爱找谁找谁。",
    "有完没完啊，你说重点。",
]
WAIT = ["请稍等，我帮您查一下。", "您稍等一下，我查询一下系统。"]
TRANSFER_SAID = ["这个问题我帮您转接到医保专线，请不要挂机。", "我现在为您转接县区分中心，请稍候。"]
URGENT = ["麻烦你们赶紧派人来看看", "很危险的，马上要出事了", "这个很紧急"]
EMERGENCIES = [
    ("我家厨房煤气泄漏了，味道很大", "119"),
    ("楼下有个老人晕倒了叫不醒", "120"),
    ("隔壁着火了在冒黑烟", "119"),
    ("有人拿刀在街上追着砍人", "110"),
]
OUT_OF_SCOPE = [
    "法院判决我不服，想让你们帮我改判",
    "你们帮我查一下我老公的开房记录",
    "我跟邻居借钱的纠纷，他不还钱，你们让他还",
]

CHECKS = [
    "greeting",
    "closing",
    "forbidden_words",
    "talk_over",
    "long_silence",
    "holds",
    "transfer_unannounced",
    "category_lowered",
    "urgency_lowered",
    "place_missing",
    "time_missing",
    "person_missing",
    "emergency_unhandled",
    "out_of_scope_accepted",
    "answer_contradicts_kb",
]
LOWER = {"complaint": "consultation", "report": "suggestion", "help": "consultation"}


def make_call(n: int, rng: random.Random, faults: list[str]) -> dict[str, object]:
    story_index = rng.randrange(len(STORIES))
    kb_entry = KB_OF_STORY.get(story_index)
    if "answer_contradicts_kb" in faults and kb_entry is None:
        story_index = rng.choice(list(KB_OF_STORY))
        kb_entry = KB_OF_STORY[story_index]
    if "category_lowered" in faults and STORIES[story_index][0] not in LOWER:
        story_index = rng.choice([i for i, s in enumerate(STORIES) if s[0] in LOWER])
        kb_entry = KB_OF_STORY.get(story_index)
    category, lines, place, when, person, summary = STORIES[story_index]
    fill = {"place": place, "time": when, "person": person}
    t = rng.uniform(0.5, 2.0)
    segments: list[dict[str, object]] = []

    def say(speaker: str, text: str, gap: float | None = None, seconds: float | None = None) -> dict[str, object]:
        nonlocal t
        t += gap if gap is not None else rng.uniform(0.4, 1.8)
        length = seconds if seconds is not None else max(1.2, len(text) * rng.uniform(0.22, 0.3))
        seg = {"speaker": speaker, "start": round(t, 2), "end": round(t + length, 2), "text": text}
        segments.append(seg)
        t += length
        return seg

    say("agent", rng.choice(NO_GREETING if "greeting" in faults else GREETINGS))
    citizen_lines = [line.format(**fill) for line in lines]
    urgent = rng.random() < 0.3 or "urgency_lowered" in faults
    if urgent:
        citizen_lines.append(rng.choice(URGENT))
    emergency = "emergency_unhandled" in faults or (
        not {"out_of_scope_accepted", "urgency_lowered"} & set(faults) and rng.random() < 0.15
    )
    if emergency:
        text, _service = rng.choice(EMERGENCIES)
        citizen_lines.insert(1, text)
    scope = "out_of_scope_accepted" in faults or (not faults and rng.random() < 0.1)
    if scope:
        citizen_lines = [rng.choice(OUT_OF_SCOPE)]
    talk_over_at = rng.randrange(len(citizen_lines)) if "talk_over" in faults else -1
    for i, line in enumerate(citizen_lines):
        seg = say("citizen", line)
        if i == talk_over_at:
            # The agent cuts in a second into the citizen's line and talks across the rest of it.
            cut = float(seg["start"]) + 1.0  # type: ignore[arg-type]
            segments.append(
                {
                    "speaker": "agent",
                    "start": round(cut, 2),
                    "end": round(float(seg["end"]) + 0.5, 2),  # type: ignore[arg-type]
                    "text": "你先别说了，听我说",
                }
            )
        elif rng.random() < 0.6:
            say("agent", rng.choice(ACK))
    if "forbidden_words" in faults:
        say("agent", rng.choice(RUDE))
    silence = "long_silence" in faults
    if silence or rng.random() < 0.3:  # a long pause: announced in clean calls
        if not silence:
            say("agent", rng.choice(WAIT))
        t += rng.uniform(15, 40)
        say("agent", "好，让您久等了。" if not silence else "嗯。")
    say("agent", rng.choice(CONFIRM).format(**fill))
    reply = ""
    if kb_entry is not None and not scope:
        reply = rng.choice(WRONG[kb_entry]) if "answer_contradicts_kb" in faults else REWORD[kb_entry]
        say("agent", reply)
    transferred = "transfer_unannounced" in faults or rng.random() < 0.15
    if transferred and "transfer_unannounced" not in faults:
        say("agent", rng.choice(TRANSFER_SAID))
    say("agent", rng.choice(NO_CLOSING if "closing" in faults else CLOSINGS))

    holds, on_hold = (
        rng.choice([(3, 150), (1, 200), (4, 90)])
        if "holds" in faults
        else rng.choice([(0, 0), (0, 0), (1, 35), (2, 80)])
    )
    content = [summary]
    if "place_missing" not in faults:
        content.insert(0, f"{place}：")
    if "time_missing" not in faults:
        content.append(f"，时间{when}")
    if "person_missing" not in faults:
        content.append(f"，涉及人员{person}")
    ticket_category = LOWER[category] if "category_lowered" in faults else category
    ticket = {
        "number": f"QA{n:04d}",
        "category": ticket_category,
        "urgent": (urgent or emergency) and "urgency_lowered" not in faults and "emergency_unhandled" not in faults,
        "content": "".join(content),
        "location": "",
        "caller_name": "",
        "rejected": scope and "out_of_scope_accepted" not in faults,
        "resolved_on_call": bool(reply),
        "reply_text": reply,
    }
    if "urgency_lowered" in faults or "emergency_unhandled" in faults:
        ticket["urgent"] = False
    return {
        "id": f"qa-{n:04d}",
        "call_time": CALL_TIME.isoformat(),
        "segments": segments,
        "holds": holds,
        "on_hold_seconds": on_hold,
        "transferred": transferred,
        "emergency_handled": emergency and "emergency_unhandled" not in faults,
        "ticket": ticket,
        "kb": [list(e) for e in KB],
        "labels": sorted(faults),
    }


def main() -> None:
    rng = random.Random(20261204)
    calls = []
    for n in range(160):
        faults: list[str] = []
        if n % 2:  # every other call has one or two planted faults, each check planted ≥ 5 times
            faults = [CHECKS[(n // 2) % len(CHECKS)]]
            if rng.random() < 0.35:
                faults.append(rng.choice([c for c in CHECKS if c != faults[0]]))
            # An emergency or out-of-scope call has no ordinary ticket to lower or miss things in.
            if "out_of_scope_accepted" in faults:
                faults = ["out_of_scope_accepted"]
            if "emergency_unhandled" in faults and "urgency_lowered" in faults:
                faults.remove("urgency_lowered")
            if "answer_contradicts_kb" in faults and "category_lowered" in faults:  # KB stories are 咨询
                faults.remove("category_lowered")
        calls.append(make_call(n, rng, faults))
    OUT.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in calls), encoding="utf-8")
    print(f"{OUT}: {len(calls)} calls, {sum(1 for c in calls if c['labels'])} with planted faults")


if __name__ == "__main__":
    main()
