"""The twin's state and forward window as features, one row per life per day.

For each life the particle filter assimilates the daily aggregates in order; the row for
day D is summarised from the state after days before D only (as-of correct), then run
forward under a plan that repeats the life's average week of the last 28 days
(:func:`~equiptwin.twin.simulate.repeat_weekly`). A life that began before the data did
is aged first by that same weekly profile over the days since its installation.

Days of a life before its system's first logged day carry no workload: they are not
assimilated as idle days but aged by the weekly profile of the first logged weeks, like
the days before the data of a life installed earlier.

Columns (prefix ``twin_``): ``health`` (posterior mean of the health index, 1 new, 0 at
a wear limit), ``health_q10``, one ``<state>`` mean per hidden state, ``p_fail_<h>d`` for
each of :data:`TWIN_HORIZONS` (the twin's own Monte Carlo probabilities),
``window_start_days``, ``median_days_left`` (capped at the plan length when beyond it)
and ``hazard_index`` (:func:`hazard_index`: the twin's risk as one log cumulative hazard
that still ranks lives far from a failure).
"""

from __future__ import annotations

import multiprocessing
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from tqdm import tqdm

from equiptwin.twin.base import DegradationModel, FloatArray
from equiptwin.twin.estimate import FilterState, ParticleFilter
from equiptwin.twin.registry import component_model
from equiptwin.twin.simulate import TwinForecast, forecast_failure, repeat_weekly, scale_load

PLAN_DAYS = 120
TWIN_HORIZONS = (7, 14, 30, 60, 120)
"""Horizons of the twin's ``p_fail`` columns (the last is the plan's length)."""
HISTORY_DAYS = 28
INDEX_FLOOR = 1e-3
"""Smallest plan-long failure probability the hazard index tells apart (Monte Carlo
resolution); below it the health index alone ranks."""
INDEX_HEALTH_WEIGHT = 3.0
"""Log-hazard per unit of health lost in :func:`hazard_index`."""
INDEX_SOON_DAYS = 14
"""Horizon of the near-term term of :func:`hazard_index`."""
INDEX_SOON_SHIFT = 1.0
"""Added to the near-term log cumulative hazard in :func:`hazard_index`. The weights were
chosen on the development fleet (seed 777) only: shifts of 0 to 3 and health weights of 1
to 8 gave concordance 0.82-0.86 there; 1 alerted every failure with precursors."""
MAX_PRIOR_AGE_DAYS = 8 * 365


def hazard_index(
    p_fail_soon: npt.ArrayLike, p_fail_plan: npt.ArrayLike, health: npt.ArrayLike
) -> FloatArray:
    """Return the twin's hazard index: one log cumulative hazard per row.

    The soft maximum (``logaddexp``) of a long-range term, ``log(-log(1 - p_plan)) - w *
    health``, and a near-term one, ``log(-log(1 - p_soon)) + INDEX_SOON_SHIFT``, with
    probabilities clipped to ``[INDEX_FLOOR, 1 - INDEX_FLOOR]`` and ``w``
    :data:`INDEX_HEALTH_WEIGHT`. Far from a failure, where the Monte Carlo probabilities
    are 0 for every life, the health index still ranks them; within the plan its
    probability does; and a failure the twin sees coming within days outranks a worn
    component that will last the plan out. Higher is riskier; it is the offset the hybrid
    model boosts from.

    Parameters
    ----------
    p_fail_soon : array-like of float
        ``twin_p_fail_<INDEX_SOON_DAYS>d``.
    p_fail_plan : array-like of float
        ``twin_p_fail_<PLAN_DAYS>d``.
    health : array-like of float
        ``twin_health`` (1 new, 0 at a wear limit).

    Returns
    -------
    ndarray of float
        NaN where an input is.
    """

    def log_cumhaz(p: npt.ArrayLike) -> FloatArray:
        clipped = np.clip(np.asarray(p, dtype=np.float64), INDEX_FLOOR, 1.0 - INDEX_FLOOR)
        out: FloatArray = np.log(-np.log1p(-clipped))
        return out

    long_range = log_cumhaz(p_fail_plan) - INDEX_HEALTH_WEIGHT * np.asarray(health, float)
    index: FloatArray = np.logaddexp(long_range, log_cumhaz(p_fail_soon) + INDEX_SOON_SHIFT)
    return index


@dataclass(frozen=True)
class TwinSettings:
    """How hard the twin works per life-day.

    Parameters
    ----------
    n_particles : int
        Particles of each life's filter.
    n_samples : int
        Monte Carlo samples of each forward run.
    wear_scale : float
        Fleet-wide factor on the models' wear rates (setting ``twin.wear_scale``).
    workers : int
        Processes that run lives in parallel (1 runs them in the calling process); the
        rows are the same whatever the number.
    """

    n_particles: int = 400
    n_samples: int = 300
    wear_scale: float = 1.0
    workers: int = 1


def _life_seed(life_id: str) -> int:
    return zlib.crc32(life_id.encode("utf-8"))


def _matrix(frame: pd.DataFrame, columns: tuple[str, ...], fill: float | None) -> np.ndarray:
    values = frame.reindex(columns=list(columns)).to_numpy(dtype=np.float64, copy=True)
    return values if fill is None else np.nan_to_num(values, nan=fill)


@dataclass
class _Synced:
    """One life's twin ready to assimilate its logged days in order."""

    model: DegradationModel
    pf: ParticleFilter
    state: FilterState
    workload: np.ndarray
    observed: np.ndarray
    index: pd.Index
    seed: int

    def update(self, d: int) -> None:
        self.state = self.pf.update(self.state, self.workload[d], self.observed[d])

    def forecast(
        self, d: int, settings: TwinSettings, scale: float = 1.0, until: int = 0
    ) -> TwinForecast | None:
        """Run forward from the state before day ``d``.

        The plan repeats the weekly profile of the weeks before ``d``, with the load of
        its first ``until`` days scaled by ``scale``; ``None`` under a week of history.
        """
        history = self.workload[max(0, d - HISTORY_DAYS) : d]
        if len(history) < 7:
            return None
        plan = repeat_weekly(self.model, history, PLAN_DAYS)
        if scale != 1.0:
            plan = scale_load(self.model, plan, scale, end_day=min(until, PLAN_DAYS))
        return forecast_failure(
            self.model,
            self.state,
            plan,
            horizons_days=TWIN_HORIZONS,
            n_samples=settings.n_samples,
            seed=self.seed,
        )


def _synchronise(
    life: pd.DataFrame,
    component: str,
    modality: str,
    age_at_start_days: int,
    settings: TwinSettings,
) -> _Synced:
    model = component_model(component, modality, settings.wear_scale)
    pf = ParticleFilter(model, n_particles=settings.n_particles)
    logged = np.flatnonzero(life.reindex(columns=list(model.inputs)).notna().any(axis=1))
    lead = int(logged[0]) if len(logged) else 0
    workload = _matrix(life, model.inputs, 0.0)[lead:]
    seed = _life_seed(str(life.index.get_level_values(0)[0]))
    prior_days = min(age_at_start_days + lead, MAX_PRIOR_AGE_DAYS)
    past = (
        repeat_weekly(model, workload[: max(7, HISTORY_DAYS)], prior_days)
        if prior_days > 0 and len(workload) >= 7
        else None
    )
    return _Synced(
        model,
        pf,
        pf.start(seed, past_workload=past),
        workload,
        _matrix(life, model.outputs, None)[lead:],
        life.index[lead:],
        seed,
    )


def life_twin_features(
    life: pd.DataFrame,
    component: str,
    modality: str,
    age_at_start_days: int,
    settings: TwinSettings,
    *,
    rows_from: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Run one life's twin over its days and return a ``twin_*`` row per day.

    Parameters
    ----------
    life : pandas.DataFrame
        The life's daily aggregates in day order (one row per day, the model's input and
        output columns; missing indicators NaN).
    component : str
        ``xray_tube`` or ``coldhead``.
    modality : str
        The system's modality (``CT``, ``XR``, ``MR``): radiography tubes have their own
        reference day.
    age_at_start_days : int
        Days between the life's installation and its first row.
    settings : TwinSettings
        Particles, samples and wear scale.
    rows_from : pandas.Timestamp, optional
        First day that needs a row; earlier days are only assimilated (cheap), which is
        what a one-day forecast needs.

    Returns
    -------
    pandas.DataFrame
        One row per logged day from ``rows_from`` on (every logged day when omitted),
        indexed like ``life``; each row summarises the state before that day.
    """
    twin = _synchronise(life, component, modality, age_at_start_days, settings)
    days = twin.index.get_level_values("day")
    wanted = np.ones(len(days), dtype=bool) if rows_from is None else days >= rows_from
    rows = []
    for d in range(len(days)):
        if wanted[d]:
            summary = twin.pf.summary(twin.state)
            row = {
                "twin_health": summary.health_mean,
                "twin_health_q10": summary.health_quantiles[0],
            }
            row.update({f"twin_{k}": v for k, v in summary.state_mean.items()})
            ahead = twin.forecast(d, settings)
            if ahead is not None:
                row.update(
                    {
                        f"twin_p_fail_{h}d": p
                        for h, p in zip(TWIN_HORIZONS, ahead.p_fail, strict=True)
                    }
                )
                row["twin_window_start_days"] = _capped(ahead.window_start_days)
                row["twin_median_days_left"] = _capped(ahead.median_days_left)
                soon = ahead.p_fail[TWIN_HORIZONS.index(INDEX_SOON_DAYS)]
                row["twin_hazard_index"] = float(
                    hazard_index(soon, ahead.p_fail[-1], summary.health_mean)
                )
            rows.append(row)
        twin.update(d)
    return pd.DataFrame(rows, index=twin.index[wanted])


def load_shift_days_gained(
    life: pd.DataFrame,
    component: str,
    modality: str,
    age_at_start_days: int,
    settings: TwinSettings,
    *,
    fraction_removed: float,
    days: int,
) -> float | None:
    """Return the twin's days of median life gained by taking load off for ``days`` days.

    The twin assimilates every row of ``life`` and runs forward from the day after it,
    once under the weekly profile of the last weeks and once with ``fraction_removed``
    of its load taken off the first ``days`` days, with the same random draws.

    Parameters
    ----------
    life, component, modality, age_at_start_days, settings
        As :func:`life_twin_features`; ``life`` ends the day before the forecast day.
    fraction_removed : float
        Share of the tube's load moved elsewhere, in [0, 1].
    days : int
        Days the load stays reduced (until the maintenance slot).

    Returns
    -------
    float or None
        Median days left with the load shifted minus without (both capped at the
        twin's plan); ``None`` with under a week of logged days or when both medians
        lie beyond the plan.
    """
    twin = _synchronise(life, component, modality, age_at_start_days, settings)
    for d in range(len(twin.workload)):
        twin.update(d)
    end = len(twin.workload)
    base = twin.forecast(end, settings)
    shifted = twin.forecast(end, settings, scale=1.0 - fraction_removed, until=days)
    if base is None or shifted is None:
        return None
    if base.median_days_left is None and shifted.median_days_left is None:
        return None
    return _capped(shifted.median_days_left) - _capped(base.median_days_left)


def _capped(days: float | None) -> float:
    return float(PLAN_DAYS) if days is None else float(days)


def _life_job(
    job: tuple[pd.DataFrame, TwinSettings, pd.Timestamp | None],
) -> pd.DataFrame:
    life, settings, rows_from = job
    first_day = life.index.get_level_values("day")[0]
    age = int((first_day - pd.Timestamp(life["installed_on"].iloc[0])).days)
    return life_twin_features(
        life,
        str(life["component"].iloc[0]),
        str(life["modality"].iloc[0]),
        max(age, 0),
        settings,
        rows_from=rows_from,
    )


def twin_features(
    panel: pd.DataFrame,
    settings: TwinSettings | None = None,
    *,
    rows_from: pd.Timestamp | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Return the ``twin_*`` columns for every row of a life panel.

    Parameters
    ----------
    panel : pandas.DataFrame
        Indexed by (``life_id``, ``day``) with ``component``, ``modality``, ``installed_on`` and the
        daily aggregates, one row per day of each life in order.
    settings : TwinSettings, optional
        Particles, samples, wear scale and worker processes; defaults when omitted.
    rows_from : pandas.Timestamp, optional
        First day that needs its ``twin_*`` values (earlier rows are left NaN).
    progress : bool
        Show a progress bar over lives (on stderr).

    Returns
    -------
    pandas.DataFrame
        The ``twin_*`` columns, same index as ``panel``.
    """
    settings = settings or TwinSettings()
    jobs = [
        (life, settings, rows_from)
        for _, life in panel.groupby(level="life_id", sort=True)
        if rows_from is None or life.index.get_level_values("day")[-1] >= rows_from
    ]
    if not jobs:
        return pd.DataFrame(index=panel.index)
    bar = tqdm(total=len(jobs), desc="twin", unit="life", disable=not progress)
    parts = []
    for part in _run_lives(jobs, settings.workers):
        parts.append(part)
        bar.update()
    bar.close()
    return pd.concat(parts).reindex(panel.index)


def _run_lives(
    jobs: list[tuple[pd.DataFrame, TwinSettings, pd.Timestamp | None]], workers: int
) -> Iterator[pd.DataFrame]:
    if workers <= 1 or len(jobs) < 2:
        yield from map(_life_job, jobs)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
        yield from pool.map(_life_job, jobs)
