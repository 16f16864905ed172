"""X-ray tube systems (CT, XR): the twin's tube under the day's exams, seen exam by exam.

The tube's hidden state moves one day at a time (:mod:`equiptwin.sim.lifecycle`); each
exposure row then gets what the tube controller measures (filament current for its mA,
housing-oil temperature after the exam, anode coast-down), and the console logs the
warnings a real one would: arcs, filament tolerance, slow rotor, hot housing, failure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from equiptwin.sim.lifecycle import LifePolicy, Trace, run_lives
from equiptwin.sim.signals import Signals
from equiptwin.sim.workload import Exposures
from equiptwin.twin.xray_tube import XrayTubeModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TUBE_POLICY = LifePolicy(
    attentive_share=0.45,
    act_below_health=(0.04, 0.15),
    lead_days=(2, 12),
    service_age_days=None,
    downtime_days=(1, 3),
)

# Console limits (equiptwin's choices for the fictitious vendors).
FILAMENT_TOLERANCE = 0.045  # 2310 when the needed current exceeds nominal by this share
EMISSION_ERROR = 0.07  # 2311 beyond this share
RUNUP_LIMIT_S = 12.0  # 2320
COASTDOWN_LIMIT_S = 50.0  # 2321
OIL_LIMIT_C = 55.0  # 2330 + 2331
ABORT_ARCS = 3  # 2302 (exposure aborted) when one exposure has this many arcs
COASTDOWN_MEASURED_SHARE = 0.4


@dataclass(frozen=True)
class TubeReadings:
    """What the tube controller recorded for each performed exposure row.

    ``rows`` indexes :class:`~equiptwin.sim.workload.Exposures`; ``coastdown_s`` is NaN
    when not measured.
    """

    rows: IntArray
    filament_a: FloatArray
    oil_c: FloatArray
    coastdown_s: FloatArray


def _day_bounds(day: IntArray, days: int) -> IntArray:
    return np.searchsorted(day, np.arange(days + 1)).astype(np.int64)


def run_tube(
    model: XrayTubeModel,
    exposures: Exposures,
    days: int,
    age_days: int,
    rng: np.random.Generator,
) -> Trace:
    """Run the tube lives of one system through its exposures.

    Parameters
    ----------
    model : XrayTubeModel
        The tube twin (with any wear scaling applied).
    exposures : Exposures
        Every exposure the system would make if nothing failed, in time order.
    days : int
        Number of log days.
    age_days : int
        Age of the tube on the first day.
    rng : numpy.random.Generator
        Source of every draw.

    Returns
    -------
    Trace
    """
    bounds = _day_bounds(exposures.day, days)
    energy = exposures.energy_j

    anode = model.states.index("anode_wear")

    def inputs_of_day(d: int, cutoff_s: float, x: FloatArray) -> FloatArray:
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        if cutoff_s < math.inf:
            hi = lo + int(np.searchsorted(exposures.at_s[lo:hi], cutoff_s))
        if hi <= lo:
            return np.zeros(4)
        stretch = float(model.exposure_stretch(x[anode])) if x.size else 1.0
        return np.array(
            [
                float(hi - lo),
                float(exposures.exposure_s[lo:hi].sum()) * stretch,
                float(energy[lo:hi].sum()) * stretch,
                float(exposures.ma[lo:hi].mean()),
            ]
        )

    first = [inputs_of_day(d, math.inf, np.zeros(0)) for d in range(min(days, 7))]
    typical_week = np.array(first) if first else np.zeros((1, 4))

    def failure_time_s(d: int) -> float:
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        if hi > lo:
            return float(exposures.at_s[int(rng.integers(lo, hi))] + 1.0)
        return float(rng.uniform(8 * 3600, 17 * 3600))

    return run_lives(
        model,
        days=days,
        inputs_of_day=inputs_of_day,
        typical_week=typical_week,
        age_days=age_days,
        policy=TUBE_POLICY,
        failure_time_s=failure_time_s,
        rng=rng,
    )


def aec_exposures(model: XrayTubeModel, exposures: Exposures, trace: Trace) -> Exposures:
    """Return the exposures as recorded: AEC lengthens each for the anode's lost output.

    Each day's exposures are stretched by the anode wear at the start of that day, as
    :func:`run_tube` fed them to the tube (a new tube's first day is not stretched).
    """
    anode = trace.states[:, model.states.index("anode_wear")]
    same_life = np.r_[True, trace.life_of_day[1:] == trace.life_of_day[:-1]]
    # the first day's start state is not kept: its end state is a day's wear from it
    at_start = np.where(same_life, np.r_[anode[:1], anode[:-1]], 0.0)
    stretch = model.exposure_stretch(np.nan_to_num(at_start))[exposures.day]
    return replace(exposures, exposure_s=exposures.exposure_s * stretch)


def performed_rows(exposures: Exposures, trace: Trace) -> IntArray:
    """Return the exposure rows that happened (system up, before any failure that day)."""
    day = exposures.day
    up = trace.life_of_day[day] >= 0
    return np.flatnonzero(up & (exposures.at_s < trace.cutoff_s[day])).astype(np.int64)


def read_tube(
    model: XrayTubeModel, exposures: Exposures, trace: Trace, rng: np.random.Generator
) -> TubeReadings:
    """Return the controller's readings for every performed exposure row."""
    rows = performed_rows(exposures, trace)
    day = exposures.day[rows]
    state = trace.states[day]
    col = model.states.index
    loss, anode = state[:, col("filament_loss")], state[:, col("anode_wear")]
    bearing = state[:, col("bearing_wear")]
    ma = exposures.ma[rows]
    filament = model.filament_current_a(ma, loss) * (1.0 + 0.004 * rng.standard_normal(len(rows)))
    oil = _oil_after_exams(model, exposures, rows, anode) + 0.4 * rng.standard_normal(len(rows))
    measured = rng.uniform(size=len(rows)) < COASTDOWN_MEASURED_SHARE
    coast = model.coastdown_s(bearing) + 1.5 * rng.standard_normal(len(rows))
    return TubeReadings(
        rows=rows,
        filament_a=np.round(filament, 3),
        oil_c=np.round(oil, 1),
        coastdown_s=np.where(measured, np.round(coast, 1), np.nan),
    )


def _oil_after_exams(
    model: XrayTubeModel, exposures: Exposures, rows: IntArray, anode_wear: FloatArray
) -> FloatArray:
    """Housing-oil temperature after each exam: heat in per exam, cooling in between.

    The shape within a day follows the twin's exam-by-exam recursion
    (:meth:`XrayTubeModel.oil_temp_after_exam_c`, solved in closed form: it is linear);
    its level is moved so that the day's mean is the twin's steady temperature under the
    day's mean power (:meth:`XrayTubeModel.oil_temp_c`), which is how the twin reads the
    daily ``oil_c`` indicator.
    """
    p = model.parameters
    ambient, tau = p["ambient_c"], p["oil_tau_s"]
    energy = exposures.energy_j[rows]
    heat = model.oil_temp_after_exam_c(ambient, energy, 0.0, anode_wear) - ambient
    day = exposures.day[rows]
    at = exposures.at_s[rows]
    out = np.empty(len(rows))
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]]) if len(rows) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(rows)]
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        t = (at[lo:hi] - at[lo]) / tau
        shape = np.exp(-t) * np.cumsum(heat[lo:hi] * np.exp(t))
        steady = model.oil_temp_c(energy[lo:hi].sum() / p["duty_s"], anode_wear[lo])
        out[lo:hi] = steady + shape - shape.mean()
    return out


def tube_signals(
    model: XrayTubeModel,
    exposures: Exposures,
    readings: TubeReadings,
    trace: Trace,
    rng: np.random.Generator,
) -> Signals:
    """Return the tube's warning and failure events for the event log."""
    sig = Signals()
    rows = readings.rows
    day = exposures.day[rows]
    at = exposures.at_s[rows]
    kv = exposures.kvp[rows]
    ma = exposures.ma[rows]
    # Arcs: the day's observed arc count, spread over that day's exposures.
    arc_count = np.nan_to_num(trace.outputs[:, model.outputs.index("arc_count")]).astype(np.int64)
    bounds = _day_bounds(day, len(arc_count))
    for d in np.flatnonzero(arc_count > 0).tolist():
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        if hi <= lo:
            continue
        hit = rng.integers(lo, hi, size=int(arc_count[d]))
        for r, k in zip(*np.unique(hit, return_counts=True), strict=True):
            base = float(at[r])
            params = (("kv", str(kv[r])), ("ma", _num(ma[r])))
            for j in range(int(k)):  # every arc is logged: 2301 lines count the arcs
                sig.add(d, base + 0.4 * j + float(rng.uniform(0, 0.3)), 2301, params)
            if k >= ABORT_ARCS:
                sig.add(d, base + 1.5, 2302, (*params, ("arcs", str(k))))
    nominal = model.filament_current_a(ma, 0.0)
    excess = readings.filament_a / nominal - 1.0
    for r in np.flatnonzero(excess > FILAMENT_TOLERANCE).tolist():
        sig.add(
            int(day[r]),
            float(at[r]) - 2.0,
            2310,
            (("filament_a", f"{readings.filament_a[r]:.3f}"), ("nominal_a", f"{nominal[r]:.3f}")),
        )
        if excess[r] > EMISSION_ERROR:
            act = ma[r] * (1.0 - float(rng.uniform(0.05, 0.15)))
            sig.add(
                int(day[r]),
                float(at[r]) - 1.0,
                2311,
                (("ma_set", _num(ma[r])), ("ma_act", f"{act:.0f}")),
            )
    bearing = trace.states[day, model.states.index("bearing_wear")]
    runup = model.runup_s(bearing) * (1.0 + 0.05 * rng.standard_normal(len(rows)))
    for r in np.flatnonzero(runup > RUNUP_LIMIT_S).tolist():
        sig.add(int(day[r]), float(at[r]) - 10.0, 2320, (("accel_s", f"{runup[r]:.1f}"),))
    coast = readings.coastdown_s
    for r in np.flatnonzero(coast < COASTDOWN_LIMIT_S).tolist():
        sig.add(int(day[r]), float(at[r]) + 95.0, 2321, (("coastdown_s", f"{coast[r]:.1f}"),))
    for r in np.flatnonzero(readings.oil_c > OIL_LIMIT_C).tolist():
        sig.add(int(day[r]), float(at[r]) + 5.0, 2330, (("oil_c", f"{readings.oil_c[r]:.1f}"),))
        sig.add(
            int(day[r]), float(at[r]) + 6.0, 2331, (("wait_s", str(int(rng.integers(30, 300)))),)
        )
    for life in trace.lives:
        if life.end_reason == "failure" and life.ended_day is not None:
            sig.add(life.ended_day, life.failure_at_s, 2399, (("mode", life.failure_mode),))
            sig.add(life.ended_day, life.failure_at_s + float(rng.uniform(120, 900)), 1001)
    return sig


def _num(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
