"""A simulated world as the operations twin replays it: systems, bookings, component lives.

A world is a fleet directory written by ``equiptwin simulate``. The operations twin reads
it whole, truth included (it is an evaluation, not a pipeline stage):

* **systems** from ``assets.csv``;
* **bookings** over every log day and the booking days after: the export
  (``schedule.csv``) holds only the last weeks, so the simulator's own booking draw is
  repeated from ``SIMULATION.json`` (:func:`~equiptwin.sim.system.system_bookings`); a
  test checks it against the export;
* **component lives** from ``_truth/lives.csv``: for each life, the age at which the
  world's component failed, or was replaced by the site's own engineers (``preventive``),
  or the age it reached by the end of the log days without either (``in_service``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from equiptwin.errors import ConfigError
from equiptwin.formats import PRIORITIES
from equiptwin.planning.bookings import Booking, SystemInfo
from equiptwin.sim.fleet import TRUTH_DIR, read_spec, system_streams
from equiptwin.sim.localtime import LocalDay
from equiptwin.sim.schedule import appointment_id
from equiptwin.sim.system import system_bookings
from equiptwin.sim.workload import PROTOCOLS
from equiptwin.twin.base import SUDDEN


@dataclass(frozen=True)
class WorldLife:
    """One component life of the world, by age (hours since its installation).

    Parameters
    ----------
    life_id : str
        The truth's ``life_id``.
    installed_at : datetime.datetime
        Aware UTC start of the installation day (local midnight) in the world.
    fails_at_h : float or None
        Age at which it failed in the world; ``None`` when it did not.
    serviced_at_h : float or None
        Age at which the world's site replaced it before failing (``preventive``).
    known_until_h : float
        Age up to which the world saw it: its failure, its replacement or the end of
        the log days. Its remaining life at a younger age is at least the difference.
    sudden : bool
        Whether its failure was sudden (the constant-hazard mode without precursors):
        it says when the system's component failed, not how long this one would have
        lasted.
    """

    life_id: str
    installed_at: dt.datetime
    fails_at_h: float | None
    serviced_at_h: float | None
    known_until_h: float
    sudden: bool = False

    @property
    def wear_out_h(self) -> float | None:
        """Age at which it wore out (failed other than suddenly); ``None`` otherwise."""
        return None if self.sudden else self.fails_at_h

    @property
    def sudden_at_h(self) -> float | None:
        """Age at which it failed suddenly; ``None`` otherwise."""
        return self.fails_at_h if self.sudden else None


@dataclass(frozen=True)
class World:
    """Everything the operations twin replays about one simulated fleet.

    Parameters
    ----------
    name : str
        The fleet directory's name.
    systems : Mapping of str to SystemInfo
        The fleet, by ``system_id``.
    components : Mapping of str to str
        The tracked component of each system (``xray_tube`` or ``coldhead``).
    bookings : tuple of Booking
        Every booked exam, ordered by start.
    lives : Mapping of str to tuple of WorldLife
        Each system's component lives in installation order.
    """

    name: str
    systems: Mapping[str, SystemInfo]
    components: Mapping[str, str]
    bookings: tuple[Booking, ...]
    lives: Mapping[str, tuple[WorldLife, ...]]


def _midnight(day: dt.date, timezone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def read_lives(
    path: Path, systems: Mapping[str, SystemInfo], logs_end: dt.date
) -> dict[str, tuple[WorldLife, ...]]:
    """Return the component lives of a truth file by system, in installation order.

    Parameters
    ----------
    path : Path
        A world's ``_truth/lives.csv``.
    systems : Mapping of str to SystemInfo
        The fleet (for each system's timezone).
    logs_end : datetime.date
        The first day after the log days.

    Returns
    -------
    dict of str to tuple of WorldLife
    """
    truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = (
        "life_id",
        "system_id",
        "installed_on",
        "ended_on",
        "end_reason",
        "failure_mode",
        "failure_at",
    )
    missing = [c for c in need if c not in truth.columns]
    if missing:
        raise ConfigError(f"{path}: a truth file needs the column(s) {missing}.")
    out: dict[str, list[WorldLife]] = {s: [] for s in systems}
    for row in truth.sort_values(["system_id", "installed_on"]).itertuples(index=False):
        system = systems.get(str(row.system_id))
        if system is None:
            raise ConfigError(f"{path}: life {row.life_id} names unknown system {row.system_id}.")
        start = _midnight(dt.date.fromisoformat(str(row.installed_on)), system.timezone)
        fails = serviced = None
        seen = (_midnight(logs_end, system.timezone) - start).total_seconds() / 3600.0
        if row.end_reason == "failure":
            at = dt.datetime.fromisoformat(str(row.failure_at)).astimezone(dt.UTC)
            fails = seen = (at - start).total_seconds() / 3600.0
        elif row.end_reason == "preventive":
            end = _midnight(dt.date.fromisoformat(str(row.ended_on)), system.timezone)
            serviced = seen = (end - start).total_seconds() / 3600.0
        sudden = fails is not None and str(row.failure_mode) == SUDDEN
        life = WorldLife(str(row.life_id), start, fails, serviced, seen, sudden)
        out[system.system_id].append(life)
    return {s: tuple(v) for s, v in out.items()}


def read_world(path: Path) -> World:
    """Read a simulated fleet directory as a :class:`World`.

    Parameters
    ----------
    path : Path
        A folder written by ``equiptwin simulate``.

    Returns
    -------
    World

    Raises
    ------
    ConfigError
        When the folder is not a simulated fleet with its truth.
    """
    spec = read_spec(path)
    assets = pd.read_csv(path / "assets.csv", dtype=str, keep_default_na=False)
    systems = {
        str(r["system_id"]): SystemInfo(
            str(r["system_id"]), str(r["site"]), str(r["modality"]), str(r["timezone"])
        )
        for r in assets.to_dict(orient="records")
    }
    components = {s: "coldhead" if i.modality == "MR" else "xray_tube" for s, i in systems.items()}
    bookings: list[Booking] = []
    for system, seed in system_streams(spec):
        drawn = system_bookings(spec, system, seed)
        codes = [p.exam_code for p in PROTOCOLS[system.modality]]
        utc = np.empty(len(drawn))
        for day in np.unique(drawn.day).tolist():
            rows = drawn.day == day
            local = LocalDay.of(spec.start + dt.timedelta(days=day), system.timezone)
            utc[rows] = local.utc_s(drawn.start_s[rows])
        bookings += [
            Booking(
                f"AP{appointment_id(system, i)}",
                system.system_id,
                dt.datetime.fromtimestamp(float(utc[i]), dt.UTC),
                int(drawn.duration_min[i]),
                PRIORITIES[int(drawn.priority[i])],
                codes[int(drawn.protocol[i])],
            )
            for i in range(len(drawn))
        ]
    bookings.sort(key=lambda b: (b.start, b.appointment_id))
    truth = path / TRUTH_DIR / "lives.csv"
    if not truth.exists():
        raise ConfigError(f"{truth} does not exist; evaluate needs a simulated fleet's truth.")
    lives = read_lives(truth, systems, spec.end + dt.timedelta(days=1))
    return World(path.name, systems, components, tuple(bookings), lives)
