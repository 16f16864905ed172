"""X-ray tube (CT and radiography) degradation model.

Four wear states, each normalised so that the tube fails when it reaches its limit, and
a lumped two-node thermal model (anode -> housing oil -> room). Inputs are one day of
exposure records summed: ``exams`` (count), ``scan_s`` (beam-on seconds),
``energy_j`` (sum of kV x mA x s, joules into the anode) and ``mean_ma`` (mA averaged
over the exams; 0 on days without exams).

Physics and priors (figures quoted from ``domain.md`` are "published" figures, the rest
are equiptwin's modelling choices):

- **Filament** (``filament_loss``, fraction of tungsten mass evaporated; published: ~10%
  is end of life, ``filament_loss_limit``). The controller needs more filament current for
  the same mA as the wire thins (``filament_current_gain``: +8% at end of life) and
  evaporation grows steeply with current (``filament_evap_sensitivity``), so wear
  accelerates itself. Wear is driven by beam-on seconds at the day's mean mA plus standby
  heating on working days.
- **Vacuum** (``vacuum_damage``, gas load, 1 fails). Gas is released by the hot anode
  (Arrhenius-like in the anode temperature) and grows with energy; gas begets arcs and
  arcs release more gas (``vacuum_runaway``), so the arc rate climbs over days to weeks
  before the failure (published).
- **Bearing** (``bearing_wear``, 1 = stalled anode). Driven by rotation time (beam-on
  plus a spin-up per exam); slows run-up and shortens coast-down.
- **Anode** (``anode_wear``, track roughening and cracks, 1 = cracked). Driven by energy
  and energy per exam (thermal stress); the worn track raises oil temperature for the
  same load (published) and, roughened, gives less output per mAs, so a radiography
  tube's automatic exposure control (AEC) ends each exposure later
  (``aec_stretch_gain``: 25% longer at a crack, an equiptwin choice; CT's dose modulation
  acts on the mA instead and is not modelled, gain 0). Stretched exposures put more
  energy into the anode, which the twin sees in its inputs. ``anode_ref`` is the anode
  wear the exposure times are read against: its mean over the first
  :data:`STRETCH_REFERENCE_DAYS` days of data, as the features' reference is the mean
  exposure time of those days (:meth:`XrayTubeModel.first_data` starts the mean;
  ``anode_ref_days`` counts the days in it, 0 before any data, as in the simulator, whose
  stretch is against a new anode).
- **Sudden** failures (no precursor) at a constant daily hazard.

Daily indicators (``outputs``), as the features must compute them from a day's exposure
rows and event log so that they match :meth:`XrayTubeModel.expected_output`:

- ``filament_a``: mean over the day's exams of ``reference_filament_a(ma, filament_a)``
  (the filament current rescaled to ``ma_ref``);
- ``oil_c``: mean over the day's exams of ``oil_temp_c``; the model expects the steady
  temperature under the day's mean power ``energy_j / duty_s`` (a simulator writing
  per-exam values should scatter them around :meth:`XrayTubeModel.oil_temp_c`);
- ``coastdown_s``: mean of the day's measured ``coastdown_s`` (empty cells skipped);
- ``arc_count``: number of ``2301 Tube arc detected`` events that day;
- ``exposure_stretch``: mean over the day's exposures of ``exposure_s`` divided by the
  mean of the same protocol in the life's first :data:`STRETCH_REFERENCE_DAYS` days of
  data (the features' reference window); the model expects ``exposure_stretch(anode_wear) /
  exposure_stretch(anode_ref)``.

All but ``arc_count`` are ``NaN`` on days without exams.

Rates are calibrated so that a tube under the reference CT day (60 exams, 500 s beam-on,
15 MJ) on five days a week reaches each wear limit after a median of about 7-9 years and
fails (first mode) after a median of 6 years (10-90%: 4-8 years; 0.5-1.1 M scan seconds),
inside the published 4-8 years and 0.5-1.6 M scan seconds for CT tubes. The four wear
modes share the failures roughly evenly. Per-life wear-rate multipliers are lognormal with
``life_rate_sigma`` = 0.35, giving the published spread of tube lives. Sudden failures
(``sudden_failure_per_day`` = 4e-5, ~1.5% a year) make about 8% of failures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from equiptwin.twin.base import SUDDEN, DegradationModel, FloatArray

WEAR_CAP = 1.5
"""Damage (1 fails) above which a wear no longer accelerates itself."""

ArrayLike = npt.ArrayLike


STRETCH_REFERENCE_DAYS = 28
"""Days from a life's first data whose exposure times are the reference of the stretch."""


RADIOGRAPHY_REFERENCE: Mapping[str, float] = {
    "ref_exams": 120.0,
    "ref_scan_s": 12.0,
    "ref_energy_j": 4.0e5,
    "ma_ref": 400.0,
    "spin_s_per_exam": 5.0,
    "aec_stretch_gain": 0.25,
}
"""Reference working day of a radiography tube (120 exposures of ~0.1 s at 80 kV, 400 mA).

Radiography tubes are counted in exposures (published); wear is scaled to this day, so
``XrayTubeModel(**RADIOGRAPHY_REFERENCE)`` gives XR tubes lives like a CT tube's under
its own typical load. Their exposure times are set by AEC, which answers a worn anode's
lost output with longer exposures (``aec_stretch_gain``).
"""


class XrayTubeModel(DegradationModel):
    """Degradation twin of an X-ray tube; see the module docstring for the physics."""

    component: ClassVar[str] = "xray_tube"
    states: ClassVar[tuple[str, ...]] = (
        "filament_loss",
        "vacuum_damage",
        "bearing_wear",
        "anode_wear",
        "anode_ref",
        "anode_ref_days",
        "rate_factor",
    )
    inputs: ClassVar[tuple[str, ...]] = ("exams", "scan_s", "energy_j", "mean_ma")
    load_inputs: ClassVar[tuple[str, ...]] = ("exams", "scan_s", "energy_j")
    outputs: ClassVar[tuple[str, ...]] = (
        "filament_a",
        "oil_c",
        "coastdown_s",
        "arc_count",
        "exposure_stretch",
    )
    count_outputs: ClassVar[tuple[str, ...]] = ("arc_count",)
    events: ClassVar[tuple[str, ...]] = (
        "filament_open",
        "vacuum_arcing",
        "bearing_seized",
        "anode_cracked",
        SUDDEN,
    )
    life_parameters: ClassVar[tuple[str, ...]] = (
        "filament_rate",
        "vacuum_rate",
        "bearing_rate",
        "anode_rate",
    )
    default_parameters: ClassVar[Mapping[str, float]] = {
        # reference CT working day (published: ~0.7 MJ per spiral, ~20 min per exam)
        "ref_exams": 60.0,
        "ref_scan_s": 500.0,
        "ref_energy_j": 1.5e7,
        "ma_ref": 250.0,
        "duty_s": 36_000.0,
        # filament
        "filament_nominal_a": 4.5,
        "filament_ma_exponent": 0.25,
        "filament_current_gain": 0.8,
        "filament_loss_limit": 0.10,
        "filament_loss_per_day": 2.4e-5,
        "filament_standby_share": 0.3,
        "filament_evap_sensitivity": 12.0,
        # thermal (lumped: anode -> oil -> room)
        "ambient_c": 25.0,
        "oil_r_k_per_w": 0.048,
        "oil_tau_s": 3600.0,
        "oil_anode_gain": 0.5,
        "anode_r_k_per_w": 0.6,
        "anode_heat_capacity_j_per_k": 4000.0,
        "anode_temp_scale_k": 250.0,
        # vacuum
        "vacuum_damage_per_day": 3.5e-5,
        "vacuum_idle_share": 0.2,
        "vacuum_runaway": 8.0,
        "initial_vacuum_max": 0.05,
        "arc_per_exam_new": 1.5e-3,
        "arc_gain": 6.0,
        # bearing
        "bearing_wear_per_day": 2.5e-4,
        "bearing_accel": 3.0,
        "spin_s_per_exam": 30.0,
        "coastdown_new_s": 90.0,
        "coastdown_decay": 1.2,
        "runup_new_s": 8.0,
        "runup_gain": 1.5,
        # anode
        "anode_wear_per_day": 2.3e-4,
        "anode_accel": 2.0,
        "aec_stretch_gain": 0.0,
        # randomness
        "life_rate_sigma": 0.35,
        "rate_factor_sigma": 0.3,
        "rate_factor_days": 90.0,
        "process_sigma": 0.3,
        "sudden_failure_per_day": 4e-5,
        # daily indicator noise (standard deviations of the day's mean)
        "filament_a_sd": 0.01,
        "oil_c_sd": 0.8,
        "coastdown_s_sd": 1.5,
        "exposure_stretch_sd": 0.08,
    }

    # ---- per-exam physics, shared with the fleet simulator and the features ----------

    def filament_current_a(self, ma: ArrayLike, filament_loss: ArrayLike) -> FloatArray:
        """Return the filament current (A) the controller needs for ``ma`` milliamperes."""
        p = self.parameters
        ratio = np.asarray(ma, dtype=np.float64) / p["ma_ref"]
        thin = 1.0 + p["filament_current_gain"] * np.asarray(filament_loss, dtype=np.float64)
        out: FloatArray = p["filament_nominal_a"] * ratio ** p["filament_ma_exponent"] * thin
        return out

    def reference_filament_a(self, ma: ArrayLike, filament_a: ArrayLike) -> FloatArray:
        """Return a measured filament current (A) rescaled to the reference ``ma_ref``."""
        p = self.parameters
        ratio = np.asarray(ma, dtype=np.float64) / p["ma_ref"]
        out: FloatArray = (
            np.asarray(filament_a, dtype=np.float64) / ratio ** p["filament_ma_exponent"]
        )
        return out

    def oil_temp_c(self, power_w: ArrayLike, anode_wear: ArrayLike) -> FloatArray:
        """Return the steady housing-oil temperature (deg C) under a mean anode power (W)."""
        p = self.parameters
        gain = 1.0 + p["oil_anode_gain"] * np.asarray(anode_wear, dtype=np.float64)
        out: FloatArray = p["ambient_c"] + np.asarray(power_w) * p["oil_r_k_per_w"] * gain
        return out

    def oil_temp_after_exam_c(
        self, oil_c: ArrayLike, energy_j: ArrayLike, idle_s: ArrayLike, anode_wear: ArrayLike
    ) -> FloatArray:
        """Return the oil temperature (deg C) after an exam, for an exam-by-exam simulation.

        The oil cools towards ambient for ``idle_s`` seconds since the previous exam, then
        takes the exam's ``energy_j``; under a constant power this settles at
        :meth:`oil_temp_c`.
        """
        p = self.parameters
        capacity_j_per_k = p["oil_tau_s"] / p["oil_r_k_per_w"]
        gain = 1.0 + p["oil_anode_gain"] * np.asarray(anode_wear, dtype=np.float64)
        cooled = p["ambient_c"] + (np.asarray(oil_c) - p["ambient_c"]) * np.exp(
            -np.asarray(idle_s) / p["oil_tau_s"]
        )
        out: FloatArray = cooled + np.asarray(energy_j) * gain / capacity_j_per_k
        return out

    def anode_temp_c(
        self, energy_j: ArrayLike, exams: ArrayLike, anode_wear: ArrayLike
    ) -> FloatArray:
        """Return the day's typical peak anode temperature (deg C)."""
        p = self.parameters
        energy = np.asarray(energy_j, dtype=np.float64)
        power_w = energy / p["duty_s"]
        per_exam_j = energy / np.maximum(np.asarray(exams, dtype=np.float64), 1.0)
        out: FloatArray = (
            self.oil_temp_c(power_w, anode_wear)
            + power_w * p["anode_r_k_per_w"]
            + per_exam_j / p["anode_heat_capacity_j_per_k"]
        )
        return out

    def coastdown_s(self, bearing_wear: ArrayLike) -> FloatArray:
        """Return the anode coast-down time (s) after an exam."""
        p = self.parameters
        out: FloatArray = p["coastdown_new_s"] * np.exp(
            -p["coastdown_decay"] * np.asarray(bearing_wear, dtype=np.float64)
        )
        return out

    def runup_s(self, bearing_wear: ArrayLike) -> FloatArray:
        """Return the anode run-up (acceleration) time (s) before an exam."""
        p = self.parameters
        b = np.asarray(bearing_wear, dtype=np.float64)
        out: FloatArray = p["runup_new_s"] * (1.0 + p["runup_gain"] * b * b)
        return out

    @property
    def aec_sets_exposure_time(self) -> bool:
        """Whether AEC sets this tube's exposure times (so they stretch with anode wear)."""
        return self.parameters["aec_stretch_gain"] > 0

    def exposure_stretch(self, anode_wear: ArrayLike) -> FloatArray:
        """Return how much longer AEC makes an exposure than on a new anode (1 = same)."""
        gain = self.parameters["aec_stretch_gain"]
        out: FloatArray = 1.0 + gain * np.asarray(anode_wear, dtype=np.float64)
        return out

    def arcs_per_exam(self, vacuum_damage: ArrayLike) -> FloatArray:
        """Return the expected number of arcs per exam at a vacuum state."""
        p = self.parameters
        v = np.minimum(np.asarray(vacuum_damage, dtype=np.float64), 1.5)
        out: FloatArray = p["arc_per_exam_new"] * np.exp(p["arc_gain"] * v)
        return out

    # ---- the model's equations --------------------------------------------------------

    def initial_state(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Return ``n`` new tubes: no wear, a little residual gas."""
        x = np.zeros((n, len(self.states)))
        x[:, 1] = rng.uniform(0.0, self.parameters["initial_vacuum_max"], n)
        x[:, 6] = self._initial_rate_factor(n, rng)
        return x

    def first_data(self, x: FloatArray) -> FloatArray:
        """Return the tubes with the mean ``anode_ref`` started at their anode wear now.

        The features read exposure times against the mean of the life's first
        :data:`STRETCH_REFERENCE_DAYS` days of data; :meth:`next_state` adds each of those
        days' wear to the mean, so a tube is read against the anode it had then.
        """
        out = x.copy()
        out[:, 4] = out[:, 3]
        out[:, 5] = 1.0
        return out

    def sample_life_parameters(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Return lognormal wear-rate multipliers (median 1) for ``n`` tubes."""
        sigma = self.parameters["life_rate_sigma"]
        out: FloatArray = np.exp(sigma * rng.standard_normal((n, len(self.life_parameters))))
        return out

    def next_state(
        self, x: FloatArray, u: FloatArray, theta: FloatArray, rng: np.random.Generator
    ) -> FloatArray:
        """Return the wear after one day; every increment is non-negative."""
        p = self.parameters
        loss, vac, bear, anode, anode_ref, ref_days, factor = x.T
        exams, scan_s, energy_j, mean_ma = u.T
        # Past half again its limit a wear has long failed; capping what accelerates it
        # there keeps forward runs of failed particles finite (no overflow to inf or NaN).
        loss_c = np.minimum(loss, WEAR_CAP * p["filament_loss_limit"])
        bear_c, anode_c = np.minimum(bear, WEAR_CAP), np.minimum(anode, WEAR_CAP)
        ma = np.where(mean_ma > 0, mean_ma, p["ma_ref"])
        working = (exams > 0).astype(np.float64)

        i_rel = self.filament_current_a(ma, loss_c) / p["filament_nominal_a"]
        evap = p["filament_standby_share"] * working + scan_s / p["ref_scan_s"] * np.exp(
            p["filament_evap_sensitivity"] * (i_rel - 1.0)
        )
        ref_anode_c = self.anode_temp_c(p["ref_energy_j"], p["ref_exams"], 0.0)
        hot = np.exp(
            (self.anode_temp_c(energy_j, exams, anode_c) - ref_anode_c) / p["anode_temp_scale_k"]
        )
        gas = p["vacuum_idle_share"] + energy_j / p["ref_energy_j"] * hot
        rotation = (scan_s + exams * p["spin_s_per_exam"]) / (
            p["ref_scan_s"] + p["ref_exams"] * p["spin_s_per_exam"]
        )
        per_exam = (energy_j / np.maximum(exams, 1.0)) / (p["ref_energy_j"] / p["ref_exams"])
        stress = energy_j / p["ref_energy_j"] * per_exam

        rates = np.stack(
            [
                p["filament_loss_per_day"] * evap,
                p["vacuum_damage_per_day"]
                * gas
                * np.exp(p["vacuum_runaway"] * np.minimum(vac, WEAR_CAP)),
                p["bearing_wear_per_day"] * rotation * (1.0 + p["bearing_accel"] * bear_c**2),
                p["anode_wear_per_day"] * stress * (1.0 + p["anode_accel"] * anode_c),
            ],
            axis=1,
        )
        sigma = p["process_sigma"]
        noise = np.exp(sigma * rng.standard_normal(rates.shape) - 0.5 * sigma**2)
        new_factor = self._drift_rate_factor(factor, rng)
        wear = x[:, :4] + rates * theta * noise * new_factor[:, None]
        # the reference mean takes the wear at the start of each of its days
        averaging = (ref_days > 0) & (ref_days < STRETCH_REFERENCE_DAYS)
        ref = np.where(averaging, anode_ref + (wear[:, 3] - anode_ref) / (ref_days + 1), anode_ref)
        return np.column_stack([wear, ref, ref_days + averaging, new_factor])

    def expected_output(self, x: FloatArray, u: FloatArray, theta: FloatArray) -> FloatArray:
        """Return the day's mean indicators; NaN for measured ones on days without exams."""
        p = self.parameters
        loss, vac, bear, anode, anode_ref, _ref_days, _factor = x.T
        exams, _scan_s, energy_j, _ma = u.T
        measured = np.where(exams > 0, 1.0, np.nan)
        return np.stack(
            [
                self.filament_current_a(p["ma_ref"], loss) * measured,
                self.oil_temp_c(energy_j / p["duty_s"], anode) * measured,
                self.coastdown_s(bear) * measured,
                exams * self.arcs_per_exam(vac),
                self.exposure_stretch(anode) / self.exposure_stretch(anode_ref) * measured,
            ],
            axis=1,
        )

    def damage(self, x: FloatArray) -> FloatArray:
        """Return the damage of filament, vacuum, bearing and anode (1 fails)."""
        d = x[:, :4].copy()
        d[:, 0] /= self.parameters["filament_loss_limit"]
        return d
