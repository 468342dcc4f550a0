"""The data behind draft extraction: word lists (data/lexicon.toml) and the 职责清单 (responsibility list).

Policy packs hook in here: ``Lexicon.load().with_pack(out_of_scope=…, emergency=…)`` replaces those
lists with the pack's own, and ``ResponsibilityList.load(path)`` reads a deployment's list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.understanding.taxonomy import read_toml

DATA = Path(__file__).with_name("data")

CATEGORIES = ("咨询", "求助", "投诉", "举报", "建议", "致谢", "其他")


@dataclass(frozen=True, slots=True)
class Topic:
    """A named word list: a category, an emergency service, an out-of-scope reason."""

    key: str
    label: str
    keywords: tuple[str, ...]
    explicit: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lexicon:
    categories: tuple[Topic, ...]  # in tie-break order
    urgent: tuple[str, ...]
    emergency: tuple[Topic, ...]  # key = "110" | "119" | "120" | "122"
    out_of_scope: tuple[Topic, ...]  # key = reason id, label = what the agent reads

    @classmethod
    def load(cls, path: Path = DATA / "lexicon.toml") -> Lexicon:
        data = read_toml(path)
        categories = tuple(
            Topic(name, name, tuple(v.get("keywords", ())), tuple(v.get("explicit", ())))
            for name, v in data["categories"].items()
        )
        unknown = [t.key for t in categories if t.key not in CATEGORIES]
        if unknown:
            raise ConfigError(f"{path}: unknown categories {unknown}; known: {', '.join(CATEGORIES)}")
        return cls(
            categories,
            tuple(data["urgency"]["urgent"]),
            _topics(data["emergency"]),
            _topics(data["out_of_scope"]),
        )

    def with_pack(
        self,
        *,
        out_of_scope: Mapping[str, Mapping[str, object]] | None = None,
        emergency: Mapping[str, Mapping[str, object]] | None = None,
        urgent: Sequence[str] | None = None,
    ) -> Lexicon:
        """This lexicon with a policy pack's lists (same shape as the TOML tables) in place of ours."""
        changes: dict[str, object] = {}
        if out_of_scope is not None:
            changes["out_of_scope"] = _topics(out_of_scope)
        if emergency is not None:
            changes["emergency"] = _topics(emergency)
        if urgent is not None:
            changes["urgent"] = tuple(urgent)
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _topics(table: Mapping[str, Mapping[str, Any]]) -> tuple[Topic, ...]:
    topics = []
    for key, v in table.items():
        keywords = v.get("keywords", ())
        topics.append(Topic(str(key), str(v.get("label", key)), tuple(str(k) for k in keywords)))
    return tuple(topics)


@dataclass(frozen=True, slots=True)
class UnitDuty:
    unit: str
    keywords: tuple[str, ...]
    places: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResponsibilityList:
    duties: tuple[UnitDuty, ...]

    @classmethod
    def load(cls, path: Path | None = None) -> ResponsibilityList:
        path = path or DATA / "responsibility.toml"
        data = read_toml(path)
        duties = tuple(
            UnitDuty(u["name"], tuple(u.get("keywords", ())), tuple(u.get("places", ())))
            for u in data.get("unit", [])
        )
        if not duties:
            raise ConfigError(f"{path}: the responsibility list names no [[unit]]")
        return cls(duties)
