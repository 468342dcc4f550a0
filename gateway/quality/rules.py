"""The deployment-editable quality rules (data/rules.toml, or the file quality.rules_file names)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

DEFAULT_RULES = Path(__file__).parent / "data" / "rules.toml"
CHECKS = ("greeting", "closing", "forbidden_words", "talk_over", "long_silence", "holds", "transfer_unannounced",
          "category_lowered", "urgency_lowered", "place_missing", "time_missing", "person_missing",
          "emergency_unhandled", "out_of_scope_accepted", "answer_contradicts_kb")


@dataclass(frozen=True)
class Rules:
    greeting: tuple[str, ...]
    greeting_within: float
    closing: tuple[str, ...]
    closing_window: float
    forbidden: tuple[str, ...]
    overlap_seconds: float
    silence_seconds: float
    max_holds: int
    max_hold_seconds: float
    announce_wait: tuple[str, ...]
    citizen_wait: tuple[str, ...]
    announce_transfer: tuple[str, ...]
    category_order: tuple[str, ...]
    category_said: dict[str, tuple[str, ...]]
    category_asked: tuple[str, ...]
    urgent_said: tuple[str, ...]
    time_vague: tuple[str, ...]
    emergency_min_confidence: float
    scope_min_confidence: float
    weights: dict[str, float]
    severity_factor: dict[str, float]
    source: str

    @classmethod
    def load(cls, path: Path | None = None) -> Rules:
        path = path or DEFAULT_RULES
        try:
            raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
            c, t = raw["conduct"], raw["ticket"]
            rules = cls(
                greeting=tuple(c["greeting"]), greeting_within=float(c["greeting_within_seconds"]),
                closing=tuple(c["closing"]), closing_window=float(c["closing_window_seconds"]),
                forbidden=tuple(c["forbidden"]), overlap_seconds=float(c["overlap_seconds"]),
                silence_seconds=float(c["silence_seconds"]), max_holds=int(c["max_holds"]),
                max_hold_seconds=float(c["max_hold_seconds"]), announce_wait=tuple(c["announce_wait"]),
                citizen_wait=tuple(c.get("citizen_wait", ())),
                announce_transfer=tuple(c["announce_transfer"]), category_order=tuple(t["category_order"]),
                category_said={k: tuple(v) for k, v in t["category_said"].items()},
                category_asked=tuple(t.get("category_asked", {}).get("words", ())),
                urgent_said=tuple(t["urgent_said"]["words"]), time_vague=tuple(t["time_vague"]),
                emergency_min_confidence=float(t["emergency_min_confidence"]),
                scope_min_confidence=float(t["scope_min_confidence"]),
                weights={k: float(v) for k, v in raw["weights"].items()},
                severity_factor={k: float(v) for k, v in raw["severity_factor"].items()},
                source=str(path))
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"quality rules {path}: {exc.__class__.__name__}: {exc}",
                              error_id="invalid-quality-rules") from exc
        if missing := [name for name in CHECKS if name not in rules.weights]:
            raise ConfigError(f"quality rules {path}: [weights] lacks {', '.join(missing)}",
                              error_id="invalid-quality-rules")
        return rules
