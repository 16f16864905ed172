from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from equiptwin.features.events import event_code_panel
from equiptwin.features.frame import _features_from_panel, life_panel
from equiptwin.features.twin_state import TwinSettings
from equiptwin.features.windows import window_sums

START = dt.date(2025, 1, 1)


def _lives() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "life_id": ["CT-1:xray_tube:1", "CT-1:xray_tube:2", "MR-1:coldhead:1"],
            "system_id": ["CT-1", "CT-1", "MR-1"],
            "component": ["xray_tube", "xray_tube", "coldhead"],
            "modality": ["CT", "CT", "MR"],
            "site": ["AMS", "AMS", "AMS"],
            "installed_on": pd.to_datetime(["2024-06-01", "2025-02-10", "2023-01-01"]),
            "ended_on": pd.to_datetime(["2025-02-10", None, None]),
            "end_reason": ["failure", None, None],
        }
    )


def _daily(days: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product(
        [["CT-1", "MR-1"], pd.date_range(START, periods=days, freq="D")],
        names=["system_id", "day"],
    )
    n = len(index)
    frame = pd.DataFrame(
        {
            "exams": rng.poisson(60, n).astype(float),
            "scan_s": rng.normal(500, 50, n),
            "energy_j": rng.normal(1.5e7, 1e6, n),
            "filament_a": np.where(rng.random(n) < 0.2, np.nan, rng.normal(4.5, 0.01, n)),
            "ev_2301": rng.poisson(0.5, n).astype(float),
        },
        index=index,
    )
    return frame


def _features(daily: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    panel = life_panel(_lives(), daily, START, end)
    return (
        _features_from_panel(panel, START, TwinSettings(n_particles=100, n_samples=50))
        .set_index(["life_id", "day"])
        .sort_index()
    )


def test_one_row_per_life_day_and_lives_do_not_overlap() -> None:
    end = START + dt.timedelta(days=90)
    features = _features(_daily(90), end)
    assert not features.index.duplicated().any()
    old = features.loc["CT-1:xray_tube:1"].index
    new = features.loc["CT-1:xray_tube:2"].index
    assert old.max() < pd.Timestamp("2025-02-10") <= new.min()
    assert len(features.loc["MR-1:coldhead:1"]) == 90


def test_rows_use_only_data_from_before_their_day() -> None:
    """Changing data on day D and later never changes the rows of days up to D."""
    end = START + dt.timedelta(days=90)
    daily = _daily(90)
    cut = pd.Timestamp("2025-03-01")
    changed = daily.copy()
    later = changed.index.get_level_values("day") >= cut
    changed.loc[later] = changed.loc[later] * 3.0 + 1.0
    a, b = _features(daily, end), _features(changed, end)
    upto = a.index.get_level_values("day") <= cut
    pd.testing.assert_frame_equal(a[upto], b[upto])
    assert not a[~upto].equals(b[~upto])


def test_window_sum_counts_the_days_before() -> None:
    index = pd.MultiIndex.from_product(
        [["L"], pd.date_range(START, periods=10, freq="D")], names=["life_id", "day"]
    )
    panel = pd.DataFrame({"ev_2301": np.arange(10, dtype=float)}, index=index)
    sums = window_sums(panel)
    assert sums["ev_2301_sum_1d"].iloc[5] == 4.0
    assert sums["ev_2301_sum_7d"].iloc[8] == sum(range(1, 8))
    assert np.isnan(sums["ev_2301_sum_7d"].iloc[6])


def test_cumulative_load_starts_at_the_life_and_excludes_today() -> None:
    end = START + dt.timedelta(days=60)
    daily = _daily(60)
    features = _features(daily, end)
    new = features.loc["CT-1:xray_tube:2"]
    energy = daily.loc["CT-1", "energy_j"]
    first = new.index.min()
    assert np.isnan(new["cum_energy_j"].iloc[0])
    expected = energy.loc[first : first + pd.Timedelta(days=4)].sum()
    assert new["cum_energy_j"].iloc[5] == pytest.approx(expected)


def test_event_panel_keeps_unknown_codes_as_other() -> None:
    counts = pd.DataFrame(
        {
            "system_id": ["CT-1"] * 3,
            "day": pd.to_datetime(["2025-01-01"] * 3),
            "code": [2301, 9999, 9120],
            "n": [3, 2, 5],
        }
    )
    wide = event_code_panel(counts)
    assert wide.loc[("CT-1", pd.Timestamp("2025-01-01")), "ev_2301"] == 3.0
    assert wide.loc[("CT-1", pd.Timestamp("2025-01-01")), "ev_other"] == 7.0
    assert wide.loc[("CT-1", pd.Timestamp("2025-01-01")), "ev_2302"] == 0.0
