"""Survival curves: validation, probabilities, median and the failure window."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equiptwin.survival.curves import SurvivalCurves, step_function_at

GRID = np.arange(1.0, 61.0)


def _exponential(mean_days: float) -> SurvivalCurves:
    return SurvivalCurves(GRID, np.exp(-GRID / mean_days)[None, :])


def test_rejects_increasing_or_out_of_range_curves() -> None:
    with pytest.raises(ValueError, match="must not increase"):
        SurvivalCurves(np.array([1.0, 2.0]), np.array([[0.5, 0.6]]))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        SurvivalCurves(np.array([1.0, 2.0]), np.array([[1.2, 0.6]]))
    with pytest.raises(ValueError, match="strictly increasing"):
        SurvivalCurves(np.array([2.0, 1.0]), np.array([[0.9, 0.6]]))
    with pytest.raises(ValueError, match="shape"):
        SurvivalCurves(np.array([1.0, 2.0]), np.array([0.9, 0.6]))


def test_p_fail_on_the_grid_only() -> None:
    curves = _exponential(10.0)
    assert curves.p_fail(7) == pytest.approx([1 - np.exp(-0.7)])
    with pytest.raises(KeyError, match=r"no 7\.5-day horizon"):
        curves.p_fail(7.5)


def test_median_of_exponential() -> None:
    assert _exponential(10.0).median_days_left() == pytest.approx([10 * np.log(2)], abs=0.01)
    assert np.isnan(_exponential(1000.0).median_days_left()[0])  # beyond the grid


def test_window_of_exponential_starts_now() -> None:
    start, end = _exponential(10.0).failure_window(0.8)
    assert start[0] == pytest.approx(0.0)
    assert end[0] == pytest.approx(-10 * np.log(0.2), abs=0.05)


def test_window_is_around_the_mode() -> None:
    cdf = 1 / (1 + np.exp(-(GRID - 30.0) / 2.0))
    start, end = SurvivalCurves(GRID, 1 - cdf[None, :]).failure_window(0.5)
    assert start[0] == pytest.approx(30 - 2 * np.log(3), abs=0.3)
    assert end[0] == pytest.approx(30 + 2 * np.log(3), abs=0.3)


def test_no_window_when_failure_unlikely_within_grid() -> None:
    start, end = _exponential(200.0).failure_window(0.8)
    assert np.isnan(start[0]) and np.isnan(end[0])
    with pytest.raises(ValueError, match="coverage"):
        _exponential(10.0).failure_window(1.0)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(0.0, 0.2), min_size=10, max_size=10),
    coverage=st.floats(0.1, 0.9),
)
def test_window_holds_its_coverage(steps: list[float], coverage: float) -> None:
    grid = np.arange(1.0, 11.0)
    cdf = np.minimum(np.cumsum(steps), 1.0)
    curves = SurvivalCurves(grid, 1.0 - cdf[None, :])
    start, end = curves.failure_window(coverage)
    if cdf[-1] < coverage - 1e-9:
        assert np.isnan(start[0])
        return
    full = np.concatenate([[0.0], cdf])
    held = np.interp(end[0], np.arange(11.0), full) - np.interp(start[0], np.arange(11.0), full)
    assert 0.0 <= start[0] <= end[0] <= 10.0
    assert held == pytest.approx(coverage, abs=1e-6)


def test_step_function_at() -> None:
    times = np.array([0.0, 2.0, 5.0])
    values = np.array([1.0, 0.8, 0.5])
    np.testing.assert_array_equal(
        step_function_at(times, values, np.array([0.0, 1.0, 2.0, 4.9, 5.0, 9.0])),
        [1.0, 1.0, 0.8, 0.8, 0.5, 0.5],
    )
