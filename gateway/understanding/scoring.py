"""Emergency and out-of-scope figures on a labelled set (JSON lines: text, emergency, out_of_scope).

``python -m gateway.understanding.scoring FILE`` prints them; the tests assert the targets with them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.understanding.emergency import detect_emergency
from gateway.understanding.scope import out_of_scope


@dataclass
class Scores:
    positives: int = 0
    found: int = 0  # positives flagged (any service / reason)
    flagged: int = 0  # everything flagged
    right_label: int = 0  # positives flagged with the right service / reason
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    per_label: Counter[str] = field(default_factory=Counter)  # label → positives
    per_label_found: Counter[str] = field(default_factory=Counter)  # label → flagged with that label, right
    per_label_flagged: Counter[str] = field(default_factory=Counter)  # label → flagged with that label

    @property
    def recall(self) -> float:
        return self.found / self.positives if self.positives else 1.0

    @property
    def precision(self) -> float:
        return self.found / self.flagged if self.flagged else 1.0

    def line(self, name: str) -> str:
        return (f"{name}: recall {self.found}/{self.positives} = {self.recall:.3f}, precision "
                f"{self.found}/{self.flagged} = {self.precision:.3f}, right label {self.right_label}/{self.found}")


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(rows: Iterable[dict[str, Any]]) -> tuple[Scores, Scores]:
    emergency, scope = Scores(), Scores()
    for row in rows:
        text = row["text"]
        found = detect_emergency(text)
        _count(emergency, row.get("emergency"), found.service if found else None, text)
        judged = out_of_scope(text)
        _count(scope, row.get("out_of_scope"), judged.reason if judged else None, text)
    return emergency, scope


def _count(scores: Scores, want: str | None, got: str | None, text: str) -> None:
    if want:
        scores.positives += 1
        scores.per_label[want] += 1
        if got is None:
            scores.misses.append(f"{want}: {text}")
    if got is None:
        return
    scores.flagged += 1
    scores.per_label_flagged[got] += 1
    if not want:
        scores.false_alarms.append(f"{got}: {text}")
        return
    scores.found += 1
    if got == want:
        scores.right_label += 1
        scores.per_label_found[got] += 1


def report(path: Path) -> str:
    emergency, scope = score(read(path))
    lines = [str(path), emergency.line("emergency"), scope.line("out_of_scope")]
    for label in sorted(emergency.per_label):
        right, positives, flagged = (emergency.per_label_found[label], emergency.per_label[label],
                                     emergency.per_label_flagged[label])
        lines.append(f"  {label}: recall {right}/{positives}, precision {right}/{flagged}")
    lines += [f"  miss {item}" for item in emergency.misses + scope.misses]
    lines += [f"  false alarm {item}" for item in emergency.false_alarms + scope.false_alarms]
    return "\n".join(lines)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(report(Path(name)))
