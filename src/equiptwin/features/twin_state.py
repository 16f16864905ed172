"""The twin's state and forward window as features, one row per life per day.

For each life the particle filter assimilates the daily aggregates in order; the row for
day D is summarised from the state after days before D only (as-of correct), then run
forward under a plan that repeats the life's average week of the last 28 days
(:func:`~equiptwin.twin.simulate.repeat_weekly`). A life that began before the data did
is aged first by that same weekly profile over the days since its installation.

Columns (prefix ``twin_``): ``health`` (posterior mean of the health index, 1 new, 0 at
a wear limit), ``health_q10``, one ``<state>`` mean per hidden state, ``p_fail_30d`` (the
twin's own Monte Carlo probability), ``window_start_days`` and ``median_days_left``
(capped at the plan length when beyond it).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm import tqdm

from equiptwin.twin.estimate import ParticleFilter
from equiptwin.twin.registry import component_model
from equiptwin.twin.simulate import forecast_failure, repeat_weekly

PLAN_DAYS = 60
HISTORY_DAYS = 28
MAX_PRIOR_AGE_DAYS = 8 * 365


@dataclass(frozen=True)
class TwinSettings:
    """How hard the twin works per life-day.

    Parameters
    ----------
    n_particles : int
        Particles of each life's filter.
    n_samples : int
        Monte Carlo samples of each forward run.
    horizon_days : int
        Horizon of ``twin_p_fail_<h>d``.
    wear_scale : float
        Fleet-wide factor on the models' wear rates (setting ``twin.wear_scale``).
    """

    n_particles: int = 400
    n_samples: int = 300
    horizon_days: int = 30
    wear_scale: float = 1.0


def _life_seed(life_id: str) -> int:
    return zlib.crc32(life_id.encode("utf-8"))


def _matrix(frame: pd.DataFrame, columns: tuple[str, ...], fill: float | None) -> np.ndarray:
    values = frame.reindex(columns=list(columns)).to_numpy(dtype=np.float64, copy=True)
    return values if fill is None else np.nan_to_num(values, nan=fill)


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
        Particles, samples and horizon.
    rows_from : pandas.Timestamp, optional
        First day that needs a row; earlier days are only assimilated (cheap), which is
        what a one-day forecast needs.

    Returns
    -------
    pandas.DataFrame
        One row per day from ``rows_from`` on (every day when omitted), indexed like
        ``life``; each row summarises the state before that day.
    """
    model = component_model(component, modality, settings.wear_scale)
    pf = ParticleFilter(model, n_particles=settings.n_particles)
    workload = _matrix(life, model.inputs, 0.0)
    observed = _matrix(life, model.outputs, None)
    seed = _life_seed(str(life.index.get_level_values(0)[0]))
    prior_days = min(age_at_start_days, MAX_PRIOR_AGE_DAYS)
    past = (
        repeat_weekly(model, workload[: max(7, HISTORY_DAYS)], prior_days)
        if prior_days > 0 and len(workload) >= 7
        else None
    )
    state = pf.start(seed, past_workload=past)
    days = life.index.get_level_values("day")
    wanted = np.ones(len(life), dtype=bool) if rows_from is None else days >= rows_from
    rows = []
    for d in range(len(life)):
        if not wanted[d]:
            state = pf.update(state, workload[d], observed[d])
            continue
        summary = pf.summary(state)
        row = {"twin_health": summary.health_mean, "twin_health_q10": summary.health_quantiles[0]}
        row.update({f"twin_{k}": v for k, v in summary.state_mean.items()})
        history = workload[max(0, d - HISTORY_DAYS) : d]
        if len(history) >= 7:
            plan = repeat_weekly(model, history, PLAN_DAYS)
            ahead = forecast_failure(
                model,
                state,
                plan,
                horizons_days=(settings.horizon_days,),
                n_samples=settings.n_samples,
                seed=seed,
            )
            row[f"twin_p_fail_{settings.horizon_days}d"] = ahead.p_fail[0]
            row["twin_window_start_days"] = _capped(ahead.window_start_days)
            row["twin_median_days_left"] = _capped(ahead.median_days_left)
        rows.append(row)
        state = pf.update(state, workload[d], observed[d])
    return pd.DataFrame(rows, index=life.index[wanted])


def _capped(days: float | None) -> float:
    return float(PLAN_DAYS) if days is None else float(days)


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
        Particles, samples and horizon; defaults when omitted.
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
    parts = []
    lives = panel.groupby(level="life_id", sort=True)
    for _life_id, life in tqdm(lives, desc="twin", unit="life", disable=not progress):
        first_day = life.index.get_level_values("day")[0]
        age = int((first_day - pd.Timestamp(life["installed_on"].iloc[0])).days)
        parts.append(
            life_twin_features(
                life,
                str(life["component"].iloc[0]),
                str(life["modality"].iloc[0]),
                max(age, 0),
                settings,
                rows_from=rows_from,
            )
        )
    if not parts:
        return pd.DataFrame(index=panel.index)
    return pd.concat(parts).reindex(panel.index)
