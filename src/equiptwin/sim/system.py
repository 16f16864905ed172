"""One imaging system from bookings to files: the unit of work of the fleet simulator.

:func:`simulate_system` draws the system's bookings and exams, runs its component through
the twin, and writes its event logs, exposure records and cryogenics telemetry. It
returns the small tables the fleet writes once (work orders, bookings, truth). Its only
randomness is the :class:`numpy.random.SeedSequence` it is given, so systems can run in
any process and order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from equiptwin.formats import EXPOSURE_COLUMNS
from equiptwin.sim.cmms import WorkOrder, component_orders, helium_orders, unrelated_orders
from equiptwin.sim.console import write_event_logs
from equiptwin.sim.lifecycle import Trace
from equiptwin.sim.localtime import LocalDay
from equiptwin.sim.mr import (
    ColdheadRun,
    back_to_back,
    coldhead_signals,
    run_coldhead,
    telemetry_lines,
)
from equiptwin.sim.schedule import Booked, appointment_id, export_rows
from equiptwin.sim.spec import FleetSpec, SystemSpec
from equiptwin.sim.tube import TubeReadings, aec_exposures, read_tube, run_tube, tube_signals
from equiptwin.sim.workload import PROTOCOLS, Bookings, Exposures, draw_bookings, draw_exposures
from equiptwin.sim.writers import GZIP_LEVEL, MISSING_DAY_P, write_bytes
from equiptwin.twin.base import DegradationModel
from equiptwin.twin.coldhead import ColdheadModel
from equiptwin.twin.registry import scaled_model, tube_model

FloatArray = npt.NDArray[np.float64]

# Wear rates the wear scale multiplies (time compression of component lives).


@dataclass(frozen=True)
class SystemResult:
    """What a simulated system hands back to the fleet.

    Parameters
    ----------
    system : SystemSpec
        The system.
    component_installed_on : datetime.date
        Installation date of the component in service on the last log day.
    orders : list of WorkOrder
        Its CMMS rows.
    booked : list of Booked
        Its rows of the schedule export.
    lives : list of dict
        Truth: one row per component life.
    daily : dict of str to list
        Truth: one row per day the component ran (columns as keys).
    files, bytes_written, event_lines : int
        Output counts for the summary.
    """

    system: SystemSpec
    component_installed_on: dt.date
    orders: list[WorkOrder]
    booked: list[Booked]
    lives: list[dict[str, object]]
    daily: dict[str, list[object]]
    files: int
    bytes_written: int
    event_lines: int


class _Out:
    """Writes a system's files at the volume's gzip level and counts them."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.files = 0
        self.bytes = 0
        self.lines = 0

    def write(self, path: Path, data: bytes, gz: bool) -> None:
        written = write_bytes(path, data, gz=gz, level=self.level)
        self.files += 1
        self.bytes += len(data) if not gz else written.stat().st_size


def simulate_system(
    spec: FleetSpec, system: SystemSpec, seed: np.random.SeedSequence, out_dir: Path
) -> SystemResult:
    """Simulate one system and write its per-system files under ``out_dir``.

    Parameters
    ----------
    spec : FleetSpec
        The checked fleet arguments.
    system : SystemSpec
        The system to simulate.
    seed : numpy.random.SeedSequence
        The system's own random stream.
    out_dir : Path
        The fleet directory.

    Returns
    -------
    SystemResult
    """
    r_work, r_phys, r_read, r_events, r_wrinkle, r_cmms = (
        np.random.default_rng(s) for s in seed.spawn(6)
    )
    bookings = draw_bookings(system, spec, r_work)
    out = _Out(GZIP_LEVEL[spec.volume])
    fill_l = np.zeros(spec.days)
    model: DegradationModel
    if system.component == "xray_tube":
        # Radiography tubes wear against their own reference day (counted in exposures).
        model = tube = tube_model(system.modality, spec.wear_scale)
        exposures = draw_exposures(system, bookings, spec.days, r_work)
        trace = run_tube(tube, exposures, spec.days, system.component_age_days, r_phys)
        exposures = aec_exposures(tube, exposures, trace)
        readings = read_tube(tube, exposures, trace, r_read)
        signals = tube_signals(tube, exposures, readings, trace, r_events)
        _write_exposures(spec, system, exposures, readings, out_dir, out)
        performed = _tube_performed(bookings, exposures, readings)
    else:
        model = coldhead = scaled_model(ColdheadModel, spec.wear_scale)
        run = run_coldhead(coldhead, bookings, spec.days, system.component_age_days, r_phys)
        trace, fill_l = run.trace, run.fill_l
        signals, compressor_off = coldhead_signals(coldhead, run, r_events)
        performed = _mr_performed(bookings, trace, spec.days)
        _write_cryo(
            spec, system, coldhead, run, bookings, performed, compressor_off, r_read, out_dir, out
        )
    out.lines = write_event_logs(
        spec,
        system,
        bookings,
        performed,
        trace,
        signals,
        lambda d: _gz(system, spec, d),
        lambda path, data, gz: out.write(out_dir / path, data, gz),
        r_events,
        r_wrinkle,
    )
    status = _status(bookings, performed, spec.days)
    orders = component_orders(spec, system, trace, r_cmms) + unrelated_orders(spec, system, r_cmms)
    orders += helium_orders(spec, system, fill_l, r_cmms)
    lives, daily = _truth(spec, system, model, trace)
    last = trace.lives[-1]
    return SystemResult(
        system=system,
        component_installed_on=spec.start + dt.timedelta(days=last.installed_day),
        orders=orders,
        booked=export_rows(spec, system, bookings, status),
        lives=lives,
        daily=daily,
        files=out.files,
        bytes_written=out.bytes,
        event_lines=out.lines,
    )


def system_bookings(spec: FleetSpec, system: SystemSpec, seed: np.random.SeedSequence) -> Bookings:
    """Return the bookings :func:`simulate_system` draws for ``system`` from the same seed.

    Bookings come first from the system's first stream, so they can be drawn again
    without the physics. ``seed`` must be fresh (not spawned from before).
    """
    return draw_bookings(system, spec, np.random.default_rng(seed.spawn(6)[0]))


def _tube_performed(
    bookings: Bookings, exposures: Exposures, readings: TubeReadings
) -> npt.NDArray[np.bool_]:
    done = np.zeros(len(bookings), dtype=bool)
    done[exposures.booking[readings.rows]] = True
    return done


def _mr_performed(bookings: Bookings, trace: Trace, days: int) -> npt.NDArray[np.bool_]:
    past = bookings.day < days
    day = np.minimum(bookings.day, days - 1)
    up = trace.life_of_day[day] >= 0
    ends = bookings.start_s + bookings.duration_min * 60.0
    return past & up & ~bookings.no_show & (ends <= trace.cutoff_s[day])


def _status(
    bookings: Bookings, performed: npt.NDArray[np.bool_], days: int
) -> npt.NDArray[np.str_]:
    return np.where(
        bookings.day >= days,
        "booked",
        np.where(performed, "fulfilled", np.where(bookings.no_show, "noshow", "cancelled")),
    )


def _gz(system: SystemSpec, spec: FleetSpec, last_day: int) -> bool:
    after = system.gzip_after_days
    return after is not None and spec.days - 1 - last_day >= after


def _local(spec: FleetSpec, system: SystemSpec, d: int) -> LocalDay:
    return LocalDay.of(spec.start + dt.timedelta(days=d), system.timezone)


def _write_exposures(
    spec: FleetSpec,
    system: SystemSpec,
    exposures: Exposures,
    readings: TubeReadings,
    out_dir: Path,
    out: _Out,
) -> None:
    rows = readings.rows
    day = exposures.day[rows]
    protocols = PROTOCOLS[system.modality]
    stamps: list[str] = []
    bounds = np.searchsorted(day, np.arange(spec.days + 1))
    for d in np.flatnonzero(np.diff(bounds)).tolist():
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        stamps.extend(_local(spec, system, d).iso_seconds(exposures.at_s[rows[lo:hi]]))
    names = [protocols[p].name for p in exposures.protocol[rows].tolist()]
    focal = [protocols[p].focal_spot for p in exposures.protocol[rows].tolist()]
    ma = [f"{m:.0f}" if m >= 10 else f"{m:.1f}" for m in exposures.ma[rows].tolist()]
    coast = ["" if np.isnan(c) else f"{c:.1f}" for c in readings.coastdown_s.tolist()]
    sid = system.system_id
    lines = [
        f"{ts},{sid},AC{appointment_id(system, b)},{name},{kv},{m},{e:g},{fs},"
        f"{fa:.3f},{oil:.1f},{c}"
        for ts, b, name, kv, m, e, fs, fa, oil, c in zip(
            stamps,
            exposures.booking[rows].tolist(),
            names,
            exposures.kvp[rows].tolist(),
            ma,
            exposures.exposure_s[rows].tolist(),
            focal,
            readings.filament_a.tolist(),
            readings.oil_c.tolist(),
            coast,
            strict=True,
        )
    ]
    header = ",".join(EXPOSURE_COLUMNS)
    months = [(spec.start + dt.timedelta(days=d)).strftime("%Y-%m") for d in range(spec.days)]
    month_of_row = np.array(months)[day] if len(day) else np.array([], dtype=str)
    for month in sorted(set(month_of_row.tolist())):
        idx = np.flatnonzero(month_of_row == month).tolist()
        last_day = len(months) - 1 - months[::-1].index(month)
        data = (header + "\n" + "\n".join(lines[i] for i in idx) + "\n").encode()
        path = out_dir / "exposures" / sid / f"{month}.csv"
        out.write(path, data, _gz(system, spec, last_day))


def _write_cryo(
    spec: FleetSpec,
    system: SystemSpec,
    model: ColdheadModel,
    run: ColdheadRun,
    bookings: Bookings,
    performed: npt.NDArray[np.bool_],
    compressor_off: dict[int, list[tuple[float, float]]],
    rng: np.random.Generator,
    out_dir: Path,
    out: _Out,
) -> None:
    bounds = np.searchsorted(bookings.day, np.arange(spec.days + 1))
    missing = rng.uniform(size=spec.days) < MISSING_DAY_P
    for d in range(spec.days):
        if run.trace.life_of_day[d] < 0 or missing[d]:
            continue
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        done = np.flatnonzero(performed[lo:hi]) + lo
        duration_s = (bookings.duration_min[done] * 60).astype(np.float64)
        scanning = np.stack(back_to_back(bookings.start_s[done], duration_s), axis=1)
        local = _local(spec, system, d)
        lines = telemetry_lines(
            system.system_id, local, d, model, run, compressor_off.get(d, []), scanning, rng
        )
        data = ("\n".join(lines) + "\n").encode()
        out.write(
            out_dir / "cryo" / system.system_id / f"{local.date.isoformat()}.jsonl",
            data,
            _gz(system, spec, d),
        )


def _truth(
    spec: FleetSpec, system: SystemSpec, model: DegradationModel, trace: Trace
) -> tuple[list[dict[str, object]], dict[str, list[object]]]:
    lives: list[dict[str, object]] = []
    life_ids = []
    for life in trace.lives:
        installed = spec.start + dt.timedelta(days=life.installed_day)
        life_id = f"{system.system_id}:{system.component}:{installed.isoformat()}"
        life_ids.append(life_id)
        ended = (
            spec.start + dt.timedelta(days=life.ended_day) if life.ended_day is not None else None
        )
        failure_at = ""
        if life.end_reason == "failure" and life.ended_day is not None:
            failure_at = _local(spec, system, life.ended_day).iso_seconds(
                np.array([life.failure_at_s])
            )[0]
        lives.append(
            {
                "life_id": life_id,
                "system_id": system.system_id,
                "component": system.component,
                "installed_on": installed.isoformat(),
                "ended_on": ended.isoformat() if ended else "",
                "end_reason": life.end_reason,
                "failure_mode": life.failure_mode,
                "has_precursor": "yes" if life.has_precursor else "no",
                "failure_at": failure_at,
            }
        )
    up = np.flatnonzero(trace.life_of_day >= 0)
    health = model.health(trace.states[up]) if len(up) else np.zeros(0)
    daily: dict[str, list[object]] = {
        "system_id": [system.system_id] * len(up),
        "life_id": [life_ids[i] for i in trace.life_of_day[up].tolist()],
        "date": [spec.start + dt.timedelta(days=d) for d in up.tolist()],
        "health": health.tolist(),
    }
    for j, name in enumerate(model.states):
        daily[name] = trace.states[up, j].tolist()
    return lives, daily
