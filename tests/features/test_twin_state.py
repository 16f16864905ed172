"""The twin's columns: parallel lives, lives older than the data, the load-shift what-if."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from equiptwin.features.frame import life_panel
from equiptwin.features.twin_state import (
    TWIN_HORIZONS,
    TwinSettings,
    load_shift_days_gained,
    twin_features,
)

START = dt.date(2025, 1, 1)
FAST = TwinSettings(n_particles=80, n_samples=40, wear_scale=8.0)


def _lives(installed: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "life_id": ["CT-1:xray_tube:1", "CT-2:xray_tube:1"],
            "system_id": ["CT-1", "CT-2"],
            "component": ["xray_tube", "xray_tube"],
            "modality": ["CT", "CT"],
            "site": ["AMS", "AMS"],
            "installed_on": pd.to_datetime([installed, installed]),
            "ended_on": pd.to_datetime([None, None]),
            "end_reason": [None, None],
        }
    )


def _daily(days: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product(
        [["CT-1", "CT-2"], pd.date_range(START, periods=days, freq="D")],
        names=["system_id", "day"],
    )
    n = len(index)
    return pd.DataFrame(
        {
            "exams": rng.poisson(60, n).astype(float),
            "scan_s": rng.normal(500, 50, n),
            "energy_j": rng.normal(1.5e7, 1e6, n),
            "mean_ma": rng.normal(250, 10, n),
            "filament_a": rng.normal(4.5, 0.01, n),
        },
        index=index,
    )


def _panel(installed: str, days: int = 40) -> pd.DataFrame:
    lives = _lives(installed)
    first = min(START, pd.Timestamp(installed).date())
    return life_panel(lives, _daily(days), first, START + dt.timedelta(days=days))


def test_parallel_lives_give_the_same_rows() -> None:
    panel = _panel("2025-01-01")
    one = twin_features(panel, FAST)
    two = twin_features(panel, TwinSettings(**{**FAST.__dict__, "workers": 2}))
    pd.testing.assert_frame_equal(one, two)
    assert {f"twin_p_fail_{h}d" for h in TWIN_HORIZONS} <= set(one.columns)


def test_days_before_the_data_age_the_life_instead_of_idling() -> None:
    """A tube installed two years before the first log is older than one installed then."""
    rows_from = pd.Timestamp(START)
    new = twin_features(_panel("2025-01-01"), FAST, rows_from=rows_from)
    old = twin_features(_panel("2023-01-01"), FAST, rows_from=rows_from)
    last = pd.Timestamp(START + dt.timedelta(days=39))
    health_new = new.xs(last, level="day")["twin_health"]
    health_old = old.xs(last, level="day")["twin_health"]
    assert (health_old < health_new - 0.05).all()
    # no rows for the days without data
    assert old["twin_health"].loc[:, : pd.Timestamp("2024-12-31")].isna().all()


def test_taking_load_off_a_worn_tube_buys_days() -> None:
    life = _panel("2024-04-01", days=60).loc[["CT-1:xray_tube:1"]]
    gained = [
        load_shift_days_gained(life, "xray_tube", "CT", 0, FAST, fraction_removed=fraction, days=30)
        for fraction in (0.0, 0.5, 0.9)
    ]
    assert gained[0] == 0.0
    assert gained[1] is not None and gained[2] is not None
    assert 0.0 < gained[1] <= gained[2]


def test_a_tube_far_from_its_end_has_no_measurable_gain() -> None:
    life = _panel("2024-10-01", days=60).loc[["CT-1:xray_tube:1"]]
    assert (
        load_shift_days_gained(life, "xray_tube", "CT", 0, FAST, fraction_removed=0.5, days=30)
        is None
    )
