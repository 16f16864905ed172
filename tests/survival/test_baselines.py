"""Baselines: Kaplan-Meier per group, Cox PH, the vendor-style threshold rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sksurv.nonparametric import kaplan_meier_estimator

from equiptwin.survival.baselines import CoxPH, KaplanMeier, Limit, ThresholdRule, TwinCurve
from equiptwin.survival.synthetic import STATIC_FEATURES, synthetic_static
from equiptwin.survival.target import SurvivalTarget


def _grouped() -> tuple[pd.DataFrame, SurvivalTarget]:
    X, y = synthetic_static(500, seed=61)
    return X.assign(modality=np.where(X["x0"] > 0, "CT", "MR"), component="tube"), y


def test_kaplan_meier_per_group_matches_sksurv() -> None:
    X, y = _grouped()
    model = KaplanMeier(groups=["modality", "component"]).fit(X, y)
    ct = (X["modality"] == "CT").to_numpy()
    times, surv = kaplan_meier_estimator(y.event[ct], y.time_days[ct])
    grid = np.array([5.0, 20.0, 60.0])
    expected = [surv[times <= h][-1] for h in grid]
    got = model.predict_survival(X[ct].iloc[:1], grid).survival[0]
    np.testing.assert_allclose(got, expected)


def test_kaplan_meier_unseen_group_gets_the_pooled_curve() -> None:
    X, y = _grouped()
    model = KaplanMeier(groups=["modality"]).fit(X, y)
    pooled = KaplanMeier().fit(X, y)
    new = X.iloc[:1].assign(modality="XR")
    np.testing.assert_array_equal(
        model.predict_survival(new, [10, 30]).survival,
        pooled.predict_survival(new, [10, 30]).survival,
    )
    with pytest.raises(ValueError, match="lacks the group column"):
        KaplanMeier(groups=["site"]).fit(X, y)


def test_cox_ph_recovers_the_known_coefficients() -> None:
    X, y = synthetic_static(3000, seed=62)
    model = CoxPH(features=list(STATIC_FEATURES)).fit(X, y)
    beta = model.model_.coef_ / model.scale_
    np.testing.assert_allclose(beta[:2], [1.0, -0.7], atol=0.12)
    assert np.all(np.abs(beta[2:]) < 0.12)


def test_cox_ph_imputes_missing_values() -> None:
    X, y = synthetic_static(300, seed=63)
    X.loc[::7, "x2"] = np.nan
    model = CoxPH(features=list(STATIC_FEATURES)).fit(X, y)
    assert np.isfinite(model.predict_risk(X)).all()


def test_threshold_rule_levels() -> None:
    X, y = synthetic_static(800, seed=64)
    rule = ThresholdRule(limits=[Limit("x0", above=1.0), Limit("x1", below=-1.0)]).fit(X, y)
    probe = pd.DataFrame({"x0": [0.0, 2.0, 2.0, np.nan], "x1": [0.0, 0.0, -2.0, np.nan]})
    np.testing.assert_array_equal(rule.predict_risk(probe), [0, 1, 2, 0])
    surv = rule.predict_survival(probe, [30.0]).survival[:, 0]
    assert surv[0] >= surv[1] >= surv[2]  # more limits exceeded never reads safer
    assert surv[3] == surv[0]  # a missing signal exceeds nothing


def test_threshold_rule_needs_limits() -> None:
    X, y = synthetic_static(100, seed=65)
    with pytest.raises(ValueError, match="needs `limits=`"):
        ThresholdRule().fit(X, y)
    with pytest.raises(ValueError, match="`above` or `below`"):
        ThresholdRule(limits=[Limit("x0")]).fit(X, y)


def _twin_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "twin_p_fail_7d": [0.0, 0.1, 0.5, np.nan],
            "twin_p_fail_14d": [0.0, 0.2, 0.9, np.nan],
            "twin_p_fail_30d": [0.01, 0.4, 1.0, np.nan],
            "twin_median_days_left": [120.0, 40.0, 7.0, np.nan],
            "twin_health": [0.9, 0.5, 0.1, np.nan],
        }
    )


def test_twin_curve_reads_the_twin_probabilities() -> None:
    X, y = synthetic_static(200, seed=65)
    rows = _twin_rows()
    model = TwinCurve(horizons_days=(7, 14, 30)).fit(rows.reindex(range(len(X))).fillna(0.0), y)
    curves = model.predict_survival(rows, [7.0, 14.0, 30.0, 60.0])
    np.testing.assert_allclose(
        curves.survival[:3, :3],
        1.0 - rows[["twin_p_fail_7d", "twin_p_fail_14d", "twin_p_fail_30d"]].to_numpy()[:3],
        atol=1e-6,
    )
    halfway = model.predict_survival(rows.iloc[[1]], [3.5]).survival[0, 0]
    assert halfway == pytest.approx(0.95)
    assert (np.diff(curves.survival, axis=1) <= 0).all()
    pooled = KaplanMeier().fit(X, y).predict_survival(X.iloc[:1], [7.0, 14.0, 30.0, 60.0])
    np.testing.assert_allclose(curves.survival[3], pooled.survival[0])
    risk = model.predict_risk(rows)
    assert risk[2] > risk[1] > risk[0] > risk[3]
