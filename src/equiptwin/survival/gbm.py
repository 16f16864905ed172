"""Gradient-boosted survival models: xgboost ``survival:aft`` and ``survival:cox``.

Both use the xgboost booster API on a ``DMatrix`` named by feature, so the booster
saves in xgboost's own format and yields per-feature contributions for explanations.
The hybrid of the design is :class:`XGBAFT` with the twin's output columns among its
``features``.

Boosting itself goes through the trainer in force (:func:`boosting_with`): in this
process by default, or ``xgboost.dask`` on a cluster
(:class:`~equiptwin.dist.dask_engine.DaskEngine`); the fitted booster is the same kind
of object either way, so saving and prediction do not change.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xgboost as xgb
from numpy.typing import NDArray
from scipy.special import expit, ndtr

from equiptwin.survival.base import SurvivalEstimator, feature_matrix
from equiptwin.survival.curves import step_function_at
from equiptwin.survival.target import SurvivalTarget

AFT_DISTRIBUTIONS: tuple[str, ...] = ("normal", "logistic", "extreme")
_MAX_LOG_HR = 50.0


@dataclass(frozen=True)
class BoostingData:
    """A training matrix and the per-row values xgboost attaches to it.

    Parameters
    ----------
    data : ndarray of float, shape (n, p)
        Feature values (NaN where missing).
    feature_names : list of str
        Column names, in order.
    info : dict of str to ndarray
        ``DMatrix`` fields by name: ``label``, or ``label_lower_bound`` and
        ``label_upper_bound``; ``base_margin`` when the model has an offset.
    """

    data: NDArray[np.float64]
    feature_names: list[str]
    info: dict[str, NDArray[np.float64]]


BoosterTrainer = Callable[[dict[str, Any], BoostingData, int], xgb.Booster]
"""Boosts ``(params, data, num_boost_round)`` into a fitted booster."""


def train_in_process(params: dict[str, Any], data: BoostingData, rounds: int) -> xgb.Booster:
    """Boost on one in-memory ``DMatrix`` in this process (the default trainer)."""
    matrix = xgb.DMatrix(data.data, feature_names=data.feature_names, **data.info)
    return xgb.train(params, matrix, num_boost_round=rounds)


_TRAINER: ContextVar[BoosterTrainer] = ContextVar("booster_trainer", default=train_in_process)


@contextmanager
def boosting_with(trainer: BoosterTrainer) -> Iterator[None]:
    """Fit every xgboost survival model inside the block with ``trainer``.

    Parameters
    ----------
    trainer : BoosterTrainer
        For example a Dask engine's ``xgboost.dask`` trainer.
    """
    token = _TRAINER.set(trainer)
    try:
        yield
    finally:
        _TRAINER.reset(token)


class XGBSurvival(SurvivalEstimator):
    """Shared boosting of :class:`XGBAFT` and :class:`XGBCox`: training, margins, contributions.

    Subclasses give the objective's parameters and label in ``_objective`` and turn
    margins into curves and risk.
    """

    n_estimators: int
    learning_rate: float
    max_depth: int
    min_child_weight: float
    subsample: float
    colsample_bytree: float
    reg_lambda: float
    monotone_risk: Mapping[str, int] | None
    seed: int
    n_jobs: int
    booster_: xgb.Booster
    # +1 when the margin is a log-hazard (Cox), -1 when it is a log-time (AFT).
    _hazard_sign: ClassVar[float]

    def _booster_params(self) -> dict[str, Any]:
        for name in ("n_estimators", "max_depth", "n_jobs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{type(self).__name__}: `{name}` must be a positive whole number, "
                    f"but found {value!r}."
                )
        for name in ("learning_rate", "subsample", "colsample_bytree"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(
                    f"{type(self).__name__}: `{name}` must be in (0, 1], but found {value!r}."
                )
        return {
            "tree_method": "hist",
            "eta": self.learning_rate,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "seed": self.seed,
            "nthread": self.n_jobs,
            "verbosity": 0,
            "monotone_constraints": self._monotone_constraints(),
        }

    def _monotone_constraints(self) -> str:
        risk = dict(self.monotone_risk or {})
        bad = {name: sign for name, sign in risk.items() if sign not in (-1, 1)}
        if bad:
            raise ValueError(
                f"{type(self).__name__}: `monotone_risk` signs must be +1 or -1, but found {bad}."
            )
        # The margin is a log-hazard (Cox, sign +1) or a log-time (AFT, sign -1).
        signs = [int(risk.get(name, 0) * self._hazard_sign) for name in self.feature_names_]
        return "(" + ",".join(map(str, signs)) + ")"

    def _row_info(self, X: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
        """Return the per-row ``DMatrix`` fields besides labels (none by default)."""
        return {}

    def _check_offset_column(self, X: pd.DataFrame, param: str) -> None:
        """Refuse to fit when the offset column named by hyperparameter ``param`` is absent."""
        column = getattr(self, param)
        if column is not None and column not in X.columns:
            raise ValueError(
                f"{type(self).__name__}: `X` lacks the offset column {column!r}; add it or "
                f"set `{param}=None`."
            )

    def _dmatrix(self, X: pd.DataFrame) -> xgb.DMatrix:
        return xgb.DMatrix(
            feature_matrix(X, self.feature_names_),
            feature_names=self.feature_names_,
            **self._row_info(X),
        )

    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        params = self._booster_params()
        objective, labels = self._objective(y)
        params.update(objective)
        data = BoostingData(
            feature_matrix(X, self.feature_names_),
            list(self.feature_names_),
            {**self._row_info(X), **labels},
        )
        self.booster_ = _TRAINER.get()(params, data, self.n_estimators)
        self._after_fit(self._margin(X), y)

    def _margin(self, X: pd.DataFrame) -> NDArray[np.float64]:
        out = self.booster_.predict(self._dmatrix(X), output_margin=True)
        return np.asarray(out, dtype=np.float64)

    def contributions(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Return each feature's contribution to the log-hazard, shape (n, p).

        Columns follow ``feature_names_``; positive values raise the risk. These are
        xgboost's exact tree SHAP values (``pred_contribs=True``) without the bias.
        """
        X = self._check_predict_X(X)
        raw = self.booster_.predict(self._dmatrix(X), pred_contribs=True)
        return self._hazard_sign * np.asarray(raw, dtype=np.float64)[:, :-1]

    @abstractmethod
    def _objective(
        self, y: SurvivalTarget
    ) -> tuple[dict[str, Any], dict[str, NDArray[np.float64]]]:
        """Return the objective's booster parameters and the label fields of ``y``."""

    def _after_fit(self, margin: NDArray[np.float64], y: SurvivalTarget) -> None:
        """Estimate what curves need beyond the booster (nothing by default)."""

    @abstractmethod
    def extras(self) -> dict[str, Any]:
        """Return the fitted state besides the booster, as JSON-ready values."""

    @abstractmethod
    def restore(self, booster: xgb.Booster, features: list[str], extras: dict[str, Any]) -> None:
        """Set the fitted state from a saved booster, feature list and :meth:`extras`."""


class XGBAFT(XGBSurvival):
    """Accelerated failure time model, xgboost ``survival:aft``: right and interval censoring.

    ``log T = margin(x) + scale * Z`` with ``Z`` from ``distribution``; so
    ``S(t | x) = 1 - F_Z((log t - margin(x)) / scale)``.

    Parameters
    ----------
    features : sequence of str or None, default None
        Feature columns (include the twin's outputs for the hybrid model).
    distribution : {"normal", "logistic", "extreme"}, default "normal"
        Distribution of ``Z``.
    scale : float, default 1.0
        Scale of ``Z`` on the log-time axis.
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, \
reg_lambda
        xgboost boosting parameters.
    monotone_risk : mapping of str to int, optional
        Features whose effect on the risk may only rise (+1) or only fall (-1), as
        xgboost monotone constraints; the twin's outputs keep their physical sense
        with little training data.
    offset_days : str or None, default None
        Column holding a prior median time to failure in days (the twin's); boosting
        starts from ``log`` of it (xgboost ``base_margin``) and learns the correction.
        Rows where it is missing start from the training rows' typical follow-up.
    seed : int, default 0
        Random seed of row and column subsampling.
    n_jobs : int, default 1
        Threads.
    """

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        distribution: str = "normal",
        scale: float = 1.0,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 3,
        min_child_weight: float = 5.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        monotone_risk: Mapping[str, int] | None = None,
        offset_days: str | None = None,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.features = features
        self.distribution = distribution
        self.scale = scale
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.monotone_risk = monotone_risk
        self.offset_days = offset_days
        self.seed = seed
        self.n_jobs = n_jobs

    _hazard_sign = -1.0
    offset_fill_days_: float

    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        self._check_offset_column(X, "offset_days")
        lower, _upper = y.aft_bounds()
        self.offset_fill_days_ = float(np.exp(np.mean(np.log1p(lower))))
        super()._fit(X, y)

    def _row_info(self, X: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
        if self.offset_days is None:
            return {}
        days = X[self.offset_days].to_numpy(dtype=np.float64)
        days = np.where(np.isnan(days), self.offset_fill_days_, np.maximum(days, 0.5))
        return {"base_margin": np.log(days)}

    def _objective(
        self, y: SurvivalTarget
    ) -> tuple[dict[str, Any], dict[str, NDArray[np.float64]]]:
        if self.distribution not in AFT_DISTRIBUTIONS:
            raise ValueError(
                f"XGBAFT: `distribution` must be one of {AFT_DISTRIBUTIONS}, but found "
                f"{self.distribution!r}."
            )
        if not self.scale > 0:
            raise ValueError(f"XGBAFT: `scale` must be positive, but found {self.scale!r}.")
        lower, upper = y.aft_bounds()
        # Start boosting from the typical follow-up instead of 1 day (margin 0).
        start = float(np.exp(np.mean(np.log1p(lower))))
        params = {
            "objective": "survival:aft",
            "eval_metric": "aft-nloglik",
            "aft_loss_distribution": self.distribution,
            "aft_loss_distribution_scale": self.scale,
            "base_score": start,
        }
        return params, {"label_lower_bound": lower, "label_upper_bound": upper}

    def _predict_survival(
        self, X: pd.DataFrame, horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        z = (np.log(horizons_days)[None, :] - self._margin(X)[:, None]) / self.scale
        return 1.0 - _aft_cdf(self.distribution, z)

    def _predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        return -self._margin(X)

    def extras(self) -> dict[str, Any]:
        """Return the fitted state besides the booster: the offset's fill value."""
        return {"offset_fill_days": self.offset_fill_days_}

    def restore(self, booster: xgb.Booster, features: list[str], extras: dict[str, Any]) -> None:
        """Set the fitted state from a saved booster, feature list and :meth:`extras`."""
        self.booster_, self.feature_names_ = booster, features
        self.offset_fill_days_ = float(extras.get("offset_fill_days", 1.0))


def _aft_cdf(distribution: str, z: NDArray[np.float64]) -> NDArray[np.float64]:
    if distribution == "normal":
        return np.asarray(ndtr(z), dtype=np.float64)
    if distribution == "logistic":
        return np.asarray(expit(z), dtype=np.float64)
    return -np.expm1(-np.exp(np.minimum(z, 700.0)))


class XGBCox(XGBSurvival):
    """Cox proportional hazards with a boosted log-hazard, xgboost ``survival:cox``.

    Curves use the Breslow estimate of the baseline cumulative hazard on the training
    rows: ``S(t | x) = exp(-H0(t) * exp(margin(x)))``. Interval-censored failures enter
    at the midpoint of their interval.

    Parameters
    ----------
    features : sequence of str or None, default None
        Feature columns.
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, \
reg_lambda
        xgboost boosting parameters.
    monotone_risk : mapping of str to int, optional
        Features whose effect on the risk may only rise (+1) or only fall (-1), as
        xgboost monotone constraints; the twin's outputs keep their physical sense
        with little training data.
    offset_log_hazard : str or None, default None
        Column holding a prior log cumulative hazard per row (the twin's hazard index);
        boosting starts from it (xgboost ``base_margin``) and learns the correction.
        Missing values start from the training rows' mean.
    seed : int, default 0
        Random seed of row and column subsampling.
    n_jobs : int, default 1
        Threads.
    """

    baseline_times_: NDArray[np.float64]
    baseline_cumhaz_: NDArray[np.float64]
    margin_center_: float
    offset_fill_: float

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 3,
        min_child_weight: float = 5.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        monotone_risk: Mapping[str, int] | None = None,
        offset_log_hazard: str | None = None,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.features = features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.monotone_risk = monotone_risk
        self.offset_log_hazard = offset_log_hazard
        self.seed = seed
        self.n_jobs = n_jobs

    _hazard_sign = 1.0

    def _fit(self, X: pd.DataFrame, y: SurvivalTarget) -> None:
        self._check_offset_column(X, "offset_log_hazard")
        self.offset_fill_ = 0.0
        if self.offset_log_hazard is not None:
            known = X[self.offset_log_hazard].to_numpy(dtype=np.float64)
            known = known[np.isfinite(known)]
            self.offset_fill_ = float(known.mean()) if known.size else 0.0
        super()._fit(X, y)

    def _row_info(self, X: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
        if self.offset_log_hazard is None:
            return {}
        return {"base_margin": self.offset(X)}

    def offset(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Return each row's prior log hazard, the margin boosting starts from.

        The ``offset_log_hazard`` column with missing values filled by the training
        rows' mean; zeros when the model has no offset. The learnt correction of a row
        is ``predict_risk(X) - offset(X)``.
        """
        if self.offset_log_hazard is None:
            return np.zeros(len(X))
        prior = X[self.offset_log_hazard].to_numpy(dtype=np.float64)
        return np.where(np.isfinite(prior), prior, self.offset_fill_)

    def _objective(
        self, y: SurvivalTarget
    ) -> tuple[dict[str, Any], dict[str, NDArray[np.float64]]]:
        params = {"objective": "survival:cox", "eval_metric": "cox-nloglik"}
        return params, {"label": y.cox_label()}

    def _after_fit(self, margin: NDArray[np.float64], y: SurvivalTarget) -> None:
        self.margin_center_ = float(np.mean(margin))
        self.baseline_times_, self.baseline_cumhaz_ = breslow_cumulative_hazard(
            y, margin - self.margin_center_
        )

    def _predict_survival(
        self, X: pd.DataFrame, horizons_days: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        cumhaz = step_function_at(self.baseline_times_, self.baseline_cumhaz_, horizons_days)
        log_hr = np.clip(self._margin(X) - self.margin_center_, -_MAX_LOG_HR, _MAX_LOG_HR)
        return np.exp(-cumhaz[None, :] * np.exp(log_hr)[:, None])

    def _predict_risk(self, X: pd.DataFrame) -> NDArray[np.float64]:
        return self._margin(X)

    def extras(self) -> dict[str, Any]:
        """Return the Breslow baseline hazard and margin centre."""
        return {
            "baseline_times_days": self.baseline_times_.tolist(),
            "baseline_cumhaz": self.baseline_cumhaz_.tolist(),
            "margin_center": self.margin_center_,
            "offset_fill": self.offset_fill_,
        }

    def restore(self, booster: xgb.Booster, features: list[str], extras: dict[str, Any]) -> None:
        """Set the fitted state from a saved booster, feature list and :meth:`extras`."""
        self.booster_, self.feature_names_ = booster, features
        self.baseline_times_ = np.asarray(extras["baseline_times_days"], dtype=np.float64)
        self.baseline_cumhaz_ = np.asarray(extras["baseline_cumhaz"], dtype=np.float64)
        self.margin_center_ = float(extras["margin_center"])
        self.offset_fill_ = float(extras.get("offset_fill", 0.0))


def breslow_cumulative_hazard(
    y: SurvivalTarget, log_hr: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the Breslow baseline cumulative hazard at the distinct failure times.

    Parameters
    ----------
    y : SurvivalTarget
        Training target (interval-censored failures at their midpoints).
    log_hr : ndarray of float, shape (n,)
        Log hazard ratio of each training row.

    Returns
    -------
    times_days, cumhaz : ndarray of float
        The origin ``0`` then the distinct failure times (increasing), and ``H0`` from
        each on (``0`` at the origin), ready for
        :func:`~equiptwin.survival.curves.step_function_at`.
    """
    time, event = y.time_days, y.event
    weight = np.exp(np.clip(log_hr, -_MAX_LOG_HR, _MAX_LOG_HR))
    order = np.argsort(time, kind="stable")
    t_sorted, w_sorted = time[order], weight[order]
    at_risk_from = np.cumsum(w_sorted[::-1])[::-1]  # sum of weights with time >= t_sorted[i]
    times = np.unique(time[event])
    first = np.searchsorted(t_sorted, times, side="left")
    deaths = np.bincount(np.searchsorted(times, time[event]), minlength=times.size)
    cumhaz = np.cumsum(deaths / at_risk_from[first])
    return np.concatenate([[0.0], times]), np.concatenate([[0.0], cumhaz])
