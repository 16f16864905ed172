"""The simulated tube: what it wore from is what its exposure records say."""

from __future__ import annotations

import numpy as np

from equiptwin.sim.tube import aec_exposures, run_tube
from equiptwin.sim.workload import Exposures
from equiptwin.twin.registry import tube_model


def _exposures(days: int, per_day: int, rng: np.random.Generator) -> Exposures:
    n = days * per_day
    return Exposures(
        booking=np.arange(n),
        day=np.repeat(np.arange(days), per_day),
        at_s=np.tile(np.linspace(8 * 3600.0, 17 * 3600.0, per_day), days),
        protocol=np.zeros(n, dtype=np.int64),
        kvp=np.full(n, 80, dtype=np.int64),
        ma=np.full(n, 400.0),
        exposure_s=rng.uniform(0.02, 0.2, n),
    )


def test_aec_records_the_exposures_the_tube_wore_from() -> None:
    rng = np.random.default_rng(8)
    model = tube_model("XR", wear_scale=40.0)
    planned = _exposures(300, 60, rng)
    trace = run_tube(model, planned, 300, 3000, rng)
    recorded = aec_exposures(model, planned, trace)
    stretch = recorded.exposure_s / planned.exposure_s
    assert stretch.min() >= 1.0 and stretch.max() > 1.05  # worn anodes expose longer
    scan_s = np.bincount(recorded.day, weights=recorded.exposure_s, minlength=300)
    whole_days = (trace.life_of_day >= 0) & np.isinf(trace.cutoff_s)
    whole_days[0] = False  # read at the day's end state: the start state is not kept
    np.testing.assert_allclose(trace.inputs[whole_days, 1], scan_s[whole_days])
    first_days = np.flatnonzero(np.diff(trace.life_of_day) > 0) + 1
    assert first_days.size  # a replacement happened: the new tube is not stretched
    for d in first_days:
        if trace.life_of_day[d] >= 0:
            assert np.all(stretch[recorded.day == d] == 1.0)
