"""What a ticket is about and where, in an analyst's terms: its matter (诉求事项, the understanding
layer's taxonomy) and its place at the finest level the words allow (estate or community, road, township).
Hot issues are clusters of one matter in one place; reports count topics by matter and issues by matter
in place. Reading a ticket is CPU work (LAC, the classifier): call ``read_ticket`` from a worker thread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.understanding.pipeline import Understander

# Finest first: a cluster is "the same matter in the same place", and the finer the place the surer it is
# one event (a burst pipe in one estate) rather than coincidence. A county is too coarse to be a place.
FINE_LEVELS = ("building", "community", "road")
CLUSTER_LEVELS = (*FINE_LEVELS, "township")
_NUMBER = r"[0-9０-９零一二三四五六七八九十百两]+"
_UNIT_TAIL = re.compile(rf"(?:{_NUMBER}(?:号楼|号院|号|幢|栋|单元|楼|弄|室)).*$")
_NOT_A_NAME = re.compile(r"[的那这哪边里个么]")  # "那边的路" is a way of speaking, not a road
# What LAC's place names (LOC) end with, by level: the fallback where the gazetteer resolves nothing finer
# (a place outside the deployment's county, a road said without its township).
_TOWN_END = ("街道", "镇", "乡")
_ROAD = re.compile(rf"^(.{{1,8}}?(?:大道|大街|路|街|巷|弄))(?:{_NUMBER}号)?$")
_ESTATE_END = ("小区", "花园", "家园", "新村", "公寓", "苑", "园", "社区", "村", "大厦", "广场")


@dataclass(frozen=True, slots=True)
class Reading:
    matter_code: str
    matter_name: str
    place_level: str | None = None
    place_name: str | None = None
    place_label: str | None = None  # 梅溪镇幸福路
    place_full: str | None = None  # 安吉县梅溪镇幸福路

    @property
    def key(self) -> str | None:
        """The cluster: the same matter at the same place (None: no place fine enough to cluster on)."""
        if self.place_level is None:
            return None
        return f"{self.matter_code}@{self.place_level}:{self.place_name}"

    @property
    def name(self) -> str:
        return cluster_name(self.place_label, self.matter_name)


def cluster_name(place_label: str | None, matter_name: str) -> str:
    """阳光花园 供水: the place, then the matter."""
    return f"{place_label} {matter_name}" if place_label else matter_name


def read_ticket(u: Understander, *, content: str, title: str = "", location: str | None = None,
                elements: Mapping[str, Any] | None = None) -> Reading:
    text = f"{title} {content}".strip() if title and title not in content else content
    tokens = u.tagger.tag(text)
    code = _given_matter(u, elements)
    if code is None:
        _, matter = u.model.predict(text, tokens)
        code = matter.label
    found = u.taxonomy.matters.get(code)
    name = found.name if found else code
    levels = _levels(u, text, tokens)
    if location:  # the agent's location field is the surer source: its levels win
        said = u.tagger.tag(location)
        levels.update(_levels(u, location, said))
        _named_places(levels, said)
    _named_places(levels, tokens)
    return Reading(code, name, *_place(levels))


def _given_matter(u: Understander, elements: Mapping[str, Any] | None) -> str | None:
    """A matter chosen on the draft or by the agent (elements.matter: a code or {"code": …}) wins."""
    given = (elements or {}).get("matter")
    code = given.get("code") if isinstance(given, Mapping) else given
    return code if isinstance(code, str) and code in u.taxonomy.matters else None


def _levels(u: Understander, text: str, tokens: list[Any]) -> dict[str, str]:
    place = u.places.find(text, tokens)
    return dict(place.levels) if place is not None else {}


def _named_places(levels: dict[str, str], tokens: list[Any]) -> None:
    """Fill the township and the finest level from LAC's place names where nothing set them yet."""
    fine = any(_clean(levels.get(level)) for level in FINE_LEVELS)  # "这边整个小区" is no estate
    for tok in tokens:
        if tok.tag != "LOC":
            continue
        word = tok.word
        if "township" not in levels and len(word) >= 3 and word.endswith(_TOWN_END):
            levels["township"] = word
        elif not fine and (road := _ROAD.match(word)) is not None:
            levels["road"], fine = road.group(1), True
        elif not fine and len(word) >= 3 and word.endswith(_ESTATE_END):
            levels["building"], fine = word.removesuffix("小区"), True


def _place(levels: Mapping[str, str]) -> tuple[str | None, str | None, str | None, str | None]:
    township = levels.get("township")
    areas = tuple(levels[k] for k in ("province", "city", "county") if levels.get(k))
    for level in FINE_LEVELS:
        name = _clean(levels.get(level))
        if name and not name.startswith(areas):  # "汉阴县城" is the county town, not an estate
            label = name if not township or name.startswith(township) else township + name
            return level, name, label, _with_county(levels, label)
    if township:
        return "township", township, township, _with_county(levels, township)
    return None, None, None, None


def _clean(name: str | None) -> str | None:
    if not name:
        return None
    name = _UNIT_TAIL.sub("", name).strip()
    return name if len(name) >= 2 and not _NOT_A_NAME.search(name) else None


def _with_county(levels: Mapping[str, str], label: str) -> str:
    county = levels.get("county")
    return label if not county or label.startswith(county) else county + label
