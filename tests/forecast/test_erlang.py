"""Erlang C against a published table, Erlang A against Erlang C and against a simulated queue."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from gateway.forecast.erlang import (
    erlang_a_performance,
    erlang_c,
    erlang_c_performance,
    required_agents,
    scheduled,
)

# Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
# (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls in 30 minutes,
# average handle time 180 s (10 Erlangs), target 20 s: its table of the probability of waiting per
# number of agents (four decimals as printed), and 14 agents as the fewest answering 80 % within 20 s.
PUBLISHED_WAIT = [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)]


@pytest.mark.parametrize(("agents", "wait"), PUBLISHED_WAIT)
def test_erlang_c_matches_the_published_table(agents: int, wait: float) -> None:
    perf = erlang_c_performance(100, 1800, 180, agents, 20)
    assert round(perf.wait_probability, 4) == wait
    # The service level follows from it: 1 − P(wait)·e^(−(N − A)·t / AHT).
    assert perf.service_level == pytest.approx(1 - wait * math.exp(-(agents - 10) * 20 / 180), abs=1e-4)


def test_erlang_c_closed_form_for_two_erlangs_on_three_agents() -> None:
    # By hand: A^N/N! · N/(N−A) = 8/6 · 3 = 4; Σ_{k<3} A^k/k! = 1 + 2 + 2 = 5; P = 4 / (5 + 4) = 4/9.
    assert erlang_c(2.0, 3) == pytest.approx(4 / 9, rel=1e-12)


def test_too_few_agents_always_wait() -> None:
    assert erlang_c(10.0, 10) == 1.0
    assert erlang_c_performance(100, 1800, 180, 9, 20).service_level == 0.0


def test_erlang_a_becomes_erlang_c_as_callers_become_infinitely_patient() -> None:
    c = erlang_c_performance(100, 1800, 180, 13, 20)
    a = erlang_a_performance(100, 1800, 180, 1e7, 13, 20)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-3)
    assert a.wait_probability == pytest.approx(c.wait_probability, abs=1e-3)
    assert a.abandon_rate < 1e-4


def test_abandoning_callers_shorten_the_queue_for_the_others() -> None:
    patient = erlang_a_performance(100, 1800, 180, 600, 12, 20)
    impatient = erlang_a_performance(100, 1800, 180, 60, 12, 20)
    assert impatient.abandon_rate > patient.abandon_rate > 0
    assert impatient.wait_probability < patient.wait_probability


def simulate(calls: float, period: float, aht: float, patience: float, agents: int, target: float,
             n: int, seed: int) -> tuple[float, float]:
    """M/M/N+M, first come first served: (share answered within target, share abandoned) of n arrivals."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(period / calls, n))
    services = rng.exponential(aht, n)
    patiences = rng.exponential(patience, n)
    free_at = [0.0] * agents  # heap of the times each agent frees up
    heapq.heapify(free_at)
    within = abandoned = 0
    for t, service, limit in zip(arrivals, services, patiences, strict=True):
        start = max(t, free_at[0])
        if start - t > limit:
            abandoned += 1  # gone before an agent freed: takes no agent time
            continue
        heapq.heapreplace(free_at, start + service)
        within += start - t <= target
    return within / n, abandoned / n


def test_erlang_a_agrees_with_a_simulated_queue() -> None:
    for agents, patience in ((11, 60.0), (12, 120.0), (13, 300.0)):
        model = erlang_a_performance(100, 1800, 180, patience, agents, 20)
        service, abandon = simulate(100, 1800, 180, patience, agents, 20, n=200_000, seed=agents)
        assert model.service_level == pytest.approx(service, abs=0.01), agents
        assert model.abandon_rate == pytest.approx(abandon, abs=0.005), agents


def test_required_agents_is_the_fewest_that_meet_both_targets() -> None:
    need = required_agents(100, 1800, 180, target=20, service_level=0.8, abandon_rate=0.03, patience=120)
    fewer = erlang_a_performance(100, 1800, 180, 120, need.agents - 1, 20)
    assert need.service_level >= 0.8 and need.abandon_rate <= 0.03
    assert fewer.service_level < 0.8 or fewer.abandon_rate > 0.03
    assert required_agents(100, 1800, 180, target=20, service_level=0.8).agents == 14  # the table above


def test_no_calls_need_no_agents_and_shrinkage_grosses_up() -> None:
    assert required_agents(0, 1800, 180, target=20, service_level=0.8).agents == 0
    assert scheduled(14, 0.30) == math.ceil(14 / 0.7) == 20
    assert scheduled(0, 0.30) == 0
