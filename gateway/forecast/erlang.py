"""Erlang C (M/M/N) and Erlang A (M/M/N+M: callers abandon after an exponential patience).

No well-kept PyPI package covers Erlang A (the ``pyworkforce`` Erlang C is unmaintained), so both are
small and checked in tests: Erlang C against a published table, Erlang A against Erlang C as patience
grows and against a seeded simulation.

Times are in seconds. ``aht`` = average handle time (talk + wrap-up), ``patience`` = the callers' mean
time to abandon. A service level is the share of **offered** calls answered within ``target`` seconds:
a caller who abandons counts against it, as in the hotline's own KPI (gateway/calls/kpi.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def erlang_b(load: float, agents: int) -> float:
    """Blocking probability, by the stable recursion B(k) = A·B(k−1) / (k + A·B(k−1))."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(load: float, agents: int) -> float:
    """Probability that a call waits (1.0 when the agents cannot keep up: load ≥ agents)."""
    if agents <= load:
        return 1.0
    blocking = erlang_b(load, agents)
    return agents * blocking / (agents - load * (1 - blocking))


@dataclass(frozen=True)
class Performance:
    agents: int
    service_level: float  # answered within the target / offered
    abandon_rate: float  # abandoned / offered (0 under Erlang C)
    wait_probability: float
    asa_seconds: float  # mean wait of the answered calls (inf when the queue grows without bound)
    occupancy: float


def erlang_c_performance(calls: float, period: float, aht: float, agents: int, target: float) -> Performance:
    load = calls * aht / period
    if agents <= load:
        return Performance(agents, 0.0, 0.0, 1.0, math.inf, 1.0)
    pw = erlang_c(load, agents)
    service = 1 - pw * math.exp(-(agents - load) * target / aht)
    return Performance(agents, service, 0.0, pw, pw * aht / (agents - load), load / agents)


def erlang_a_performance(calls: float, period: float, aht: float, patience: float, agents: int,
                         target: float) -> Performance:
    """The birth–death chain of calls in the system (births λ, deaths min(n, N)·μ + max(n − N, 0)·θ),
    truncated where its tail is negligible. A caller arriving at n ≥ N with k = n − N ahead is served
    within ``target`` unless their own patience runs out first: their position falls at rate N·μ + j·θ
    (an agent frees, or one of the j ahead gives up) while they leave at rate θ; the chance of reaching
    an agent within the target is read off that small chain's matrix exponential."""
    from scipy.sparse import csr_array, lil_array  # slow to import: not at start-up
    from scipy.sparse.linalg import expm_multiply

    if calls <= 0:
        return Performance(agents, 1.0, 0.0, 0.0, 0.0, 0.0)
    lam, mu, theta = calls / period, 1 / aht, 1 / patience
    if agents == 0:
        return Performance(0, 0.0, 1.0, 1.0, math.inf, 0.0)
    # Stationary distribution: p(n+1)/p(n) = λ / death(n+1); stop when the ratio has made the tail tiny.
    weights = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, agents) * mu + max(n - agents, 0) * theta
        weights.append(weights[-1] * lam / death)
        if n > agents and weights[-1] < 1e-12 * max(weights) and lam / death < 0.9:
            break
        if n > agents + 20_000:
            break
    p = np.array(weights) / sum(weights)
    waiting = p[agents:]  # arrivals (PASTA) that find every agent busy
    queue_ahead = np.arange(len(waiting))
    abandon = float(theta * np.dot(queue_ahead, waiting) / lam)  # θ·E[queue] = abandons per time; / λ
    wait_probability = float(waiting.sum())
    # Tagged-caller chain: states 0..K positions (K = most ahead), then "answered", then "gone".
    k_max = len(waiting) - 1
    size = k_max + 3
    answered, gone = k_max + 1, k_max + 2
    q = lil_array((size, size))
    for j in range(k_max + 1):
        advance = agents * mu + j * theta
        q[j, j - 1 if j > 0 else answered] = advance
        q[j, gone] = theta
        q[j, j] = -(advance + theta)
    into_answered = np.zeros(size)
    into_answered[answered] = 1.0
    # The column of exp(Q·t) for "answered": every starting position at once, on a sparse chain.
    reached = expm_multiply(csr_array(q) * target, into_answered)[: k_max + 1]
    service = float(p[:agents].sum() + np.dot(waiting, reached))
    busy = float(np.dot(np.minimum(np.arange(len(p)), agents), p))
    answered_share = 1 - abandon
    # Little: mean queue = λ·E[wait of all]; the answered callers' mean wait via the mean queue time.
    mean_wait_all = float(np.dot(queue_ahead, waiting)) / lam
    asa = mean_wait_all / answered_share if answered_share > 0 else math.inf
    return Performance(agents, service, abandon, wait_probability, asa, busy / agents)


def required_agents(calls: float, period: float, aht: float, *, target: float, service_level: float,
                    abandon_rate: float | None = None, patience: float | None = None,
                    limit: int = 2_000) -> Performance:
    """The fewest agents on the phones meeting the service level (and the abandon rate under Erlang A,
    used when ``patience`` is known; Erlang C otherwise). Both improve with every agent added, so the
    Erlang C answer (abandons only help the callers who stay) bounds a bisection for Erlang A."""
    if calls <= 0:
        return Performance(0, 1.0, 0.0, 0.0, 0.0, 0.0)
    load = calls * aht / period
    agents = max(1, math.floor(load))
    while erlang_c_performance(calls, period, aht, agents, target).service_level < service_level:
        agents += 1
        if agents > limit:
            raise ValueError(f"more than {limit} agents needed for {calls} calls per {period} s")
    if patience is None:
        return erlang_c_performance(calls, period, aht, agents, target)

    def meets(n: int) -> Performance | None:
        perf = erlang_a_performance(calls, period, aht, patience, n, target)
        ok = perf.service_level >= service_level and (abandon_rate is None or perf.abandon_rate <= abandon_rate)
        return perf if ok else None

    low, high = 0, agents  # meets(high) holds: Erlang C's staffing is enough with abandons too
    best = meets(high)
    while best is None:  # an abandon target stricter than the service level asks for more
        high += 1
        best = meets(high)
    while high - low > 1:
        middle = (low + high) // 2
        if (perf := meets(middle)) is not None:
            high, best = middle, perf
        else:
            low = middle
    return best


def scheduled(agents: int, shrinkage: float) -> int:
    """Agents to roster so that ``agents`` are on the phones after breaks, training and meetings."""
    return math.ceil(agents / (1 - shrinkage)) if agents else 0
