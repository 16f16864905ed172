"""The contract every survival estimator keeps (one test run over all of them)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from equiptwin.survival.base import NotFittedError, SurvivalEstimator
from equiptwin.survival.curves import SurvivalCurves
from equiptwin.survival.metrics import concordance
from equiptwin.survival.target import SurvivalTarget

Data = tuple[pd.DataFrame, SurvivalTarget]
GRID = np.array([1.0, 7.0, 14.0, 30.0, 60.0, 120.0])


def test_fit_returns_self_and_sets_fitted_attributes(
    make_estimator: Callable[[], SurvivalEstimator], train: Data
) -> None:
    est = make_estimator()
    assert not any(name.endswith("_") and not name.startswith("_") for name in vars(est))
    assert est.fit(*train) is est
    assert est.feature_names_
    assert set(est.get_params()) == set(vars(make_estimator()))


def test_unfitted_predict_raises_clear_error(
    make_estimator: Callable[[], SurvivalEstimator], test_data: Data
) -> None:
    est = make_estimator()
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        est.predict_survival(test_data[0], GRID)
    with pytest.raises(NotFittedError):
        est.predict_risk(test_data[0])


def test_curves_are_valid_survival_functions(
    make_estimator: Callable[[], SurvivalEstimator], train: Data, test_data: Data
) -> None:
    curves = make_estimator().fit(*train).predict_survival(test_data[0], GRID)
    assert isinstance(curves, SurvivalCurves)
    assert curves.survival.shape == (len(test_data[0]), GRID.size)
    assert np.all((curves.survival >= 0) & (curves.survival <= 1))
    assert np.all(np.diff(curves.survival, axis=1) <= 0)


def test_fitting_twice_gives_identical_predictions(
    make_estimator: Callable[[], SurvivalEstimator], train: Data, test_data: Data
) -> None:
    a = make_estimator().fit(*train)
    b = make_estimator().fit(*train)
    np.testing.assert_array_equal(
        a.predict_survival(test_data[0], GRID).survival,
        b.predict_survival(test_data[0], GRID).survival,
    )
    np.testing.assert_array_equal(a.predict_risk(test_data[0]), b.predict_risk(test_data[0]))


def test_risk_agrees_with_curves(
    make_estimator: Callable[[], SurvivalEstimator], train: Data, test_data: Data
) -> None:
    """A row whose curve lies below another's everywhere (strictly somewhere) is riskier."""
    est = make_estimator().fit(*train)
    X = test_data[0].iloc[:150]
    grid = np.arange(1.0, float(train[1].time_days.max()) + 1.0)
    surv = est.predict_survival(X, grid).survival
    risk = est.predict_risk(X)
    assert risk.shape == (len(X),) and np.isfinite(risk).all()
    below = np.all(surv[:, None, :] <= surv[None, :, :], axis=2)
    strictly = np.any(surv[:, None, :] < surv[None, :, :] - 1e-12, axis=2)
    dominated = below & strictly
    assert dominated.any()
    riskier, safer = np.nonzero(dominated)
    assert np.all(risk[riskier] >= risk[safer])


def test_learns_the_known_hazard(
    make_estimator: Callable[[], SurvivalEstimator], train: Data, test_data: Data
) -> None:
    risk = make_estimator().fit(*train).predict_risk(test_data[0])
    assert concordance(test_data[1], risk) > 0.6


def test_all_censored_raises_clear_error(
    make_estimator: Callable[[], SurvivalEstimator], train: Data
) -> None:
    X, y = train
    censored = SurvivalTarget.from_arrays(y.time_days, np.zeros(len(y), dtype=bool))
    with pytest.raises(ValueError, match="at least 2 failures"):
        make_estimator().fit(X, censored)


def test_tiny_input_raises_clear_error(
    make_estimator: Callable[[], SurvivalEstimator], train: Data
) -> None:
    X, y = train
    with pytest.raises(ValueError, match="at least 10 rows"):
        make_estimator().fit(X.iloc[:5], y[np.arange(5)])


def test_bad_inputs_are_named(make_estimator: Callable[[], SurvivalEstimator], train: Data) -> None:
    X, y = train
    with pytest.raises(TypeError, match="SurvivalTarget"):
        make_estimator().fit(X, y.time_days)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rows"):
        make_estimator().fit(X, y[np.arange(len(y) - 1)])
    est = make_estimator().fit(X, y)
    with pytest.raises(ValueError, match="lacks the column"):
        est.predict_risk(X.drop(columns=est.feature_names_[0]))
    with pytest.raises(ValueError, match="horizons_days"):
        est.predict_survival(X, [7, 3])
