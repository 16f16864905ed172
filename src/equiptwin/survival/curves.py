"""Survival curves over an explicit grid of horizons, and what engineers read off them.

:class:`SurvivalCurves` holds ``S(h) = P(still working h days after as_of)`` for ``n``
rows on a grid ``horizons_days``; ``S(0) = 1`` is implied. Between grid points the
distribution function ``F = 1 - S`` is read as piecewise linear (failures spread evenly
within a grid step), which defines the median and the failure window below.

Failure window
--------------
The window with coverage ``c`` is the **shortest interval** ``[a, b]`` within
``[0, max horizon]`` with ``F(b) - F(a) = c``: the likely failure days holding
probability ``c`` of the (unconditional) time-to-failure distribution. It exists only when
``P(fail within the max horizon) >= c``; otherwise both ends are ``NaN`` ("failure is
not likely enough within the horizon to name a window"), which the forecast reports as
no window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

_TOL = 1e-9
_WINDOW_LEVELS = 101


def check_horizons(horizons_days: ArrayLike) -> NDArray[np.float64]:
    """Return ``horizons_days`` as a float array after checking it is a usable grid.

    Raises
    ------
    ValueError
        Unless it is a non-empty 1-d sequence of positive, finite, strictly increasing days.
    """
    grid = np.asarray(horizons_days, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.isfinite(grid).all() or (grid <= 0).any():
        raise ValueError(
            f"`horizons_days` must be a non-empty list of positive days, but found {grid!r:.80}."
        )
    if (np.diff(grid) <= 0).any():
        raise ValueError(f"`horizons_days` must be strictly increasing, but found {grid!r:.80}.")
    return grid


@dataclass(frozen=True, eq=False)
class SurvivalCurves:
    """Survival probabilities of ``n`` rows over a grid of horizons.

    Parameters
    ----------
    horizons_days : ndarray of float, shape (k,)
        Strictly increasing positive horizons, in days after ``as_of``.
    survival : ndarray of float, shape (n, k)
        ``S(h)`` per row and horizon: in ``[0, 1]`` and non-increasing along each row.
    """

    horizons_days: NDArray[np.float64]
    survival: NDArray[np.float64]

    def __post_init__(self) -> None:
        grid = check_horizons(self.horizons_days)
        surv = np.asarray(self.survival, dtype=np.float64)
        if surv.ndim != 2 or surv.shape[1] != grid.size:
            raise ValueError(
                f"`survival` must have shape (n, {grid.size}) for the grid, but found {surv.shape}."
            )
        if np.isnan(surv).any() or (surv < -_TOL).any() or (surv > 1 + _TOL).any():
            raise ValueError("`survival` must be probabilities in [0, 1] without NaN.")
        if (np.diff(surv, axis=1) > _TOL).any():
            row = int(np.flatnonzero((np.diff(surv, axis=1) > _TOL).any(axis=1))[0])
            raise ValueError(
                f"`survival` must not increase with the horizon, but row {row} does: "
                f"{np.round(surv[row], 4)}."
            )
        surv = np.clip(surv, 0.0, 1.0)
        grid.setflags(write=False)
        surv.setflags(write=False)
        object.__setattr__(self, "horizons_days", grid)
        object.__setattr__(self, "survival", surv)

    def __len__(self) -> int:
        return int(self.survival.shape[0])

    def p_fail(self, horizon_days: float) -> NDArray[np.float64]:
        """Return P(fail within ``horizon_days``) per row; the horizon must be on the grid.

        Raises
        ------
        KeyError
            When ``horizon_days`` is not one of :attr:`horizons_days`.
        """
        hit = np.flatnonzero(self.horizons_days == horizon_days)
        if hit.size == 0:
            raise KeyError(
                f"no {horizon_days}-day horizon on the grid {self.horizons_days.tolist()}; "
                "predict with that horizon in `horizons_days`."
            )
        return 1.0 - self.survival[:, int(hit[0])]

    def _cdf_with_origin(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        grid = np.concatenate([[0.0], self.horizons_days])
        cdf = 1.0 - np.concatenate([np.ones((len(self), 1)), self.survival], axis=1)
        return grid, np.maximum.accumulate(cdf, axis=1)

    def quantile_days(self, level: float | NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the day by which each row fails with probability ``level`` (NaN beyond grid).

        Parameters
        ----------
        level : float or ndarray of shape (n,)
            Probability in ``(0, 1]``, one for all rows or one per row.
        """
        return _quantiles(*self._cdf_with_origin(), level)

    def median_days_left(self) -> NDArray[np.float64]:
        """Return the median time to failure per row, in days; ``NaN`` when beyond the grid."""
        return self.quantile_days(0.5)

    def failure_window(self, coverage: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the shortest window holding ``coverage`` of the failure probability.

        Parameters
        ----------
        coverage : float
            Probability in ``(0, 1)`` that the failure falls inside the window.

        Returns
        -------
        start_days, end_days : ndarray of float, shape (n,)
            Window bounds in days after ``as_of``; ``NaN`` where
            ``P(fail within the max horizon) < coverage`` (see the module docstring).
        """
        if not 0.0 < coverage < 1.0:
            raise ValueError(f"`coverage` must be strictly between 0 and 1, but found {coverage}.")
        grid, cdf = self._cdf_with_origin()
        f_max = cdf[:, -1]
        ok = f_max >= coverage - _TOL
        slack = np.clip(f_max - coverage, 0.0, None)
        best_start = np.full(len(self), np.nan)
        best_end = np.full(len(self), np.nan)
        for share in np.linspace(0.0, 1.0, _WINDOW_LEVELS):
            lo_level = share * slack
            start = np.where(lo_level > 0, _quantiles(grid, cdf, np.maximum(lo_level, _TOL)), 0.0)
            end = _quantiles(grid, cdf, np.minimum(lo_level + coverage, 1.0))
            better = ok & ~(end - start >= best_end - best_start)
            best_start = np.where(better, start, best_start)
            best_end = np.where(better, end, best_end)
        return best_start, best_end


def _quantiles(
    grid: NDArray[np.float64], cdf: NDArray[np.float64], level: float | NDArray[np.float64]
) -> NDArray[np.float64]:
    """Invert piecewise-linear distribution functions ``cdf`` (rows) on ``grid`` at ``level``."""
    n = cdf.shape[0]
    lv = np.broadcast_to(np.asarray(level, dtype=np.float64), (n,))
    reached = cdf >= lv[:, None] - _TOL
    idx = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    rows = np.arange(n)
    hi = np.clip(idx, 1, grid.size - 1)
    f_lo, f_hi = cdf[rows, hi - 1], cdf[rows, hi]
    rise = f_hi > f_lo
    frac = np.where(rise, (lv - f_lo) / np.where(rise, f_hi - f_lo, 1.0), 1.0)
    days = grid[hi - 1] + np.clip(frac, 0.0, 1.0) * (grid[hi] - grid[hi - 1])
    return np.where(idx >= 0, days, np.nan)


def step_function_at(
    times_days: NDArray[np.float64], values: NDArray[np.float64], at_days: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Evaluate right-continuous step functions (Kaplan-Meier curves, cumulative hazards).

    Parameters
    ----------
    times_days : ndarray of float, shape (m,)
        Increasing jump times, starting with the origin ``0``.
    values : ndarray of float, shape (..., m)
        Value from each jump time on (``values[..., 0]`` is the value at the origin).
    at_days : ndarray of float, shape (k,)
        Non-negative days where to evaluate.

    Returns
    -------
    ndarray of float, shape (..., k)
        The value at the last jump at or before each point.
    """
    pos = np.searchsorted(times_days, at_days, side="right") - 1
    return np.asarray(values[..., np.maximum(pos, 0)], dtype=np.float64)
