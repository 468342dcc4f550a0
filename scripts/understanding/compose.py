"""Composing ASR-like citizen utterances from fragments, for make_eval.py (the composed evaluation set).

Each set passes its OWN fragments, framings, surnames and a place split, so the evaluation set shares
no wording pattern list, place or person with the training corpus. Randomness is seeded: the files are
reproducible.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import jionlp

LOCATIONS = Path(jionlp.__file__).parent / "dictionary" / "china_location.txt"
SAMPLE = ("浙江省", "湖州市", "安吉县")


@dataclass(frozen=True)
class Village:
    province: str
    city: str
    county: str
    town: str
    village: str


def villages() -> list[Village]:
    out: list[Village] = []
    path = ["", "", "", ""]
    for line in LOCATIONS.read_text(encoding="utf-8").splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        name = line.strip().split("\t")[0]
        if not name:
            continue
        if depth < 4:
            path[depth] = name
            del path[depth + 1 :]
            path += [""] * (4 - len(path))
        else:
            out.append(Village(path[0], path[1], path[2], path[3], name))
    return out


def split_of(v: Village) -> str:
    """Stable half of the country for a set: "train" or "eval" (by county, and by village at home)."""
    key = v.village if v.county == SAMPLE[2] else v.county
    return "train" if hashlib.sha1(key.encode()).digest()[0] % 2 == 0 else "eval"


def short(name: str) -> str:
    for suffix in ("街道", "社区", "村委会", "居委会", "镇", "乡", "村", "县", "市", "区"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def strip_admin(name: str) -> str:
    for suffix in ("村民委员会", "居民委员会", "村委会", "居委会"):
        if name.endswith(suffix):
            return name[: -len(suffix)] + ("村" if "村" in suffix else "社区")
    return name


@dataclass
class Place:
    text: str
    levels: dict[str, str]


def say_place(rng: random.Random, v: Village, estates: list[str], roads: list[str], home: bool) -> Place:
    """How a caller names where: from a bare community to county + town + estate + building."""
    village = strip_admin(v.village)
    levels: dict[str, str] = {}
    parts: list[str] = []
    shape = rng.random()
    if not home and rng.random() < 0.6:
        parts.append(v.county)
        levels["county"] = v.county
    elif home and rng.random() < 0.25:
        parts.append(rng.choice([v.county, short(v.county)]))
        levels["county"] = v.county
    town_said = rng.choice([v.town, v.town, short(v.town)])
    if shape < 0.25:
        parts.append(town_said)
        levels["township"] = v.town
        parts.append(rng.choice(roads))
        levels["road"] = parts[-1]
    elif shape < 0.55:
        parts.append(town_said)
        levels["township"] = v.town
        parts.append(village)
        levels["community"] = village
    elif shape < 0.8:
        if rng.random() < 0.5:
            parts.append(town_said)
            levels["township"] = v.town
        estate = rng.choice(estates)
        parts.append(estate)
        levels["building"] = estate
        if rng.random() < 0.5:
            num = rng.choice(["三号楼", "十二栋", "二幢", "五号楼二单元", "七栋一单元", "十八号", "一期"])
            parts[-1] += num
            levels["building"] = parts[-1]
    else:
        parts.append(town_said)
        levels["township"] = v.town
        parts.append(village)
        levels["community"] = village
        parts.append(rng.choice(["村口", "村委会旁边", "老街", "桥头", "小学门口", "菜场边上"]))
    return Place("".join(parts), levels)


def noisy(rng: random.Random, text: str, homophones: dict[str, list[str]], dialect: dict[str, list[str]]) -> str:
    """ASR-like: mis-heard homophones, dialect words, repeated words; no punctuation."""
    for word, alts in homophones.items():
        if word in text and rng.random() < 0.3:
            text = text.replace(word, rng.choice(alts), 1)
    for word, alts in dialect.items():
        if word in text and rng.random() < 0.35:
            text = text.replace(word, rng.choice(alts))
    if rng.random() < 0.15 and len(text) > 8:
        i = rng.randrange(2, len(text) - 4)
        text = text[:i] + text[i : i + 2] + text[i:]  # a stammer: "我们我们"
    return text
