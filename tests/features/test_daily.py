"""Daily aggregates of X-ray exposures and MR telemetry, read with each modality's physics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equiptwin.features.daily import (
    GRAD_BUSY_RISE_C,
    MIN_GRAD_READINGS,
    MIN_STRETCH_ROWS,
    coldhead_daily,
    exposure_stretch,
    scanned_hours,
    xray_daily,
)
from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.registry import tube_model
from equiptwin.twin.xray_tube import STRETCH_REFERENCE_DAYS

NO_EVENTS = pd.DataFrame(columns=["system_id", "day", "code", "n"])


def _exposures(system_id: str, modality: str, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    model = tube_model(modality)
    ma = rng.uniform(100.0, 600.0, n)
    return pd.DataFrame(
        {
            "ts": pd.date_range("2025-03-01 08:00", periods=n, freq="10min", tz="UTC"),
            "system_id": system_id,
            "protocol": "CHEST_PA",
            "kvp": 100.0,
            "ma": ma,
            "exposure_s": 0.5,
            "filament_a": model.filament_current_a(ma, 0.0),  # a new tube
            "oil_temp_c": 30.0,
            "coastdown_s": np.nan,
        }
    )


def _installs(exposures: pd.DataFrame, *days: str) -> pd.DataFrame:
    systems = exposures["system_id"].unique()
    on = [pd.Timestamp("2024-01-01"), *(pd.Timestamp(d) for d in days)]
    return pd.DataFrame(
        [(s, d) for s in systems for d in on], columns=["system_id", "installed_on"]
    )


def _days_of_exposures(days: int, per_day: int, seed: int = 5) -> pd.DataFrame:
    """``per_day`` exposures a day of two protocols, one second long on average."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    day = np.repeat(pd.date_range("2025-01-01", periods=days, freq="D"), per_day)
    protocol = np.where(np.arange(n) % 2 == 0, "CHEST_PA", "SPINE")
    scale = np.where(protocol == "SPINE", 3.0, 1.0)
    return pd.DataFrame(
        {
            "system_id": "XR-1",
            "day": day,
            "protocol": protocol,
            "exposure_s": scale * rng.uniform(0.5, 1.5, n),
        }
    )


def test_exposure_times_are_read_against_the_life_s_first_weeks_per_protocol() -> None:
    rows = _days_of_exposures(60, 30)
    later = rows["day"] >= pd.Timestamp("2025-01-01") + pd.Timedelta(days=STRETCH_REFERENCE_DAYS)
    rows.loc[later, "exposure_s"] *= 1.2  # a worn anode: AEC exposes 20% longer
    stretch = exposure_stretch(rows, _installs(rows))
    assert stretch[~later].isna().all()
    per_protocol = stretch[later].groupby(rows.loc[later, "protocol"]).mean()
    assert per_protocol.to_numpy() == pytest.approx([1.2, 1.2], abs=0.05)


def test_a_new_tube_starts_a_new_reference() -> None:
    rows = _days_of_exposures(120, 30)
    new = rows["day"] >= pd.Timestamp("2025-03-01")
    rows.loc[~new, "exposure_s"] *= 1.3  # the old tube exposed longer; the new one is 1
    stretch = exposure_stretch(rows, _installs(rows, "2025-03-01"))
    reference = new & (
        rows["day"] < pd.Timestamp("2025-03-01") + pd.Timedelta(STRETCH_REFERENCE_DAYS, "D")
    )
    assert stretch[reference].isna().all()
    assert float(stretch[new & ~reference].mean()) == pytest.approx(1.0, abs=0.05)


def test_a_day_s_stretch_does_not_change_when_later_days_arrive() -> None:
    rows = _days_of_exposures(90, 30)
    short = rows[rows["day"] < pd.Timestamp("2025-02-20")]
    whole = exposure_stretch(rows, _installs(rows))
    assert exposure_stretch(short, _installs(rows)).equals(whole[short.index])


def test_stretch_is_read_for_radiography_days_with_enough_exposures_only() -> None:
    rows = _days_of_exposures(40, MIN_STRETCH_ROWS)
    quiet = rows["day"] == rows["day"].max()
    rows = rows[~quiet | (rows.groupby("day").cumcount() < MIN_STRETCH_ROWS - 1)]
    exposures = rows.assign(
        ts=rows["day"].dt.tz_localize("UTC") + pd.Timedelta(hours=9),
        kvp=80.0,
        ma=400.0,
        filament_a=np.nan,
        oil_temp_c=np.nan,
        coastdown_s=np.nan,
    ).drop(columns="day")
    xr = xray_daily(exposures, NO_EVENTS, {"XR-1": "XR"}, _installs(exposures))["exposure_stretch"]
    assert xr.iloc[STRETCH_REFERENCE_DAYS:-1].notna().all()
    assert np.isnan(xr.iloc[-1])  # one exposure short of a reading
    ct = xray_daily(exposures, NO_EVENTS, {"XR-1": "CT"}, _installs(exposures))
    assert ct["exposure_stretch"].isna().all()  # CT's exposure times are not set by AEC


@pytest.mark.parametrize("modality", ["CT", "XR"])
def test_a_new_tube_reads_its_nominal_filament_current(modality: str) -> None:
    exposures = _exposures(f"{modality}-1", modality)
    daily = xray_daily(exposures, NO_EVENTS, {f"{modality}-1": modality}, _installs(exposures))
    nominal = tube_model(modality).parameters["filament_nominal_a"]
    assert daily["filament_a"].to_numpy() == pytest.approx(nominal)


def test_radiography_read_with_ct_physics_would_look_thinner_than_new() -> None:
    exposures = _exposures("XR-1", "XR")
    as_ct = xray_daily(exposures, NO_EVENTS, {}, _installs(exposures))  # CT's physics
    nominal = tube_model("XR").parameters["filament_nominal_a"]
    assert float(as_ct["filament_a"].iloc[0]) < 0.95 * nominal


def _telemetry(
    scan_hours: float, *, idle_c: float = 24.0, seed: int = 11, day: str = "2025-03-03"
) -> pd.DataFrame:
    """One day of 10-minute MR telemetry, scanning ``scan_hours`` from 08:00."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(day, periods=144, freq="10min", tz="UTC")
    hour = ts.hour + ts.minute / 60.0
    busy = (hour >= 8.0) & (hour < 8.0 + scan_hours)
    return pd.DataFrame(
        {
            "ts": ts,
            "system_id": "MR-1",
            "grad_coil_temp_c": idle_c + 2 * GRAD_BUSY_RISE_C * busy + 0.5 * rng.normal(size=144),
            "coldhead_stage2_k": 4.15,
            "he_level_pct": 80.0,
            "he_pressure_psi": 1.5,
            "compressor_on": True,
        }
    )


@pytest.mark.parametrize("hours", [0.0, 3.5, 10.0, 16.0])
def test_scanned_hours_are_read_from_the_gradient_coil_warming(hours: float) -> None:
    measured = scanned_hours(_telemetry(hours))
    assert measured.loc[("MR-1", pd.Timestamp("2025-03-03"))] == pytest.approx(hours, abs=1 / 6)


def test_scanned_hours_read_the_warming_not_the_coil_s_own_idle_temperature() -> None:
    warm_room = scanned_hours(_telemetry(6.0, idle_c=31.0))
    assert warm_room.iloc[0] == pytest.approx(6.0, abs=1 / 6)


def test_scanned_hours_survive_dropouts_and_skip_days_with_too_few_readings() -> None:
    frame = _telemetry(6.0)
    rng = np.random.default_rng(2)
    frame.loc[rng.uniform(size=len(frame)) < 0.2, "grad_coil_temp_c"] = np.nan
    assert scanned_hours(frame).iloc[0] == pytest.approx(6.0, abs=0.75)
    sparse = _telemetry(6.0).iloc[: MIN_GRAD_READINGS - 1]
    assert scanned_hours(sparse).empty


def _booked(hours: float, *days: str) -> pd.Series:
    index = pd.MultiIndex.from_tuples(
        [("MR-1", pd.Timestamp(d)) for d in days], names=["system_id", "day"]
    )
    return pd.Series(hours, index=index)


def test_cold_head_days_take_scanned_hours_and_bookings_only_without_telemetry() -> None:
    logged = _telemetry(5.0)
    blind = _telemetry(5.0, day="2025-03-04").assign(grad_coil_temp_c=np.nan)
    daily = coldhead_daily(
        pd.concat([logged, blind], ignore_index=True),
        NO_EVENTS,
        _booked(9.0, "2025-03-03", "2025-03-04"),
        pd.MultiIndex.from_tuples([], names=["system_id", "day"]),
        ColdheadModel(),
    )
    assert daily["scan_h"].tolist() == pytest.approx([5.0, 9.0], abs=1 / 6)


def test_a_stopped_compressor_does_not_read_as_a_warm_second_stage() -> None:
    frame = _telemetry(5.0)
    stopped = frame.index[:12]
    frame.loc[stopped, "compressor_on"] = False
    frame.loc[stopped, "coldhead_stage2_k"] = 4.5
    frame["compressor_on"] = frame["compressor_on"].astype(object)
    frame.loc[frame.index[20], "compressor_on"] = None  # unknown: kept
    daily = coldhead_daily(
        frame,
        NO_EVENTS,
        _booked(5.0, "2025-03-03"),
        pd.MultiIndex.from_tuples([], names=["system_id", "day"]),
        ColdheadModel(),
    )
    assert daily["stage2_k"].iloc[0] == pytest.approx(4.15)
