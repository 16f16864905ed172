"""Forward Monte Carlo and what-ifs: load moves the failure window the right way."""

from __future__ import annotations

import numpy as np
import pytest

from equiptwin.twin.base import DegradationModel, WorkloadError
from equiptwin.twin.estimate import FilterState
from equiptwin.twin.simulate import (
    TwinForecast,
    forecast_failure,
    move_load,
    plan_from_bookings,
    repeat_weekly,
    scale_load,
)
from tests.twin.conftest import weekly_workload

PLAN_DAYS = 730


def _worn_state(model: DegradationModel, health: float, n: int = 500) -> FilterState:
    """Particles around a life whose most worn mode is at ``1 - health``."""
    rng = np.random.default_rng(41)
    x = model.initial_state(n, rng)
    target = 1.0 - health
    if model.component == "xray_tube":
        x[:, 2] = target * rng.uniform(0.97, 1.03, n)  # bearing
    else:
        x[:, 0] = target * rng.uniform(0.97, 1.03, n)
    theta = model.sample_life_parameters(n, rng)
    return FilterState(model.component, 100, 1, x, theta, np.full(n, -np.log(n)))


def _forecast(
    model: DegradationModel, plan: np.ndarray, health: float = 0.25, **kw
) -> TwinForecast:
    state = _worn_state(model, health)
    return forecast_failure(model, state, plan, n_samples=800, seed=3, **kw)


def test_lower_load_what_if_moves_the_window_later(model: DegradationModel) -> None:
    plan = weekly_workload(model, PLAN_DAYS)
    base = _forecast(model, plan, health=0.15)
    light = _forecast(model, scale_load(model, plan, 0.5), health=0.15)
    assert base.window_start_days is not None and light.window_start_days is not None
    assert light.window_start_days > base.window_start_days
    assert light.median_days_left is not None and base.median_days_left is not None
    assert light.median_days_left > base.median_days_left
    assert light.p_fail[-1] <= base.p_fail[-1]


def test_more_load_raises_the_failure_probability(model: DegradationModel) -> None:
    plan = weekly_workload(model, PLAN_DAYS)
    base = _forecast(model, plan, horizons_days=(30, 180, 365))
    heavy = _forecast(model, scale_load(model, plan, 2.0), horizons_days=(30, 180, 365))
    assert heavy.p_fail[-1] > base.p_fail[-1]
    assert np.median(heavy.ttf_days[heavy.ttf_days >= 0]) < np.median(
        base.ttf_days[base.ttf_days >= 0]
    )


def test_forecast_is_consistent(model: DegradationModel) -> None:
    fc = _forecast(model, weekly_workload(model, PLAN_DAYS), horizons_days=(7, 90, 365))
    assert list(fc.p_fail) == sorted(fc.p_fail)
    assert fc.window_start_days is not None and fc.window_end_days is not None
    assert fc.median_days_left is not None
    assert fc.window_start_days <= fc.median_days_left <= fc.window_end_days
    ttf = np.where(fc.ttf_days >= 0, fc.ttf_days, PLAN_DAYS)
    inside = np.mean((ttf >= fc.window_start_days) & (ttf <= fc.window_end_days))
    assert 0.8 <= inside < 0.85
    assert sum(fc.p_mode.values()) == pytest.approx(np.mean(fc.ttf_days >= 0))
    again = _forecast(model, weekly_workload(model, PLAN_DAYS), horizons_days=(7, 90, 365))
    np.testing.assert_array_equal(again.ttf_days, fc.ttf_days)


def test_a_healthy_component_has_an_open_window(model: DegradationModel) -> None:
    state = _worn_state(model, 1.0)
    fc = forecast_failure(model, state, weekly_workload(model, 60), horizons_days=(7, 30))
    assert fc.window_end_days is None and fc.median_days_left is None
    assert fc.p_fail[-1] < 0.1


def test_scale_and_move_change_only_load(model: DegradationModel) -> None:
    plan = weekly_workload(model, 28)
    cols = [model.inputs.index(c) for c in model.load_inputs]
    levels = [i for i in range(len(model.inputs)) if i not in cols]
    half = scale_load(model, plan, 0.5, start_day=7, end_day=14)
    np.testing.assert_allclose(half[7:14, cols], plan[7:14, cols] * 0.5)
    np.testing.assert_array_equal(half[:7], plan[:7])
    np.testing.assert_array_equal(half[:, levels], plan[:, levels])
    moved = move_load(model, plan, 0, 7)
    assert np.all(moved[:7, cols] == 0)
    np.testing.assert_allclose(moved[:, cols].sum(axis=0), plan[:, cols].sum(axis=0))
    assert np.all(moved[7:, cols] >= plan[7:, cols])


def test_repeat_weekly_continues_the_week(model: DegradationModel) -> None:
    hist = weekly_workload(model, 35)  # days 0-4 work, 5-6 weekend, ...; next day is day 0
    plan = repeat_weekly(model, hist, 14)
    np.testing.assert_allclose(plan, weekly_workload(model, 14))


def test_bad_what_ifs_and_forecasts_name_the_problem(model: DegradationModel) -> None:
    plan = weekly_workload(model, 30)
    state = _worn_state(model, 0.5, n=20)
    with pytest.raises(WorkloadError, match="within the 30-day plan"):
        forecast_failure(model, state, plan, horizons_days=(7, 60))
    with pytest.raises(WorkloadError, match="window_coverage"):
        forecast_failure(model, state, plan, window_coverage=1.0)
    with pytest.raises(WorkloadError, match="factor"):
        scale_load(model, plan, -1.0)
    with pytest.raises(WorkloadError, match="day range"):
        scale_load(model, plan, 0.5, start_day=20, end_day=10)
    with pytest.raises(WorkloadError, match="no working days after"):
        move_load(model, plan, 0, 30)
    with pytest.raises(WorkloadError, match="at least 7 days"):
        repeat_weekly(model, plan[:5], 10)


def test_plan_from_bookings_uses_the_load_per_booked_unit(model: DegradationModel) -> None:
    hist = weekly_workload(model, 28)
    unit = model.inputs.index(model.load_inputs[0])
    booked = np.array([30.0, 0.0, 15.0])
    plan = plan_from_bookings(model, booked, hist, 21)
    assert plan.shape == (21, len(model.inputs))
    cols = [model.inputs.index(c) for c in model.load_inputs]
    levels = [i for i in range(len(model.inputs)) if i not in cols]
    ref = hist[0]  # a working day of the history
    np.testing.assert_allclose(plan[0, cols], ref[cols] * 30.0 / ref[unit])
    np.testing.assert_allclose(plan[0, levels], ref[levels])
    assert np.all(plan[1] == 0)
    np.testing.assert_allclose(plan[3:], repeat_weekly(model, hist, 21)[3:])
    with pytest.raises(WorkloadError, match="shorter than the 3 booked days"):
        plan_from_bookings(model, booked, hist, 2)
    with pytest.raises(WorkloadError, match="no day with"):
        plan_from_bookings(model, booked, np.zeros_like(hist), 21)
