"""Metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from equiptwin.survival.curves import SurvivalCurves
from equiptwin.survival.metrics import (
    calibration_error,
    calibration_table,
    concordance,
    integrated_brier,
    time_dependent_auc,
)
from equiptwin.survival.target import SurvivalTarget


@pytest.mark.parametrize(
    ("risk", "expected"),
    [([3.0, 2.0, 1.0], 1.0), ([1.0, 2.0, 3.0], 0.0), ([2.0, 3.0, 1.0], 0.5), ([1, 1, 1], 0.5)],
    ids=["ordered", "reversed", "half", "ties"],
)
def test_harrell_concordance_by_hand(risk: list[float], expected: float) -> None:
    # Comparable pairs: (0,1) and (0,2); row 1 is censored before row 2's failure.
    y = SurvivalTarget.from_arrays([2.0, 4.0, 6.0], [True, False, True])
    assert concordance(y, np.array(risk, dtype=float)) == pytest.approx(expected)


def test_uno_equals_harrell_without_censoring() -> None:
    rng = np.random.default_rng(3)
    time = rng.integers(1, 50, 200).astype(float)
    y = SurvivalTarget.from_arrays(time, np.ones(200, dtype=bool))
    risk = -time + rng.normal(0, 10, 200)
    assert concordance(y, risk, y_train=y) == pytest.approx(concordance(y, risk), abs=1e-9)


def _uncensored() -> tuple[SurvivalTarget, np.ndarray]:
    time = np.array([3.0, 5.0, 8.0, 12.0, 15.0, 20.0])
    return SurvivalTarget.from_arrays(time, np.ones(6, dtype=bool)), time


def test_integrated_brier_is_zero_for_perfect_and_quarter_for_coin_flips() -> None:
    y, time = _uncensored()
    grid = np.arange(4.0, 16.0)
    perfect = SurvivalCurves(grid, (grid[None, :] < time[:, None]).astype(float))
    assert integrated_brier(y, y, perfect) == pytest.approx(0.0)
    coin = SurvivalCurves(grid, np.full((6, grid.size), 0.5))
    assert integrated_brier(y, y, coin) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="two horizons inside the test follow-up"):
        integrated_brier(y, y, SurvivalCurves(np.array([30.0, 40.0]), np.full((6, 2), 0.5)))


def test_time_dependent_auc_of_a_perfect_ranking_is_one() -> None:
    y, time = _uncensored()
    grid = np.array([4.0, 10.0, 14.0])
    curves = SurvivalCurves(grid, np.exp(-grid[None, :] / time[:, None]))
    auc = time_dependent_auc(y, y, curves)
    assert auc.horizons_days == (4.0, 10.0, 14.0)
    assert auc.auc == pytest.approx((1.0, 1.0, 1.0))
    assert auc.mean_auc == pytest.approx(1.0)


def test_calibration_table_matches_observed_rates() -> None:
    # Two groups of 100 rows: half of group A fails by day 10, a tenth of group B.
    fail_a = np.r_[np.full(50, 5.0), np.full(50, 40.0)]
    fail_b = np.r_[np.full(10, 5.0), np.full(90, 40.0)]
    y = SurvivalTarget.from_arrays(np.r_[fail_a, fail_b], np.ones(200, dtype=bool))
    p = np.r_[np.full(100, 0.5), np.full(100, 0.1)]
    curves = SurvivalCurves(np.array([10.0]), 1.0 - p[:, None])
    table = calibration_table(y, curves, n_bins=2)
    assert sorted(table["observed"].round(6)) == [0.1, 0.5]
    assert table["n"].sum() == 200
    assert calibration_error(table) == pytest.approx(0.0)


def test_calibration_table_uses_kaplan_meier_under_censoring() -> None:
    # Of 4 rows, one censored at day 2; KM: 1 - (3/3 * 2/3) = 1/3 failed by day 10.
    y = SurvivalTarget.from_arrays([2.0, 5.0, 20.0, 30.0], [False, True, True, False])
    curves = SurvivalCurves(np.array([10.0]), np.full((4, 1), 0.7))
    table = calibration_table(y, curves, n_bins=1)
    assert table["observed"].iloc[0] == pytest.approx(1 / 3)
