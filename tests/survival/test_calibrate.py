"""Isotonic calibration on a temporal split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equiptwin.survival.calibrate import CalibratedEstimator, IsotonicMap
from equiptwin.survival.curves import SurvivalCurves
from equiptwin.survival.gbm import XGBAFT
from equiptwin.survival.synthetic import STATIC_FEATURES, synthetic_static
from equiptwin.survival.target import SurvivalTarget

from .conftest import with_context

HORIZONS = (7, 14, 30)


def _brier(y: SurvivalTarget, curves: SurvivalCurves) -> float:
    """Mean Brier score of P(fail within h) over rows whose outcome by h is known."""
    scores = []
    for h in HORIZONS:
        known, failed = y.observed_by(h)
        scores.append(np.mean((curves.p_fail(h)[known] - failed[known]) ** 2))
    return float(np.mean(scores))


def test_calibration_improves_brier_of_an_overconfident_model() -> None:
    X, y = synthetic_static(3000, seed=21)
    X_test, y_test = synthetic_static(2000, seed=22)
    X, X_test = with_context(X, 21), with_context(X_test, 22)
    # A far too narrow AFT distribution: sharp, badly calibrated probabilities.
    raw = XGBAFT(features=list(STATIC_FEATURES), scale=0.15, n_estimators=80)
    calibrated = CalibratedEstimator(estimator=raw, horizons_days=HORIZONS).fit(X, y)
    before = _brier(y_test, raw.fit(X, y).predict_survival(X_test, HORIZONS))
    after = _brier(y_test, calibrated.predict_survival(X_test, HORIZONS))
    assert after < 0.9 * before


def test_calibrated_curves_stay_monotone_on_any_grid() -> None:
    X, y = synthetic_static(1500, seed=23)
    model = CalibratedEstimator(
        estimator=XGBAFT(features=list(STATIC_FEATURES), n_estimators=40)
    ).fit(with_context(X, 23), y)
    curves = model.predict_survival(with_context(X, 23).iloc[:200], np.arange(1.0, 90.0))
    assert np.all(np.diff(curves.survival, axis=1) <= 0)
    assert set(model.maps_) == {7.0, 14.0, 30.0}
    assert model.split_date_ > pd.Timestamp("2024-01-01")


def test_isotonic_map_is_monotone_and_clipped() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(500)
    fitted = IsotonicMap.fit(p, rng.random(500) < p**2)
    out = fitted(np.linspace(-1.0, 2.0, 50))
    assert np.all(np.diff(out) >= 0) and out.min() >= 0 and out.max() <= 1


def test_needs_the_date_column() -> None:
    X, y = synthetic_static(300, seed=24)
    model = CalibratedEstimator(estimator=XGBAFT(features=list(STATIC_FEATURES)))
    with pytest.raises(ValueError, match="lacks the date column 'as_of'"):
        model.fit(X, y)


def test_horizons_without_known_outcomes_stay_uncalibrated() -> None:
    X, y = synthetic_static(300, seed=24)
    short = SurvivalTarget.from_arrays(np.minimum(y.time_days, 3.0), y.event & (y.time_days < 3))
    X_context = with_context(X, 24)
    model = CalibratedEstimator(estimator=XGBAFT(features=list(STATIC_FEATURES))).fit(
        X_context, short
    )
    assert model.uncalibrated_horizons_ == [7.0, 14.0, 30.0]
    grid = np.array([7.0, 14.0, 30.0])
    raw = model.estimator_.predict_survival(X_context.drop(columns="as_of"), grid).survival
    np.testing.assert_allclose(model.predict_survival(X_context, grid).survival, raw, atol=1e-12)


def test_needs_dates_to_split() -> None:
    X, y = synthetic_static(300, seed=25)
    one_day = X.assign(as_of=pd.Timestamp("2024-05-01"))
    model = CalibratedEstimator(estimator=XGBAFT(features=list(STATIC_FEATURES)))
    with pytest.raises(ValueError, match="too short to split off a validation period"):
        model.fit(one_day, y)


def test_a_horizon_with_too_few_distinct_failures_stays_uncalibrated() -> None:
    """Many landmark rows of one failing life count as one failure, not many."""
    X, y = synthetic_static(800, seed=25)
    X_context = with_context(X, 25)
    dates = pd.to_datetime(X_context["as_of"])
    ends = dates + pd.to_timedelta(np.round(y.time_days), unit="D")
    one_day = ends[y.event].mode().iloc[0]
    # keep the failures ending on one date only: every other failure becomes censored
    y_one = SurvivalTarget.from_arrays(y.time_days, y.event & (ends == one_day).to_numpy())
    model = CalibratedEstimator(
        estimator=XGBAFT(features=list(STATIC_FEATURES), n_estimators=20), min_failures=2
    ).fit(X_context, y_one)
    assert model.uncalibrated_horizons_ == [7.0, 14.0, 30.0]


def test_no_failures_before_the_split_leaves_every_horizon_uncalibrated() -> None:
    """An early cut of a small fleet: every failure falls in the validation period."""
    X, y = synthetic_static(300, seed=26)
    X_context = with_context(X, 26)
    dates = pd.to_datetime(X_context["as_of"])
    late = (dates >= dates.quantile(0.8)).to_numpy()
    y_late = SurvivalTarget.from_arrays(y.time_days, y.event & late)
    model = CalibratedEstimator(
        estimator=XGBAFT(features=list(STATIC_FEATURES), n_estimators=20)
    ).fit(X_context, y_late)
    assert model.uncalibrated_horizons_ == [7.0, 14.0, 30.0]
    grid = np.array([7.0, 14.0, 30.0])
    raw = model.estimator_.predict_survival(X_context.drop(columns="as_of"), grid).survival
    np.testing.assert_allclose(model.predict_survival(X_context, grid).survival, raw, atol=1e-12)
