from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from equiptwin.sim.spec import FleetSpec, SystemSpec, draw_systems
from equiptwin.sim.workload import PROTOCOLS, draw_bookings, draw_exposures

SPEC = FleetSpec(n_systems=6, days=56, seed=2, start=dt.date(2026, 1, 5), booking_days=21)
SYSTEMS = draw_systems(SPEC, np.random.default_rng(0))


@pytest.mark.parametrize("system", SYSTEMS, ids=[s.system_id for s in SYSTEMS])
def test_bookings_and_exposures_are_consistent(system: SystemSpec) -> None:
    rng = np.random.default_rng(system.index)
    bookings = draw_bookings(system, SPEC, rng)
    assert (np.diff(bookings.day) >= 0).all()
    assert bookings.day.max() >= SPEC.days + SPEC.booking_days - 3
    weekday = np.array([(SPEC.start + dt.timedelta(days=int(d))).weekday() for d in bookings.day])
    per_day = np.bincount(bookings.day, minlength=SPEC.days + SPEC.booking_days)
    days = np.arange(len(per_day))
    is_weekend = np.array([(SPEC.start + dt.timedelta(days=int(d))).weekday() >= 5 for d in days])
    assert per_day[is_weekend].mean() < per_day[~is_weekend].mean()
    assert len(weekday) == len(bookings)
    exposures = draw_exposures(system, bookings, SPEC.days, rng)
    if system.modality == "MR":
        assert len(exposures.day) == 0
        return
    assert (exposures.day < SPEC.days).all()
    order = np.lexsort((exposures.at_s, exposures.day))
    assert (order == np.arange(len(order))).all()
    assert not bookings.no_show[exposures.booking].any()
    assert (exposures.energy_j > 0).all()
    series = np.bincount(exposures.booking)
    protocols = PROTOCOLS[system.modality]
    for b in np.flatnonzero(series).tolist():
        lo, hi = protocols[int(bookings.protocol[b])].series
        if system.modality == "XR":  # one row per exam, its views summed
            assert series[b] == 1
        else:
            assert lo <= series[b] <= hi
