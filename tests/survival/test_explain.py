"""Explanations in words, from xgboost contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equiptwin.features.texts import FEATURE_TEXTS, FeatureText
from equiptwin.forecast import Driver
from equiptwin.survival.baselines import KaplanMeier
from equiptwin.survival.calibrate import CalibratedEstimator
from equiptwin.survival.explain import describe, explain, named_signals
from equiptwin.survival.gbm import XGBAFT, XGBCox, XGBSurvival
from equiptwin.survival.synthetic import synthetic_fleet
from equiptwin.survival.target import SurvivalTarget

FEATURES = [
    "age_days",
    "ev_2301_sum_7d",
    "ev_2301_sum_7d_then",
    "filament_a_trend",
    "oil_resid_c_level",
]


def test_arc_rate_sentence() -> None:
    row = pd.Series({"ev_2301_sum_7d": 63.0, "ev_2301_sum_7d_then": 2.1})
    assert describe("ev_2301_sum_7d", row) == "arc rate 9/day, up from 0.3 three weeks ago"


@pytest.mark.parametrize(
    ("feature", "row", "text"),
    [
        ("stage2_k_level", {"stage2_k_level": 4.372}, "cold head stage-2 temperature 4.37 K"),
        ("twin_p_fail_30d", {"twin_p_fail_30d": 0.42}, "twin's 30-day failure probability 42%"),
        ("age_days", {"age_days": 1234.0}, "component age 1,234 days"),
        ("mystery_signal", {"mystery_signal": 0.5}, "mystery_signal = 0.5"),
        ("oil_c_level", {"oil_c_level": np.nan}, "tube oil temperature not measured"),
        (
            "twin_median_days_left",
            {"twin_median_days_left": 120.0},
            "twin's median days left more than 120 days",
        ),
        (
            "twin_hazard_index",
            {
                "twin_hazard_index": -1.2,
                "twin_health": 0.31,
                "twin_p_fail_120d": 0.45,
                "twin_median_days_left": 96.0,
            },
            "degradation twin: twin health index 0.31, twin's 120-day failure probability 45%, "
            "twin's median days left 96 days",
        ),
    ],
    ids=[
        "kelvin",
        "percent",
        "thousands",
        "unknown_feature",
        "missing",
        "beyond_the_plan",
        "said_through_parts",
    ],
)
def test_sentences(feature: str, row: dict[str, float], text: str) -> None:
    assert describe(feature, pd.Series(row)) == text


def test_the_twin_is_said_with_its_worst_wear_and_the_signal_showing_it() -> None:
    row = pd.Series(
        {
            "twin_hazard_index": 1.5,
            "twin_health": 0.25,
            "twin_p_fail_120d": 1.0,
            "twin_median_days_left": 9.0,
            "twin_filament_loss": 0.03,  # 30% of its limit
            "twin_vacuum_damage": 0.6,
            "twin_bearing_wear": 0.36,
            "twin_anode_wear": 0.75,
            "oil_resid_c_level": 1.2,
            "ev_2301_sum_7d": 63.0,
            "ev_2301_sum_7d_then": 2.1,
        }
    )
    text = describe("twin_hazard_index", row)
    assert text.endswith(
        "; worst wear: anode track wear (twin) 75%, "
        "oil temperature above a new tube's at the same load 1.2 °C"
    )
    row["twin_vacuum_damage"] = 0.9
    assert describe("twin_hazard_index", row).endswith(
        "vacuum damage (twin) 90%, arc rate 9/day, up from 0.3 three weeks ago"
    )
    assert named_signals("twin_hazard_index", row) == ("ev_2301_sum_7d",)
    assert named_signals("ev_2301_sum_7d", row) == ()


def test_down_and_unchanged_trends() -> None:
    spec = FeatureText("arc rate", "/day", scale=1 / 7, baseline="b")
    assert spec.sentence(7.0, 70.0) == "arc rate 1/day, down from 10 three weeks ago"
    assert spec.sentence(7.0, 7.0) == "arc rate 1/day, unchanged since three weeks ago"


def test_feature_table_extends_with_a_row() -> None:
    table = {**FEATURE_TEXTS, "coastdown_s": FeatureText("anode coast-down", " s")}
    assert describe("coastdown_s", pd.Series({"coastdown_s": 41.0}), table) == (
        "anode coast-down 41 s"
    )


Tubes = tuple[pd.DataFrame, SurvivalTarget]


@pytest.fixture(scope="module")
def tubes() -> Tubes:
    fleet = synthetic_fleet(80, seed=31, step_days=5)
    tube = (fleet.rows["component"] == "xray_tube").to_numpy()
    return fleet.rows[tube].reset_index(drop=True), fleet.target[tube]


@pytest.mark.parametrize("cls", [XGBAFT, XGBCox], ids=["aft", "cox"])
def test_drivers_follow_the_contributions(cls: type[XGBSurvival], tubes: Tubes) -> None:
    rows, y = tubes
    model = cls(features=FEATURES, n_estimators=60).fit(rows, y)
    worst = rows.iloc[[int(np.argmax(rows["ev_2301_sum_7d"]))]]
    drivers = explain(model, worst, top_k=2)[0]
    assert len(drivers) == 2 and all(isinstance(d, Driver) for d in drivers)
    assert drivers[0].feature == "ev_2301_sum_7d" and drivers[0].contribution > 0
    assert drivers[0].text.startswith("arc rate ") and "three weeks ago" in drivers[0].text
    assert abs(drivers[0].contribution) >= abs(drivers[1].contribution)
    assert "ev_2301_sum_7d_then" not in {d.feature for d in drivers}  # merged into its trend
    # Contributions add up to the margin minus the bias, with the hazard's sign.
    dmatrix = model._dmatrix(worst)
    margin = model.booster_.predict(dmatrix, output_margin=True)[0]
    bias = model.booster_.predict(dmatrix, pred_contribs=True)[0, -1]
    total = model.contributions(worst).sum()
    assert total == pytest.approx(model._hazard_sign * (margin - bias), rel=1e-4)


def test_explain_sees_through_calibration_and_rejects_baselines(tubes: Tubes) -> None:
    rows, y = tubes
    calibrated = CalibratedEstimator(
        estimator=XGBAFT(features=FEATURES, n_estimators=30), validation_fraction=0.4
    ).fit(rows[[*FEATURES, "as_of"]], y)
    assert len(explain(calibrated, rows.iloc[:3], top_k=1)) == 3
    km = KaplanMeier().fit(rows, y)
    with pytest.raises(TypeError, match="xgboost survival model"):
        explain(km, rows.iloc[:3])
