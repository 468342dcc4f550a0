"""Offered calls per half hour: two forecasters, a back-test that measures both, and the better one's
forecast. Pure CPU work on numpy arrays (days × 48 half hours, local time); callers run it in a thread.

- ``seasonal_naive``: each half hour of a target day = the mean of the same weekday's half hour over the
  last four weeks. The baseline any forecast must beat; blind to holidays.
- ``calendar_glm``: the day's total from a Poisson GLM (statsmodels) on the day kind (workday, weekend,
  holiday, 调休 makeup day, first day after a holiday), the weekday of ordinary days, declared events and
  a linear trend, recent weeks weighted more (half-life four weeks: the level moves with the seasons);
  days the first fit calls anomalous (a network outage, a one-off storm of calls) are left out of the
  second. The day is spread over its half hours by the mean intraday shape of recent days of the same
  shape class (working day / day off).

Errors over the held-out weeks, per half hour: WAPE = Σ|actual − forecast| / Σ actual, and MAPE over the
half hours that had calls (a half hour without calls has no percentage error).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from gateway.forecast.days import KINDS, DayInfo

SLOTS = 48  # half hours a day
METHODS = ("seasonal_naive", "calendar_glm")
_HALF_LIFE_DAYS = 28.0
_SHAPE_DAYS = 56  # recent days whose intraday shape is averaged
_ANOMALY_SIGMAS = 4.0


@dataclass(frozen=True)
class BacktestResult:
    method: str
    wape: float
    mape: float
    days: int


def seasonal_naive(history: np.ndarray, history_days: list[DayInfo], targets: list[DayInfo]) -> np.ndarray:
    out = np.zeros((len(targets), SLOTS))
    recent = list(range(len(history_days)))[-28:]
    for i, target in enumerate(targets):
        same = [j for j in recent if history_days[j].weekday == target.weekday]
        if same:
            out[i] = history[same].mean(axis=0)
    return out


def _shape_class(info: DayInfo) -> str:
    return "working" if info.kind in ("workday", "makeup", "after_holiday") else "off"


def _design(infos: list[DayInfo], origin: int, scale: float, learnt_events: bool) -> np.ndarray:
    rows = []
    for n, info in enumerate(infos):
        kind = [1.0 if info.kind == k else 0.0 for k in KINDS[1:]]  # workday is the reference
        # The weekday shapes ordinary days only: a holiday Monday or a makeup Saturday is its own kind.
        ordinary = info.kind in ("workday", "weekend")
        weekday = [1.0 if ordinary and info.weekday == w else 0.0 for w in range(1, 7)]  # Monday: reference
        event = [1.0 if info.event is not None and info.event_factor is None else 0.0] if learnt_events else []
        rows.append([1.0, (origin + n) / scale, *kind, *weekday, *event])
    return np.array(rows)


def calendar_glm(history: np.ndarray, history_days: list[DayInfo], targets: list[DayInfo]) -> np.ndarray:
    totals = history.sum(axis=1)
    n = len(history_days)
    # Only learn an event effect if the history holds an event without a declared factor.
    learnt_events = any(d.event is not None and d.event_factor is None for d in history_days)
    scale = float(max(n, 1))
    x = _design(history_days, 0, scale, learnt_events)
    x_future = _design(targets, n, scale, learnt_events)
    # Columns that are all zero in the history (a kind never seen yet) cannot be estimated: drop them.
    keep = x.any(axis=0)
    x, x_future = x[:, keep], x_future[:, keep]
    weights = 0.5 ** ((n - 1 - np.arange(n)) / _HALF_LIFE_DAYS)
    usable = np.ones(n, dtype=bool)
    for _ in range(2):
        fitted = _fit(totals[usable], x[usable], weights[usable])
        predicted = np.exp(x @ fitted)
        residual = np.log((totals + 1) / (predicted + 1))
        centre = np.median(residual[usable])
        spread = 1.4826 * np.median(np.abs(residual[usable] - centre)) or 1e-9
        usable = np.abs(residual - centre) <= _ANOMALY_SIGMAS * spread
    day_totals = np.exp(x_future @ fitted)
    for i, target in enumerate(targets):
        if target.event_factor is not None:
            day_totals[i] *= target.event_factor
    shapes = _shapes(history, history_days, usable)
    return np.array([day_totals[i] * shapes[_shape_class(t)] for i, t in enumerate(targets)])


def _fit(y: np.ndarray, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    import statsmodels.api as sm  # seconds to import: only when a forecast is made, not at start-up

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence chatter: the result is checked below
        result = sm.GLM(y, x, family=sm.families.Poisson(), var_weights=weights).fit()
    params = np.asarray(result.params)
    if not np.all(np.isfinite(params)):
        raise ValueError("the volume model did not converge")
    return params


def _shapes(history: np.ndarray, infos: list[DayInfo], usable: np.ndarray) -> dict[str, np.ndarray]:
    flat = np.full(SLOTS, 1 / SLOTS)
    shapes = {}
    for cls in ("working", "off"):
        chosen = [i for i in range(len(infos)) if usable[i] and _shape_class(infos[i]) == cls][-_SHAPE_DAYS:]
        total = history[chosen].sum()
        shapes[cls] = history[chosen].sum(axis=0) / total if total > 0 else flat
    if not history[[i for i in range(len(infos)) if _shape_class(infos[i]) == "off"]].sum():
        shapes["off"] = shapes["working"]
    return shapes


FORECASTERS = {"seasonal_naive": seasonal_naive, "calendar_glm": calendar_glm}


def errors(actual: np.ndarray, forecast: np.ndarray) -> tuple[float, float]:
    total = actual.sum()
    wape = float(np.abs(actual - forecast).sum() / total) if total > 0 else float("nan")
    busy = actual > 0
    mape = float(np.mean(np.abs(actual[busy] - forecast[busy]) / actual[busy])) if busy.any() else float("nan")
    return wape, mape


def backtest(history: np.ndarray, infos: list[DayInfo], holdout_days: int) -> list[BacktestResult]:
    """Fit each method on all but the last ``holdout_days`` days and score it on them."""
    train, test = history[:-holdout_days], history[-holdout_days:]
    results = []
    for method, forecaster in FORECASTERS.items():
        forecast = forecaster(train, infos[:-holdout_days], infos[-holdout_days:])
        wape, mape = errors(test, forecast)
        results.append(BacktestResult(method, round(wape, 4), round(mape, 4), holdout_days))
    return results


def best(results: list[BacktestResult]) -> str:
    return min(results, key=lambda r: (np.nan_to_num(r.wape, nan=np.inf), METHODS.index(r.method))).method
