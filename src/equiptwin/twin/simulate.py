"""Forward Monte Carlo: run a life's twin ahead under its planned workload.

:func:`forecast_failure` draws particles from a life's :class:`~equiptwin.twin.estimate.FilterState`
(by weight), runs each to failure under the planned daily workload with the model's process
noise and failure draws, and summarises the time-to-failure samples as a
:class:`TwinForecast`: ``P(fail within h days)`` for each horizon, the failure window and the
median days left.

Day convention: the first planned day is day 0 (the ``as_of`` day); a sample that fails on
planned day ``k`` has ``k`` days left, and "within ``h`` days" means ``k < h``. The failure
window is the central interval of the time-to-failure samples with the stated coverage
(from the ``(1 - c) / 2`` to the ``(1 + c) / 2`` quantile, both days included), counting
samples that outlive the plan as failing after its end; a bound past the plan is ``None``.

What-if helpers return modified plans: :func:`scale_load` multiplies the load on a range of
days (lower load for an at-risk tube), :func:`move_load` moves the load of a range of days
onto the working days after it (exams postponed), :func:`repeat_weekly` continues the
weekly profile of recent history and :func:`plan_from_bookings` turns booked exams (or
scan hours) per day into a plan, continued by that profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from equiptwin.twin.base import DegradationModel, FloatArray, IntArray, WorkloadError
from equiptwin.twin.estimate import FilterState


@dataclass(frozen=True)
class TwinForecast:
    """The twin's forecast for one life from one ``as_of`` day.

    Parameters
    ----------
    component : str
        ``xray_tube`` or ``coldhead``.
    horizons_days : tuple of int
        Horizons of ``p_fail``, strictly increasing, within the plan.
    p_fail : tuple of float
        P(fail within h days) for each horizon (Monte Carlo share of samples).
    window_coverage : float
        Probability mass of the failure window.
    window_start_days, window_end_days : int or None
        First and last day (0 = ``as_of``) of the failure window; ``None`` when that bound
        lies past the end of the plan.
    median_days_left : float or None
        Median time to failure in days; ``None`` when it lies past the end of the plan.
    p_mode : Mapping[str, float]
        P(fail by each mode within the plan).
    ttf_days : ndarray of int, shape (n_samples,)
        Time-to-failure samples, ``-1`` for a sample that outlived the plan.
    planned_days : int
        Length of the plan that was simulated.
    """

    component: str
    horizons_days: tuple[int, ...]
    p_fail: tuple[float, ...]
    window_coverage: float
    window_start_days: int | None
    window_end_days: int | None
    median_days_left: float | None
    p_mode: Mapping[str, float]
    ttf_days: IntArray
    planned_days: int


def forecast_failure(
    model: DegradationModel,
    state: FilterState,
    planned_workload: npt.ArrayLike,
    *,
    horizons_days: tuple[int, ...] = (7, 14, 30),
    window_coverage: float = 0.8,
    n_samples: int = 1000,
    seed: int = 0,
) -> TwinForecast:
    """Simulate a life forward from its synchronised twin under a planned workload.

    Parameters
    ----------
    model : DegradationModel
        The life's component model.
    state : FilterState
        The life's particles after the last assimilated day.
    planned_workload : array_like, shape (days, n_inputs)
        Planned daily inputs from the ``as_of`` day on (booked schedule, or a what-if).
    horizons_days : tuple of int
        Horizons of P(fail within h days); each at most the plan's length.
    window_coverage : float
        Probability mass of the central failure window, in (0, 1).
    n_samples : int
        Monte Carlo samples (particles drawn by weight).
    seed : int
        Seed of the draws; the same inputs and seed give the same forecast.

    Returns
    -------
    TwinForecast
    """
    w = model.check_workload(planned_workload, 1)[0]
    days = w.shape[0]
    if state.component != model.component:
        raise WorkloadError(
            f"a {state.component} filter state cannot be forecast with the {model.component} "
            "model; use the model of the life's component."
        )
    if (
        not horizons_days
        or list(horizons_days) != sorted(set(horizons_days))
        or not (horizons_days[0] > 0 and horizons_days[-1] <= days)
    ):
        raise WorkloadError(
            f"`horizons_days` must be strictly increasing whole days within the {days}-day "
            f"plan, but found {horizons_days}; extend the plan (see repeat_weekly)."
        )
    if not 0.0 < window_coverage < 1.0 or n_samples < 1:
        raise WorkloadError(
            f"`window_coverage` must be in (0, 1) and `n_samples` >= 1, but found "
            f"{window_coverage} and {n_samples}."
        )
    rng = np.random.default_rng([seed, state.seed, state.day])
    idx = rng.choice(state.weight.size, size=n_samples, p=state.weight)
    fail_day, fail_mode = model.time_to_failure(w, state.x[idx], state.theta[idx], rng)
    failed = fail_day >= 0
    ttf = np.where(failed, fail_day, days).astype(np.float64)
    lo, mid, hi = np.quantile(
        ttf, [(1 - window_coverage) / 2, 0.5, (1 + window_coverage) / 2], method="inverted_cdf"
    )
    return TwinForecast(
        component=model.component,
        horizons_days=tuple(horizons_days),
        p_fail=tuple(float(np.mean(failed & (fail_day < h))) for h in horizons_days),
        window_coverage=window_coverage,
        window_start_days=int(lo) if lo < days else None,
        window_end_days=int(hi) if hi < days else None,
        median_days_left=float(mid) if mid < days else None,
        p_mode={e: float(np.mean(fail_mode == k)) for k, e in enumerate(model.events)},
        ttf_days=fail_day,
        planned_days=days,
    )


def _day_range(days: int, start_day: int, end_day: int | None) -> slice:
    end = days if end_day is None else end_day
    if not 0 <= start_day < end <= days:
        raise WorkloadError(
            f"the day range [{start_day}, {end_day}) must lie inside the {days}-day plan "
            "and hold at least one day."
        )
    return slice(start_day, end)


def _load_columns(model: DegradationModel) -> list[int]:
    return [model.inputs.index(c) for c in model.load_inputs]


def scale_load(
    model: DegradationModel,
    workload: npt.ArrayLike,
    factor: float,
    *,
    start_day: int = 0,
    end_day: int | None = None,
) -> FloatArray:
    """Return a plan with the load of days ``[start_day, end_day)`` multiplied by ``factor``.

    Only the model's ``load_inputs`` change (exams, scan seconds, energy; scan hours);
    levels and flags such as mean mA stay as planned.
    """
    w: FloatArray = model.check_workload(workload, 1)[0].copy()
    if not np.isfinite(factor) or factor < 0:
        raise WorkloadError(f"the load `factor` must be a number >= 0, but found {factor!r}.")
    days = _day_range(w.shape[0], start_day, end_day)
    cols = _load_columns(model)
    w[days, cols] *= factor
    return w


def move_load(
    model: DegradationModel, workload: npt.ArrayLike, start_day: int, end_day: int
) -> FloatArray:
    """Return a plan with the load of days ``[start_day, end_day)`` moved to later days.

    The load is spread over the working days after ``end_day`` (days with load in the plan)
    in proportion to their own load, so the plan's total load is unchanged.

    Raises
    ------
    WorkloadError
        If there are no working days after the range to take the load.
    """
    w: FloatArray = model.check_workload(workload, 1)[0].copy()
    days = _day_range(w.shape[0], start_day, end_day)
    cols = _load_columns(model)
    later = w[end_day:, cols]
    share = later.sum(axis=0)
    if np.any((share == 0) & (w[days, cols].sum(axis=0) > 0)):
        raise WorkloadError(
            f"no working days after day {end_day} of the {w.shape[0]}-day plan can take the "
            "moved load; extend the plan or scale the load instead."
        )
    moved = w[days, cols].sum(axis=0)
    w[end_day:, cols] += later / np.where(share > 0, share, 1.0) * moved
    w[days, cols] = 0.0
    return w


def repeat_weekly(model: DegradationModel, history: npt.ArrayLike, days: int) -> FloatArray:
    """Return a plan of ``days`` days repeating the average weekly profile of a history.

    Parameters
    ----------
    model : DegradationModel
        The component's model (for the input columns).
    history : array_like, shape (h, n_inputs)
        Recent daily workload, ``h >= 7``; its last day is the day before the plan starts.
    days : int
        Length of the plan.

    Loads are averaged per weekday; levels and flags (mean mA, chiller fault, helium
    fill) are averaged over the same weekdays that carried load.
    """
    hist = model.check_workload(history, 1)[0]
    if hist.shape[0] < 7 or days < 1:
        raise WorkloadError(
            f"a weekly profile needs at least 7 days of history and a plan of at least one "
            f"day, but found {hist.shape[0]} and {days}."
        )
    weekday = (np.arange(hist.shape[0]) - hist.shape[0]) % 7
    cols = _load_columns(model)
    loaded = hist[:, cols].sum(axis=1) > 0
    profile = np.zeros((7, hist.shape[1]))
    for k in range(7):
        same = weekday == k
        profile[k] = hist[same].mean(axis=0)
        if (same & loaded).any():
            # levels (mean mA) are averaged over the days that carried load
            levels = [c for c in range(hist.shape[1]) if c not in cols]
            profile[k, levels] = hist[same & loaded][:, levels].mean(axis=0)
    out: FloatArray = profile[np.arange(days) % 7]
    return out


def plan_from_bookings(
    model: DegradationModel, booked: npt.ArrayLike, history: npt.ArrayLike, days: int
) -> FloatArray:
    """Return a plan from the booked schedule, continued by the weekly profile of history.

    Parameters
    ----------
    model : DegradationModel
        The component's model. Its first load input is the booking unit: ``exams`` per
        day for an X-ray tube, ``scan_h`` per day for a cold head.
    booked : array_like, shape (booked_days,)
        Booked amount per day from the ``as_of`` day on (exams, or scan hours).
    history : array_like, shape (h, n_inputs)
        Recent daily workload (``h >= 7``); gives the load per booked unit (beam-on
        seconds and joules per exam), the levels (mean mA) and the weekly profile used
        after the booked days.
    days : int
        Length of the plan, at least ``booked_days``.

    Returns
    -------
    ndarray, shape (days, n_inputs)
    """
    amount = np.asarray(booked, dtype=np.float64)
    hist = model.check_workload(history, 1)[0]
    if amount.ndim != 1 or not np.isfinite(amount).all() or (amount < 0).any():
        raise WorkloadError(
            f"`booked` must be one finite amount >= 0 per day ({model.load_inputs[0]}), "
            f"but found {np.asarray(booked)!r:.80}."
        )
    if days < amount.size:
        raise WorkloadError(
            f"the plan of {days} days is shorter than the {amount.size} booked days; "
            "ask for a longer plan."
        )
    plan = repeat_weekly(model, hist, days)
    cols = _load_columns(model)
    unit = cols[0]
    loaded = hist[:, unit] > 0
    if not loaded.any():
        raise WorkloadError(
            f"the history holds no day with `{model.load_inputs[0]}` > 0, so the load per "
            "booked unit is unknown; give a longer history."
        )
    per_unit = hist[loaded][:, cols].sum(axis=0) / hist[loaded, unit].sum()
    levels = [c for c in range(hist.shape[1]) if c not in cols]
    k = amount.size
    plan[:k, cols] = amount[:, None] * per_unit
    plan[:k, levels] = np.where(amount[:, None] > 0, hist[loaded][:, levels].mean(axis=0), 0.0)
    return plan
