"""Forecast-quality metrics on held-out rows (scikit-survival underneath).

All take :class:`~equiptwin.survival.target.SurvivalTarget` values and
:class:`~equiptwin.survival.curves.SurvivalCurves`; interval-censored failures count at
their midpoints. Metrics that weight by the censoring distribution (Uno's concordance,
Brier score, time-dependent AUC) estimate it from the training target and need the
evaluated times inside the test follow-up: horizons outside it are dropped, and fewer
than the needed number left raises ``ValueError`` naming the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sksurv.metrics import (
    concordance_index_censored,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.nonparametric import kaplan_meier_estimator

from equiptwin.survival.curves import SurvivalCurves
from equiptwin.survival.target import SurvivalTarget


def concordance(
    y_test: SurvivalTarget,
    risk: NDArray[np.float64],
    *,
    y_train: SurvivalTarget | None = None,
    tau_days: float | None = None,
) -> float:
    """Return the concordance index of ``risk`` (higher risk, earlier failure).

    Parameters
    ----------
    y_test : SurvivalTarget
        Held-out outcomes.
    risk : ndarray of float, shape (n,)
        Risk scores (``predict_risk``).
    y_train : SurvivalTarget, optional
        Given: Uno's IPCW concordance with the censoring distribution from it;
        omitted: Harrell's.
    tau_days : float, optional
        Uno's truncation time (pairs with the earlier time beyond it are ignored).

    Returns
    -------
    float
        In ``[0, 1]``; 0.5 is random ordering.
    """
    risk = _check_rows(y_test, risk, "risk")
    if not y_test.event.any():
        raise ValueError("concordance needs at least one failure in `y_test`; found none.")
    if y_train is None:
        return float(concordance_index_censored(y_test.event, y_test.time_days, risk)[0])
    y_test = _clip_to_train(y_train, y_test)
    return float(
        concordance_index_ipcw(y_train.to_structured(), y_test.to_structured(), risk, tau_days)[0]
    )


def _check_rows(y: SurvivalTarget, values: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape[0] != len(y):
        raise ValueError(f"`{name}` has {arr.shape[0]} rows but the target has {len(y)}.")
    return arr


def _clip_to_train(y_train: SurvivalTarget, y_test: SurvivalTarget) -> SurvivalTarget:
    """Censor test follow-up beyond the longest training time (IPCW weights are undefined)."""
    return y_test.censored_at(float(y_train.time_days.max()) - 1e-6)


def _valid_times(
    y_train: SurvivalTarget, y_test: SurvivalTarget, horizons_days: NDArray[np.float64]
) -> NDArray[np.bool_]:
    lo = float(y_test.time_days.min())
    hi = min(float(y_test.time_days.max()), float(y_train.time_days.max()))
    return (horizons_days >= lo) & (horizons_days < hi)


def integrated_brier(
    y_train: SurvivalTarget, y_test: SurvivalTarget, curves: SurvivalCurves
) -> float:
    """Return the integrated Brier score of ``curves`` over their horizons (lower is better).

    The score integrates the IPCW Brier score over the grid points inside the test
    follow-up, divided by their span; it needs at least two such points.
    """
    _check_rows(y_test, curves.survival, "curves")
    y_test = _clip_to_train(y_train, y_test)
    keep = _valid_times(y_train, y_test, curves.horizons_days)
    if keep.sum() < 2:
        raise ValueError(
            f"integrated_brier needs two horizons inside the test follow-up "
            f"[{y_test.time_days.min():g}, {y_test.time_days.max():g}) days, but the grid "
            f"is {curves.horizons_days.tolist()}."
        )
    return float(
        integrated_brier_score(
            y_train.to_structured(),
            y_test.to_structured(),
            curves.survival[:, keep],
            curves.horizons_days[keep],
        )
    )


@dataclass(frozen=True)
class TimeDependentAUC:
    """Cumulative/dynamic AUC per horizon.

    Parameters
    ----------
    horizons_days : tuple of float
        Horizons evaluated (those inside the test follow-up).
    auc : tuple of float
        AUC of telling failures by each horizon from rows still working after it.
    mean_auc : float
        Mean over horizons, weighted by the survival function's drop.
    """

    horizons_days: tuple[float, ...]
    auc: tuple[float, ...]
    mean_auc: float


def time_dependent_auc(
    y_train: SurvivalTarget, y_test: SurvivalTarget, curves: SurvivalCurves
) -> TimeDependentAUC:
    """Return the time-dependent AUC of ``P(fail within h)`` at each horizon of ``curves``."""
    _check_rows(y_test, curves.survival, "curves")
    y_test = _clip_to_train(y_train, y_test)
    keep = _valid_times(y_train, y_test, curves.horizons_days)
    if not keep.any():
        raise ValueError(
            f"time_dependent_auc needs a horizon inside the test follow-up "
            f"[{y_test.time_days.min():g}, {y_test.time_days.max():g}) days, but the grid "
            f"is {curves.horizons_days.tolist()}."
        )
    auc, mean_auc = cumulative_dynamic_auc(
        y_train.to_structured(),
        y_test.to_structured(),
        1.0 - curves.survival[:, keep],
        curves.horizons_days[keep],
    )
    return TimeDependentAUC(
        tuple(float(h) for h in curves.horizons_days[keep]),
        tuple(float(a) for a in np.atleast_1d(auc)),
        float(mean_auc),
    )


def calibration_table(
    y: SurvivalTarget, curves: SurvivalCurves, *, n_bins: int = 10
) -> pd.DataFrame:
    """Return predicted against observed ``P(fail within h)`` by bin of prediction.

    Rows are binned per horizon by deciles (``n_bins`` quantiles) of the predicted
    probability; the observed value of a bin is ``1 - KM(h)``, the Kaplan-Meier estimate
    of its rows, so censored rows count for as long as they were followed.

    Returns
    -------
    DataFrame
        ``horizon_days, bin, n, predicted, observed``, one row per horizon and
        non-empty bin.
    """
    _check_rows(y, curves.survival, "curves")
    parts = []
    for h in curves.horizons_days:
        p = curves.p_fail(h)
        edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)))
        bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(edges.size - 2, 0))
        for b in np.unique(bins):
            rows = bins == b
            parts.append(
                {
                    "horizon_days": float(h),
                    "bin": int(b),
                    "n": int(rows.sum()),
                    "predicted": float(p[rows].mean()),
                    "observed": _km_fail_by(y[rows], float(h)),
                }
            )
    return pd.DataFrame(parts, columns=["horizon_days", "bin", "n", "predicted", "observed"])


def _km_fail_by(y: SurvivalTarget, horizon_days: float) -> float:
    if not y.event.any():
        return 0.0
    times, surv = kaplan_meier_estimator(y.event, y.time_days)
    before = times <= horizon_days
    return float(1.0 - surv[before][-1]) if before.any() else 0.0


def calibration_error(table: pd.DataFrame) -> float:
    """Return the row-weighted mean absolute gap between predicted and observed."""
    weights = table["n"].to_numpy(dtype=np.float64)
    gap = (table["predicted"] - table["observed"]).abs().to_numpy(dtype=np.float64)
    return float(np.sum(weights * gap) / np.sum(weights))
