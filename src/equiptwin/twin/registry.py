"""The degradation models by component, and a fleet-wide scale of their wear rates.

``wear_scale`` multiplies every wear rate (and the sudden-failure hazard) of a model: 1 is
the published-prior calibration of each model's docstring; the simulator's sample fleet
ages 8 times faster so a year of logs holds enough failures to learn from, and the twin
that watches such a fleet must be told the same (setting ``twin.wear_scale``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from equiptwin.twin.base import DegradationModel
from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.xray_tube import RADIOGRAPHY_REFERENCE, XrayTubeModel

M = TypeVar("M", bound=DegradationModel)

MODELS: Mapping[str, type[DegradationModel]] = {
    "xray_tube": XrayTubeModel,
    "coldhead": ColdheadModel,
}

WEAR_RATES: Mapping[str, tuple[str, ...]] = {
    "xray_tube": (
        "filament_loss_per_day",
        "vacuum_damage_per_day",
        "bearing_wear_per_day",
        "anode_wear_per_day",
        "sudden_failure_per_day",
    ),
    "coldhead": ("wear_per_day", "sudden_failure_per_day"),
}


def scaled_model(cls: type[M], wear_scale: float, **parameters: float) -> M:
    """Return the model ``cls`` with its wear rates multiplied by ``wear_scale``.

    Parameters
    ----------
    cls : type
        A degradation model class.
    wear_scale : float
        Factor on every parameter of :data:`WEAR_RATES` for the model's component.
    **parameters : float
        Further overrides (a radiography tube's reference day).

    Returns
    -------
    DegradationModel
        A new model instance.
    """
    if not wear_scale > 0:
        raise ValueError(f"`wear_scale` must be positive, but found {wear_scale!r}")
    overrides = {k: cls.default_parameters[k] * wear_scale for k in WEAR_RATES[cls.component]}
    return cls(**overrides, **parameters)


def tube_model(modality: str, wear_scale: float = 1.0) -> XrayTubeModel:
    """Return the X-ray tube model of a modality, scaled.

    A radiography (``XR``) tube wears against its own reference day and reads its
    filament current at its own reference mA
    (:data:`~equiptwin.twin.xray_tube.RADIOGRAPHY_REFERENCE`); CT tubes use the defaults.
    The simulator, the twin and the daily aggregates all take the tube from here.
    """
    reference = RADIOGRAPHY_REFERENCE if modality == "XR" else {}
    return scaled_model(XrayTubeModel, wear_scale, **reference)


def component_model(component: str, modality: str, wear_scale: float = 1.0) -> DegradationModel:
    """Return the model of a system's ``component`` (``xray_tube`` or ``coldhead``), scaled.

    A radiography (``XR``) tube is :func:`tube_model`'s.

    Raises
    ------
    KeyError
        For an unknown component.
    """
    try:
        cls = MODELS[component]
    except KeyError:
        known = list(MODELS)
        raise KeyError(
            f"no degradation model for component {component!r}; known: {known}"
        ) from None
    if cls is XrayTubeModel:
        return tube_model(modality, wear_scale)
    return scaled_model(cls, wear_scale)
