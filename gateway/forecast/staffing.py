"""From forecast calls to seats: the agents each half hour needs (Erlang A with the measured patience,
Erlang C beside it), the half hours the expected staffing will miss, and a roster that covers the need.

The roster is a small integer program solved by HiGHS (scipy.optimize.milp): one integer variable per
shift pattern and start half hour (a 24-hour centre: shifts may run over midnight, the day repeats), the
coverage of every half hour ≥ its rostered requirement, minimising agent-hours. Exact, and a day has at
most 48 × (patterns) variables, so it solves in milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from gateway.forecast.erlang import erlang_a_performance, required_agents, scheduled
from gateway.forecast.model import SLOTS
from gateway.forecast.settings import ShiftPattern

PERIOD = 1800.0


@dataclass(frozen=True)
class Targets:
    answer_seconds: float
    service_level: float
    abandon_rate: float
    shrinkage: float


@lru_cache(maxsize=4096)
def _need(calls: float, aht: float, patience: float, targets: Targets) -> tuple[int, int]:
    """(Erlang A agents on the phones, Erlang C agents) for one half hour."""
    a = required_agents(calls, PERIOD, aht, target=targets.answer_seconds, service_level=targets.service_level,
                        abandon_rate=targets.abandon_rate, patience=patience)
    c = required_agents(calls, PERIOD, aht, target=targets.answer_seconds, service_level=targets.service_level)
    return a.agents, c.agents


def requirements(calls: np.ndarray, aht: float, patience: float, targets: Targets) -> dict[str, np.ndarray]:
    """Per half hour: ``erlang_a`` and ``erlang_c`` agents on the phones, ``rostered`` (Erlang A grossed up
    for shrinkage). Forecasts are rounded to a tenth of a call, which changes no answer and lets equal
    half hours share one computation."""
    flat = np.round(calls.ravel(), 1)
    pairs = [_need(float(c), aht, patience, targets) for c in flat]
    erlang_a = np.array([p[0] for p in pairs]).reshape(calls.shape)
    erlang_c = np.array([p[1] for p in pairs]).reshape(calls.shape)
    rostered = np.vectorize(lambda n: scheduled(int(n), targets.shrinkage))(erlang_a) if erlang_a.size else erlang_a
    return {"erlang_a": erlang_a, "erlang_c": erlang_c, "rostered": rostered}


@dataclass(frozen=True)
class SlotOutlook:
    slot: int
    calls: float
    required: int
    expected_staffed: float
    service_level: float
    abandon_rate: float
    misses: bool


def outlook(calls: np.ndarray, expected_staffed: np.ndarray, required: np.ndarray, aht: float, patience: float,
            targets: Targets) -> list[SlotOutlook]:
    """One day's half hours with the staffing expected (agents on the phones): the service level and
    abandon rate Erlang A predicts with them, and whether that misses a target."""
    out = []
    for slot in range(len(calls)):
        agents = math.floor(expected_staffed[slot] + 1e-9)
        perf = erlang_a_performance(float(calls[slot]), PERIOD, aht, patience, agents, targets.answer_seconds)
        misses = calls[slot] > 0 and (perf.service_level < targets.service_level
                                      or perf.abandon_rate > targets.abandon_rate)
        out.append(SlotOutlook(slot, round(float(calls[slot]), 1), int(required[slot]),
                               round(float(expected_staffed[slot]), 2), round(perf.service_level, 4),
                               round(perf.abandon_rate, 4), bool(misses)))
    return out


@dataclass(frozen=True)
class Shift:
    pattern: str
    start_slot: int
    length_slots: int
    agents: int

    def covers(self, slot: int) -> bool:
        return (slot - self.start_slot) % SLOTS < self.length_slots


def _starts(pattern: ShiftPattern) -> list[int]:
    if pattern.starts is None:
        return list(range(SLOTS))
    slots = []
    for text in pattern.starts:
        hours, minutes = (int(part) for part in text.split(":"))
        slots.append(hours * 2 + minutes // 30)
    return sorted(set(slots))


def roster(required: np.ndarray, patterns: list[ShiftPattern]) -> list[Shift]:
    """The shifts (pattern, start, agents) covering ``required`` (agents rostered per half hour of one
    day, repeating daily) with the fewest agent-hours."""
    from scipy.optimize import Bounds, LinearConstraint, milp  # slow to import: not at start-up

    columns: list[tuple[ShiftPattern, int, int]] = []
    for pattern in patterns:
        length = round(pattern.hours * 2)
        columns.extend((pattern, start, length) for start in _starts(pattern))
    if not columns or not np.any(required > 0):
        return []
    cover = np.zeros((SLOTS, len(columns)))
    for j, (_, start, length) in enumerate(columns):
        for k in range(length):
            cover[(start + k) % SLOTS, j] = 1
    hours = np.array([length / 2 for _, _, length in columns])
    result = milp(c=hours, constraints=LinearConstraint(cover, lb=np.asarray(required, dtype=float)),
                  integrality=np.ones(len(columns)), bounds=Bounds(0, np.inf))
    if result.x is None:
        raise ValueError(f"no roster covers the requirement with these shift patterns: {result.message}")
    counts = np.round(result.x).astype(int)
    return [Shift(p.name, start, length, int(n)) for (p, start, length), n in zip(columns, counts, strict=True)
            if n > 0]


def coverage(shifts: list[Shift]) -> np.ndarray:
    out = np.zeros(SLOTS, dtype=int)
    for shift in shifts:
        for slot in range(SLOTS):
            if shift.covers(slot):
                out[slot] += shift.agents
    return out
