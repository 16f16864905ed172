"""Explanations: the signals that moved each forecast, in words an engineer reads.

Contributions are xgboost's exact tree SHAP values (``pred_contribs=True``) on the
log-hazard scale (positive raises the risk). A signal and its past value (the feature's
baseline column, e.g. ``arc_count_7d_21d_ago``) describe one trend, so their
contributions are added and reported once:
``"arc rate 9/day, up from 0.3 three weeks ago"``.

The words come from :data:`FEATURE_TEXTS`, a plain table from feature name to
:class:`FeatureText`. The features stage adds a row per feature it computes; a feature
without a row is still reported, as ``"<name> = <value>"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from equiptwin.forecast import Driver
from equiptwin.survival.base import SurvivalEstimator
from equiptwin.survival.calibrate import CalibratedEstimator
from equiptwin.survival.gbm import XGBSurvival


@dataclass(frozen=True)
class FeatureText:
    """How to say one feature's value.

    Parameters
    ----------
    label : str
        What the signal is called (``"arc rate"``).
    unit : str, default ""
        Appended to numbers, with its own leading space if it needs one (``"/day"``,
        ``" K"``).
    scale : float, default 1.0
        Factor from the feature's unit to the spoken one (``1/7`` turns a 7-day count
        into a daily rate).
    baseline : str or None, default None
        Column with the same signal earlier, for "up from ..." phrases.
    baseline_when : str, default "three weeks ago"
        When the baseline was measured, in words.
    """

    label: str
    unit: str = ""
    scale: float = 1.0
    baseline: str | None = None
    baseline_when: str = "three weeks ago"

    def sentence(self, value: float, baseline: float | None = None) -> str:
        """Return the phrase for ``value`` (and its baseline when known)."""
        if _missing(value):
            return f"{self.label} not measured"
        text = f"{self.label} {_number(value * self.scale)}{self.unit}"
        if baseline is None or _missing(baseline):
            return text
        now, then = value * self.scale, baseline * self.scale
        if _number(now) == _number(then):
            return f"{text}, unchanged since {self.baseline_when}"
        direction = "up" if now > then else "down"
        return f"{text}, {direction} from {_number(then)} {self.baseline_when}"


FEATURE_TEXTS: dict[str, FeatureText] = {
    "age_days": FeatureText("component age", " days"),
    "load_mj_per_day": FeatureText("anode load", " MJ/day"),
    "arc_count_7d": FeatureText("arc rate", "/day", scale=1 / 7, baseline="arc_count_7d_21d_ago"),
    "filament_dev_pct": FeatureText("filament current deviation", "%"),
    "oil_temp_c": FeatureText("tube oil temperature", " °C"),
    "stage2_k": FeatureText("cold head stage-2 temperature", " K"),
    "he_slope_pct_per_day": FeatureText("helium level trend", " %/day"),
    "twin_p_fail_30d": FeatureText("twin's 30-day failure probability", "%", scale=100.0),
}


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(x: float) -> str:
    """Format for reading: whole numbers from 100 up, else three significant digits."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def describe(feature: str, row: pd.Series, table: Mapping[str, FeatureText] = FEATURE_TEXTS) -> str:
    """Return the sentence for one feature of one row.

    Parameters
    ----------
    feature : str
        Feature name.
    row : Series
        The row's values by column (its baseline column is used when present).
    table : mapping of str to FeatureText, default FEATURE_TEXTS
        The words for each feature.
    """
    value = float(row[feature])
    spec = table.get(feature)
    if spec is None:
        return f"{feature} = {_number(value)}" if not _missing(value) else f"{feature} missing"
    baseline = float(row[spec.baseline]) if spec.baseline and spec.baseline in row.index else None
    return spec.sentence(value, baseline)


def explain(
    model: SurvivalEstimator,
    X: pd.DataFrame,
    *,
    top_k: int = 3,
    table: Mapping[str, FeatureText] = FEATURE_TEXTS,
) -> list[tuple[Driver, ...]]:
    """Return the ``top_k`` drivers of each row's forecast, strongest first.

    Parameters
    ----------
    model : SurvivalEstimator
        A fitted :class:`~equiptwin.survival.gbm.XGBAFT` or
        :class:`~equiptwin.survival.gbm.XGBCox`, or a
        :class:`~equiptwin.survival.calibrate.CalibratedEstimator` around one.
    X : DataFrame
        Rows to explain, with the model's features.
    top_k : int, default 3
        Drivers per row, by absolute contribution (risk-raising and risk-lowering).
    table : mapping of str to FeatureText, default FEATURE_TEXTS
        The words for each feature.

    Returns
    -------
    list of tuple of Driver
        One tuple per row of ``X``.

    Raises
    ------
    TypeError
        When the model has no per-feature contributions.
    """
    booster_model = model.estimator_ if isinstance(model, CalibratedEstimator) else model
    if not isinstance(booster_model, XGBSurvival):
        raise TypeError(
            f"explain needs an xgboost survival model (XGBAFT, XGBCox), but found "
            f"{type(booster_model).__name__}; baselines have no per-feature contributions."
        )
    if top_k < 1:
        raise ValueError(f"`top_k` must be a positive whole number, but found {top_k!r}.")
    contrib = pd.DataFrame(booster_model.contributions(X), columns=booster_model.feature_names_)
    for name in list(contrib.columns):
        spec = table.get(name)
        if spec is not None and spec.baseline is not None and spec.baseline in contrib.columns:
            contrib[name] += contrib.pop(spec.baseline)
    values = contrib.to_numpy()
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top_k]
    names = np.asarray(contrib.columns)
    out = []
    for i in range(len(X)):
        row = X.iloc[i]
        out.append(
            tuple(
                Driver(str(names[j]), float(values[i, j]), describe(str(names[j]), row, table))
                for j in order[i]
            )
        )
    return out
