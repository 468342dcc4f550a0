"""A realistic 50k-entry knowledge base for ``hotline bench kb``: the shipped entries as every hotline has them.

Each local 12345 hotline keeps entries on the same matters (scope, time limits, extensions, returns,
call-backs …) worded after its own regulation. So the bench entries are the shipped seed entries
re-issued by real places (jionlp's division dictionary: cities and counties), with that place's name,
its own time limits (the numbers of the policy varied) and its own wording (synonyms swapped), all
seeded. Questions with a known right answer come with them: the held-out paraphrase of the template,
re-worded for the place, asked by an agent of that place (region filter). Distractors are therefore the
hardest kind there is — the same matter elsewhere — instead of word salad.
"""

from __future__ import annotations

import importlib.util
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kb.evaluate import eval_questions
from kb.schemas import EntryContent
from kb.seed import seed_rows

# Policy wording differs between places: each pair may be swapped either way in a re-issued entry.
SYNONYMS = [
    ("多久", "多长时间"),
    ("怎么", "如何"),
    ("承办单位", "责任单位"),
    ("时限", "期限"),
    ("工单", "工单件"),
    ("办结", "办理完毕"),
    ("诉求人", "来电人"),
    ("受理", "接收"),
    ("哪些", "什么"),
    ("退回", "回退"),
    ("回访", "电话回访"),
]
NUMBER = re.compile(r"(\d+)(?=个?(?:工作日|小时|天|日|次|分钟))")
SUFFIXES = "省市州区县盟旗"


@dataclass(frozen=True, slots=True)
class Place:
    name: str  # 安吉县
    alias: str  # 安吉


@dataclass(frozen=True, slots=True)
class Probe:
    """A question whose right answer is known: asked by an agent of ``region``."""

    query: str
    expected: str
    region: str


def places(exclude: set[str]) -> list[Place]:
    """Cities and counties of China, one per distinct short name (jionlp's division dictionary)."""
    spec = importlib.util.find_spec("jionlp")  # the file only: importing jionlp itself takes seconds
    assert spec and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "dictionary" / "china_location.txt"
    out: dict[str, Place] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        parts = line.strip().split("\t")
        if depth not in (1, 2) or len(parts) != 3:
            continue
        name, _, alias = parts
        if len(alias) >= 2 and name not in exclude and alias not in out and name != alias:
            out[alias] = Place(name, alias)
    return list(out.values())


def short_name(region: str) -> str:
    return region[:-1] if len(region) > 2 and region[-1] in SUFFIXES else region


def reword(text: str, home: Place, place: Place, swaps: list[tuple[str, str]], numbers: dict[str, str]) -> str:
    text = text.replace(home.name, place.name).replace(home.alias, place.alias)
    for old, new in swaps:
        text = text.replace(old, new)
    return NUMBER.sub(lambda m: numbers.get(m.group(1), m.group(1)), text)


def realistic_entries(count: int, seed_value: int = 12345) -> tuple[list[tuple[str, EntryContent]], list[Probe]]:
    """``count`` entries re-issued by real places and, for those whose template has a held-out question,
    a probe asking it the way that place's callers would."""
    rng = random.Random(seed_value)
    templates = [row for _, row in seed_rows()]
    held_out = {item["expected"]: item["q"] for item in eval_questions()}
    homes = {row["region"]: Place(row["region"], short_name(row["region"])) for row in templates}
    towns = places(exclude=set(homes))
    rng.shuffle(towns)
    entries: list[tuple[str, EntryContent]] = []
    probes: list[Probe] = []
    for place in _cycle(towns):
        if len(entries) >= count:
            break
        numbers = {str(n): str(rng.choice([n, n + 1, max(1, n - 1), 2 * n])) for n in range(1, 100)}
        for row in rng.sample(templates, k=rng.randint(len(templates) // 2, len(templates))):
            if len(entries) >= count:
                break
            home = homes[row["region"]]
            swaps = [pair if rng.random() < 0.5 else pair[::-1] for pair in SYNONYMS if rng.random() < 0.3]
            entry_id = f"{row['id']}@{place.alias}"
            content = EntryContent(
                question=reword(row["question"], home, place, swaps, numbers),
                answer=reword(row["answer"], home, place, swaps, numbers),
                alternatives=[reword(a, home, place, swaps, numbers) for a in row["alternatives"]],
                basis_document=reword(row["basis_document"], home, place, [], {}),
                basis_article=row["basis_article"],
                unit_id=f"{place.alias}-12345",
                region=place.name,
                is_public=rng.random() < 0.9,
                tags=list(row["tags"]),
                effective_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
            entries.append((entry_id, content))
            if row["id"] in held_out:
                probes.append(Probe(held_out[row["id"]].replace(home.alias, place.alias), entry_id, place.name))
    return entries, probes


def _cycle(towns: list[Place]) -> Iterator[Place]:
    """Every place once; past that (huge counts) the same places again as numbered districts."""
    yield from towns
    for n in range(2, 1000):
        for town in towns:
            yield Place(f"{town.alias}{n}区", f"{town.alias}{n}")
