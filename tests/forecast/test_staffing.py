"""Seats per half hour, tomorrow's half hours at risk, and a roster that covers the need (proved here)."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.forecast.settings import ShiftPattern
from gateway.forecast.staffing import Targets, coverage, outlook, requirements, roster

TARGETS = Targets(answer_seconds=15, service_level=0.85, abandon_rate=0.05, shrinkage=0.3)
EIGHT, FOUR = ShiftPattern(name="8h", hours=8), ShiftPattern(name="4h", hours=4)


def test_requirements_grow_with_calls_and_gross_up_for_shrinkage() -> None:
    need = requirements(np.array([[0.0, 5.0, 40.0, 120.0]]), aht=300, patience=90, targets=TARGETS)
    a, c, rostered = need["erlang_a"][0], need["erlang_c"][0], need["rostered"][0]
    assert a[0] == 0 and list(a) == sorted(a)
    assert all(a <= c)  # callers who give up relieve the queue: Erlang A never asks for more than Erlang C
    assert list(rostered) == [int(np.ceil(n / 0.7)) for n in a]


def test_the_half_hours_that_will_miss_are_flagged() -> None:
    calls = np.array([40.0, 40.0, 0.0])
    need = requirements(calls[None, :], aht=300, patience=90, targets=TARGETS)["erlang_a"][0]
    staffed = np.array([need[0], need[1] - 2, 0])
    slots = outlook(calls, staffed, need, aht=300, patience=90, targets=TARGETS)
    assert [s.misses for s in slots] == [False, True, False]
    assert slots[1].service_level < 0.85 or slots[1].abandon_rate > 0.05


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_roster_covers_every_half_hour(seed: int) -> None:
    rng = np.random.default_rng(seed)
    hours = np.arange(48) / 2
    required = np.round(3 + 12 * np.exp(-((hours - 10) ** 2) / 8) + 9 * np.exp(-((hours - 15) ** 2) / 6)
                        + rng.integers(0, 3, 48)).astype(int)
    shifts = roster(required, [EIGHT, FOUR])
    assert all(coverage(shifts) >= required)
    # Never more agent-hours than the simple plan (three 8-hour shifts each staffed for its busiest hour).
    simple = sum(8 * required[k * 16:(k + 1) * 16].max() for k in range(3))
    assert sum(s.agents * s.length_slots / 2 for s in shifts) <= simple


def test_the_roster_uses_the_fewest_agent_hours() -> None:
    # A flat need of 3 seats all day: no roster covers 48 half hours × 3 with fewer than 72 agent-hours,
    # and 8-hour shifts reach it exactly.
    shifts = roster(np.full(48, 3), [EIGHT, FOUR])
    assert sum(s.agents * s.length_slots / 2 for s in shifts) == 72
    # A 4-hour peak is covered by 4-hour shifts, not by 8-hour ones that idle half the time.
    peak = np.zeros(48, dtype=int)
    peak[18:26] = 5
    shifts = roster(peak, [EIGHT, FOUR])
    assert [(s.pattern, s.start_slot, s.agents) for s in shifts] == [("4h", 18, 5)]


def test_declared_start_times_are_respected() -> None:
    day = ShiftPattern(name="day", hours=8, starts=["08:00", "16:00", "00:00"])
    shifts = roster(np.full(48, 2), [day])
    assert {s.start_slot for s in shifts} <= {0, 16, 32}
    assert all(coverage(shifts) >= 2)
