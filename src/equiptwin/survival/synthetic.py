"""Synthetic survival data with known truth, for the tests and the survival benchmark.

Two generators, both seeded:

* :func:`synthetic_static`: rows with a few standard-normal features and an exponential
  time to failure whose log-hazard is linear in two of them, censored at random. The
  hazard is known exactly, so model checks have a ground truth.
* :func:`synthetic_fleet`: component lives with landmark rows per day and features shaped
  like the real ones (arc counts, filament deviation, cold-head temperature, helium
  slope, a twin output). Most lives wear out: after a hidden onset a precursor signal
  climbs until failure a few weeks later; some fail suddenly without warning; some are
  replaced preventively. It stands in for real features until the features stage
  computes them from ingested data; it is not the fleet simulator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit

from equiptwin.features.twin_state import TWIN_HORIZONS
from equiptwin.survival.target import SurvivalTarget, landmark_target

STATIC_FEATURES: tuple[str, ...] = ("x0", "x1", "x2", "x3")
STATIC_LOG_HAZARD: dict[str, float] = {"x0": 1.0, "x1": -0.7}

_MODALITIES: tuple[tuple[str, str, float], ...] = (
    ("CT", "xray_tube", 0.45),
    ("XR", "xray_tube", 0.25),
    ("MR", "coldhead", 0.30),
)
FLEET_FEATURES: tuple[str, ...] = (
    "age_days",
    "energy_j_sum_7d",
    "ev_2301_sum_7d",
    "ev_2301_sum_7d_then",
    "filament_a_trend",
    "stage2_k_level",
    "he_level_pct_trend",
    "oil_resid_c_level",
    "twin_p_fail_30d",
)
_PRECURSOR_DAYS = 24.0  # mean days from precursor onset to wear-out failure


def synthetic_static(
    n_rows: int, *, seed: int, base_rate_per_day: float = 0.01, censor_rate_per_day: float = 0.005
) -> tuple[pd.DataFrame, SurvivalTarget]:
    """Return ``(X, y)`` with a known proportional hazard.

    ``hazard(x) = base_rate_per_day * exp(x0 - 0.7 * x1)``; ``x2``, ``x3`` are noise.
    Times are exponential, censored by an independent exponential; whole days, at
    least 1.

    Parameters
    ----------
    n_rows : int
        Number of rows.
    seed : int
        Random seed.
    base_rate_per_day, censor_rate_per_day : float
        Failure hazard at ``x = 0`` and censoring hazard, per day.
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.standard_normal((n_rows, len(STATIC_FEATURES))), columns=STATIC_FEATURES
    )
    log_hazard = sum(beta * frame[name].to_numpy() for name, beta in STATIC_LOG_HAZARD.items())
    fail = rng.exponential(1.0 / (base_rate_per_day * np.exp(log_hazard)))
    censor = rng.exponential(1.0 / censor_rate_per_day, n_rows)
    time = np.ceil(np.minimum(fail, censor))
    return frame, SurvivalTarget.from_arrays(time, fail <= censor)


def synthetic_twin(
    X: pd.DataFrame, *, seed: int, base_rate_per_day: float = 0.01, noise_sd: float = 0.5
) -> pd.DataFrame:
    """Return a noisy twin's columns for rows of :func:`synthetic_static`.

    The twin reads each row's known hazard with log-normal error ``noise_sd`` and
    reports what the real twin does: ``twin_p_fail_<h>d`` (exponential in ``h``),
    ``twin_median_days_left``, ``twin_health`` (``S(120 d)``) and ``twin_hazard_index``
    (the log cumulative hazard over 120 days).

    Parameters
    ----------
    X : DataFrame
        Rows with :data:`STATIC_FEATURES`.
    seed : int
        Random seed of the reading error.
    base_rate_per_day : float
        The hazard at ``x = 0`` the rows were drawn with.
    noise_sd : float
        Standard deviation of the log hazard's reading error.

    Returns
    -------
    DataFrame
        The twin's columns, on ``X``'s index.
    """
    rng = np.random.default_rng(seed)
    log_hazard = sum(beta * X[name].to_numpy() for name, beta in STATIC_LOG_HAZARD.items())
    rate = base_rate_per_day * np.exp(log_hazard + noise_sd * rng.standard_normal(len(X)))
    plan = float(TWIN_HORIZONS[-1])
    columns = {f"twin_p_fail_{h}d": -np.expm1(-rate * h) for h in TWIN_HORIZONS}
    columns["twin_median_days_left"] = np.log(2.0) / rate
    columns["twin_health"] = np.exp(-rate * plan)
    columns["twin_hazard_index"] = np.log(rate * plan)
    return pd.DataFrame(columns, index=X.index)


@dataclass(frozen=True)
class SyntheticFleet:
    """Synthetic lives and their landmark rows.

    Parameters
    ----------
    lives : DataFrame
        ``life_id, system_id, modality, component, installed_on, ended_on, end_reason,
        has_precursor`` (truth: the failure was preceded by a climbing signal).
    rows : DataFrame
        ``life_id, as_of, system_id, modality, component`` and :data:`FLEET_FEATURES`.
    target : SurvivalTarget
        Time to failure from each row's ``as_of``.
    data_end : datetime.date
        First day without data.
    """

    lives: pd.DataFrame
    rows: pd.DataFrame
    target: SurvivalTarget
    data_end: dt.date


def synthetic_fleet(
    n_lives: int,
    *,
    seed: int,
    start: dt.date = dt.date(2022, 1, 1),
    span_days: int = 1000,
    step_days: int = 1,
    sudden_share: float = 0.15,
) -> SyntheticFleet:
    """Return a synthetic fleet with precursors before most failures.

    Parameters
    ----------
    n_lives : int
        Component lives (one per system).
    seed : int
        Random seed.
    start : datetime.date
        First installation day.
    span_days : int
        Days of data from ``start``.
    step_days : int
        Days between landmark rows.
    sudden_share : float
        Share of lives whose wear-out gives no warning signal.
    """
    rng = np.random.default_rng(seed)
    kinds = rng.choice(len(_MODALITIES), n_lives, p=[m[2] for m in _MODALITIES])
    modality = np.array([_MODALITIES[k][0] for k in kinds])
    component = np.array([_MODALITIES[k][1] for k in kinds])
    installed = rng.integers(0, span_days // 2, n_lives)
    load = rng.lognormal(0.0, 0.35, n_lives)  # relative daily load; wears the part faster
    onset = rng.gamma(4.0, 110.0, n_lives) / load  # days from installation
    precursor = rng.random(n_lives) >= sudden_share
    wear_out = onset + rng.gamma(3.0, _PRECURSOR_DAYS / 3.0, n_lives)
    sudden = rng.exponential(3000.0, n_lives)
    fail_day = np.ceil(np.minimum(wear_out, sudden))
    preventive_day = np.ceil(rng.exponential(2500.0, n_lives))
    end_day = np.minimum(fail_day, preventive_day)
    ends_in_data = installed + end_day < span_days
    day0 = np.datetime64(start, "D")
    ended = pd.Series(day0 + (installed + end_day).astype("timedelta64[D]")).where(ends_in_data)
    reason = np.where(fail_day <= preventive_day, "failure", "preventive")
    lives = pd.DataFrame(
        {
            "life_id": [f"L{seed}-{i:04d}" for i in range(n_lives)],
            "system_id": [f"{m}-{seed}-{i:04d}" for i, m in enumerate(modality)],
            "modality": modality,
            "component": component,
            "installed_on": pd.to_datetime(day0 + installed.astype("timedelta64[D]")),
            "ended_on": ended,
            "end_reason": pd.Series(reason, dtype="object").where(ends_in_data, None),
            "has_precursor": precursor & (wear_out <= sudden),
        }
    )
    data_end = start + dt.timedelta(days=span_days)
    rows, target = landmark_target(lives, data_end=data_end, step_days=step_days)
    pos = pd.Index(lives["life_id"]).get_indexer(rows["life_id"])
    installed_on = lives["installed_on"].to_numpy("datetime64[D]")[pos]
    age = (rows["as_of"].to_numpy("datetime64[D]") - installed_on).astype(np.float64)
    rows = rows.assign(
        system_id=lives["system_id"].to_numpy()[pos],
        modality=modality[pos],
        component=component[pos],
    )
    features = _fleet_features(rng, age, pos, load, onset, precursor, component == "coldhead")
    return SyntheticFleet(lives, pd.concat([rows, features], axis=1), target, data_end)


def _fleet_features(
    rng: np.random.Generator,
    age: NDArray[np.float64],
    pos: NDArray[np.intp],
    load: NDArray[np.float64],
    onset: NDArray[np.float64],
    precursor: NDArray[np.bool_],
    coldhead: NDArray[np.bool_],
) -> pd.DataFrame:
    """Features of each landmark row from its life's hidden state (see module docstring)."""
    n = age.size

    def progress(at: NDArray[np.float64]) -> NDArray[np.float64]:
        since = np.clip(at - onset[pos], 0.0, None) / _PRECURSOR_DAYS
        return np.where(precursor[pos], since, 0.0)

    now, before = progress(age), progress(age - 21.0)
    tube = ~coldhead[pos]
    filament_kind = rng.random(onset.size)[pos] < 0.4  # which tube signal carries the wear

    def arcs(p: NDArray[np.float64]) -> NDArray[np.float64]:
        rate = 0.3 + 0.6 * np.expm1(1.5 * np.where(filament_kind, 0.0, p))
        return rng.poisson(7.0 * rate).astype(np.float64)

    nan = np.full(n, np.nan)
    return pd.DataFrame(
        {
            "age_days": age,
            "energy_j_sum_7d": load[pos] * 40.0 * rng.lognormal(0.0, 0.15, n),
            "ev_2301_sum_7d": np.where(tube, arcs(now), nan),
            "ev_2301_sum_7d_then": np.where(tube, arcs(before), nan),
            "filament_a_trend": np.where(
                tube, 3.0 * np.where(filament_kind, now, 0.0) + rng.normal(0.0, 0.8, n), nan
            ),
            "stage2_k_level": np.where(
                coldhead[pos], 4.15 + 0.12 * now + rng.normal(0, 0.04, n), nan
            ),
            "he_level_pct_trend": np.where(
                coldhead[pos], -0.01 - 0.05 * now + rng.normal(0, 0.02, n), nan
            ),
            "oil_resid_c_level": np.where(tube, rng.normal(45.0, 4.0, n), nan),
            "twin_p_fail_30d": expit(-3.0 + 2.5 * now + rng.normal(0.0, 0.8, n)),
        }
    )
