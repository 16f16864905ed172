"""Fixtures for the twin tests: the models and reference workloads."""

from __future__ import annotations

import numpy as np
import pytest

from equiptwin.twin.base import DegradationModel, FloatArray
from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.xray_tube import XrayTubeModel

MODELS = [XrayTubeModel, ColdheadModel]


def reference_day(model: DegradationModel, scale: float = 1.0) -> FloatArray:
    """One working day of the model's reference workload, scaled."""
    if isinstance(model, XrayTubeModel):
        return np.array([60.0 * scale, 500.0 * scale, 1.5e7 * scale, 250.0])
    return np.array([10.0 * scale, 0.0, 0.0])


def weekly_workload(model: DegradationModel, days: int, scale: float = 1.0) -> FloatArray:
    """Five working days a week of the reference day, ``(days, n_inputs)``."""
    w = np.zeros((days, len(model.inputs)))
    w[(np.arange(days) % 7) < 5] = reference_day(model, scale)
    return w


@pytest.fixture(params=MODELS, ids=lambda c: c.component)
def model(request: pytest.FixtureRequest) -> DegradationModel:
    cls: type[DegradationModel] = request.param
    return cls()
