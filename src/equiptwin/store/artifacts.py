"""The model registry: versioned survival models in ``models/<model_version>/``.

A version folder holds

* ``booster.ubj``: the xgboost booster in xgboost's own UBJSON format;
* ``extras.json``: the rest of the fitted state as plain JSON (Cox baseline hazard, the
  calibrator's state: isotonic knots or the twin-scaled level), never pickle;
* ``model_card.json``: model version, creation time, training range, features,
  hyperparameters, metrics, package versions, the format version and the SHA-256 of
  the other files.

:func:`load_model` refuses a folder it cannot trust: unknown format version, another
xgboost major version, a feature list that does not match, a changed or missing file.
Each raises :class:`~equiptwin.errors.ModelCompatibilityError` saying what and how to fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import sklearn
import sksurv
import xgboost as xgb

import equiptwin
from equiptwin.errors import ModelCompatibilityError
from equiptwin.survival.base import NotFittedError, SurvivalEstimator, WrappedEstimator
from equiptwin.survival.calibrate import CalibratedEstimator
from equiptwin.survival.gbm import XGBAFT, XGBCox, XGBSurvival
from equiptwin.survival.twin_scaled import TwinScaled

FORMAT_VERSION = 2
CARD_FILE = "model_card.json"
BOOSTER_FILE = "booster.ubj"
EXTRAS_FILE = "extras.json"
MODEL_CLASSES: dict[str, type[XGBSurvival]] = {"XGBAFT": XGBAFT, "XGBCox": XGBCox}
CALIBRATORS: dict[str, Callable[..., WrappedEstimator]] = {
    "CalibratedEstimator": CalibratedEstimator,
    "TwinScaled": TwinScaled,
}
_FIX = "Retrain with `equiptwin train` to write a compatible model."


@dataclass(frozen=True)
class ModelCard:
    """What a stored model is and how it was made (``model_card.json``).

    Parameters
    ----------
    model_version : str
        Registry version, also the folder name.
    created_at : str
        ISO-8601 time the model was saved (passed in, never read from the clock here).
    estimator : str
        Model class (a key of :data:`MODEL_CLASSES`).
    hyperparameters : dict
        The model's constructor arguments.
    calibrator : str or None
        The wrapper that turns the booster's margin into probabilities (a key of
        :data:`CALIBRATORS`), or ``None`` for the booster's own curves.
    calibration : dict or None
        The calibrator's settings.
    features : list of str
        Feature columns, in the booster's order.
    training_start, training_end : str
        First and last ``as_of`` date of the training rows (ISO dates).
    metrics : dict of str to float
        Validation metrics recorded at training time.
    package_versions : dict of str to str
        Versions of equiptwin and the numeric stack that wrote the model.
    format_version : int
        Layout version of the folder.
    files : dict of str to str
        SHA-256 of each artifact file.
    """

    model_version: str
    created_at: str
    estimator: str
    hyperparameters: dict[str, Any]
    calibrator: str | None
    calibration: dict[str, Any] | None
    features: list[str]
    training_start: str
    training_end: str
    metrics: dict[str, float]
    package_versions: dict[str, str]
    format_version: int
    files: dict[str, str]


def package_versions() -> dict[str, str]:
    """Return the versions of the packages a stored model depends on."""
    return {
        "equiptwin": equiptwin.__version__,
        "xgboost": xgb.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "scikit-survival": sksurv.__version__,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple | list) else v for k, v in params.items()}


def save_model(
    model: SurvivalEstimator,
    models_dir: str | Path,
    *,
    model_version: str,
    created_at: dt.datetime,
    training_start: dt.date,
    training_end: dt.date,
    metrics: Mapping[str, float],
) -> Path:
    """Save a fitted model as a new version in the registry.

    Parameters
    ----------
    model : SurvivalEstimator
        A fitted :class:`~equiptwin.survival.gbm.XGBAFT` or
        :class:`~equiptwin.survival.gbm.XGBCox`, or one of :data:`CALIBRATORS` around one.
    models_dir : str or Path
        The registry folder (``models/``).
    model_version : str
        New version name; letters, digits, ``.``, ``_`` and ``-``.
    created_at : datetime.datetime
        Timezone-aware time of saving.
    training_start, training_end : datetime.date
        The training rows' ``as_of`` range.
    metrics : mapping of str to float
        Validation metrics to record.

    Returns
    -------
    Path
        The new version folder.

    Raises
    ------
    FileExistsError
        When the version exists already (versions are never overwritten).
    TypeError
        When the model is not of a stored kind.
    NotFittedError
        When it is not fitted.
    ValueError
        When an argument is invalid.
    """
    calibrated = cast(WrappedEstimator, model) if type(model) in CALIBRATORS.values() else None
    kind = calibrated.estimator if calibrated is not None else model
    if not isinstance(kind, XGBSurvival):
        raise TypeError(
            f"the registry stores {sorted(MODEL_CLASSES)} models, optionally wrapped by "
            f"{sorted(CALIBRATORS)}, but found {type(kind).__name__}."
        )
    if not hasattr(model, "feature_names_"):
        raise NotFittedError(f"this {type(model).__name__} is not fitted; fit it before saving.")
    # A wrapper's estimator_ is a fitted clone of its (checked) estimator.
    inner = cast(XGBSurvival, calibrated.estimator_) if calibrated is not None else kind
    if not model_version or any(not (c.isalnum() or c in "._-") for c in model_version):
        raise ValueError(
            f"`model_version` must be letters, digits, '.', '_' or '-', but found "
            f"{model_version!r}."
        )
    if created_at.tzinfo is None:
        raise ValueError(f"`created_at` must be timezone-aware, but found {created_at!r}.")
    root = Path(models_dir)
    final = root / model_version
    if final.exists():
        raise FileExistsError(
            f"model version {model_version!r} already exists in {root}; versions are never "
            "overwritten, so choose a new `model_version`."
        )
    staging = root / f".staging-{model_version}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    inner.booster_.save_model(str(staging / BOOSTER_FILE))
    extras = {
        "model": inner.extras(),
        "calibration": calibrated.extras() if calibrated is not None else None,
    }
    (staging / EXTRAS_FILE).write_text(json.dumps(extras), encoding="utf-8")
    calibration = None
    if calibrated is not None:
        calibration = _jsonable(
            {k: v for k, v in calibrated.get_params().items() if k != "estimator"}
        )
    card = ModelCard(
        model_version=model_version,
        created_at=created_at.isoformat(),
        estimator=type(inner).__name__,
        hyperparameters=_jsonable(inner.get_params()),
        calibrator=type(calibrated).__name__ if calibrated is not None else None,
        calibration=calibration,
        features=list(inner.feature_names_),
        training_start=training_start.isoformat(),
        training_end=training_end.isoformat(),
        metrics={k: float(v) for k, v in metrics.items()},
        package_versions=package_versions(),
        format_version=FORMAT_VERSION,
        files={name: _sha256(staging / name) for name in (BOOSTER_FILE, EXTRAS_FILE)},
    )
    (staging / CARD_FILE).write_text(json.dumps(asdict(card), indent=2), encoding="utf-8")
    os.replace(staging, final)
    return final


def read_card(path: str | Path) -> ModelCard:
    """Read and check the model card of a version folder.

    Raises
    ------
    ModelCompatibilityError
        When the card is missing, unreadable, of another format version or written by
        another xgboost major version.
    """
    folder = Path(path)
    try:
        raw = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
        version = raw.get("format_version") if isinstance(raw, dict) else None
        if version != FORMAT_VERSION:
            raise ModelCompatibilityError(
                f"{folder}: model format version {version!r}, but this equiptwin reads "
                f"version {FORMAT_VERSION}. {_FIX}"
            )
        card = ModelCard(**raw)
    except FileNotFoundError:
        raise ModelCompatibilityError(
            f"{folder} is not a stored model: it has no {CARD_FILE}. {_FIX}"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise ModelCompatibilityError(f"{folder / CARD_FILE} is corrupt ({exc}). {_FIX}") from None
    saved = str(card.package_versions.get("xgboost", "?"))
    if saved.split(".")[0] != xgb.__version__.split(".")[0]:
        raise ModelCompatibilityError(
            f"{folder}: model written by xgboost {saved}, but xgboost {xgb.__version__} is "
            f"installed (major versions differ). {_FIX}"
        )
    if card.estimator not in MODEL_CLASSES:
        raise ModelCompatibilityError(
            f"{folder}: unknown estimator {card.estimator!r}; known: {sorted(MODEL_CLASSES)}. "
            f"{_FIX}"
        )
    if card.calibrator is not None and card.calibrator not in CALIBRATORS:
        raise ModelCompatibilityError(
            f"{folder}: unknown calibrator {card.calibrator!r}; known: {sorted(CALIBRATORS)}. "
            f"{_FIX}"
        )
    return card


def list_versions(models_dir: str | Path) -> list[ModelCard]:
    """Return the cards of the stored versions, oldest first (unreadable ones skipped).

    Parameters
    ----------
    models_dir : str or Path
        The registry folder; a missing folder holds no versions.
    """
    root = Path(models_dir)
    cards = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("."):
            try:
                cards.append(read_card(folder))
            except ModelCompatibilityError:
                continue
    return sorted(cards, key=lambda card: card.created_at)


def load_model(
    path: str | Path, *, available_features: Sequence[str] | None = None
) -> tuple[SurvivalEstimator, ModelCard]:
    """Load a stored model version.

    Parameters
    ----------
    path : str or Path
        The version folder (``models/<model_version>``).
    available_features : sequence of str, optional
        Feature columns the caller can provide; the model's features must be among them.

    Returns
    -------
    model : SurvivalEstimator
        The fitted model, predicting exactly as when it was saved.
    card : ModelCard

    Raises
    ------
    ModelCompatibilityError
        When the model is corrupt, incompatible with the installed packages or needs
        features the caller lacks.
    """
    folder = Path(path)
    card = read_card(folder)
    for name, digest in card.files.items():
        target = folder / name
        if not target.is_file() or _sha256(target) != digest:
            raise ModelCompatibilityError(
                f"{target} is missing or changed since the model was saved. {_FIX}"
            )
    if available_features is not None:
        missing = [f for f in card.features if f not in set(available_features)]
        if missing:
            raise ModelCompatibilityError(
                f"{folder}: model {card.model_version} needs the feature(s) {missing}, which "
                f"the current features lack. {_FIX}"
            )
    booster = xgb.Booster()
    try:
        booster.load_model(str(folder / BOOSTER_FILE))
    except xgb.core.XGBoostError as exc:
        raise ModelCompatibilityError(
            f"{folder / BOOSTER_FILE} cannot be read by xgboost {xgb.__version__} "
            f"({str(exc).splitlines()[0]}). {_FIX}"
        ) from None
    if list(booster.feature_names or []) != card.features:
        raise ModelCompatibilityError(
            f"{folder}: the booster's features {booster.feature_names} differ from the "
            f"card's {card.features}. {_FIX}"
        )
    extras = json.loads((folder / EXTRAS_FILE).read_text(encoding="utf-8"))
    cls = MODEL_CLASSES[card.estimator]
    known = cls.param_names()
    unknown = sorted(set(card.hyperparameters) - set(known))
    if unknown:
        raise ModelCompatibilityError(
            f"{folder}: model {card.model_version} was saved with {card.estimator} "
            f"hyperparameter(s) {unknown} that this version of equiptwin no longer has "
            f"(it knows {sorted(known)}). {_FIX}"
        )
    model = cls(**card.hyperparameters)
    model.restore(booster, list(card.features), extras["model"])
    if card.calibrator is None:
        return model, card
    calibrated = CALIBRATORS[card.calibrator](estimator=model, **(card.calibration or {}))
    calibrated.restore(model, extras["calibration"])
    return calibrated, card
