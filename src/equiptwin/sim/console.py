"""A system's console log: one event file per local day, in the system's layout.

Volume comes from heartbeats, per-exam worklist/scan/reconstruction lines and background
chatter; the documented signal events come from the physics (:class:`Signals`); daily
routine (startup, warm-up, quality checks) and unrelated warnings are added here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from equiptwin.sim.events import EXAM_LINES, HEARTBEAT, REDUCED_EXAM_LINES, DayLines, background
from equiptwin.sim.lifecycle import Trace
from equiptwin.sim.localtime import LocalDay
from equiptwin.sim.schedule import appointment_id, patient_name
from equiptwin.sim.signals import Signals
from equiptwin.sim.spec import FleetSpec, SystemSpec
from equiptwin.sim.workload import PROTOCOLS, Bookings
from equiptwin.sim.writers import LATIN1_DAY_P, MISSING_DAY_P, add_latin1_logins, render_event_day

HEARTBEAT_S = {"default": 60.0, "reduced": 1800.0}
BACKGROUND_PER_DAY = {"default": 160.0, "reduced": 10.0}
# Where in the booked slot each per-exam line falls (share of the slot).
EXAM_LINE_AT = (0.0, 0.15, 0.6, 0.62, 0.85, 0.9)

# write(path, data, gz) of the caller, who counts files and bytes.
Writer = Callable[[Path, bytes, bool], None]


def write_event_logs(
    spec: FleetSpec,
    system: SystemSpec,
    bookings: Bookings,
    performed: npt.NDArray[np.bool_],
    trace: Trace,
    signals: Signals,
    gz_of_day: Callable[[int], bool],
    write: Writer,
    rng: np.random.Generator,
    wrinkle: np.random.Generator,
) -> int:
    """Write the system's event files; return the number of event lines written.

    Parameters
    ----------
    spec, system : FleetSpec, SystemSpec
        The fleet and the system.
    bookings : Bookings
        The system's bookings; ``performed`` marks those that were scanned.
    trace : Trace
        The component's lives (the console is off on replacement days).
    signals : Signals
        The physics' documented events.
    gz_of_day : callable
        Whether the file of a day is gzipped.
    write : callable
        ``write(path, data, gz)``.
    rng, wrinkle : numpy.random.Generator
        Draws of the log content and of the file wrinkles.
    """
    by_day = signals.by_day()
    bounds = np.searchsorted(bookings.day, np.arange(spec.days + 1))
    missing = wrinkle.uniform(size=spec.days) < MISSING_DAY_P
    if system.index == 0 and spec.days > 5:
        missing[3] = True  # every fleet shows at least one outage day
    which = REDUCED_EXAM_LINES if spec.volume == "reduced" else tuple(range(len(EXAM_LINES)))
    state = {"seq": 0, "job": 100_000 + 7919 * system.index}
    total = 0
    for d in range(spec.days):
        if trace.life_of_day[d] < 0 and not (d > 0 and trace.life_of_day[d - 1] >= 0):
            continue  # down for a replacement: the console is off
        local = LocalDay.of(spec.start + dt.timedelta(days=d), system.timezone)
        lines = DayLines(system.legacy_layout)
        step = HEARTBEAT_S[spec.volume]
        beats = np.arange(float(rng.uniform(0, step)), local.length_s, step)
        if system.modality == "XR":  # switched off at night
            on_s, off_s = (
                float(rng.uniform(6.6, 7.2)) * 3600.0,
                float(rng.uniform(19.5, 21)) * 3600.0,
            )
            beats = beats[(beats > on_s) & (beats < off_s)]
        else:
            on_s, off_s = 0.0, float(local.length_s)
        seq = state["seq"]
        lines.add_values(beats, HEARTBEAT, list(map(str, range(seq, seq + len(beats)))))
        state["seq"] = seq + len(beats)
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        done = np.flatnonzero(performed[lo:hi]) + lo
        if len(done):
            state["job"] = _exam_lines(lines, system, bookings, done, which, state["job"], rng)
        chatter = int(rng.poisson(BACKGROUND_PER_DAY[spec.volume]))
        background(lines, chatter, (on_s, off_s), rng)
        _routine(lines, system, local, (on_s, off_s), rng)
        for at_s, code, params in by_day.get(d, []):
            lines.add_signal(at_s, code, params)
        if wrinkle.uniform() < LATIN1_DAY_P or (system.index == 0 and d == 1):
            add_latin1_logins(lines, local.length_s, wrinkle)
        if missing[d]:
            continue
        force: frozenset[str] = frozenset()
        if system.index == 0:
            force = frozenset({"repeat"} if d == 1 else {"truncate"} if d == 2 else ())
        data = render_event_day(system.system_id, local, lines, rng=wrinkle, force=force)
        total += len(lines.at_s)
        write(
            Path("events") / system.system_id / f"{local.date.isoformat()}.log", data, gz_of_day(d)
        )
    return total


def _exam_lines(
    lines: DayLines,
    system: SystemSpec,
    bookings: Bookings,
    done: npt.NDArray[np.int64],
    which: tuple[int, ...],
    job: int,
    rng: np.random.Generator,
) -> int:
    n = len(done)
    protocols = PROTOCOLS[system.modality]
    start = bookings.start_s[done]
    slot_s = bookings.duration_min[done] * 60.0
    images = rng.integers(40, 1200, size=n).tolist()
    for k in which:
        template = EXAM_LINES[k]
        at = start + EXAM_LINE_AT[k] * slot_s
        code = template.code
        if code == 5010:
            values = [f"AC{appointment_id(system, b)}" for b in done.tolist()]
            if system.names_in_logs:
                names = [patient_name(p) for p in bookings.patient[done].tolist()]
                # Older consoles call the parameter `patient`, newer ones `patient_name`.
                key = "patient" if system.legacy_layout else "patient_name"
                tag = f"{lines.sep}{key}="
                values = [v + tag + nm for v, nm in zip(values, names, strict=True)]
        elif code == 4100:
            values = [protocols[p].name for p in bookings.protocol[done].tolist()]
        elif code in (9110, 9120):
            values = [str(job + i) for i in range(n)]
        else:
            values = [str(i) for i in images]
        lines.add_values(at, template, values)
    return job + n


def _routine(
    lines: DayLines,
    system: SystemSpec,
    local: LocalDay,
    on_off_s: tuple[float, float],
    rng: np.random.Generator,
) -> None:
    """Startup and shutdown, warm-up, quality checks and unrelated warnings of a day."""
    if system.modality == "XR":
        on, off = on_off_s
        lines.add_signal(on, 1000, ())
        lines.add_signal(on + 150.0, 2100, (("duration_s", str(int(rng.integers(60, 240)))),))
        lines.add_signal(off, 1001, ())
    elif local.date.weekday() == 6:  # weekly restart of consoles that run day and night
        off = float(rng.uniform(3.8, 4.2)) * 3600.0
        lines.add_signal(off, 1001, ())
        lines.add_signal(off + 240.0, 1000, ())
    if system.modality == "CT":
        warm = 6.5 * 3600.0 + float(rng.uniform(0, 600))
        lines.add_signal(warm, 2100, (("duration_s", str(int(rng.integers(60, 300)))),))
    if rng.uniform() < 0.015:
        metric = ("noise", "uniformity", "ct_number", "snr")[int(rng.integers(4))]
        lines.add_signal(7.0 * 3600.0 + float(rng.uniform(0, 900)), 1011, (("metric", metric),))
    day_s = float(rng.uniform(28800, 64800))
    if system.modality == "MR":
        if rng.uniform() < 0.05:
            lines.add_signal(day_s, 7300, (("coil_c", f"{rng.uniform(40, 48):.1f}"),))
        if rng.uniform() < 0.005:
            lines.add_signal(day_s + 60.0, 7310, ())
        if rng.uniform() < 0.03:
            lines.add_signal(day_s, 7400, (("reflected_w", f"{rng.uniform(50, 120):.0f}"),))
    else:
        if rng.uniform() < 0.03:
            kv = int(rng.choice([80, 100, 120]))
            act = f"{kv * rng.uniform(0.95, 0.98):.1f}"
            lines.add_signal(day_s, 3105, (("kv_set", str(kv)), ("kv_act", act)))
        if rng.uniform() < 0.02:
            lines.add_signal(
                float(rng.uniform(0, 86000)), 3200, (("vdc", f"{rng.uniform(540, 575):.0f}"),)
            )
