"""CMMS work orders: component replacements, helium fills and the unrelated rest.

Every component life that ends in the log period leaves a replacement work order: a
``corrective`` one with ``failure=yes`` after a failure, a ``preventive`` one otherwise.
Helium fills, inspections and repairs of other parts (some of them ``failure=yes`` on
components equiptwin does not track) fill out a realistic export.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from equiptwin.sim.lifecycle import Trace
from equiptwin.sim.localtime import LocalDay
from equiptwin.sim.spec import FleetSpec, SystemSpec

# (kind, component, action, failure, downtime hours range, note) of unrelated work.
_UNRELATED = {
    "CT": (
        (
            "corrective",
            "detector",
            "repaired",
            "yes",
            (2, 10),
            "Detector module ring artefact; module swapped",
        ),
        ("corrective", "generator", "adjusted", "no", (1, 3), "kV calibration drift; recalibrated"),
        ("corrective", "other", "repaired", "yes", (1, 6), "Patient table drive fault"),
        ("inspection", "other", "inspected", "no", (2, 4), "Annual safety inspection"),
    ),
    "XR": (
        (
            "corrective",
            "detector",
            "repaired",
            "yes",
            (1, 8),
            "Flat panel not detected; cable reseated",
        ),
        (
            "corrective",
            "generator",
            "repaired",
            "yes",
            (2, 8),
            "HV cable connector arcing; replaced connector",
        ),
        ("inspection", "other", "inspected", "no", (1, 3), "Annual constancy test"),
    ),
    "MR": (
        ("corrective", "compressor", "repaired", "yes", (3, 12), "Compressor adsorber replaced"),
        (
            "corrective",
            "gradient_amp",
            "repaired",
            "yes",
            (4, 16),
            "Gradient amplifier board swapped",
        ),
        (
            "corrective",
            "rf_amp",
            "adjusted",
            "no",
            (1, 4),
            "RF amplifier tuned after reflected power warnings",
        ),
        ("inspection", "other", "inspected", "no", (2, 6), "Quarterly cryogen inspection"),
    ),
}
_UNRELATED_PER_YEAR = 5.0


@dataclass(frozen=True)
class WorkOrder:
    """One CMMS row before the fleet-wide work-order number is assigned.

    ``sort_key`` (UTC seconds when opened) orders the export.
    """

    sort_key: float
    system_id: str
    opened_at: str
    closed_at: str
    kind: str
    component: str
    action: str
    failure: str
    downtime_h: str
    notes: str


def _stamp(spec: FleetSpec, system: SystemSpec, day: int, at_s: float) -> tuple[float, str]:
    local = LocalDay.of(spec.start + dt.timedelta(days=day), system.timezone)
    at = np.array([min(max(at_s, 0.0), local.length_s - 1.0)])
    return float(local.utc_s(at)[0]), local.iso_seconds(at)[0]


def _order(
    spec: FleetSpec,
    system: SystemSpec,
    opened: tuple[int, float],
    closed: tuple[int, float],
    kind: str,
    component: str,
    action: str,
    failure: str,
    notes: str,
) -> WorkOrder:
    t0, open_text = _stamp(spec, system, *opened)
    t1, close_text = _stamp(spec, system, *closed)
    return WorkOrder(
        t0,
        system.system_id,
        open_text,
        close_text,
        kind,
        component,
        action,
        failure,
        f"{(t1 - t0) / 3600.0:.1f}",
        notes,
    )


def component_orders(
    spec: FleetSpec, system: SystemSpec, trace: Trace, rng: np.random.Generator
) -> list[WorkOrder]:
    """Return the replacement work orders of every life that ended in the log period.

    A failure late in the period closes its work order after the last log day. The CMMS
    history reaches further back than the logs: the work order that installed the
    component in service when the logs begin is exported too (when it was not the
    system's original component), so its installation date is known.
    """
    orders = []
    lives = trace.lives
    what = "tube" if system.component == "xray_tube" else "cold head"
    original_days = (spec.start - system.installed_on).days
    if system.component_age_days < original_days:
        installed = -system.component_age_days
        orders.append(
            _order(
                spec,
                system,
                (installed - 1, 20.0 * 3600.0),
                (installed, 3.0 * 3600.0),
                "preventive",
                system.component,
                "replaced",
                "no",
                f"New {what} installed",
            )
        )
    for life in lives:
        if life.ended_day is None or life.replaced_day is None:
            continue
        if life.end_reason == "failure":
            orders.append(
                _order(
                    spec,
                    system,
                    (life.ended_day, life.failure_at_s + 600.0),
                    (life.replaced_day, float(rng.uniform(6.5, 9.0)) * 3600.0),
                    "corrective",
                    system.component,
                    "replaced",
                    "yes",
                    f"{what.capitalize()} failed ({life.failure_mode.replace('_', ' ')}); "
                    f"new {what} installed",
                )
            )
        else:
            orders.append(
                _order(
                    spec,
                    system,
                    (life.ended_day - 1, float(rng.uniform(19.5, 21.0)) * 3600.0),
                    (life.ended_day, float(rng.uniform(2.0, 5.5)) * 3600.0),
                    "preventive",
                    system.component,
                    "replaced",
                    "no",
                    f"Planned {what} replacement",
                )
            )
    return orders


def helium_orders(
    spec: FleetSpec, system: SystemSpec, fill_l: np.ndarray, rng: np.random.Generator
) -> list[WorkOrder]:
    """Return one ``helium_fill`` work order per fill day; the notes carry the litres."""
    orders = []
    for d in np.flatnonzero(fill_l > 0).tolist():
        start = float(rng.uniform(8.0, 11.0)) * 3600.0
        orders.append(
            _order(
                spec,
                system,
                (d, start),
                (d, start + float(rng.uniform(1.5, 3.0)) * 3600.0),
                "helium_fill",
                "other",
                "refilled",
                "no",
                f"Liquid helium top-up {fill_l[d]:.0f} L",
            )
        )
    return orders


def unrelated_orders(
    spec: FleetSpec, system: SystemSpec, rng: np.random.Generator
) -> list[WorkOrder]:
    """Return the work orders on parts equiptwin does not track, and inspections."""
    catalogue = _UNRELATED[system.modality]
    count = int(rng.poisson(_UNRELATED_PER_YEAR * spec.days / 365.0))
    orders = []
    for d in np.sort(rng.integers(0, spec.days, size=count)).tolist():
        kind, component, action, failure, hours, notes = catalogue[
            int(rng.integers(len(catalogue)))
        ]
        start = float(rng.uniform(8.0, 15.0)) * 3600.0
        length = float(rng.uniform(*hours)) * 3600.0
        end_day, end_s = d, start + length
        while end_s >= 86000.0:
            end_day, end_s = end_day + 1, end_s - 86400.0 + 8 * 3600.0
        orders.append(
            _order(
                spec, system, (d, start), (end_day, end_s), kind, component, action, failure, notes
            )
        )
    return orders
