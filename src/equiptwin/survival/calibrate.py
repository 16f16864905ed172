"""Isotonic calibration of P(fail within h) on a temporal validation split.

:class:`CalibratedEstimator` wraps any estimator of the API. Fitting:

1. Split the rows by ``as_of``: the last ``validation_fraction`` of the training period
   is the validation part.
2. Fit a copy of the estimator on the early part, with its targets censored at the
   split date (what was known then).
3. For each calibration horizon ``h``, fit an isotonic map from the predicted
   ``P(fail within h)`` to the outcome on validation rows whose outcome within ``h``
   is known (failed by ``h``, or seen working past it).
4. With ``refit=True`` (default), refit the estimator on all rows; the maps stay.

Prediction maps ``F(t) = 1 - S(t)`` through the map of ``t``'s horizon; between
horizons the calibrated values are interpolated linearly in ``t`` (below the first
horizon, from the identity at ``t = 0``; beyond the last, its map), then made
non-decreasing in ``t`` so curves stay monotone across horizons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.isotonic import IsotonicRegression

from equiptwin.survival.base import MIN_EVENTS, SurvivalEstimator, WrappedEstimator, clone
from equiptwin.survival.curves import check_horizons
from equiptwin.survival.target import SurvivalTarget

MIN_KNOWN_ROWS = 20


@dataclass(frozen=True)
class IsotonicMap:
    """A fitted non-decreasing map of probabilities, linear between its knots.

    Parameters
    ----------
    x : tuple of float
        Increasing input knots (predicted probabilities).
    y : tuple of float
        Non-decreasing calibrated probabilities at the knots; constant beyond the ends.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, p: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the calibrated probabilities of ``p``."""
        return np.interp(p, self.x, self.y)

    @classmethod
    def fit(cls, predicted: NDArray[np.float64], observed: NDArray[np.bool_]) -> IsotonicMap:
        """Fit the map by isotonic regression of ``observed`` on ``predicted``."""
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(predicted, observed.astype(np.float64))
        return cls(tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_)))


IDENTITY = IsotonicMap((0.0, 1.0), (0.0, 1.0))
"""The map used at a horizon whose validation rows hold no failure (nothing to learn)."""


class CalibratedEstimator(WrappedEstimator):
    """Any survival estimator with isotonic-calibrated failure probabilities.

    Parameters
    ----------
    estimator : SurvivalEstimator
        The model to calibrate (unfitted; it is copied).
    horizons_days : sequence of int, default (7, 14, 30)
        Horizons with their own calibration map.
    time_column : str, default "as_of"
        Column of ``X`` with each row's landmark date; used for the split only.
    validation_fraction : float, default 0.25
        Share of the training period, by date, held out for calibration.
    refit : bool, default True
        Refit the estimator on all rows after calibrating.
    min_failures : int, default 5
        Distinct failures a horizon's validation rows need for its map to be learnt.

    Notes
    -----
    A horizon whose validation rows hold fewer than :data:`MIN_KNOWN_ROWS` known
    outcomes or fewer than ``min_failures`` failures cannot be calibrated: an isotonic
    map learnt from two or three failures is a staircase that mostly adds noise. It
    keeps the model's own probabilities (the identity map) and is listed in
    ``uncalibrated_horizons_`` and the model card. Failures are counted once per failure
    date (``as_of`` plus time to failure), since every landmark row of a failing life
    before its failure shares it. When the period before the split holds fewer failures
    than the estimator needs to fit (an early training cut of a small fleet), no horizon
    is calibrated and the estimator is fitted on every row.
    """

    estimator_: SurvivalEstimator
    maps_: dict[float, IsotonicMap]
    split_date_: pd.Timestamp
    uncalibrated_horizons_: list[float]

    def __init__(
        self,
        *,
        estimator: SurvivalEstimator,
        horizons_days: Sequence[int] = (7, 14, 30),
        time_column: str = "as_of",
        validation_fraction: float = 0.25,
        refit: bool = True,
        min_failures: int = 5,
    ) -> None:
        self.estimator = estimator
        self.horizons_days = horizons_days
        self.time_column = time_column
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.min_failures = min_failures

    def _select_features(self, X: pd.DataFrame) -> list[str]:
        if self.time_column not in X.columns:
            raise ValueError(
                f"CalibratedEstimator: `X` lacks the date column {self.time_column!r} used "
                "for the temporal split; add it or set `time_column=`."
            )
        if not pd.api.types.is_datetime64_any_dtype(X[self.time_column]):
            raise ValueError(
                f"CalibratedEstimator: column {self.time_column!r} must hold dates "
                f"(datetime64), but found {X[self.time_column].dtype}."
            )
        inner = clone(self.estimator)._select_features(self._inner_X(X))
        return [*inner, self.time_column]

    def _inner_X(self, X: pd.DataFrame) -> pd.DataFrame:
        return X.drop(columns=[self.time_column])

    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                "CalibratedEstimator: `validation_fraction` must be in (0, 1), but found "
                f"{self.validation_fraction!r}."
            )
        grid = check_horizons(self.horizons_days)
        dates = pd.to_datetime(X[self.time_column])
        first, last = dates.min(), dates.max()
        self.split_date_ = (first + (1.0 - self.validation_fraction) * (last - first)).floor("D")
        early = (dates < self.split_date_).to_numpy()
        if early.all() or not early.any():
            raise ValueError(
                f"CalibratedEstimator: the `{self.time_column}` dates span {first.date()} to "
                f"{last.date()}, too short to split off a validation period; train on more "
                "days."
            )
        follow_up = ((self.split_date_ - dates[early]).dt.days).to_numpy(dtype=np.float64)
        y_early = y[early].censored_at(follow_up)
        if int(y_early.event.sum()) < MIN_EVENTS:
            # No failures before the split to fit the model that the map is learnt from
            # (an early cut of a small fleet): every horizon keeps the model's own
            # probabilities, as when a horizon has too little evidence below.
            self.maps_ = {float(h): IDENTITY for h in grid}
            self.uncalibrated_horizons_ = [float(h) for h in grid]
            self.estimator_ = clone(self.estimator).fit(self._inner_X(X), y)
            return
        model = clone(self.estimator).fit(self._inner_X(X.loc[early]), y_early)
        y_val = y[~early]
        ends = dates[~early].to_numpy() + pd.to_timedelta(np.round(y_val.time_days), unit="D")
        p_fail = 1.0 - model.predict_survival(self._inner_X(X.loc[~early]), grid).survival
        self.maps_ = {}
        self.uncalibrated_horizons_ = []
        for k, h in enumerate(grid):
            known, failed = y_val.observed_by(h)
            n_failures = np.unique(ends[known & failed]).size
            if known.sum() < MIN_KNOWN_ROWS or n_failures < self.min_failures:
                # Too little evidence to calibrate this horizon: keep the model's own
                # probabilities there, and say so (model card, `uncalibrated_horizons_`).
                self.maps_[float(h)] = IDENTITY
                self.uncalibrated_horizons_.append(float(h))
                continue
            self.maps_[float(h)] = IsotonicMap.fit(p_fail[known, k], failed[known])
        self.estimator_ = clone(self.estimator).fit(self._inner_X(X), y) if self.refit else model

    def calibrate(
        self, p_fail: NDArray[np.float64], horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Map uncalibrated ``P(fail within t)``, shape (n, k), to calibrated values.

        Parameters
        ----------
        p_fail : ndarray of float, shape (n, k)
            Uncalibrated probabilities on the grid ``horizons_days``.
        horizons_days : ndarray of float, shape (k,)
            The grid.
        """
        knots = np.array(sorted(self.maps_))
        out = np.empty_like(p_fail)
        for j, t in enumerate(horizons_days):
            k = int(np.searchsorted(knots, t, side="left"))
            if k == knots.size:
                out[:, j] = self.maps_[knots[-1]](p_fail[:, j])
                continue
            hi = self.maps_[knots[k]](p_fail[:, j])
            lo_t = knots[k - 1] if k > 0 else 0.0
            lo = self.maps_[knots[k - 1]](p_fail[:, j]) if k > 0 else p_fail[:, j]
            w = (t - lo_t) / (knots[k] - lo_t)
            out[:, j] = (1.0 - w) * lo + w * hi
        return np.maximum.accumulate(np.clip(out, 0.0, 1.0), axis=1)

    def _predict_survival(
        self, X: pd.DataFrame, horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        raw = self.estimator_.predict_survival(self._inner_X(X), horizons_days)
        return 1.0 - self.calibrate(1.0 - raw.survival, horizons_days)

    def _predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        return self.estimator_.predict_risk(self._inner_X(X))

    def extras(self) -> dict[str, Any]:
        """Return the calibration maps and split date as JSON-ready values."""
        return {
            "split_date": self.split_date_.date().isoformat(),
            "maps": {f"{h:g}": {"x": list(m.x), "y": list(m.y)} for h, m in self.maps_.items()},
            "uncalibrated_horizons": self.uncalibrated_horizons_,
        }

    def restore(self, estimator: SurvivalEstimator, extras: dict[str, Any]) -> None:
        """Set the fitted state from a fitted inner estimator and :meth:`extras`."""
        self.estimator_ = estimator
        self.feature_names_ = [*estimator.feature_names_, self.time_column]
        self.split_date_ = pd.Timestamp(extras["split_date"])
        self.maps_ = {
            float(h): IsotonicMap(tuple(m["x"]), tuple(m["y"])) for h, m in extras["maps"].items()
        }
        self.uncalibrated_horizons_ = [float(h) for h in extras.get("uncalibrated_horizons", [])]
