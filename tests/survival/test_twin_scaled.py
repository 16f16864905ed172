"""The twin's curve scaled by a learnt hazard ratio: calibration in the large and shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equiptwin.survival.baselines import TwinCurve
from equiptwin.survival.gbm import XGBCox
from equiptwin.survival.target import SurvivalTarget
from equiptwin.survival.twin_scaled import TwinScaled

Data = tuple[pd.DataFrame, SurvivalTarget]
INDEX = "twin_hazard_index"


def ranker(**params: float) -> XGBCox:
    return XGBCox(
        features=[INDEX], offset_log_hazard=INDEX, n_estimators=60, learning_rate=0.1, **params
    )


@pytest.mark.parametrize("level_days", [7, 30])
def test_training_rows_expect_the_failures_they_had(train: Data, level_days: int) -> None:
    """The level matches expected failures within the follow-up to the observed count."""
    X, y = train
    model = TwinScaled(estimator=ranker(), level_days=level_days).fit(X, y)
    grid = np.arange(1.0, level_days + 1.0)
    survival = model.predict_survival(X, grid).survival
    follow = np.clip(np.ceil(np.minimum(y.time_days, level_days)).astype(int) - 1, 0, None)
    expected = -np.log(survival[np.arange(len(X)), follow]).sum()
    observed = np.sum(y.event & (y.time_days <= level_days))
    assert expected == pytest.approx(observed, rel=1e-6)


def test_each_life_keeps_the_twin_curve_shape(train: Data, test_data: Data) -> None:
    """Each row's cumulative hazard is its twin's times exp(risk - offset + level)."""
    model = TwinScaled(estimator=ranker()).fit(*train)
    X = test_data[0]
    grid = np.array([3.0, 7.0, 14.0, 30.0])
    hazard = -np.log(model.predict_survival(X, grid).survival)
    twin = -np.log(TwinCurve().fit(*train).predict_survival(X, grid).survival)
    inner = model.estimator_
    ratio = np.exp(inner.predict_risk(X) - inner.offset(X) + model.level_)
    np.testing.assert_allclose(hazard, twin * ratio[:, None], rtol=1e-9)
    np.testing.assert_array_equal(model.predict_risk(X), inner.predict_risk(X))


def test_rows_without_twin_readings_get_a_curve(train: Data, test_data: Data) -> None:
    model = TwinScaled(estimator=ranker()).fit(*train)
    X = test_data[0].copy()
    twin_columns = [c for c in X.columns if c.startswith("twin_")]
    X.loc[X.index[:5], twin_columns] = np.nan
    survival = model.predict_survival(X, np.array([7.0, 30.0])).survival
    assert np.isfinite(survival).all()
    assert (survival[:5, 1] < 1.0).all()


def test_needs_a_ranker_boosting_from_the_twin(train: Data) -> None:
    with pytest.raises(ValueError, match="XGBCox with `offset_log_hazard`"):
        TwinScaled(estimator=XGBCox(features=[INDEX])).fit(*train)


def test_level_days_must_be_positive_days(train: Data) -> None:
    with pytest.raises(ValueError, match="`level_days` must be a positive whole number"):
        TwinScaled(estimator=ranker(), level_days=0).fit(*train)
