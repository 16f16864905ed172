"""MR systems: the twin's cold head under scan hours, chiller faults and helium fills.

The daily state comes from :mod:`equiptwin.sim.lifecycle`; this module adds the site's
helium fills (a fill when the level runs low), chiller-fault days, the console's
cryogenics warnings and the 10-minute telemetry records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from equiptwin.sim.lifecycle import LifePolicy, Trace, run_lives
from equiptwin.sim.localtime import LocalDay
from equiptwin.sim.signals import Signals
from equiptwin.sim.workload import Bookings
from equiptwin.twin.coldhead import ColdheadModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

COLDHEAD_POLICY = LifePolicy(
    attentive_share=0.5,
    act_below_health=(0.08, 0.25),
    lead_days=(3, 14),
    service_age_days=(730, 1100),
    downtime_days=(2, 6),
)

FILL_BELOW_PCT = (62.0, 68.0)  # the site orders helium when the level falls into this band
FILL_TO_PCT = (86.0, 92.0)
HE_LOW_PCT = 65.0  # 7140
STAGE2_HIGH_K = 4.45  # 7110
PRESSURE_HIGH_PSI = 2.0  # 7130
CHILLER_FAULT_PER_DAY = 1.0 / 75.0
TELEMETRY_STEP_S = 600


@dataclass(frozen=True)
class ColdheadRun:
    """A cold head trace with the site's fills and chiller-fault days."""

    trace: Trace
    chiller_fault: BoolArray
    fill_l: FloatArray


def scan_hours(bookings: Bookings, days: int) -> tuple[FloatArray, IntArray]:
    """Return each booking's scan hours (0 for no-shows) and the per-day bounds."""
    hours = np.where(bookings.no_show, 0.0, bookings.duration_min / 60.0)
    bounds = np.searchsorted(bookings.day, np.arange(days + 1)).astype(np.int64)
    return hours, bounds


def back_to_back(start_s: FloatArray, duration_s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return when exams booked at ``start_s`` (sorted) actually run on one scanner.

    Bookings overlap (patients arrive at random); the scanner takes them in turn, each
    starting at its booked time or when the one before ends, whichever is later. The
    scanning time is the sum of the durations, as the cold head's ``scan_h`` counts it.

    Returns
    -------
    start_s, end_s : ndarray of float
        Each exam's actual start and end, seconds since local midnight.
    """
    done = np.cumsum(duration_s)
    end: FloatArray = done + np.maximum.accumulate(start_s - (done - duration_s))
    return end - duration_s, end


def run_coldhead(
    model: ColdheadModel,
    bookings: Bookings,
    days: int,
    age_days: int,
    rng: np.random.Generator,
) -> ColdheadRun:
    """Run the cold head lives of one MR system through its bookings."""
    hours, bounds = scan_hours(bookings, days)
    chiller = rng.uniform(size=days) < CHILLER_FAULT_PER_DAY
    chiller[1:] |= chiller[:-1] & (rng.uniform(size=days - 1) < 0.4)  # faults last 1-2 days
    fills = np.zeros(days)
    decided: dict[int, float] = {}
    level_col = model.states.index("he_level_pct")
    volume_l = model.parameters["he_volume_l"]
    fill_at = {"due": -1}
    threshold = float(rng.uniform(*FILL_BELOW_PCT))

    def inputs_of_day(d: int, cutoff_s: float, x: FloatArray) -> FloatArray:
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        ends = bookings.start_s[lo:hi] + bookings.duration_min[lo:hi] * 60.0
        scan_h = (
            float(hours[lo:hi][ends <= cutoff_s].sum())
            if cutoff_s < math.inf
            else float(hours[lo:hi].sum())
        )
        if d not in decided:
            level = float(x[level_col])
            fill = 0.0
            if fill_at["due"] < 0 and level < threshold:
                fill_at["due"] = d + int(rng.integers(1, 6))
            if fill_at["due"] == d:
                fill = (float(rng.uniform(*FILL_TO_PCT)) - level) / 100.0 * volume_l
                fill_at["due"] = -1
            decided[d] = max(fill, 0.0)
            fills[d] = decided[d]
        return np.array([scan_h, float(chiller[d]), decided[d]])

    typical_week = np.array([[10.0, 0.0, 0.0]] * 5 + [[3.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    trace = run_lives(
        model,
        days=days,
        inputs_of_day=inputs_of_day,
        typical_week=typical_week,
        age_days=age_days,
        policy=COLDHEAD_POLICY,
        failure_time_s=lambda d: float(rng.uniform(0, 86000)),
        rng=rng,
        carry=("he_level_pct",),
    )
    # Fills decided on days the system was down never happened.
    fills[trace.life_of_day < 0] = 0.0
    return ColdheadRun(trace, chiller, fills)


def coldhead_signals(
    model: ColdheadModel, run: ColdheadRun, rng: np.random.Generator
) -> tuple[Signals, dict[int, list[tuple[float, float]]]]:
    """Return the cryogenics events and, per day, the compressor-off intervals."""
    sig = Signals()
    off: dict[int, list[tuple[float, float]]] = {}
    out = run.trace.outputs
    col = {name: i for i, name in enumerate(model.outputs)}
    for d in np.flatnonzero(run.trace.life_of_day >= 0).tolist():
        trips = int(np.nan_to_num(out[d, col["compressor_trips"]]))
        for _ in range(trips):
            t0 = float(rng.uniform(0, 80000))
            t1 = t0 + float(rng.uniform(600, 2400))
            sig.add(d, t0, 7120)
            sig.add(d, t1, 7121)
            off.setdefault(d, []).append((t0, t1))
        stage2 = float(out[d, col["stage2_k"]])
        if stage2 > STAGE2_HIGH_K:
            for t in np.sort(rng.uniform(0, 86000, size=int(rng.integers(1, 6)))).tolist():
                sig.add(d, t, 7110, (("stage2_k", f"{stage2 + rng.normal(0, 0.02):.2f}"),))
        pressure = float(out[d, col["he_pressure_psi"]])
        if pressure > PRESSURE_HIGH_PSI:
            sig.add(d, float(rng.uniform(0, 86000)), 7130, (("pressure_psi", f"{pressure:.2f}"),))
        level = float(out[d, col["he_level_pct"]])
        if level < HE_LOW_PCT:
            sig.add(d, float(rng.uniform(21600, 30000)), 7140, (("he_pct", f"{level:.1f}"),))
        if run.chiller_fault[d]:
            sig.add(
                d, float(rng.uniform(0, 40000)), 6100, (("flow_lpm", f"{rng.uniform(3, 5.5):.1f}"),)
            )
            sig.add(
                d,
                float(rng.uniform(40000, 80000)),
                6200,
                (("water_c", f"{rng.uniform(23, 27):.1f}"),),
            )
    for life in run.trace.lives:
        if life.end_reason == "failure" and life.ended_day is not None:
            sig.add(life.ended_day, life.failure_at_s, 7199)
    return sig, off


def telemetry_lines(
    system_id: str,
    day: LocalDay,
    d: int,
    model: ColdheadModel,
    run: ColdheadRun,
    compressor_off: list[tuple[float, float]],
    scanning: FloatArray,
    rng: np.random.Generator,
) -> list[str]:
    """Return one day's cryogenics JSON lines, one per 10 minutes, with sensor dropouts.

    ``scanning`` holds ``(start_s, end_s)`` rows of the day's exams as the scanner ran
    them (:func:`back_to_back`), which warm the gradient coil.
    """
    t = np.arange(0.0, day.length_s, TELEMETRY_STEP_S)
    n = len(t)
    trace = run.trace
    col = {name: i for i, name in enumerate(model.outputs)}
    # The level falls through the day by the day's boil-off; its daily mean is the twin's
    # he_level_pct indicator (how the features read the telemetry).
    boil_pct = trace.outputs[d, col["boil_off_l_per_day"]] * 100.0 / model.parameters["he_volume_l"]
    level = trace.outputs[d, col["he_level_pct"]] + max(boil_pct, 0.0) * (0.5 - t / day.length_s)
    stage2 = trace.outputs[d, col["stage2_k"]] + 0.015 * rng.standard_normal(n)
    on = np.ones(n, dtype=bool)
    for t0, t1 in compressor_off:
        on &= ~((t >= t0) & (t < t1))
    stage2 = stage2 + np.where(on, 0.0, 0.35)
    wear = trace.states[d, model.states.index("coldhead_wear")]
    busy = np.zeros(n, dtype=bool)
    for s0, s1 in scanning.tolist():
        busy |= (t >= s0) & (t < s1)
    fault = bool(run.chiller_fault[d])
    fields: dict[str, FloatArray] = {
        "he_level_pct": np.round(level + 0.15 * rng.standard_normal(n), 1),
        "he_pressure_psi": np.round(
            trace.outputs[d, col["he_pressure_psi"]] + 0.02 * rng.standard_normal(n), 2
        ),
        "coldhead_stage1_k": np.round(38.0 + 8.0 * wear + 0.6 * rng.standard_normal(n), 1),
        "coldhead_stage2_k": np.round(stage2, 2),
        "water_temp_c": np.round((24.5 if fault else 18.0) + 0.3 * rng.standard_normal(n), 1),
        "water_flow_lpm": np.round((4.8 if fault else 8.0) + 0.15 * rng.standard_normal(n), 1),
        "grad_coil_temp_c": np.round(24.0 + 9.0 * busy + 0.5 * rng.standard_normal(n), 1),
    }
    stamps = day.iso_seconds(t)
    dropout = rng.uniform(size=(n, len(fields) + 1))
    keys = list(fields)
    values = {k: v.tolist() for k, v in fields.items()}
    on_list = on.tolist()
    lines = []
    for i in range(n):
        parts = [f'"ts": "{stamps[i]}"', f'"system_id": "{system_id}"']
        for j, k in enumerate(keys):
            r = dropout[i, j]
            if r < 0.004:
                continue  # field missing
            parts.append(f'"{k}": null' if r < 0.012 else f'"{k}": {values[k][i]}')
            if k == "coldhead_stage2_k":
                r2 = dropout[i, -1]
                if r2 >= 0.004:
                    state = "null" if r2 < 0.008 else ("true" if on_list[i] else "false")
                    parts.append(f'"compressor_on": {state}')
        lines.append("{" + ", ".join(parts) + "}")
    return lines
