"""Daily aggregates of X-ray exposures, read with each modality's tube physics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equiptwin.features.daily import xray_daily
from equiptwin.twin.registry import tube_model


def _exposures(system_id: str, modality: str, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    model = tube_model(modality)
    ma = rng.uniform(100.0, 600.0, n)
    return pd.DataFrame(
        {
            "ts": pd.date_range("2025-03-01 08:00", periods=n, freq="10min", tz="UTC"),
            "system_id": system_id,
            "kvp": 100.0,
            "ma": ma,
            "exposure_s": 0.5,
            "filament_a": model.filament_current_a(ma, 0.0),  # a new tube
            "oil_temp_c": 30.0,
            "coastdown_s": np.nan,
        }
    )


@pytest.mark.parametrize("modality", ["CT", "XR"])
def test_a_new_tube_reads_its_nominal_filament_current(modality: str) -> None:
    exposures = _exposures(f"{modality}-1", modality)
    counts = pd.DataFrame(columns=["system_id", "day", "code", "n"])
    daily = xray_daily(exposures, counts, {f"{modality}-1": modality})
    nominal = tube_model(modality).parameters["filament_nominal_a"]
    assert daily["filament_a"].to_numpy() == pytest.approx(nominal)


def test_radiography_read_with_ct_physics_would_look_thinner_than_new() -> None:
    exposures = _exposures("XR-1", "XR")
    counts = pd.DataFrame(columns=["system_id", "day", "code", "n"])
    as_ct = xray_daily(exposures, counts, {})  # unknown system: CT's physics
    nominal = tube_model("XR").parameters["filament_nominal_a"]
    assert float(as_ct["filament_a"].iloc[0]) < 0.95 * nominal
