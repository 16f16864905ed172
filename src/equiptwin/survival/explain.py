"""Explanations: the signals that moved each forecast, in words an engineer reads.

Contributions are xgboost's exact tree SHAP values (``pred_contribs=True``) on the
log-hazard scale (positive raises the risk). A signal and its past value (the feature's
baseline column, e.g. ``ev_2301_sum_7d_then``) describe one trend, so their
contributions are added and reported once:
``"arc rate 9/day, up from 0.3 three weeks ago"``.

The words come from :data:`~equiptwin.features.texts.FEATURE_TEXTS`, a plain table from
feature name to :class:`~equiptwin.features.texts.FeatureText` kept beside the features;
a feature without a row is still reported, as ``"<name> = <value>"``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from equiptwin.features.texts import (
    FEATURE_TEXTS,
    WEAR_SIGNALS,
    FeatureText,
    WearSignal,
    is_missing,
    number,
)
from equiptwin.forecast import Driver
from equiptwin.survival.base import SurvivalEstimator, WrappedEstimator
from equiptwin.survival.gbm import XGBSurvival


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
    if spec is not None and spec.parts:
        said = ", ".join(describe(part, row, table) for part in spec.parts if part in row.index)
        worst = _worst_wear(row)
        if worst is not None:
            said += f"; worst wear: {describe(worst.state, row, table)}"
            signal = worst.signal_of(row)
            if signal is not None:
                said += f", {describe(signal, row, table)}"
        return f"{spec.label}: {said}"
    if spec is None:
        return f"{feature} = {number(value)}" if not is_missing(value) else f"{feature} missing"
    baseline = float(row[spec.baseline]) if spec.baseline and spec.baseline in row.index else None
    return spec.sentence(value, baseline)


def named_signals(
    feature: str, row: pd.Series, table: Mapping[str, FeatureText] = FEATURE_TEXTS
) -> tuple[str, ...]:
    """Return the logged signals :func:`describe` names besides ``feature`` itself.

    For a feature said through its parts (the twin's hazard index), the signal that shows
    the twin's worst wear; nothing for any other feature.
    """
    spec = table.get(feature)
    worst = _worst_wear(row) if spec is not None and spec.parts else None
    signal = worst.signal_of(row) if worst is not None else None
    return () if signal is None else (signal,)


def _worst_wear(row: pd.Series) -> WearSignal | None:
    """Return the twin's most advanced wear in ``row`` (``None`` when it has none)."""
    damage = {
        wear: float(row[wear.state]) / wear.limit
        for wear in WEAR_SIGNALS
        if wear.state in row.index and not is_missing(float(row[wear.state]))
    }
    return max(damage, key=damage.__getitem__) if damage else None


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
        :class:`~equiptwin.survival.base.WrappedEstimator` (calibrated, twin-scaled) around one.
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
    booster_model = model.estimator_ if isinstance(model, WrappedEstimator) else model
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
    # A signal the component does not have (a cold head's arc count) is no reason to
    # give an engineer, whatever its contribution.
    measured = X.reindex(columns=contrib.columns).notna().to_numpy()
    order = np.argsort(-np.where(measured, np.abs(values), -1.0), axis=1, kind="stable")
    order = order[:, :top_k]
    names = np.asarray(contrib.columns)
    out = []
    for i in range(len(X)):
        row = X.iloc[i]
        out.append(
            tuple(
                Driver(
                    str(names[j]),
                    float(values[i, j]),
                    describe(str(names[j]), row, table),
                    named_signals(str(names[j]), row, table),
                )
                for j in order[i]
            )
        )
    return out
