"""Baselines the boosted models must beat: Kaplan-Meier, Cox PH and a vendor-style rule.

* :class:`KaplanMeier`: one Kaplan-Meier curve per group (e.g. modality and component),
  ignoring every other feature.
* :class:`CoxPH`: linear Cox proportional hazards (scikit-survival) on standardized,
  median-imputed features with a small ridge penalty.
* :class:`ThresholdRule`: what vendors' remote services do, fixed limits on named
  signals (arc count over 7 days, helium slope, filament deviation); its risk is the
  number of limits exceeded, its curves the Kaplan-Meier curve of each alarm level in
  the training data.
* :class:`TwinCurve`: the degradation twin alone, its own Monte Carlo probabilities of
  failure at a few horizons read as a survival curve, nothing learnt from outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.nonparametric import kaplan_meier_estimator

from equiptwin.survival.base import SurvivalEstimator, feature_matrix
from equiptwin.survival.curves import step_function_at
from equiptwin.survival.gbm import breslow_cumulative_hazard
from equiptwin.survival.target import SurvivalTarget

_POOLED = "__all__"


def _km_curve(y: SurvivalTarget) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the Kaplan-Meier curve of ``y`` as jump times from the origin and values."""
    if not y.event.any():
        return np.zeros(1), np.ones(1)
    times, surv = kaplan_meier_estimator(y.event, y.time_days)
    return np.concatenate([[0.0], times]), np.concatenate([[1.0], surv])


class KaplanMeier(SurvivalEstimator):
    """Kaplan-Meier survival per group of rows; no other feature is used.

    A group seen at prediction but not in training gets the pooled curve. The risk is
    minus the restricted mean survival time up to the longest training time.

    Parameters
    ----------
    groups : sequence of str, default ()
        Columns whose combinations form the groups (``("modality", "component")``);
        empty for one pooled curve.
    """

    curves_: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]
    tau_days_: float

    def __init__(self, *, groups: Sequence[str] = ()) -> None:
        self.groups = groups

    def _select_features(self, X: pd.DataFrame) -> list[str]:
        missing = [g for g in self.groups if g not in X.columns]
        if missing:
            raise ValueError(f"KaplanMeier: `X` lacks the group column(s) {missing}.")
        return list(self.groups)

    def _keys(self, X: pd.DataFrame) -> NDArray[np.str_]:
        if not self.feature_names_:
            return np.full(len(X), _POOLED)
        parts = [X[g].astype(str).to_numpy() for g in self.feature_names_]
        return np.asarray(["|".join(p) for p in zip(*parts, strict=True)], dtype=np.str_)

    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        keys = self._keys(X)
        self.curves_ = {_POOLED: _km_curve(y)}
        for key in np.unique(keys):
            self.curves_[str(key)] = _km_curve(y[keys == key])
        self.tau_days_ = float(y.time_days.max())

    def _curve_of(self, key: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return self.curves_.get(key, self.curves_[_POOLED])

    def _per_key(self, X: pd.DataFrame, grid: NDArray[np.float64]) -> NDArray[np.float64]:
        keys = self._keys(X)
        uniq, inverse = np.unique(keys, return_inverse=True)
        table = np.stack([step_function_at(*self._curve_of(str(k)), grid) for k in uniq])
        return table[inverse]

    def _predict_survival(
        self, X: pd.DataFrame, horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        return self._per_key(X, horizons_days)

    def _predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        grid = np.arange(1.0, np.ceil(self.tau_days_) + 1.0)
        return np.asarray(-self._per_key(X, grid).sum(axis=1), dtype=np.float64)


class CoxPH(SurvivalEstimator):
    """Linear Cox proportional hazards (scikit-survival) with a small ridge penalty.

    Features are median-imputed and standardized with the training statistics; the
    baseline hazard is Breslow's. Interval-censored failures enter at their midpoints.

    Parameters
    ----------
    features : sequence of str or None, default None
        Feature columns.
    alpha : float, default 0.01
        Ridge penalty on the standardized coefficients.
    """

    model_: CoxPHSurvivalAnalysis
    center_: NDArray[np.float64]
    scale_: NDArray[np.float64]
    baseline_times_: NDArray[np.float64]
    baseline_cumhaz_: NDArray[np.float64]

    def __init__(self, *, features: Sequence[str] | None = None, alpha: float = 0.01) -> None:
        self.features = features
        self.alpha = alpha

    def _standardized(self, X: pd.DataFrame) -> NDArray[np.float64]:
        raw = feature_matrix(X, self.feature_names_)
        raw = np.where(np.isnan(raw), self.center_, raw)
        return (raw - self.center_) / self.scale_

    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        if not self.alpha >= 0:
            raise ValueError(f"CoxPH: `alpha` must be >= 0, but found {self.alpha!r}.")
        raw = feature_matrix(X, self.feature_names_)
        self.center_ = np.nan_to_num(np.nanmedian(raw, axis=0))
        spread = np.nan_to_num(np.nanstd(raw, axis=0))
        self.scale_ = np.where(spread > 0, spread, 1.0)
        standardized = self._standardized(X)
        self.model_ = CoxPHSurvivalAnalysis(alpha=self.alpha, ties="breslow").fit(
            standardized, y.to_structured()
        )
        self.baseline_times_, self.baseline_cumhaz_ = breslow_cumulative_hazard(
            y, self.model_.predict(standardized)
        )

    def _predict_survival(
        self, X: pd.DataFrame, horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        cumhaz = step_function_at(self.baseline_times_, self.baseline_cumhaz_, horizons_days)
        hazard_ratio = np.exp(np.clip(self._predict_risk(X), -50.0, 50.0))
        return np.exp(-cumhaz[None, :] * hazard_ratio[:, None])

    def _predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        return np.asarray(self.model_.predict(self._standardized(X)), dtype=np.float64)


@dataclass(frozen=True)
class Limit:
    """A vendor-style fixed limit on one signal.

    Parameters
    ----------
    feature : str
        Feature column (``arc_count_7d``).
    above : float or None
        The limit is exceeded when the value is greater than this.
    below : float or None
        The limit is exceeded when the value is less than this (e.g. coast-down time).
    """

    feature: str
    above: float | None = None
    below: float | None = None

    def exceeded(self, values: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Return where ``values`` break the limit; missing values never do."""
        hit = np.zeros(values.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            if self.above is not None:
                hit |= values > self.above
            if self.below is not None:
                hit |= values < self.below
        return hit


class ThresholdRule(SurvivalEstimator):
    """Vendor-style rule: count the fixed limits a row exceeds.

    The risk is that count (the alarm level). ``P(fail)`` is empirical: the
    Kaplan-Meier curve of the training rows at each alarm level, made non-increasing in
    the level (more limits exceeded never reads safer); a level absent from training
    gets the pooled curve before that.

    Parameters
    ----------
    limits : sequence of Limit, default ()
        The limits; at least one is needed to fit.
    """

    level_times_: list[NDArray[np.float64]]
    level_curves_: list[NDArray[np.float64]]

    def __init__(self, *, limits: Sequence[Limit] = ()) -> None:
        self.limits = limits

    def _requested_features(self) -> Sequence[str]:
        return list(dict.fromkeys(limit.feature for limit in self.limits))

    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        if not self.limits or any(
            not isinstance(lim, Limit) or (lim.above is None and lim.below is None)
            for lim in self.limits
        ):
            raise ValueError(
                "ThresholdRule needs `limits=` with at least one Limit, each with `above` "
                f"or `below`, but found {self.limits!r}."
            )
        level = self._level(X)
        pooled = _km_curve(y)
        self.level_times_, self.level_curves_ = [], []
        for lvl in range(len(self.limits) + 1):
            times, surv = _km_curve(y[level == lvl]) if (level == lvl).any() else pooled
            self.level_times_.append(times)
            self.level_curves_.append(surv)

    def _level(self, X: pd.DataFrame) -> NDArray[np.int64]:
        values = feature_matrix(X, [lim.feature for lim in self.limits])
        hits = np.column_stack([lim.exceeded(values[:, i]) for i, lim in enumerate(self.limits)])
        return np.asarray(hits.sum(axis=1), dtype=np.int64)

    def _predict_survival(
        self, X: pd.DataFrame, horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        table = np.stack(
            [
                step_function_at(t, s, horizons_days)
                for t, s in zip(self.level_times_, self.level_curves_, strict=True)
            ]
        )
        table = np.minimum.accumulate(table, axis=0)
        return table[self._level(X)]

    def _predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        return self._level(X).astype(np.float64)


class TwinCurve(SurvivalEstimator):
    """The twin alone: its forward Monte Carlo ``P(fail within h)`` read as the curve.

    ``F(t)`` is linear between ``(0, 0)`` and the twin's probabilities at its horizons;
    beyond the last horizon the hazard of the last stretch continues. Nothing is learnt
    from outcomes; a row without twin columns (too little history) gets the pooled
    Kaplan-Meier curve of the training rows. The risk is minus the twin's median days
    left, ties (median beyond the plan) broken by its health index; rows without twin
    columns rank below every other.

    Parameters
    ----------
    horizons_days : sequence of int, default (7, 14, 30, 60, 120)
        The horizons of the twin's ``p_fail_<h>d`` columns.
    prefix : str, default "twin_"
        Prefix of the twin's columns (``<prefix>p_fail_<h>d``, ``<prefix>median_days_left``,
        ``<prefix>health``).
    """

    pooled_: tuple[NDArray[np.float64], NDArray[np.float64]]

    def __init__(
        self, *, horizons_days: Sequence[int] = (7, 14, 30, 60, 120), prefix: str = "twin_"
    ) -> None:
        self.horizons_days = horizons_days
        self.prefix = prefix

    def _requested_features(self) -> Sequence[str]:
        p = self.prefix
        return [
            *(f"{p}p_fail_{h}d" for h in self.horizons_days),
            f"{p}median_days_left",
            f"{p}health",
        ]

    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        self.pooled_ = _km_curve(y)

    def extras(self) -> dict[str, Any]:
        """Return the fitted state (the pooled Kaplan-Meier curve) as JSON-ready values."""
        times, survival = self.pooled_
        return {"pooled_times_days": times.tolist(), "pooled_survival": survival.tolist()}

    def restore(self, extras: dict[str, Any]) -> None:
        """Set the fitted state from :meth:`extras`."""
        self.feature_names_ = list(self._requested_features())
        self.pooled_ = (
            np.asarray(extras["pooled_times_days"], dtype=np.float64),
            np.asarray(extras["pooled_survival"], dtype=np.float64),
        )

    def _predict_survival(
        self, X: pd.DataFrame, horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        knots = np.asarray(self.horizons_days, dtype=np.float64)
        failed = feature_matrix(X, self.feature_names_[: knots.size])
        failed = np.maximum.accumulate(np.clip(failed, 0.0, 1.0 - 1e-9), axis=1)
        x = np.concatenate([[0.0], knots])
        within = horizons_days[horizons_days <= knots[-1]]
        out = np.empty((len(X), horizons_days.size))
        for j, t in enumerate(within):
            k = int(np.searchsorted(x, t, side="left"))
            lo, hi = max(k - 1, 0), min(k, knots.size)
            f_lo = failed[:, lo - 1] if lo > 0 else 0.0
            frac = 0.0 if x[hi] == x[lo] else (t - x[lo]) / (x[hi] - x[lo])
            out[:, j] = 1.0 - (f_lo + frac * (failed[:, hi - 1] - f_lo))
        beyond = horizons_days[within.size :]
        if beyond.size:
            s_last = 1.0 - failed[:, -1]
            s_prev = 1.0 - failed[:, -2] if knots.size > 1 else np.ones(len(X))
            span = knots[-1] - (knots[-2] if knots.size > 1 else 0.0)
            rate = np.log(s_prev / s_last) / span
            out[:, within.size :] = s_last[:, None] * np.exp(
                -rate[:, None] * (beyond[None, :] - knots[-1])
            )
        missing = np.isnan(failed).any(axis=1)
        if missing.any():
            out[missing] = step_function_at(*self.pooled_, horizons_days)
        return out

    def _predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        values = feature_matrix(X, self.feature_names_[-2:])
        risk = -values[:, 0] + (1.0 - values[:, 1])
        known = risk[np.isfinite(risk)]
        lowest = float(known.min()) if known.size else 0.0
        return np.asarray(np.nan_to_num(risk, nan=lowest - 1.0))
