"""The boosted models' own equations: AFT distributions, Breslow baseline, censoring kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sksurv.nonparametric import nelson_aalen_estimator

from equiptwin.survival.gbm import (
    XGBAFT,
    BoostingData,
    XGBCox,
    boosting_with,
    breslow_cumulative_hazard,
    train_in_process,
)
from equiptwin.survival.synthetic import STATIC_FEATURES, synthetic_static
from equiptwin.survival.target import SurvivalTarget

FEATURES = list(STATIC_FEATURES)


@pytest.mark.parametrize(
    ("distribution", "survival_at_median_time"),
    [("normal", 0.5), ("logistic", 0.5), ("extreme", np.exp(-1.0))],
    ids=["normal", "logistic", "extreme"],
)
def test_aft_curve_at_the_predicted_time(distribution: str, survival_at_median_time: float) -> None:
    X, y = synthetic_static(400, seed=51)
    model = XGBAFT(features=FEATURES, distribution=distribution, n_estimators=20).fit(X, y)
    row = X.iloc[[0]]
    predicted_days = float(np.exp(model._margin(row))[0])
    curves = model.predict_survival(row, [predicted_days])
    assert curves.survival[0, 0] == pytest.approx(survival_at_median_time, abs=1e-6)


def test_aft_uses_interval_bounds() -> None:
    """Widening exact failure times into intervals around them changes little on average."""
    X, y = synthetic_static(1500, seed=52)
    exact = XGBAFT(features=FEATURES, n_estimators=60).fit(X, y)
    upper = np.where(y.event, y.time_days + 6.0, np.inf)
    lower = np.where(y.event, np.maximum(y.time_days - 6.0, 0.0), y.time_days)
    interval = SurvivalTarget(lower, upper)
    assert interval.interval_censored.sum() == y.event.sum()
    widened = XGBAFT(features=FEATURES, n_estimators=60).fit(X, interval)
    a, b = exact.predict_risk(X), widened.predict_risk(X)
    assert not np.array_equal(a, b)
    assert np.corrcoef(a, b)[0, 1] > 0.9


def test_breslow_with_equal_hazards_is_nelson_aalen() -> None:
    y = SurvivalTarget.from_arrays(
        [2.0, 3.0, 3.0, 5.0, 8.0, 9.0, 12.0], [True, True, False, True, False, True, False]
    )
    times, cumhaz = breslow_cumulative_hazard(y, np.zeros(len(y)))
    na_times, na_cumhaz = nelson_aalen_estimator(y.event, y.time_days)
    events = np.isin(na_times, y.time_days[y.event])
    np.testing.assert_allclose(times[1:], na_times[events])
    np.testing.assert_allclose(cumhaz[1:], na_cumhaz[events])
    assert (times[0], cumhaz[0]) == (0.0, 0.0)


def test_cox_curves_follow_proportional_hazards() -> None:
    X, y = synthetic_static(600, seed=53)
    model = XGBCox(features=FEATURES, n_estimators=40).fit(X, y)
    rows = X.iloc[:2]
    surv = model.predict_survival(rows, [10.0, 30.0]).survival
    log_hr = np.diff(model.predict_risk(rows))[0]
    # S_1 = S_0 ** exp(log_hr) at every horizon
    np.testing.assert_allclose(np.log(surv[1]), np.log(surv[0]) * np.exp(log_hr), rtol=1e-9)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"distribution": "weibull"}, "`distribution` must be one of"),
        ({"scale": 0.0}, "`scale` must be positive"),
        ({"learning_rate": 2.0}, r"`learning_rate` must be in \(0, 1\]"),
        ({"n_estimators": 0}, "`n_estimators` must be a positive whole number"),
    ],
    ids=["distribution", "scale", "learning_rate", "n_estimators"],
)
def test_bad_hyperparameters_are_named_at_fit(params: dict[str, object], match: str) -> None:
    X, y = synthetic_static(100, seed=54)
    model = XGBAFT(features=FEATURES, **params)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)


def test_non_numeric_features_need_a_feature_list() -> None:
    X, y = synthetic_static(100, seed=55)
    with pytest.raises(ValueError, match="not numeric; drop them or pass `features=`"):
        XGBCox().fit(X.assign(site=pd.Series(["AMS"] * len(X))), y)


def test_cox_starts_from_the_prior_log_hazard() -> None:
    X, y = synthetic_static(600, seed=54)
    rng = np.random.default_rng(54)
    prior = -y.time_days / 20.0 + rng.normal(0, 0.01, 600)
    X = X.assign(prior_log_h=prior, noise=rng.normal(size=600))
    X.loc[::50, "prior_log_h"] = np.nan
    model = XGBCox(
        features=["noise"], offset_log_hazard="prior_log_h", n_estimators=1, learning_rate=0.01
    ).fit(X, y)
    risk = model.predict_risk(X)
    known = X["prior_log_h"].notna().to_numpy()
    # one tiny boosting round: the risk is the prior log cumulative hazard, shifted
    assert np.std(risk[known] - prior[known]) < 0.01 * np.std(prior)
    # a missing prior starts from the training rows' mean
    assert np.allclose(
        risk[~known], np.nanmean(prior) + np.median(risk[known] - prior[known]), atol=0.05
    )
    with pytest.raises(ValueError, match="lacks the offset column"):
        XGBCox(offset_log_hazard="missing").fit(X[["noise"]], y)


@pytest.mark.parametrize(
    ("make", "fields"),
    [
        (
            lambda: XGBAFT(features=FEATURES, n_estimators=10),
            {"label_lower_bound", "label_upper_bound"},
        ),
        (
            lambda: XGBAFT(features=FEATURES, n_estimators=10, offset_days="x0"),
            {"label_lower_bound", "label_upper_bound", "base_margin"},
        ),
        (lambda: XGBCox(features=FEATURES, n_estimators=10), {"label"}),
    ],
    ids=["aft", "aft_offset", "cox"],
)
def test_boosting_goes_through_the_trainer_in_force(
    make: Callable[[], XGBAFT | XGBCox], fields: set[str]
) -> None:
    X, y = synthetic_static(300, seed=53)
    X = X.assign(x0=X["x0"].abs() * 100 + 1)
    seen: list[BoostingData] = []

    def recording(params: dict[str, Any], data: BoostingData, rounds: int) -> xgb.Booster:
        seen.append(data)
        return train_in_process(params, data, rounds)

    with boosting_with(recording):
        through = make().fit(X, y)
    default = make().fit(X, y)
    assert len(seen) == 1 and set(seen[0].info) == fields
    assert seen[0].feature_names == FEATURES and seen[0].data.shape == (300, len(FEATURES))
    assert all(len(v) == 300 for v in seen[0].info.values())
    np.testing.assert_array_equal(through.predict_risk(X), default.predict_risk(X))
