"""Stage 5: dispatch suggestion. The matter's likelihoods × the 职责清单 (which unit handles which matter
in which territory) × what the history says: every approved 退单 of a unit for a matter and township
lowers that unit there (派单异议 upheld = "不属于本单位职责").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.understanding.places import Region
from gateway.understanding.taxonomy import DATA, Taxonomy, read_toml

IN_TERRITORY, COUNTY_WIDE, UNKNOWN_PLACE, OUTSIDE = 1.0, 0.9, 0.5, 0.15
RETURN_PENALTY = 0.4  # per approved return for the same matter and township


@dataclass(frozen=True, slots=True)
class Duty:
    unit: str
    matters: frozenset[str]
    territory: frozenset[str]  # township names; "*" = the whole county
    lead: frozenset[str]  # matters it answers for county-wide


@dataclass(frozen=True, slots=True)
class ResponsibilityList:
    region: Region
    duties: tuple[Duty, ...]

    @classmethod
    def load(cls, path: Path | None = None, taxonomy: Taxonomy | None = None) -> ResponsibilityList:
        path = path or DATA / "responsibility.toml"
        data = read_toml(path)
        try:
            region = Region(**data["region"])
            duties = tuple(
                Duty(
                    u["name"],
                    frozenset(u["matters"]),
                    frozenset(u.get("territory", ["*"])),
                    frozenset(u.get("lead", [])),
                )
                for u in data["unit"]
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: needs [region] province/city/county and [[unit]] name/matters ({exc})") from exc
        if taxonomy is not None:
            unknown = sorted({m for d in duties for m in d.matters} - set(taxonomy.matters))
            if unknown:
                raise ConfigError(f"{path}: matters not in the taxonomy: {', '.join(unknown)}")
        return cls(region, duties)


@dataclass(frozen=True, slots=True)
class Suggestion:
    unit: str
    score: float
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.unit, "score": round(self.score, 3), "reasons": list(self.reasons)}


def suggest(
    duties: ResponsibilityList,
    taxonomy: Taxonomy,
    matters: list[tuple[str, float]],
    township: str | None,
    returns: Mapping[tuple[str, str, str | None], int] | None = None,
    k: int = 3,
) -> list[Suggestion]:
    """``matters``: (code, probability) best first; ``returns``: (unit, matter, township) → approved 退单."""
    best: dict[str, Suggestion] = {}
    for rank, duty in enumerate(duties.duties):
        for code, p in matters:
            if code not in duty.matters:
                continue
            fit, where = _fit(duty, code, township)
            n = (returns or {}).get((duty.unit, code, township), 0)
            score = p * fit * RETURN_PENALTY**n - rank * 1e-6  # the list's order breaks ties
            name = taxonomy.matters[code].name if code in taxonomy.matters else code
            reasons = [f"职责清单：{name}", where, f"事项置信度 {p:.2f}"]
            if n:
                reasons.append(f"该单位在此事项与地点有 {n} 次获批退单，降权")
            if duty.unit not in best or score > best[duty.unit].score:
                best[duty.unit] = Suggestion(duty.unit, max(score, 0.0), tuple(reasons))
    return sorted(best.values(), key=lambda s: -s.score)[:k]


def _fit(duty: Duty, matter: str, township: str | None) -> tuple[float, str]:
    if "*" in duty.territory or matter in duty.lead:
        return COUNTY_WIDE, "全县范围"
    if township is None:
        return UNKNOWN_PLACE, "地点未识别，按辖区单位"
    if township in duty.territory:
        return IN_TERRITORY, f"辖区：{township}"
    return OUTSIDE, f"不在其辖区（{township}）"
