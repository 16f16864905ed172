"""Confidence intervals over seeds and the goal check, on hand-made numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from equiptwin.evaluate.compare import goal_check
from equiptwin.evaluate.metrics import mean_ci


def test_mean_ci() -> None:
    mean, low, high = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert mean == 3.0
    # t(0.975, 4) = 2.776; sd = 1.581; half width = 2.776 * 1.581 / sqrt(5) = 1.963
    assert (low, high) == pytest.approx((3.0 - 1.963, 3.0 + 1.963), abs=1e-3)
    assert mean_ci([2.0]) == (2.0, 2.0, 2.0)


def test_goal_check() -> None:
    runs = pd.DataFrame(
        {
            "world": ["w"] * 4,
            "policy": ["run-to-failure", "fixed interval", "threshold alarms", "equiptwin"],
            "unplanned_downtime_h": [100.0, 20.0, 60.0, 25.0],
            "cancelled_short_notice": [50.0, 10.0, 30.0, 20.0],
            "discarded_life_days": [0.0, 300.0, 40.0, 30.0],
        }
    )
    goal = goal_check(runs)
    assert goal["downtime_cut_vs_run_to_failure"] == pytest.approx(0.75)
    assert goal["cancellations_cut_vs_run_to_failure"] == pytest.approx(0.6)
    assert goal["downtime_cut_at_least_70pct"]
    assert not goal["cancellations_cut_at_least_70pct"]
    assert goal["beats_threshold_on_downtime"] and goal["discards_less_than_fixed_interval"]
    assert not goal["met"]
