"""Synthetic survival data and one instance of every estimator, for the survival tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from equiptwin.survival.base import SurvivalEstimator
from equiptwin.survival.baselines import CoxPH, KaplanMeier, Limit, ThresholdRule
from equiptwin.survival.calibrate import CalibratedEstimator
from equiptwin.survival.gbm import XGBAFT, XGBCox
from equiptwin.survival.synthetic import STATIC_FEATURES, synthetic_static, synthetic_twin
from equiptwin.survival.target import SurvivalTarget
from equiptwin.survival.twin_scaled import TwinScaled

FEATURES = list(STATIC_FEATURES)
FAST = {"n_estimators": 60, "learning_rate": 0.1}


def with_context(X: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Add the columns some estimators read: a group, a landmark date and a twin's."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 365, len(X)).astype("timedelta64[D]")
    return X.join(synthetic_twin(X, seed=seed)).assign(
        group=np.where(X["x0"] > 0, "high", "low"),
        as_of=pd.to_datetime(np.datetime64("2024-01-01") + days),
    )


@pytest.fixture(scope="session")
def train() -> tuple[pd.DataFrame, SurvivalTarget]:
    X, y = synthetic_static(800, seed=11)
    return with_context(X, 11), y


@pytest.fixture(scope="session")
def test_data() -> tuple[pd.DataFrame, SurvivalTarget]:
    X, y = synthetic_static(400, seed=12)
    return with_context(X, 12), y


ESTIMATORS: dict[str, Callable[[], SurvivalEstimator]] = {
    "xgb_aft": lambda: XGBAFT(features=FEATURES, **FAST),
    "xgb_aft_extreme": lambda: XGBAFT(features=FEATURES, distribution="extreme", **FAST),
    "xgb_cox": lambda: XGBCox(features=FEATURES, **FAST),
    "kaplan_meier": lambda: KaplanMeier(groups=["group"]),
    "cox_ph": lambda: CoxPH(features=FEATURES),
    "threshold_rule": lambda: ThresholdRule(
        limits=[Limit("x0", above=0.5), Limit("x1", below=-0.5)]
    ),
    # The synthetic twin's curves are proportional in time, so the ranker's risk agrees
    # with the curves; on a real twin a life's own shape in time can break the tie.
    "twin_scaled": lambda: TwinScaled(
        estimator=XGBCox(
            features=["twin_hazard_index"], offset_log_hazard="twin_hazard_index", **FAST
        )
    ),
    "calibrated_aft": lambda: CalibratedEstimator(
        estimator=XGBAFT(features=FEATURES, **FAST), validation_fraction=0.4
    ),
}


@pytest.fixture(params=sorted(ESTIMATORS), ids=sorted(ESTIMATORS))
def make_estimator(request: pytest.FixtureRequest) -> Callable[[], SurvivalEstimator]:
    return ESTIMATORS[request.param]
