"""MRI cold head degradation model.

A cold head wears 24/7 (``coldhead_wear``, 1 = it can no longer hold the magnet cold).
A tired cold head lets the second stage warm from about 4.2 K upward; once the stage is
too warm to recondense the helium, it boils off, the helium level falls and the magnet
pressure rises (published, ``domain.md``). Inputs per day: ``scan_h`` (hours of scanning,
extra heat load from the gradients), ``chiller_fault`` (0/1, a day with a chiller fault
logged: a confounder that warms the second stage without wear) and ``he_fill_l``
(litres of liquid helium filled that day, from the service records).

States: ``coldhead_wear`` (never decreases) and ``he_level_pct`` (helium level, percent of
``he_volume_l``; falls by the boil-off and rises only by fills).

Outputs: ``stage2_k`` (daily mean second-stage temperature), ``boil_off_l_per_day``,
``he_level_pct``, ``he_pressure_psi`` and ``compressor_trips`` (count; more frequent on a
tired cold head and on chiller-fault days, so trips are partly noise and partly signal).

Daily indicators as the features must compute them from the cryogenics telemetry and event
log: ``stage2_k`` is the day's mean ``coldhead_stage2_k``; ``he_level_pct`` the day's mean
``he_level_pct``; ``boil_off_l_per_day`` the fall of the daily mean level from the day
before, in litres (``he_volume_l`` x percent / 100), plus the litres filled that day;
``he_pressure_psi`` the day's mean ``he_pressure_psi``; ``compressor_trips`` the number of
``7120 Compressor trip`` events. Missing telemetry makes an indicator ``NaN``.

Priors: published figures are ~1,500-1,700 L of helium (``he_volume_l`` = 1600), near-zero
boil-off when healthy, cold heads serviced every ~2-3 years. Wear rate is calibrated so a
cold head left alone reaches the wear limit after a median of about 3.5 years (10-90%:
about 2.3-5 years, ``life_rate_sigma`` = 0.35): preventive service at 2-3 years catches
most, the fast wearers fail first. Boil-off starts when the second stage passes
``boiloff_onset_k`` (at about 70% of the wear, the last ~9 months of a median life) and
reaches about 25 L/day at the limit, so the helium slope gives months of warning. The
model does not refill: the fleet simulator passes fills as ``he_fill_l``. Sudden failures
(displacer or motor, no precursor) happen at ``sudden_failure_per_day`` = 5e-5.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from equiptwin.twin.base import SUDDEN, DegradationModel, FloatArray


class ColdheadModel(DegradationModel):
    """Degradation twin of an MRI cold head; see the module docstring for the physics."""

    component: ClassVar[str] = "coldhead"
    states: ClassVar[tuple[str, ...]] = ("coldhead_wear", "he_level_pct", "rate_factor")
    inputs: ClassVar[tuple[str, ...]] = ("scan_h", "chiller_fault", "he_fill_l")
    load_inputs: ClassVar[tuple[str, ...]] = ("scan_h",)
    outputs: ClassVar[tuple[str, ...]] = (
        "stage2_k",
        "boil_off_l_per_day",
        "he_level_pct",
        "he_pressure_psi",
        "compressor_trips",
    )
    count_outputs: ClassVar[tuple[str, ...]] = ("compressor_trips",)
    events: ClassVar[tuple[str, ...]] = ("coldhead_worn", SUDDEN)
    life_parameters: ClassVar[tuple[str, ...]] = ("wear_rate",)
    default_parameters: ClassVar[Mapping[str, float]] = {
        "wear_per_day": 4.6e-4,
        "wear_accel": 1.0,
        "scan_heat_gain": 0.3,
        "stage2_new_k": 4.1,
        "stage2_wear_k": 0.9,
        "stage2_chiller_k": 0.3,
        "stage2_scan_k_per_h": 0.005,
        "boiloff_onset_k": 4.3,
        "boiloff_l_per_day_per_k": 35.0,
        "he_volume_l": 1600.0,
        "he_initial_pct": 80.0,
        "he_initial_sd_pct": 5.0,
        "pressure_new_psi": 1.5,
        "pressure_psi_per_l_day": 0.03,
        "trip_per_day": 0.02,
        "trip_wear_gain": 5.0,
        "trip_chiller_gain": 10.0,
        "life_rate_sigma": 0.35,
        "rate_factor_sigma": 0.3,
        "rate_factor_days": 90.0,
        "process_sigma": 0.3,
        "sudden_failure_per_day": 5e-5,
        "stage2_k_sd": 0.02,
        "boil_off_l_per_day_sd": 2.0,
        "he_level_pct_sd": 0.2,
        "he_pressure_psi_sd": 0.03,
    }

    # ---- physics shared with the fleet simulator and the features --------------------

    def stage2_k(
        self, coldhead_wear: npt.ArrayLike, scan_h: npt.ArrayLike, chiller_fault: npt.ArrayLike
    ) -> FloatArray:
        """Return the second-stage temperature (K) for a wear, a scan load and a chiller flag."""
        p = self.parameters
        w = np.asarray(coldhead_wear, dtype=np.float64)
        out: FloatArray = (
            p["stage2_new_k"]
            + p["stage2_wear_k"] * w**4
            + p["stage2_chiller_k"] * np.asarray(chiller_fault, dtype=np.float64)
            + p["stage2_scan_k_per_h"] * np.asarray(scan_h, dtype=np.float64)
        )
        return out

    def boil_off_l_per_day(self, stage2_k: npt.ArrayLike) -> FloatArray:
        """Return the helium boil-off (L/day) at a second-stage temperature (K)."""
        p = self.parameters
        excess = np.maximum(np.asarray(stage2_k, dtype=np.float64) - p["boiloff_onset_k"], 0.0)
        out: FloatArray = p["boiloff_l_per_day_per_k"] * excess
        return out

    def he_pressure_psi(self, boil_off_l_per_day: npt.ArrayLike) -> FloatArray:
        """Return the magnet (helium vessel) pressure (psi) at a boil-off rate (L/day)."""
        p = self.parameters
        out: FloatArray = p["pressure_new_psi"] + p["pressure_psi_per_l_day"] * np.asarray(
            boil_off_l_per_day, dtype=np.float64
        )
        return out

    def trips_per_day(
        self, coldhead_wear: npt.ArrayLike, chiller_fault: npt.ArrayLike
    ) -> FloatArray:
        """Return the expected compressor trips per day."""
        p = self.parameters
        w = np.asarray(coldhead_wear, dtype=np.float64)
        out: FloatArray = p["trip_per_day"] * (
            1.0
            + p["trip_wear_gain"] * w**3
            + p["trip_chiller_gain"] * np.asarray(chiller_fault, dtype=np.float64)
        )
        return out

    # ---- the model's equations --------------------------------------------------------

    def initial_state(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Return ``n`` new cold heads on magnets filled to about ``he_initial_pct``."""
        p = self.parameters
        level = p["he_initial_pct"] + p["he_initial_sd_pct"] * rng.standard_normal(n)
        return np.stack(
            [np.zeros(n), np.clip(level, 0.0, 100.0), self._initial_rate_factor(n, rng)], axis=1
        )

    def sample_life_parameters(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Return lognormal wear-rate multipliers (median 1) for ``n`` cold heads."""
        out: FloatArray = np.exp(self.parameters["life_rate_sigma"] * rng.standard_normal((n, 1)))
        return out

    def next_state(
        self, x: FloatArray, u: FloatArray, theta: FloatArray, rng: np.random.Generator
    ) -> FloatArray:
        """Return wear and helium level after one day; wear never decreases."""
        p = self.parameters
        wear, level, factor = x.T
        scan_h, chiller, fill_l = u.T
        sigma = p["process_sigma"]
        noise = np.exp(sigma * rng.standard_normal(wear.shape) - 0.5 * sigma**2)
        rate = (
            p["wear_per_day"]
            * (1.0 + p["scan_heat_gain"] * scan_h / 12.0)
            * (1.0 + p["wear_accel"] * wear)
        )
        new_factor = self._drift_rate_factor(factor, rng)
        new_wear = wear + rate * theta[:, 0] * noise * new_factor
        boil = self.boil_off_l_per_day(self.stage2_k(new_wear, scan_h, chiller))
        new_level = np.clip(level + 100.0 * (fill_l - boil) / p["he_volume_l"], 0.0, 100.0)
        return np.stack([new_wear, new_level, new_factor], axis=1)

    def expected_output(self, x: FloatArray, u: FloatArray, theta: FloatArray) -> FloatArray:
        """Return the day's mean indicators (telemetry runs every day)."""
        wear, level, _factor = x.T
        scan_h, chiller, _fill = u.T
        stage2 = self.stage2_k(wear, scan_h, chiller)
        boil = self.boil_off_l_per_day(stage2)
        return np.stack(
            [stage2, boil, level, self.he_pressure_psi(boil), self.trips_per_day(wear, chiller)],
            axis=1,
        )

    def damage(self, x: FloatArray) -> FloatArray:
        """Return the cold head's wear (1 fails)."""
        return x[:, :1].copy()
