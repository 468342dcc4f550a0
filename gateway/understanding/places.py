"""Stage 3: places and times, normalised.

Places: the deployment's own county is known to the township and community (村 / 社区) from jionlp's
division dictionary, so "孝丰白杨村" resolves to 浙江省/湖州市/安吉县/孝丰镇/白杨村 even though the caller
named neither the county nor the full township. Places elsewhere come from LAC's LOC entities, resolved
to province / city / county by ``jionlp.parse_location``. Estates, roads and building numbers are read
after the named place.

Times: LAC's TIME entities → ``jionlp.parse_time`` relative to the call's time (昨天晚上 → an interval).
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.understanding.ner import Token
from gateway.understanding.vocabulary import HomophoneIndex

LEVELS = ("province", "city", "county", "township", "community", "road", "building")
_TOWN_SUFFIXES = ("街道", "镇", "乡")
# A county's stem followed by these names something else: 石龙村 is no 石龙区, 振兴路 no 振兴区, 盘山公路 no 盘山县,
# 滨江公园 no 滨江区
_COMMON_WORD_COUNTIES = frozenset({"矿区", "郊区", "城区", "新区", "市辖区", "开发区", "高新区", "林区", "工矿区"})
_NOT_A_COUNTY = (*_TOWN_SUFFIXES, "村", "社区", "路", "街", "大道", "公路", "高速", "巷", "弄", "桥", "小区",
                 "公园", "广场", "花园", "医院", "学校", "小学", "中学", "市场", "菜场", "宾馆", "酒店", "饭店", "超市")
# 城 ends an estate (凤凰城) but not a trip to town (去城里, 县城, 今年城…)
_ESTATE = (r"[\u4e00-\u9fa5]{2,5}?(?:小区|花园|家园|新村|公寓|名都|嘉园|华府|大厦|广场|苑"
           r"|(?<![县进去在回到初年趟里市具往])城)")
_NUMBERED = r"(?:[0-9零一二三四五六七八九十百两]+(?:号楼|号院|栋|幢|座|单元|号|期|层|室))*"
ESTATE_RE = re.compile(_ESTATE + _NUMBERED)
ROAD_RE = re.compile(r"[\u4e00-\u9fa5]{1,4}?(?:大道|路|街|巷|弄)(?:[0-9零一二三四五六七八九十百两]+号)?")
_ROAD_AFTER = re.compile(r"(?:东|西|南|北|中)?(?:大道|路|大街|街|公路)(?!社区|村)")
# Words around a township's name said by sound only: it is a place (在地铺, 地铺那边, 常硕街道).
_PLACE_BEFORE = re.compile(r"在|住|是|到|去|从|们")
_PLACE_AFTER = re.compile(r"街道|镇|乡|村|社区|那边|这边|那里|这里|附近|那个|这个|那块|这块|菜场|小区|路|的")
_NUMBERED_THING = re.compile(r"[0-9零一二三四五六七八九十百两]+号(?:楼|院|床|线|窗口|门|车|房|室|口|柜台)")
# A road's name as one LAC word (天目路, 胜利西路), and stems that name a kind of road, not a road (水泥路).
_ROAD_WORD = re.compile(r"(?P<road>[\u4e00-\u9fa5]{2,4}?(?:东|西|南|北|中)?(?:大道|大街|路|街|巷|弄))(?:口|上|边)?")
# A road's kind as LAC cuts it off the name before it (路上, 东路, 高速, 省道)
_ROAD_TAIL = re.compile(r"(?P<kind>(?:东|西|南|北|中)?(?:大道|大街|路|街|巷|弄)|高速公路|高速|国道|省道|县道)"
                        r"(?:上|边|口)?")
_NAME_TAGS = ("LOC", "PER", "ORG", "nz", "nw")
_HIGHWAY_WORD = re.compile(r"(?P<road>[\u4e00-\u9fa5]{2,5}?(?:高速公路|高速)|[0-9]{1,3}(?:国道|省道|县道))"
                           r"(?:口|上|边)?")
_GRAMMAR = ("r", "d", "p", "u", "c", "m", "q", "f", "xc", "w")
_ROAD_IN_A_NAME = re.compile(r"(?:[\u4e00-\u9fa5]{2,4}?(?:东|西|南|北|中)?(?:大道|大街|路|街)"
                             r"|[0-9]{1,3}(?:国道|省道|县道))(?=[\u4e00-\u9fa5]{2,})")
_ROAD_REACH = 12  # characters between a road and the named place it belongs to
_NAME_STARTS = (" ", "在", "到", "从", "是", "往")
_NOT_ROAD_NAMES = frozenset({"学校", "医院", "小区", "公司", "单位", "村里", "家里", "回家", "上班", "下班", "上学",
                             "放学",
                             "山上", "山里", "田里", "半路", "一路", "马路", "公路", "大路", "小路", "山路", "水泥"})
_ROAD_STEM = re.compile(r"(.*?)(?:东|西|南|北|中)?(?:大道|大街|路|街|巷|弄)(?:[0-9零一二三四五六七八九十百两]+号)?")
_ROAD_KINDS = frozenset({"水泥", "柏油", "高速", "机耕", "乡村", "村里", "小区", "进村", "上山", "下山", "石子", "砂石",
                         "沙石", "盘山", "环山", "乡间", "田间", "这条", "那条", "一条", "出村", "进山", "山里", "老街",
                         "步行", "单行", "断头", "十字", "丁字", "过马", "走马", "马路", "大马", "那个", "这个",
                         "门口"})
_POINTING = ("那", "这", "哪", "一", "条", "个", "的", "门口", "去", "来", "回", "到", "往")
# A building said on its own, a few words after the estate or community (盛世华庭八号楼, 凤凰社区的 … 三号楼)
BUILDING_RE = re.compile(r"[0-9一二三四五六七八九十百两]+(?:号楼|幢|栋|号院)")


@functools.cache
def jionlp() -> Any:
    """jionlp, imported once without its banner on stdout (it would corrupt `understanding draft` output)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp as jio
    logging.getLogger().addFilter(_JionlpTracebacks())
    return jio


class _JionlpTracebacks(logging.Filter):
    """jionlp's time parser logs an ERROR with a traceback on the root logger for every phrase it cannot
    read (十二个小时, 几号) before raising — which we catch: a time not understood is simply not filled in.
    Those records would fill a deployment's error log with tracebacks for ordinary speech."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno >= logging.ERROR and f"{os.sep}jionlp{os.sep}" in record.pathname)


# jionlp's parsers are process-wide objects that keep per-call state on themselves and build their
# dictionaries lazily on first use: two threads inside one at once (drafts, the hot-issue worker, QA) read a
# half-built map and got wrong places (汉滨区 read as 滨江区), which the cache below then kept. One at a time.
_JIONLP_LOCK = threading.Lock()


def _parse_location(said: str) -> dict[str, Any]:
    """jionlp's reading of a place name (callers only read the result)."""
    with _JIONLP_LOCK:
        return dict(jionlp().parse_location(said, town_village=True))


CHINA = ZoneInfo("Asia/Shanghai")  # the default deployment zone (settings.timezone)


@dataclass(frozen=True, slots=True)
class Region:
    province: str
    city: str
    county: str


@dataclass
class Place:
    levels: dict[str, str] = field(default_factory=dict)
    start: int = 0
    end: int = 0
    text: str = ""
    confidence: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "levels": {k: self.levels[k] for k in LEVELS if k in self.levels},
            "evidence": {"start": self.start, "end": self.end, "text": self.text},
            "confidence": round(self.confidence, 2),
        }


class Gazetteer:
    """The deployment county's townships and communities, by full and short name."""

    def __init__(self, region: Region, locations: Path | None = None) -> None:
        self.region = region
        path = locations or Path(jionlp().__file__).parent / "dictionary" / "china_location.txt"
        self.towns: dict[str, str] = {}  # said → full township name
        self.communities: dict[str, tuple[str, str]] = {}  # said → (full name, township)
        inside, town = False, ""
        for line in path.read_text(encoding="utf-8").splitlines():
            depth = len(line) - len(line.lstrip("\t"))
            name = line.strip().split("\t")[0]
            if depth == 2:
                inside = name == region.county
            elif inside and depth == 3:
                town = name
                self.towns[name] = name
                short = _short(name, _TOWN_SUFFIXES)
                if len(short) >= 2:
                    self.towns.setdefault(short, name)
            elif inside and depth == 4:
                full = _community(name)
                self.communities[full] = (full, town)
        if not self.towns:
            raise ValueError(f"{region.county} is not in the division dictionary")
        # 高禹 for 高禹村, 长乐 for 长乐社区: said that way only right after the township (see short_community)
        self._short: dict[str, dict[str, str]] = {}
        for full, (_, of_town) in self.communities.items():
            short = _short(full, ("社区", "村"))
            if len(short) >= 2:
                self._short.setdefault(of_town, {})[short] = full
        for of_town, names in self._short.items():  # longest first: 新街桥 before 新街
            self._short[of_town] = dict(sorted(names.items(), key=lambda kv: -len(kv[0])))
        self._town_re = _alternation(self.towns)
        self._community_re = _alternation(self.communities)
        self._sounds: HomophoneIndex[bool] = HomophoneIndex()  # payload: is it a community (村 / 社区)?
        for name in self.towns:
            if len(name) >= 2:
                self._sounds.add(name, False)
        for name in self.communities:
            if len(name) >= 2:
                self._sounds.add(name, True)

    def short_community(self, text: str, at: int, township: str) -> tuple[str, int, int] | None:
        """A community of ``township`` said without 村 / 社区 at ``at`` (after a pause) and followed by
        words of place (天子湖镇 高禹那个路口, 递铺 长乐那边): its full name and span."""
        while at < len(text) and text[at].isspace():
            at += 1
        for short, full in self._short.get(township, {}).items():  # longest first (see __init__)
            if text.startswith(short, at) and _SHORT_PLACE_AFTER.match(text, at + len(short)):
                return full, at, at + len(short)
        return None

    def heard_as(self, text: str) -> str:
        """``text`` with names of ours the ASR wrote with other characters of the same sound put back
        (地铺 → 递铺, 常硕街道 → 昌硕街道) — a township's short name only where the words around it say
        a place (在地铺, 地铺那边), so 爬上树 is never 上墅. Same length: spans stay the caller's."""
        fixed = list(text)
        for start, end, name, community in self._sounds.find(text):
            # a village of three characters or more is a name wherever it is heard; two (姚村) could be
            # any two words (镇里说要村里先盖章)
            if (community and len(name) >= 3) or _PLACE_BEFORE.search(text, max(0, start - 2), start) \
                    or _PLACE_AFTER.match(text, end):
                fixed[start:end] = name
        return "".join(fixed)

    def find(self, text: str) -> tuple[re.Match[str] | None, list[re.Match[str]]]:
        """The first township named, and every community name heard (the caller picks among them)."""
        return self.find_from(text, 0)

    def town_names_before_roads(self, text: str) -> list[re.Match[str]]:
        return [m for m in self._town_re.finditer(text) if _ROAD_AFTER.match(text, m.end())]

    def find_from(self, text: str, start: int) -> tuple[re.Match[str] | None, list[re.Match[str]]]:
        towns = [m for m in self._town_re.finditer(text, start) if not _ROAD_AFTER.match(text, m.end())]  # 昌硕路
        heard = list(self._community_re.finditer(text, start))
        # 在孝丰往章村去的路上: where someone was heading is the place only when no other is named
        if any(not _heading_to(text, m) for m in towns + heard):
            towns = [m for m in towns if not _heading_to(text, m)]
            heard = [m for m in heard if not _heading_to(text, m)]
        return next(iter(towns), None), heard


class PlaceFinder:
    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.region = gazetteer.region
        # jionlp's parse_location scans the whole division map per call (tens of ms): most of a draft's
        # CPU. A live call's draft is rebuilt from its whole transcript after each final result, so the
        # same place names come back again and again: remember them (thread-safe, bounded).
        self._parse_location = functools.lru_cache(maxsize=4096)(_parse_location)

    def find(self, text: str, tokens: list[Token]) -> Place | None:
        town, heard = self.gazetteer.find(text)
        if not heard and (fixed := self.gazetteer.heard_as(text)) != text:
            # A name of ours written with other characters: read the place from the names it sounds like
            # when that finds a community, or a township where none was written.
            fixed_named = self.gazetteer.find(fixed)
            fixed_town, fixed_heard = fixed_named
            if town is not None:  # a village guessed by sound belongs to the township said outright
                of_town = self.gazetteer.towns[town.group(0)]
                fixed_heard = [m for m in fixed_heard if self.gazetteer.communities[m.group(0)][1] == of_town]
            if fixed_heard or (town is None and fixed_town is not None):
                place = self._find(fixed, tokens, fixed_named)
                if place is not None:  # the evidence is what the caller said; a guess by sound is less sure
                    return replace(place, text=text[place.start : place.end], confidence=place.confidence * 0.8)
        return self._find(text, tokens, (town, heard))

    def _find(self, text: str, tokens: list[Token],
              named: tuple[re.Match[str] | None, list[re.Match[str]]]) -> Place | None:
        town, heard = named  # the township and villages named in ``text`` (Gazetteer.find)
        named_town = self.gazetteer.towns[town.group(0)] if town is not None else None
        alone = [m for m in heard if _stands_alone(text, m, town, tokens)]
        community = next((m for m in alone if self.gazetteer.communities[m.group(0)][1] == named_town),
                         next(iter(alone), None))
        elsewhere = self._elsewhere(text, tokens)
        if elsewhere is not None and elsewhere[0].get("county", self.region.county) != self.region.county:
            # Another county named first: a same-named village of ours further on is theirs (双河村). When
            # LAC's place run holds our name too (孝丰镇潴口溪村, read by jionlp as 丰镇市), only the words
            # before our name can name that other county.
            first = min((m.start() for m in (town, community) if m is not None), default=len(text))
            begin, end = elsewhere[1]
            before = self._resolve(text[begin:first]) if begin < first < end else None
            if begin < first and (end <= first or (before or {}).get("county", self.region.county)
                                  != self.region.county):
                town = community = None
        spans: list[tuple[int, int]] = []
        levels: dict[str, str] = {}
        confidence = 0.0
        if community is not None:
            full, of_town = self.gazetteer.communities[community.group(0)]
            levels.update(township=of_town, community=full)
            spans.append(community.span())
            confidence = 0.9
        if town is not None and (community is None or self.gazetteer.towns[town.group(0)] == levels["township"]):
            levels["township"] = self.gazetteer.towns[town.group(0)]
            spans.append(town.span())
            confidence = max(confidence, 0.85)
        if levels:
            levels.update(province=self.region.province, city=self.region.city, county=self.region.county)
            county_said = text.find(self.region.county[:-1]) if self.region.county[:-1] else -1
            if county_said != -1 and county_said < min(s for s, _ in spans):
                spans.append((county_said, county_said + len(self.region.county[:-1])))
        elif elsewhere is not None:
            levels.update(elsewhere[0])
            spans.append(elsewhere[1])
            confidence = 0.7
            self._below_county(text, tokens, levels, spans)
        # The estate, road or building after (or without) the named area: after the last level's words
        # (a LOC run may have swallowed the estate: 八步乡怡景苑).
        after = _after_levels(text, levels, spans)
        if "township" in levels and "community" not in levels:
            village = VILLAGE_RE.match(text, after)
            short = self.gazetteer.short_community(text, after, levels["township"]) if village is None else None
            if village is not None:
                levels["community"] = village.group(1)
                spans.append(village.span(1))
                after = village.end(1)
            elif short is not None:
                levels["community"] = short[0]
                spans.append(short[1:])
                after = short[2]
        estate = ESTATE_RE.search(text, after) or (ESTATE_RE.search(text) if not spans else None)
        estate_span = _trim(text, _past_divisions(text, estate.span()), tokens) if estate is not None else None
        if estate_span is not None:
            levels["building"] = text[estate_span[0] : estate_span[1]]
            spans.append(estate_span)
            confidence = max(confidence, 0.6)
        road = ROAD_RE.search(text, after) if spans else None
        if road is not None and "building" not in levels and road.start() - after <= 1 \
                and not road.group(0).startswith(_POINTING) and "的" not in road.group(0):
            # (深溪坞村那个路边, 新丰村的路灯: no road's name)
            levels["road"] = road.group(0)
            spans.append(road.span())
        if not spans and (road_named := self._named_road(text, tokens)) is not None:
            levels["road"] = road_named.group(0)  # 灵峰大道, 昌硕路: a road of ours said on its own
            spans.append(road_named.span())
            confidence = 0.6
        elif spans and "road" not in levels and "building" not in levels and (near := _road_in_words(tokens)):
            # a road said before the township or beside it (在104国道梅溪那段, 申嘉湖高速 往湖州方向 安吉出口)
            if max(min(s for s, _ in spans) - near[1], near[0] - max(e for _, e in spans)) <= _ROAD_REACH:
                levels["road"] = text[near[0] : near[1]]
                spans.append(near)
        if not levels:
            return None
        _add_building(text, levels, spans)
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        return Place(levels, start, end, text[start:end], confidence)

    def _named_road(self, text: str, tokens: list[Token]) -> re.Match[str] | None:
        """A road named after one of the county's townships (昌硕路, 灵峰大道), else the first road LAC's
        words name (天目路; 灵芝|路|上, 胜利|东路, 申嘉湖|高速, 306|省道)."""
        for town in self.gazetteer.town_names_before_roads(text):
            road = ROAD_RE.match(text, town.start())
            if road is not None:
                return road
        span = _road_in_words(tokens)
        return re.compile(re.escape(text[span[0] : span[1]])).match(text, span[0]) if span else None

    def _below_county(self, text: str, tokens: list[Token], levels: dict[str, str],
                      spans: list[tuple[int, int]]) -> None:
        """Another county's township and village, read from the same division dictionary as ours
        (杜集区石台刘庄村 → 石台镇, 刘庄村), when they are said after the county."""
        if "county" not in levels or "province" not in levels or "city" not in levels:
            return
        local = _county_gazetteer(Region(levels["province"], levels["city"], levels["county"]))
        if local is None:
            return
        begin = min(s for s, _ in spans)
        stem = _short(levels["county"], ("自治县", "县", "区", "市", "旗"))
        if (said := text.find(stem, begin)) != -1:  # below the county: not its own name (玉田县 ≠ 玉田镇)
            suffix = _DIVISION_END.match(text, said + len(stem))
            begin = suffix.end() if suffix else said + len(stem)
        town, heard = local.find_from(text, begin)
        community = next((m for m in heard if _stands_alone(text, m, town, tokens)), None)
        if community is not None:
            full, of_town = local.communities[community.group(0)]
            if town is None or local.towns[town.group(0)] == of_town:
                levels.update(township=of_town, community=full)
                spans.append(community.span())
                if town is not None:
                    spans.append(town.span())
                return
        if town is not None:
            levels["township"] = local.towns[town.group(0)]
            spans.append(town.span())

    def _elsewhere(self, text: str, tokens: list[Token]) -> tuple[dict[str, str], tuple[int, int]] | None:
        """A LOC run outside the deployment's county, resolved by jionlp to province/city/county."""
        runs: list[tuple[int, int]] = []
        for tok in tokens:
            if tok.tag == "LOC":
                if runs and runs[-1][1] == tok.start:
                    runs[-1] = (runs[-1][0], tok.end)
                else:
                    runs.append((tok.start, tok.end))
        for start, end in runs:
            if text.startswith("方向", end) or text[max(0, start - 1) : start] in ("往", "朝", "向"):
                continue  # where a car was heading (往湖州方向), not where it happened
            levels = self._resolve(text[start:end], then=text[end : end + 2])
            if levels is not None:
                return levels, (start, end)
        return None

    def _resolve(self, said: str, then: str = "") -> dict[str, str] | None:
        """province / city / county (and a township) of words naming a place (``then``: the words right
        after them), or None."""
        if not said.strip():
            return None
        parsed = self._parse_location(said)
        levels = {k: parsed[k] for k in ("province", "city", "county") if parsed.get(k)}
        if parsed.get("town"):
            levels["township"] = parsed["town"]
        if parsed.get("county") and _county_guessed(said + then, parsed["county"]):
            # jionlp guessed a county from a fragment ("城关镇" → 城关区, 振兴路 → 振兴区), and the
            # province and city from that county unless they were said too
            levels.pop("county")
            for key, suffixes in (("city", ("市", "地区", "自治州", "盟")), ("province", ("省", "自治区", "市"))):
                if key in levels and _short(levels[key], suffixes)[:2] not in said:
                    levels.pop(key)
        if not levels.get("county") and "township" not in levels:
            # What was said is a township's name jionlp does not place (城关镇, 城南街道: in many
            # counties, none of them ours): keep the township, so the road after it is read too.
            town = _TOWNSHIP_SAID.match(said)
            if town is not None:
                levels["township"] = town.group(0)
        return levels if levels.get("county") or levels.get("township") or levels.get("city") else None


_HEADING_TO = re.compile(r"(?:镇|乡|街道|村)?(?:去|方向|开|走)")


def _heading_to(text: str, name: re.Match[str]) -> bool:
    """往章村去, 朝孝丰方向: where someone was heading, not where it happens."""
    return text[max(0, name.start() - 1) : name.start()] in ("往", "朝") and bool(_HEADING_TO.match(text, name.end()))
_SHORT_PLACE_AFTER = re.compile(r"\s|$|那边|这边|那里|这里|那个|那段|那块|这块|附近|一带|村口|路口|门口")
_TOWNSHIP_SAID = re.compile(r"[\u4e00-\u9fa5]{2,4}?(?:街道|镇|乡)")
_FUNCTION = ("v", "r", "d", "p", "u", "c", "m", "q", "a", "f", "xc", "TIME", "PER")
# A village or community named right after its township: 章村镇河垓村, 海口街道中平社区 (lazy: 茅山村村口
# stops at the first 村). No function characters inside a name ("那边的村" is not one); 新村 ends estates.
VILLAGE_RE = re.compile(r"((?:(?![的了在是那这里边个我你他有和也就都往朝去到从])[\u4e00-\u9fa5]){1,5}?"
                        r"(?:(?<!新)村|社区))")
_DIVISION_END = re.compile(r"(?:街道|镇|乡|县|区|市)")


def _stands_alone(text: str, match: re.Match[str], town: re.Match[str] | None, tokens: list[Token]) -> bool:
    """A community name heard as a word of its own: not inside the township's name (章村 in 章村镇) nor the
    tail of a longer word (新村 in 玉兰新村)."""
    if town is not None and match.start() < town.end() and town.start() < match.end():
        # 章村 inside 章村镇 is the township; 孝源 inside 孝源村 is the village's name
        return match.start() <= town.start() and town.end() < match.end()
    at, end = match.span()
    if end - at <= 2 and any(t.start == end - 1 and t.end > end for t in tokens):
        return False  # 消防员和|村里的人: the name's last character begins another word (和村)
    if at == 0 or (town is not None and town.end() == at) or text[at - 1] in "镇乡县区市道":
        return True
    word = next((t for t in tokens if t.start < at < t.end), None)
    # inside a longer word only as its end, and only a name too long to be a common word (阿拉深溪坞村)
    return word is None or (end - at >= 3 and word.end == end)


def _text_before(tokens: list[Token], token: Token) -> str:
    """The word just before ``token`` (its last character), or ''."""
    previous = next((t for t in reversed(tokens) if t.end == token.start), None)
    return previous.word[-1] if previous is not None else ""


def _road_in_words(tokens: list[Token]) -> tuple[int, int] | None:
    """The first road named in LAC's words: one word (天目路, 胜利西路口) that is no verb (挡住路), or a
    name LAC cut off its kind — a place's or person's name (灵芝|路上, 申嘉湖|高速), a number before a
    numbered highway (235|国道), any word before a road with its side (胜利|东路)."""
    for at, word in enumerate(tokens):
        before = tokens[at - 1] if at else None
        named = _ROAD_WORD.fullmatch(word.word)
        if named is not None and word.tag not in ("v", "vd", "a", "d") and not _a_kind_of_road(named.group("road")):
            return word.start, word.start + len(named.group("road"))
        if word.tag in ("ORG", "LOC") and (inside := _ROAD_IN_A_NAME.match(word.word)) is not None \
                and (_HIGHWAY_WORD.fullmatch(inside.group(0)) or not _a_kind_of_road(inside.group(0))):
            return word.start, word.start + inside.end()  # 天目路小学, 胜利路菜场: the road it stands on
        highway = _HIGHWAY_WORD.fullmatch(word.word)
        if highway is not None and word.tag not in ("v", "vd", "a", "d"):
            return word.start, word.start + len(highway.group("road"))
        tail = _ROAD_TAIL.fullmatch(word.word)
        if before is None or tail is None or len(before.word) < 2:
            continue
        kind = tail.group("kind")
        if kind in ("国道", "省道", "县道"):
            road = before.word.isdigit() or before.tag in _NAME_TAGS
        elif kind in ("高速", "高速公路"):
            road = before.tag in _NAME_TAGS
        else:
            sided = len(kind) > 1 and kind[0] in "东西南北中" and before.tag not in _GRAMMAR
            # a common noun as a name only where a name starts (" 天目|路上", "在天目|路"), never 学校|路上
            plain = (before.tag == "n" and before.word not in _NOT_ROAD_NAMES
                     and (before.start == 0 or _text_before(tokens, before) in _NAME_STARTS))
            road = before.tag in _NAME_TAGS or sided or plain
            road = road and not _a_kind_of_road(before.word + kind)
        if road:
            return before.start, word.start + len(kind)
    return None


def _a_kind_of_road(road: str) -> bool:
    """马路, 水泥路, 机耕路: what kind of road, not which one (a name has two characters or more)."""
    stem = _ROAD_STEM.fullmatch(road)
    return stem is None or road.endswith("马路") or len(stem.group(1)) < 2 or stem.group(1)[-2:] in _ROAD_KINDS


def _add_building(text: str, levels: dict[str, str], spans: list[tuple[int, int]]) -> None:
    """A building number said apart from its estate or community (锦绣花园 五号楼, 三号楼这边 我们是凤凰社区的,
    盛世华庭八号楼): the one nearest to the place found joins the building level."""
    if BUILDING_RE.search(levels.get("building", "")):
        return
    found = list(BUILDING_RE.finditer(text))
    if not found:
        return
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    near = min(found, key=lambda m: max(first - m.end(), m.start() - last, 0))
    if max(first - near.end(), near.start() - last) > 24:
        return  # too far from the place to be part of it
    levels["building"] = levels.get("building", "") + near.group(0)
    spans.append(near.span())


@functools.lru_cache(maxsize=32)
def _county_gazetteer(region: Region) -> Gazetteer | None:
    """Any county's townships and communities (a few ms to read; the same counties come back)."""
    try:
        return Gazetteer(region)
    except ValueError:  # a county jionlp names differently from its dictionary (renamed 县 → 区)
        return None


def _county_guessed(said: str, county: str) -> bool:
    """jionlp read a county the caller did not name: its stem is not said, or is said as a township's
    name (城关镇, 城关街道: a township in many counties, not 城关区), or the county's name is a common
    word (矿区, 郊区: 阳泉's districts, and any mine's or town's outskirts)."""
    if county in _COMMON_WORD_COUNTIES:
        return True
    if county.endswith(("县", "区", "市", "旗")) and county in said:
        return False  # said in full (礼县)
    stem = _short(county, ("自治县", "县", "区", "市", "旗"))
    at = said.find(stem) if len(stem) >= 2 else -1
    return at == -1 or said[at + len(stem):].startswith(_NOT_A_COUNTY)


def _after_levels(text: str, levels: dict[str, str], spans: list[tuple[int, int]]) -> int:
    """Where the administrative words end: the end of the last level name said (full or without its
    suffix), else the end of the spans found."""
    ends = [e for _, e in spans]
    if not ends:
        return 0
    start = min(s for s, _ in spans)
    said_ends = []
    for key in ("county", "township", "community"):
        name = levels.get(key)
        for form in (name, _short(name, (*_TOWN_SUFFIXES, "县", "区", "市")) if name else None):
            if form and len(form) >= 2 and (at := text.find(form, start)) != -1:
                end = at + len(form)
                suffix = _DIVISION_END.match(text, end)  # the short form said in full: 城关 + 镇
                said_ends.append(suffix.end() if suffix else end)
                break
    return max(said_ends) if said_ends else max(ends)


def _past_divisions(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """An estate name does not run over a division's name: 双阳街道香樟苑 → 香樟苑."""
    start, end = span
    cut = [m.end() for m in _DIVISION_END.finditer(text, start, end) if m.end() < end - 1]
    return (max(cut), end) if cut else span


# Words that end the run-up to a name: 地点在|玉兰新村, 我住|锦绣花园, 就是|阳光小区, 车停在|小区.
_LEAD_IN = re.compile(r".*[在是住于到的]")


def _trim(text: str, span: tuple[int, int], tokens: list[Token]) -> tuple[int, int] | None:
    """The regex over-reaches to the left ("那个锦绣花园", "地点在玉兰新村"): start after the run-up (a
    preposition or copula before the name) and at the first word that is no function word. None when
    nothing of a name is left (the hit was "都是广场", "车天天停在小区")."""
    start, end = span
    lead_in = _LEAD_IN.match(text, start, end - 2)  # the name's own last two characters are its kind
    if lead_in is not None:
        start = lead_in.end()
    for tok in tokens:
        if tok.end <= start or tok.start >= end:
            continue
        if tok.tag in _FUNCTION and tok.end < end - 1:
            start = max(start, tok.end)
        else:
            break
    return (start, end) if end - start >= 3 else None


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _community(name: str) -> str:
    for suffix, to in (("村民委员会", "村"), ("居民委员会", "社区"), ("村委会", "村"), ("居委会", "社区")):
        if name.endswith(suffix):
            return name[: -len(suffix)] + to
    return name


def _alternation(names: dict[str, Any]) -> re.Pattern[str]:
    ordered = sorted(names, key=len, reverse=True)  # longest first: 孝丰镇 before 孝丰
    return re.compile("|".join(re.escape(n) for n in ordered))


# --- times --------------------------------------------------------------------------------------


@dataclass
class TimeMention:
    text: str
    start: int
    end: int
    instant: list[str] | None  # [from, to] ISO local times, or None when jionlp cannot place it

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "interval": self.instant,
            "evidence": {"start": self.start, "end": self.end, "text": self.text},
            "confidence": 0.9 if self.instant else 0.4,
        }


# Spoken times LAC often leaves untagged: weeks and months counted from now, the recent past, festivals
# and school holidays (过年前, 暑假), seasons people date things by (汛期, 三伏天).
_SPOKEN_TIME = re.compile(
    r"(?:上上|上|这|下)个?(?:礼拜|星期|周|月)[一二三四五六日天]?|前(?:阵子|段时间|些天|几天|两天)|刚刚|刚才"
    r"|(?:过年|春节|国庆|中秋|清明|端午|元旦|暑假|寒假)(?:前|后|的时候|期间|那几天)?"
    r"|(?:五一|十一)(?:前|后|的时候|期间|假期|放假)|汛期|三伏天|天不亮|大前天")  # 五一路, 十一楼 are no times


_NAMED_AFTER_A_DAY = re.compile(r"路|街|大道|广场|小区|村|桥|楼|层")
_NUMERALS = re.compile(r"[0-9零一二三四五六七八九十]+")


def find_times(text: str, tokens: list[Token], call_time: datetime, zone: ZoneInfo = CHINA) -> list[TimeMention]:
    """Time words (LAC TIME/t runs) as intervals relative to the call, in the deployment's time zone:
    昨天晚上 is the caller's evening, whatever zone the machine runs in. jionlp reads a timestamp in the
    machine's local zone, so it is given the call's wall clock in ``zone`` instead."""
    runs: list[tuple[int, int]] = []
    for tok in tokens:
        if tok.tag in ("TIME", "t"):
            if runs and runs[-1][1] == tok.start:
                runs[-1] = (runs[-1][0], tok.end)
            else:
                runs.append((tok.start, tok.end))
    for m in _SPOKEN_TIME.finditer(text):  # what LAC leaves untagged when glued to other words (吧上礼拜)
        if not any(s < m.end() and m.start() < e for s, e in runs):
            runs.append(m.span())
    runs.sort()
    wall = (call_time if call_time.tzinfo else call_time.replace(tzinfo=zone)).astimezone(zone)
    base = {
        "year": wall.year,
        "month": wall.month,
        "day": wall.day,
        "hour": wall.hour,
        "minute": wall.minute,
        "second": wall.second,
    }
    mentions = []
    for start, end in runs:
        said = text[start:end]
        if (counted := _NUMBERED_THING.match(text, start)) is not None and counted.end() >= end:
            continue  # 三号楼, 五号线: LAC reads 三号 as the third of the month
        if _NUMERALS.fullmatch(said) and _NAMED_AFTER_A_DAY.match(text, end):
            continue  # 五一路, 十一楼: a road or a floor, not a day
        try:
            with _JIONLP_LOCK:
                parsed = jionlp().parse_time(said, time_base=base)
            value = parsed.get("time")
            instant = (
                [_zoned(str(v), zone) for v in value]
                if isinstance(value, list) and parsed["type"] == "time_point"
                else None
            )
        except Exception:  # jionlp raises plain ValueError / TypeError on words it cannot place
            instant = None
        mentions.append(TimeMention(said, start, end, instant))
    return mentions


def _zoned(wall_clock: str, zone: ZoneInfo) -> str:
    """jionlp's "2026-12-03 18:00:00" (a wall clock in ``zone``) → ISO 8601 with the zone's offset."""
    return datetime.fromisoformat(wall_clock).replace(tzinfo=zone).isoformat()
