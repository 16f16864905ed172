"""The twin's columns: parallel lives, lives older than the data, the load-shift what-if."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from equiptwin.features.frame import life_panel
from equiptwin.features.twin_state import (
    INDEX_FLOOR,
    TWIN_HORIZONS,
    TwinSettings,
    hazard_index,
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
    expected = hazard_index(
        one["twin_p_fail_14d"], one[f"twin_p_fail_{TWIN_HORIZONS[-1]}d"], one["twin_health"]
    )
    np.testing.assert_allclose(one["twin_hazard_index"], expected)


def test_hazard_index_ranks_by_probability_then_by_health() -> None:
    soon = np.zeros(6)
    p = np.array([0.0, 0.0, 0.0, 0.05, 0.5, 0.99])
    health = np.array([0.9, 0.6, 0.3, 0.3, 0.3, 0.3])
    index = hazard_index(soon, p, health)
    # far from a failure (p below the floor) less health is more risk; nearer, more p
    assert np.all(np.diff(index) > 0)
    # with the same wear and plan-long risk, a failure seen within days ranks higher
    assert hazard_index(0.6, 0.9, 0.3)[()] > hazard_index(0.05, 0.9, 0.3)[()] + 1.0
    assert np.isclose(
        hazard_index(0.0, INDEX_FLOOR / 10, 0.5)[()], hazard_index(0.0, INDEX_FLOOR, 0.5)[()]
    )
    assert np.isnan(hazard_index([0.0, 0.0], [np.nan, 0.1], [0.5, np.nan])).all()
