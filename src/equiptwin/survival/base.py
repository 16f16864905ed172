"""The one estimator API every survival model implements.

Constructors store keyword-only hyperparameters and compute nothing; :meth:`fit` checks
``X`` and ``y`` and returns ``self``; fitted attributes end in ``_``. Public methods
check and convert, then call the private ``_fit``, ``_predict_survival`` and
``_predict_risk``, which may assume clean inputs (see their docstrings).

Feature selection is a constructor parameter of every estimator (``features=``): the
"hybrid" model of the design is :class:`~equiptwin.survival.gbm.XGBCox` boosting from the
twin's hazard index (``offset_log_hazard=``), not a separate class. A
:class:`WrappedEstimator` turns an inner model's margin into probabilities:
:class:`~equiptwin.survival.twin_scaled.TwinScaled` (equiptwin's default) or
:class:`~equiptwin.survival.calibrate.CalibratedEstimator`.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from equiptwin.survival.curves import SurvivalCurves, check_horizons
from equiptwin.survival.target import SurvivalTarget, check_survival_target

MIN_ROWS = 10
MIN_EVENTS = 2


class NotFittedError(ValueError, AttributeError):
    """An estimator was asked to predict before it was fitted."""


class SurvivalEstimator(ABC):
    """Base class of the survival models: fit on ``(X, y)``, predict curves and risk.

    Subclasses declare their hyperparameters in ``__init__`` (stored unchanged under the
    same names) and implement ``_fit``, ``_predict_survival`` and ``_predict_risk``.
    Most take ``features`` (sequence of str or None): the columns of ``X`` the model
    uses; ``None`` uses every column, which must then all be numeric.
    """

    feature_names_: list[str]

    @classmethod
    def param_names(cls) -> list[str]:
        """Return the names of the constructor's hyperparameters."""
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self) -> dict[str, Any]:
        """Return the constructor's hyperparameters by name."""
        return {name: getattr(self, name) for name in self.param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --- public: check and convert --------------------------------------------------

    def fit(self, X: pd.DataFrame, y: SurvivalTarget) -> Self:
        """Fit the model.

        Parameters
        ----------
        X : DataFrame, shape (n, p)
            One row per life and ``as_of`` day.
        y : SurvivalTarget
            Time to failure from each row's ``as_of``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            When ``X`` lacks a feature, has non-numeric or missing-only features, or
            there are fewer than 10 rows or fewer than 2 failures.
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"`X` must be a pandas DataFrame, but found {type(X).__name__}.")
        y = check_survival_target(y, len(X))
        if len(X) < MIN_ROWS:
            raise ValueError(
                f"{type(self).__name__} needs at least {MIN_ROWS} rows to fit, but found "
                f"{len(X)}; train on a longer period or more systems."
            )
        n_events = int(y.event.sum())
        if n_events < MIN_EVENTS:
            raise ValueError(
                f"{type(self).__name__} needs at least {MIN_EVENTS} failures to fit, but "
                f"found {n_events} among {len(y)} rows (all censored?); train on a period "
                "with failures."
            )
        self.feature_names_ = self._select_features(X)
        self._fit(X, y)
        return self

    def predict_survival(self, X: pd.DataFrame, horizons_days: ArrayLike) -> SurvivalCurves:
        """Predict survival curves.

        Parameters
        ----------
        X : DataFrame, shape (n, p)
            Rows to predict, with the columns the model was fitted on.
        horizons_days : array-like of float, shape (k,)
            Positive, strictly increasing horizons in days.

        Returns
        -------
        SurvivalCurves
            ``S(h)`` for each row and horizon.
        """
        X = self._check_predict_X(X)
        grid = check_horizons(horizons_days)
        surv = np.clip(self._predict_survival(X, grid), 0.0, 1.0)
        return SurvivalCurves(grid, np.minimum.accumulate(surv, axis=1))

    def predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Predict a risk score per row: higher means failing sooner (for concordance).

        Parameters
        ----------
        X : DataFrame, shape (n, p)

        Returns
        -------
        ndarray of float, shape (n,)
        """
        return np.asarray(self._predict_risk(self._check_predict_X(X)), dtype=np.float64)

    # --- private: compute -----------------------------------------------------------

    @abstractmethod
    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        """Fit on checked data.

        ``X`` has the columns ``feature_names_``; ``y`` matches it in length and holds at
        least two failures.
        """

    @abstractmethod
    def _predict_survival(
        self, X: pd.DataFrame, horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Return ``S(h)``, shape (n, k), for checked ``X`` and a valid grid.

        The caller clips to [0, 1] and enforces monotonicity.
        """

    @abstractmethod
    def _predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Return the risk score, shape (n,); ``X`` is checked."""

    # --- shared checks --------------------------------------------------------------

    def _requested_features(self) -> Sequence[str] | None:
        """Columns the model reads (``None``: all); the ``features`` hyperparameter if any."""
        requested: Sequence[str] | None = getattr(self, "features", None)
        return requested

    def _select_features(self, X: pd.DataFrame) -> list[str]:
        requested = self._requested_features()
        names = list(X.columns) if requested is None else list(requested)
        missing = [f for f in names if f not in X.columns]
        if missing:
            raise ValueError(
                f"{type(self).__name__}: `X` lacks the feature column(s) {missing}; "
                "pass `features=` naming columns of X."
            )
        bad = [f for f in names if not pd.api.types.is_numeric_dtype(X[f])]
        if bad:
            raise ValueError(
                f"{type(self).__name__}: feature column(s) {bad} are not numeric; drop "
                "them or pass `features=` listing only numeric columns."
            )
        return names

    def _check_predict_X(self, X: pd.DataFrame) -> pd.DataFrame:
        if not hasattr(self, "feature_names_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) first."
            )
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"`X` must be a pandas DataFrame, but found {type(X).__name__}.")
        missing = [f for f in self.feature_names_ if f not in X.columns]
        if missing:
            raise ValueError(
                f"`X` lacks the column(s) {missing} that {type(self).__name__} was fitted "
                "on; compute the same features as in training."
            )
        return X


class WrappedEstimator(SurvivalEstimator):
    """A model around one fitted inner estimator, with JSON-ready state of its own.

    The registry stores the inner estimator's booster and the wrapper's
    :meth:`extras`; :meth:`restore` rebuilds the fitted wrapper from them. Subclasses
    take the inner model as the ``estimator`` hyperparameter and fit a copy of it as
    ``estimator_``.
    """

    estimator: SurvivalEstimator
    estimator_: SurvivalEstimator

    @abstractmethod
    def extras(self) -> dict[str, Any]:
        """Return the fitted state besides the inner estimator as JSON-ready values."""

    @abstractmethod
    def restore(self, estimator: SurvivalEstimator, extras: dict[str, Any]) -> None:
        """Set the fitted state from a fitted inner estimator and :meth:`extras`."""


def feature_matrix(X: pd.DataFrame, names: Sequence[str]) -> NDArray[np.float64]:
    """Return the named columns of ``X`` as a float matrix (missing values as NaN)."""
    return X.loc[:, list(names)].to_numpy(dtype=np.float64, na_value=np.nan)


def clone(estimator: SurvivalEstimator) -> SurvivalEstimator:
    """Return an unfitted copy of ``estimator`` with the same hyperparameters."""
    return type(estimator)(**estimator.get_params())
