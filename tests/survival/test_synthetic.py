"""The synthetic generators keep the truth they claim."""

from __future__ import annotations

import numpy as np
import pandas as pd

from equiptwin.survival.synthetic import FLEET_FEATURES, synthetic_fleet, synthetic_static
from equiptwin.survival.target import landmark_target


def test_static_is_seeded() -> None:
    a, ya = synthetic_static(50, seed=71)
    b, yb = synthetic_static(50, seed=71)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(ya.upper_days, yb.upper_days)


def test_fleet_rows_are_its_landmarks() -> None:
    fleet = synthetic_fleet(40, seed=72)
    rows, y = landmark_target(fleet.lives, data_end=fleet.data_end)
    pd.testing.assert_frame_equal(fleet.rows[["life_id", "as_of"]], rows)
    np.testing.assert_array_equal(fleet.target.upper_days, y.upper_days)
    assert set(FLEET_FEATURES) <= set(fleet.rows.columns)


def test_fleet_signals_belong_to_their_component() -> None:
    rows = synthetic_fleet(40, seed=73).rows
    cold = rows["component"] == "coldhead"
    assert rows.loc[cold, "ev_2301_sum_7d"].isna().all()
    assert rows.loc[~cold, "stage2_k_level"].isna().all()
    assert rows["twin_p_fail_30d"].between(0, 1).all()


def test_precursors_climb_before_failures() -> None:
    fleet = synthetic_fleet(200, seed=74)
    warned = fleet.lives.loc[fleet.lives["has_precursor"], "life_id"]
    rows = fleet.rows[fleet.rows["life_id"].isin(warned) & fleet.target.event]
    days_left = fleet.target.time_days[fleet.rows.index.isin(rows.index)]
    late = rows["twin_p_fail_30d"][days_left <= 5].mean()
    early = rows["twin_p_fail_30d"][days_left > 60].mean()
    assert late > 3 * early
