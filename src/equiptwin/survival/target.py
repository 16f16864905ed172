"""The one survival-target type, and landmark targets built from component lives.

A :class:`SurvivalTarget` holds, for each row, the bounds ``[lower_days, upper_days]``
of the time to failure, in days from the row's ``as_of`` day:

* an exact failure: ``lower_days == upper_days`` (the failure time);
* a right-censored row (preventive replacement, end of data):
  ``upper_days == inf`` and ``lower_days`` the time it was last seen working;
* an interval-censored failure: ``lower_days < upper_days < inf`` (it failed
  somewhere between the two, e.g. between the last good day and the work order).

The same value feeds xgboost AFT (:meth:`SurvivalTarget.aft_bounds`), xgboost Cox
(:meth:`SurvivalTarget.cox_label`) and scikit-survival (:meth:`SurvivalTarget.to_structured`).
It is built with :meth:`SurvivalTarget.from_arrays` and checked with
:func:`check_survival_target`; nothing else hands loose time and event arrays around.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

END_REASONS: tuple[str, ...] = ("failure", "preventive", "censored")

# Censored rows with no follow-up still need a negative xgboost Cox label; -0.0 == 0.0 would
# read as an event at time 0.
_COX_MIN_CENSORED_DAYS = 1e-6


@dataclass(frozen=True, eq=False)
class SurvivalTarget:
    """Time-to-failure bounds in days, one pair per row.

    Build it with :meth:`from_arrays`, or from bounds directly; the fields are copied,
    validated and made read-only on construction.

    Parameters
    ----------
    lower_days : ndarray of float, shape (n,)
        Time known to have been survived, in days (>= 0).
    upper_days : ndarray of float, shape (n,)
        Time by which the failure happened, in days; ``inf`` when right-censored.
    """

    lower_days: NDArray[np.float64]
    upper_days: NDArray[np.float64]

    def __post_init__(self) -> None:
        lower = _as_float(self.lower_days, "lower_days").copy()
        upper = _as_float(self.upper_days, "upper_days").copy()
        _validate_bounds(lower, upper)
        lower.setflags(write=False)
        upper.setflags(write=False)
        object.__setattr__(self, "lower_days", lower)
        object.__setattr__(self, "upper_days", upper)

    @classmethod
    def from_arrays(
        cls,
        time_days: ArrayLike,
        event: ArrayLike,
        *,
        upper_days: ArrayLike | None = None,
    ) -> SurvivalTarget:
        """Build a target from event or censoring times.

        Parameters
        ----------
        time_days : array-like of float, shape (n,)
            Failure time for events, censoring time otherwise; for interval-censored
            failures the lower bound (last day known working).
        event : array-like of bool, shape (n,)
            ``True`` where the life failed.
        upper_days : array-like of float, shape (n,), optional
            Upper bound of interval-censored failures; ``NaN`` (or equal to
            ``time_days``) for exact failures. Must be ``inf`` or ``NaN`` where
            ``event`` is ``False``.

        Returns
        -------
        SurvivalTarget

        Raises
        ------
        ValueError
            On NaN or negative times, non-boolean events, mismatched lengths or
            ``lower > upper``.
        """
        time = _as_float(time_days, "time_days")
        ev = np.asarray(event)
        if ev.ndim != 1 or ev.dtype != bool:
            if ev.ndim == 1 and np.isin(ev, (0, 1)).all():
                ev = ev.astype(bool)
            else:
                raise ValueError(
                    f"`event` must be a 1-d array of booleans, but found dtype {ev.dtype} "
                    f"with shape {ev.shape}. Pass True for failures, False for censored rows."
                )
        if ev.shape != time.shape:
            raise ValueError(
                f"`event` has {ev.shape[0]} rows but `time_days` has {time.shape[0]}; "
                "pass one value per row."
            )
        upper = np.where(ev, time, np.inf)
        if upper_days is not None:
            given = np.asarray(upper_days, dtype=np.float64)
            if given.shape != time.shape:
                raise ValueError(
                    f"`upper_days` has shape {given.shape} but `time_days` has {time.shape}."
                )
            bad = ~ev & np.isfinite(given)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"`upper_days` must be inf or NaN on censored rows, but row {i} has "
                    f"{given[i]!r}; mark the row as an event if it failed in that interval."
                )
            upper = np.where(ev & ~np.isnan(given), given, upper)
        return cls(time, upper)

    def __len__(self) -> int:
        return int(self.lower_days.shape[0])

    def __getitem__(self, rows: Any) -> SurvivalTarget:
        """Return the target of a subset of rows (an index array, mask or slice)."""
        return SurvivalTarget(self.lower_days[rows], self.upper_days[rows])

    @property
    def event(self) -> NDArray[np.bool_]:
        """``True`` where the row ends in a failure (exact or interval-censored)."""
        return np.isfinite(self.upper_days)

    @property
    def interval_censored(self) -> NDArray[np.bool_]:
        """``True`` where the failure time is only known to lie in an interval."""
        return self.event & (self.upper_days > self.lower_days)

    @property
    def time_days(self) -> NDArray[np.float64]:
        """One time per row for models without interval censoring, in days.

        The failure time for exact failures, the midpoint of the interval for
        interval-censored failures, the censoring time otherwise.
        """
        mid = 0.5 * (self.lower_days + np.where(self.event, self.upper_days, 0.0))
        return np.where(self.interval_censored, mid, self.lower_days)

    def aft_bounds(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return ``(label_lower_bound, label_upper_bound)`` for xgboost ``survival:aft``."""
        return self.lower_days.copy(), self.upper_days.copy()

    def cox_label(self) -> NDArray[np.float64]:
        """Return the xgboost ``survival:cox`` label: time, negated for censored rows."""
        censored = np.maximum(self.time_days, _COX_MIN_CENSORED_DAYS)
        return np.where(self.event, self.time_days, -censored)

    def to_structured(self) -> NDArray[Any]:
        """Return the scikit-survival structured array (fields ``event``, ``time_days``)."""
        out = np.empty(len(self), dtype=[("event", bool), ("time_days", np.float64)])
        out["event"] = self.event
        out["time_days"] = self.time_days
        return out

    def censored_at(self, limit_days: ArrayLike) -> SurvivalTarget:
        """Return the target as it was known ``limit_days`` after each row's ``as_of``.

        What happened after the limit is unknown then: a failure after it becomes a
        right-censoring at the limit. Used to train on an early period without
        outcomes from later.

        Parameters
        ----------
        limit_days : float or array-like of float, shape (n,)
            Non-negative follow-up available per row, in days.
        """
        limit = np.broadcast_to(np.asarray(limit_days, dtype=np.float64), self.lower_days.shape)
        later = self.upper_days > limit
        lower = np.where(later, np.minimum(self.lower_days, limit), self.lower_days)
        return SurvivalTarget(lower, np.where(later, np.inf, self.upper_days))

    def as_censored(self, rows: ArrayLike) -> SurvivalTarget:
        """Return the target with the failures of ``rows`` read as censored.

        A failure so marked becomes a right-censoring at the last time the row was known
        working (``lower_days``): for example a failure mode no model is asked to rank.

        Parameters
        ----------
        rows : array-like of bool, shape (n,)
            ``True`` where the row's failure is read as censored.
        """
        mask = np.asarray(rows, dtype=bool)
        if mask.shape != self.lower_days.shape:
            raise ValueError(f"`rows` has shape {mask.shape} but the target has {len(self)} rows.")
        return SurvivalTarget(self.lower_days, np.where(mask, np.inf, self.upper_days))

    def observed_by(self, horizon_days: float) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Return ``(known, failed)``: whether failure within the horizon is known, and its value.

        A row is known when it failed by the horizon (``upper_days <= h``) or was seen
        working past it (``lower_days > h``); censored-before-horizon and intervals
        straddling the horizon are unknown.
        """
        failed = self.upper_days <= horizon_days
        return failed | (self.lower_days > horizon_days), failed


def _as_float(values: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be numbers of days, but found {values!r:.80}") from None
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-dimensional, but found shape {arr.shape}.")
    return arr


def _validate_bounds(lower: NDArray[np.float64], upper: NDArray[np.float64]) -> None:
    if lower.shape != upper.shape:
        raise ValueError(f"`lower_days` {lower.shape} and `upper_days` {upper.shape} differ.")
    checks = (
        (np.isnan(lower) | np.isnan(upper), "must not be NaN"),
        (lower < 0, "must not be negative (time runs forward from `as_of`)"),
        (~np.isfinite(lower), "lower bound must be finite"),
        (lower > upper, "lower bound must not exceed the upper bound"),
        (np.isfinite(upper) & (upper <= 0), "failure time must be after `as_of` (> 0 days)"),
    )
    for bad, rule in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"survival target row {i}: time {rule}, but found "
                f"[{lower[i]!r}, {upper[i]!r}] days ({int(bad.sum())} such rows)."
            )


def check_survival_target(y: object, n_rows: int | None = None) -> SurvivalTarget:
    """Check that ``y`` is a :class:`SurvivalTarget` (with ``n_rows`` rows) and return it.

    Parameters
    ----------
    y : object
        The candidate target.
    n_rows : int, optional
        The number of rows it must have (the rows of ``X``).

    Returns
    -------
    SurvivalTarget

    Raises
    ------
    TypeError
        When ``y`` is not a :class:`SurvivalTarget`.
    ValueError
        When its length differs from ``n_rows``.
    """
    if not isinstance(y, SurvivalTarget):
        raise TypeError(
            f"`y` must be a SurvivalTarget, but found {type(y).__name__}; build one with "
            "SurvivalTarget.from_arrays(time_days, event) or landmark_target(lives, ...)."
        )
    if n_rows is not None and len(y) != n_rows:
        raise ValueError(f"`y` has {len(y)} rows but `X` has {n_rows}; they must match.")
    return y


LIVES_COLUMNS: tuple[str, ...] = ("life_id", "installed_on", "ended_on", "end_reason")


def landmark_target(
    lives: pd.DataFrame, *, data_end: dt.date, step_days: int = 1
) -> tuple[pd.DataFrame, SurvivalTarget]:
    """Build one landmark row per life per day and its time-to-end target.

    A life contributes the ``as_of`` days ``installed_on, installed_on + step, ...``
    strictly before its end, where the end is ``ended_on`` if it is before ``data_end``,
    else ``data_end`` (a replacement on or after it is not known yet, so the life is
    censored there: this keeps training as-of correct). The target is the time from
    ``as_of`` to the end: a failure when ``end_reason == "failure"`` and the end is
    ``ended_on``; censored otherwise (preventive replacement, ``None`` = still running).

    Parameters
    ----------
    lives : DataFrame
        Columns ``life_id``, ``installed_on``, ``ended_on`` (date or missing),
        ``end_reason`` (``"failure"``, ``"preventive"`` or missing); optionally
        ``failed_after`` (last date known working, for interval-censored failures).
    data_end : datetime.date
        First day without data; no ``as_of`` is on or after it.
    step_days : int, default 1
        Days between landmark rows of a life.

    Returns
    -------
    rows : DataFrame
        ``life_id`` and ``as_of`` (datetime64 days), one row per landmark, in life then
        day order, with a fresh RangeIndex.
    target : SurvivalTarget
        The time to failure from each ``as_of``, aligned with ``rows``.

    Raises
    ------
    ValueError
        On missing columns, unknown end reasons, duplicate ``life_id`` or a life
        that ends before it starts.
    """
    missing = [c for c in LIVES_COLUMNS if c not in lives.columns]
    if missing:
        raise ValueError(f"`lives` lacks the column(s) {missing}; it needs {list(LIVES_COLUMNS)}.")
    if step_days < 1:
        raise ValueError(f"`step_days` must be a positive whole number, but found {step_days!r}.")
    reason = lives["end_reason"].astype("object").where(lives["end_reason"].notna(), None)
    unknown = sorted({str(r) for r in reason.dropna()} - set(END_REASONS))
    if unknown:
        raise ValueError(
            f"`end_reason` must be one of {END_REASONS} or missing, but found {unknown}."
        )
    if lives["life_id"].duplicated().any():
        dup = lives.loc[lives["life_id"].duplicated(), "life_id"].iloc[0]
        raise ValueError(f"`life_id` must be unique in `lives`, but {dup!r} appears twice.")
    start = pd.to_datetime(lives["installed_on"]).to_numpy("datetime64[D]")
    if np.isnat(start).any():
        i = int(np.flatnonzero(np.isnat(start))[0])
        raise ValueError(
            f"life {lives['life_id'].iloc[i]!r} has no `installed_on`; every life needs its "
            "installation date."
        )
    ended = pd.to_datetime(lives["ended_on"]).to_numpy("datetime64[D]")
    stop = np.datetime64(data_end, "D")
    known_end = ~np.isnat(ended) & (ended < stop)
    end = np.where(known_end, ended, stop)
    if (end < start).any():
        i = int(np.flatnonzero(end < start)[0])
        raise ValueError(
            f"life {lives['life_id'].iloc[i]!r} ends ({end[i]}) before it is installed "
            f"({start[i]}); fix `installed_on`/`ended_on`."
        )
    failed = known_end & (reason == "failure").to_numpy()
    n_days = (end - start).astype(np.int64)
    n_rows = np.where(n_days > 0, (n_days - 1) // step_days + 1, 0)
    life_pos = np.repeat(np.arange(len(lives)), n_rows)
    offset = np.arange(int(n_rows.sum())) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    as_of = start[life_pos] + offset * step_days
    time = (end[life_pos] - as_of).astype(np.float64)
    upper = np.where(failed[life_pos], time, np.inf)
    lower = time.copy()
    if "failed_after" in lives.columns:
        after = pd.to_datetime(lives["failed_after"]).to_numpy("datetime64[D]")[life_pos]
        interval = failed[life_pos] & ~np.isnat(after)
        lower = np.where(interval, np.maximum((after - as_of).astype(np.float64), 0.0), lower)
    rows = pd.DataFrame(
        {
            "life_id": lives["life_id"].to_numpy()[life_pos],
            "as_of": as_of.astype("datetime64[s]"),
        }
    )
    return rows, SurvivalTarget(lower, upper)
