"""The model registry: exact round trips and clear refusals."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equiptwin.errors import ModelCompatibilityError
from equiptwin.store.artifacts import (
    CARD_FILE,
    FORMAT_VERSION,
    list_versions,
    load_model,
    save_model,
)
from equiptwin.survival.base import NotFittedError, SurvivalEstimator
from equiptwin.survival.baselines import CoxPH
from equiptwin.survival.calibrate import CalibratedEstimator
from equiptwin.survival.gbm import XGBAFT, XGBCox
from equiptwin.survival.synthetic import STATIC_FEATURES, synthetic_static, synthetic_twin
from equiptwin.survival.target import SurvivalTarget
from equiptwin.survival.twin_scaled import TwinScaled

FEATURES = list(STATIC_FEATURES)
CREATED = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
GRID = np.arange(1.0, 61.0)

MODELS: dict[str, Callable[[], SurvivalEstimator]] = {
    "aft": lambda: XGBAFT(features=FEATURES, distribution="logistic", n_estimators=40),
    "cox": lambda: XGBCox(features=FEATURES, n_estimators=40),
    "calibrated_cox": lambda: CalibratedEstimator(
        estimator=XGBCox(features=FEATURES, n_estimators=40), validation_fraction=0.4
    ),
    "twin_scaled": lambda: TwinScaled(
        estimator=XGBCox(
            features=["twin_hazard_index"], offset_log_hazard="twin_hazard_index", n_estimators=40
        )
    ),
}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, SurvivalTarget]:
    X, y = synthetic_static(600, seed=41)
    days = np.random.default_rng(41).integers(0, 365, len(X)).astype("timedelta64[D]")
    X = X.join(synthetic_twin(X, seed=41))
    return X.assign(as_of=pd.to_datetime(np.datetime64("2025-01-01") + days)), y


def _save(model: SurvivalEstimator, root: Path, version: str = "v1") -> Path:
    return save_model(
        model,
        root,
        model_version=version,
        created_at=CREATED,
        training_start=dt.date(2025, 1, 1),
        training_end=dt.date(2025, 12, 31),
        metrics={"concordance": 0.8},
    )


@pytest.mark.parametrize("name", sorted(MODELS), ids=sorted(MODELS))
def test_round_trip_predicts_identically(
    name: str, data: tuple[pd.DataFrame, SurvivalTarget], tmp_path: Path
) -> None:
    X, y = data
    model = MODELS[name]().fit(X, y)
    folder = _save(model, tmp_path / "models")
    loaded, card = load_model(folder, available_features=list(X.columns))
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(
        loaded.predict_survival(X, GRID).survival, model.predict_survival(X, GRID).survival
    )
    np.testing.assert_array_equal(loaded.predict_risk(X), model.predict_risk(X))
    assert card.features == getattr(model, "estimator_", model).feature_names_
    assert card.created_at == "2026-03-02T06:00:00+00:00"
    assert card.format_version == FORMAT_VERSION
    assert {"xgboost", "equiptwin", "scikit-survival"} <= set(card.package_versions)
    assert (folder / "booster.ubj").is_file() and not list(folder.glob("*.pkl"))


@pytest.fixture
def saved(data: tuple[pd.DataFrame, SurvivalTarget], tmp_path: Path) -> Path:
    return _save(XGBAFT(features=FEATURES, n_estimators=20).fit(*data), tmp_path / "models")


def _edit_card(folder: Path, **changes: object) -> None:
    card = json.loads((folder / CARD_FILE).read_text())
    card.update(changes)
    (folder / CARD_FILE).write_text(json.dumps(card))


def test_versions_are_never_overwritten(
    saved: Path, data: tuple[pd.DataFrame, SurvivalTarget]
) -> None:
    with pytest.raises(FileExistsError, match="choose a new `model_version`"):
        _save(XGBAFT(features=FEATURES, n_estimators=5).fit(*data), saved.parent)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda f: _edit_card(f, format_version=99), "format version 99"),
        (
            lambda f: _edit_card(f, package_versions={"xgboost": "1.7.6"}),
            "xgboost 1.7.6",
        ),
        (lambda f: _edit_card(f, estimator="Mystery"), "unknown estimator"),
        (lambda f: _edit_card(f, calibrator="Mystery"), "unknown calibrator"),
        (lambda f: _edit_card(f, format_version=1), "format version 1, but"),
        (lambda f: (f / CARD_FILE).write_text("{not json"), "corrupt"),
        (lambda f: (f / CARD_FILE).unlink(), "not a stored model"),
        (lambda f: (f / "booster.ubj").write_bytes(b"garbage"), "missing or changed"),
        (lambda f: (f / "extras.json").unlink(), "missing or changed"),
        (
            lambda f: _edit_card(
                f,
                hyperparameters={
                    **json.loads((f / CARD_FILE).read_text())["hyperparameters"],
                    "offset_p_fail": "twin_p_fail_30d",
                },
            ),
            r"hyperparameter\(s\) \['offset_p_fail'\] that this version",
        ),
    ],
    ids=[
        "format",
        "xgboost_major",
        "estimator",
        "calibrator",
        "format_1",
        "corrupt_card",
        "no_card",
        "booster",
        "extras",
        "retired_hyperparameter",
    ],
)
def test_incompatible_or_corrupt_models_are_refused(
    saved: Path, damage: Callable[[Path], object], match: str
) -> None:
    damage(saved)
    with pytest.raises(ModelCompatibilityError, match=match) as err:
        load_model(saved)
    assert "equiptwin train" in str(err.value)


def test_missing_features_are_refused(saved: Path) -> None:
    with pytest.raises(ModelCompatibilityError, match=r"needs the feature\(s\) \['x3'\]"):
        load_model(saved, available_features=["x0", "x1", "x2"])


def test_only_fitted_boosted_models_are_stored(
    data: tuple[pd.DataFrame, SurvivalTarget], tmp_path: Path
) -> None:
    with pytest.raises(NotFittedError, match="fit it before saving"):
        _save(XGBAFT(), tmp_path)
    with pytest.raises(NotFittedError, match="fit it before saving"):
        _save(CalibratedEstimator(estimator=XGBAFT()), tmp_path)
    with pytest.raises(TypeError, match="CoxPH"):
        _save(CoxPH(features=FEATURES).fit(*data), tmp_path)
    with pytest.raises(ValueError, match="model_version"):
        _save(XGBAFT(features=FEATURES, n_estimators=5).fit(*data), tmp_path, "../escape")


def test_list_versions_skips_broken_folders(
    saved: Path, data: tuple[pd.DataFrame, SurvivalTarget]
) -> None:
    _save(XGBAFT(features=FEATURES, n_estimators=5).fit(*data), saved.parent, "v2")
    (saved.parent / "not-a-model").mkdir()
    assert [card.model_version for card in list_versions(saved.parent)] == ["v1", "v2"]
    assert list_versions(saved.parent / "missing") == []
