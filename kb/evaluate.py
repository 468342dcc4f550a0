"""Search quality on the held-out paraphrased questions (kb/data/eval_questions.json): recall@1 and @5.

Each question is run as an agent would: filtered to the agent's own region, and also unfiltered (all
regions mixed), which is harder because several regions answer the same topic differently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kb.search import SearchEngine, SearchFilters

EVAL_FILE = Path(__file__).with_name("data") / "eval_questions.json"


@dataclass(slots=True)
class Recall:
    total: int = 0
    at1: int = 0
    at5: int = 0
    misses: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (query, expected, got top 5)

    @property
    def recall1(self) -> float:
        return self.at1 / self.total if self.total else 0.0

    @property
    def recall5(self) -> float:
        return self.at5 / self.total if self.total else 0.0


def eval_questions(path: Path = EVAL_FILE) -> list[dict[str, str]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["questions"])


async def measure(engine: SearchEngine, *, by_region: bool, path: Path = EVAL_FILE) -> Recall:
    recall = Recall()
    for item in eval_questions(path):
        regions = (item["region"],) if by_region and item.get("region") else ()
        filters = SearchFilters(regions=regions)
        ids = [hit.entry.id for hit in await engine.search(item["q"], filters=filters, limit=5)]
        recall.total += 1
        recall.at1 += ids[:1] == [item["expected"]]
        recall.at5 += item["expected"] in ids
        if ids[:1] != [item["expected"]]:
            recall.misses.append((item["q"], item["expected"], ids))
    return recall
