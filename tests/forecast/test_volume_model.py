"""The call-volume forecast on a seeded synthetic year (tests/forecast/synthetic.py): the calendar model
beats the seasonal-naive baseline on the held-out weeks and comes near the noise floor; day kinds come
from the working calendar; declared events and anomalies are handled."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from gateway.forecast import model
from gateway.forecast.days import day_infos
from gateway.forecast.settings import DeclaredEvent
from gateway.policies import load_pack
from gateway.workcalendar import WorkCalendar
from tests.forecast.synthetic import expected, synthetic_history

# The year ends after 国庆 2025 (10-01..10-08 off, 调休 Sunday 09-28 and Saturday 10-11): the four
# held-out weeks hold a long holiday, its makeup days and the day after it.
LAST = date(2025, 10, 19)


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.for_pack(load_pack("national"))


def test_day_kinds_come_from_the_working_calendar(calendar: WorkCalendar) -> None:
    kinds = {i.day: i.kind for i in day_infos(calendar, date(2025, 9, 26), date(2025, 10, 13))}
    assert kinds[date(2025, 9, 26)] == "workday"  # Friday
    assert kinds[date(2025, 9, 27)] == "weekend"
    assert kinds[date(2025, 9, 28)] == "makeup"  # Sunday worked (调休)
    assert kinds[date(2025, 10, 1)] == "holiday"
    assert kinds[date(2025, 10, 4)] == "holiday"  # a Saturday inside 国庆 is a holiday, not a weekend
    assert kinds[date(2025, 10, 9)] == "after_holiday"
    assert kinds[date(2025, 10, 11)] == "makeup"  # Saturday worked
    assert kinds[date(2025, 10, 12)] == "weekend"
    assert kinds[date(2025, 10, 13)] == "workday"  # a Monday after an ordinary weekend


def test_declared_events_mark_their_days(calendar: WorkCalendar) -> None:
    heating = DeclaredEvent(name="供暖季开始", start=date(2025, 11, 15), end=date(2025, 11, 16), factor=1.5)
    infos = day_infos(calendar, date(2025, 11, 14), date(2025, 11, 17), [heating])
    assert [(i.event, i.event_factor) for i in infos] == [
        (None, None), ("供暖季开始", 1.5), ("供暖季开始", 1.5), (None, None)]


def test_the_calendar_model_beats_the_seasonal_naive_baseline_near_the_noise_floor(
        calendar: WorkCalendar) -> None:
    history, infos = synthetic_history(calendar, LAST)
    results = {r.method: r for r in model.backtest(history, infos, 28)}
    glm, naive = results["calendar_glm"], results["seasonal_naive"]
    # Poisson noise alone: the true rates as the forecast (what no model can beat on average).
    floor, _ = model.errors(history[-28:], expected(infos, 1200.0)[-28:])
    assert glm.wape < naive.wape
    assert glm.wape <= 1.15 * floor, (glm.wape, floor)
    assert naive.wape > 1.5 * floor  # blind to the holiday: the comparison is not a formality
    assert model.best(list(results.values())) == "calendar_glm"


def test_anomalous_days_are_not_learnt(calendar: WorkCalendar) -> None:
    clean, infos = synthetic_history(calendar, LAST, anomalies=False)
    noisy, _ = synthetic_history(calendar, LAST, anomalies=True)
    targets = day_infos(calendar, date(2025, 10, 20), date(2025, 11, 2))
    a = model.calendar_glm(clean, infos, targets).sum(axis=1)
    b = model.calendar_glm(noisy, infos, targets).sum(axis=1)
    assert np.max(np.abs(a / b - 1)) < 0.03


def test_a_declared_event_factor_scales_its_day(calendar: WorkCalendar) -> None:
    history, infos = synthetic_history(calendar, LAST)
    policy = DeclaredEvent(name="医保政策发布", start=date(2025, 10, 22), factor=2.0)
    plain = model.calendar_glm(history, infos, day_infos(calendar, date(2025, 10, 20), date(2025, 10, 24)))
    marked = model.calendar_glm(history, infos,
                                day_infos(calendar, date(2025, 10, 20), date(2025, 10, 24), [policy]))
    ratio = marked.sum(axis=1) / plain.sum(axis=1)
    assert ratio.tolist() == pytest.approx([1, 1, 2, 1, 1])


def test_a_past_event_without_factor_is_learnt_from_the_history(calendar: WorkCalendar) -> None:
    storm = DeclaredEvent(name="台风", start=date(2025, 7, 8), end=date(2025, 7, 10))  # synthetic: ×1.6
    again = DeclaredEvent(name="台风", start=date(2025, 10, 22))
    history, infos = synthetic_history(calendar, LAST, events=(storm,), anomalies=False)
    plain = model.calendar_glm(history, infos, day_infos(calendar, date(2025, 10, 22), date(2025, 10, 22)))
    event = model.calendar_glm(history, infos, day_infos(calendar, date(2025, 10, 22), date(2025, 10, 22),
                                                         [again]))
    assert event.sum() / plain.sum() == pytest.approx(1.6, rel=0.1)


def test_errors_are_per_half_hour_and_skip_empty_ones_for_mape() -> None:
    actual = np.array([[10.0, 0.0, 30.0]])
    forecast = np.array([[12.0, 1.0, 27.0]])
    wape, mape = model.errors(actual, forecast)
    assert wape == pytest.approx((2 + 1 + 3) / 40)
    assert mape == pytest.approx((0.2 + 0.1) / 2)


def test_a_year_without_holiday_data_is_assumed_then_taken_from_the_overrides_file(
        calendar: WorkCalendar, tmp_path: Path) -> None:
    infos = day_infos(calendar, date(2026, 12, 30), date(2027, 1, 4))
    assert [(i.day.isoformat(), i.kind, i.assumed) for i in infos] == [
        ("2026-12-30", "workday", False), ("2026-12-31", "workday", False), ("2027-01-01", "workday", True),
        ("2027-01-02", "weekend", True), ("2027-01-03", "weekend", True), ("2027-01-04", "workday", True)]
    overrides = tmp_path / "calendar.toml"
    overrides.write_text('full_years = [2027]\n[[days]]\ndate = "2027-01-01"\nkind = "holiday"\nname = "元旦"\n',
                         encoding="utf-8")
    with_2027 = WorkCalendar.for_pack(load_pack("national"), overrides)
    infos = day_infos(with_2027, date(2026, 12, 30), date(2027, 1, 4))
    assert [(i.day.isoformat(), i.kind, i.assumed) for i in infos] == [
        ("2026-12-30", "workday", False), ("2026-12-31", "workday", False), ("2027-01-01", "holiday", False),
        ("2027-01-02", "holiday", False), ("2027-01-03", "holiday", False), ("2027-01-04", "after_holiday", False)]
