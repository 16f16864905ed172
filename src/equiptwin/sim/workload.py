"""Bookings and exams: who is scanned on which system, when, and with what technique.

Workload varies by weekday, holiday, modality, protocol and system (each system has
its own load factor). Every performed exam is a booked appointment; a few bookings are
no-shows, and bookings run past the last log day so the twin can be run forward.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from equiptwin.sim.localtime import LocalDay
from equiptwin.sim.spec import FleetSpec, SystemSpec

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Protocol:
    """One exam protocol and its technique ranges.

    Parameters
    ----------
    name, exam_code : str
        Protocol name on the console and the booking system's exam code.
    weight : float
        Relative frequency on its modality.
    kvp : tuple of int
        Tube voltages used (kV); empty for MR.
    ma : tuple of (float, float)
        Tube current range (mA).
    exposure_s : tuple of (float, float)
        Exposure time range (s) per CT scan series or per radiographic view.
    series : tuple of (int, int)
        Range of CT scan series (one exposure row each) or radiographic views (summed
        into the exam's one row) per exam.
    duration_min : int
        Booked slot length (min).
    focal_spot : str
        ``S`` or ``L``.
    """

    name: str
    exam_code: str
    weight: float
    kvp: tuple[int, ...]
    ma: tuple[float, float]
    exposure_s: tuple[float, float]
    series: tuple[int, int]
    duration_min: int
    focal_spot: str


PROTOCOLS: dict[str, tuple[Protocol, ...]] = {
    "CT": (
        Protocol("HEAD", "CTHD", 0.25, (120,), (200, 300), (2, 4), (1, 1), 15, "S"),
        Protocol("CHEST", "CTCH", 0.25, (100, 120), (100, 300), (2, 4), (1, 2), 15, "L"),
        Protocol("ABD_PELVIS", "CTAB", 0.22, (120,), (200, 400), (3, 7), (1, 3), 20, "L"),
        Protocol("CTA", "CTAN", 0.1, (80, 100), (300, 500), (3, 6), (2, 3), 25, "L"),
        Protocol("LOWDOSE_CHEST", "CTLD", 0.08, (100,), (30, 80), (1.5, 3), (1, 1), 10, "S"),
        Protocol("TRAUMA", "CTTR", 0.1, (120,), (250, 450), (5, 10), (1, 2), 30, "L"),
    ),
    "XR": (
        Protocol("CHEST_PA", "XRCH", 0.38, (110, 125), (200, 400), (0.005, 0.03), (1, 2), 10, "L"),
        Protocol(
            "EXTREMITY", "XREX", 0.26, (55, 60, 66), (100, 250), (0.01, 0.06), (2, 3), 10, "S"
        ),
        Protocol("SPINE", "XRSP", 0.14, (77, 81, 85, 90), (320, 500), (0.05, 0.4), (2, 3), 15, "L"),
        Protocol("ABDOMEN", "XRAB", 0.12, (75, 81), (320, 500), (0.05, 0.3), (1, 2), 10, "L"),
        Protocol("SHOULDER", "XRSH", 0.1, (66, 70, 73), (200, 400), (0.02, 0.1), (2, 3), 10, "S"),
    ),
    "MR": (
        Protocol("BRAIN", "MRBR", 0.3, (), (0, 0), (0, 0), (0, 0), 30, ""),
        Protocol("SPINE", "MRSP", 0.22, (), (0, 0), (0, 0), (0, 0), 40, ""),
        Protocol("KNEE", "MRKN", 0.18, (), (0, 0), (0, 0), (0, 0), 30, ""),
        Protocol("PROSTATE", "MRPR", 0.12, (), (0, 0), (0, 0), (0, 0), 45, ""),
        Protocol("CARDIAC", "MRCA", 0.08, (), (0, 0), (0, 0), (0, 0), 60, ""),
        Protocol("ABDOMEN", "MRAB", 0.1, (), (0, 0), (0, 0), (0, 0), 45, ""),
    ),
}

# Exams per weekday (Mon..Sun) relative to a weekday, and typical weekday exams.
_WEEKDAY = {
    "CT": (1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.35),
    "XR": (1.0, 1.0, 1.0, 1.0, 0.9, 0.3, 0.2),
    "MR": (1.0, 1.0, 1.0, 1.0, 0.95, 0.3, 0.1),
}
_BASE_EXAMS = {
    "default": {"CT": 95.0, "XR": 85.0, "MR": 20.0},
    "reduced": {"CT": 45.0, "XR": 40.0, "MR": 16.0},
}
_PRIORITY_P = {"CT": (0.18, 0.32, 0.5), "XR": (0.06, 0.3, 0.64), "MR": (0.03, 0.2, 0.77)}
_HOLIDAYS = {(1, 1), (12, 25), (12, 26), (4, 27), (5, 5)}


@dataclass(frozen=True)
class Bookings:
    """Every appointment on one system, past and future, in start order.

    Attributes are aligned arrays; ``day`` counts from the first log day and may be
    beyond the last one (future bookings). ``start_s`` is elapsed seconds since local
    midnight of that day.
    """

    day: IntArray
    start_s: FloatArray
    duration_min: IntArray
    priority: IntArray
    protocol: IntArray
    patient: IntArray
    no_show: BoolArray

    def __len__(self) -> int:
        return len(self.day)


@dataclass(frozen=True)
class Exposures:
    """Every exposure row one X-ray system would record if nothing failed.

    ``booking`` indexes :class:`Bookings`; rows are in time order.
    """

    booking: IntArray
    day: IntArray
    at_s: FloatArray
    protocol: IntArray
    kvp: IntArray
    ma: FloatArray
    exposure_s: FloatArray

    @property
    def energy_j(self) -> FloatArray:
        """Energy into the anode per row (kV x mA x s = J)."""
        return self.kvp * self.ma * self.exposure_s


def daily_exam_counts(
    system: SystemSpec, spec: FleetSpec, days: int, rng: np.random.Generator
) -> IntArray:
    """Draw the number of booked exams on each day, counting from ``spec.start``."""
    dates = [spec.start + dt.timedelta(days=i) for i in range(days)]
    weekday = np.array([_WEEKDAY[system.modality][d.weekday()] for d in dates])
    holiday = np.array([0.3 if (d.month, d.day) in _HOLIDAYS else 1.0 for d in dates])
    season = 1.0 + 0.06 * np.sin(
        2 * np.pi * np.array([d.timetuple().tm_yday for d in dates]) / 365.25
    )
    mean = (
        _BASE_EXAMS[spec.volume][system.modality] * system.load_factor * weekday * holiday * season
    )
    counts: IntArray = rng.poisson(mean).astype(np.int64)
    return counts


def draw_bookings(system: SystemSpec, spec: FleetSpec, rng: np.random.Generator) -> Bookings:
    """Draw the bookings of ``system`` over the log days and the future booking days."""
    total_days = spec.days + spec.booking_days
    counts = daily_exam_counts(system, spec, total_days, rng)
    n = int(counts.sum())
    day = np.repeat(np.arange(total_days, dtype=np.int64), counts)
    priority = rng.choice(3, size=n, p=_PRIORITY_P[system.modality]).astype(np.int64)
    protocols = PROTOCOLS[system.modality]
    weights = np.array([p.weight for p in protocols])
    protocol = rng.choice(len(protocols), size=n, p=weights / weights.sum()).astype(np.int64)
    durations = np.array([p.duration_min for p in protocols], dtype=np.int64)[protocol]
    # Stat exams come at any hour, others in opening hours (07:30-18:30 local).
    lengths = np.array(
        [
            LocalDay.of(spec.start + dt.timedelta(days=int(d)), system.timezone).length_s
            for d in range(total_days)
        ],
        dtype=np.float64,
    )[day]
    stat = priority == 0
    start = np.where(
        stat,
        rng.uniform(0.0, 1.0, n) * (lengths - 3600.0),
        rng.uniform(7.5 * 3600, 18.5 * 3600, n),
    )
    start = np.round(start / 60.0) * 60.0  # bookings start on whole minutes
    order = np.lexsort((start, day))
    patient = rng.integers(10_000_000, 99_999_999, size=n, dtype=np.int64)
    no_show = rng.uniform(size=n) < np.where(priority == 2, 0.04, 0.005)
    return Bookings(
        day=day[order],
        start_s=start[order],
        duration_min=durations[order],
        priority=priority[order],
        protocol=protocol[order],
        patient=patient[order],
        no_show=no_show[order],
    )


def draw_exposures(
    system: SystemSpec, bookings: Bookings, log_days: int, rng: np.random.Generator
) -> Exposures:
    """Draw the exposure rows of the shown-up bookings within the log days.

    CT writes one row per scan series; radiography one row per exam (formats.md), whose
    exposure time sums the exam's views. Returns an empty :class:`Exposures` for MR.
    """
    protocols = PROTOCOLS[system.modality]
    keep = np.flatnonzero(~bookings.no_show & (bookings.day < log_days))
    if system.modality == "MR":
        keep = keep[:0]
    lo = np.array([p.series[0] for p in protocols], dtype=np.int64)[bookings.protocol[keep]]
    hi = np.array([p.series[1] for p in protocols], dtype=np.int64)[bookings.protocol[keep]]
    n_series = rng.integers(lo, hi + 1) if len(keep) else lo
    views = np.ones(len(keep), dtype=np.int64)
    if system.modality == "XR":
        views, n_series = n_series, np.ones_like(n_series)
    booking = np.repeat(keep, n_series)
    series = np.arange(len(booking)) - np.repeat(np.cumsum(n_series) - n_series, n_series)
    proto = bookings.protocol[booking]
    n = len(booking)
    kvp = np.empty(n, dtype=np.int64)
    ma = np.empty(n)
    exposure = np.empty(n)
    for i, p in enumerate(protocols):
        rows = np.flatnonzero(proto == i)
        if not len(rows):
            continue
        kvp[rows] = rng.choice(np.array(p.kvp, dtype=np.int64), size=len(rows))
        ma[rows] = np.round(rng.uniform(p.ma[0], p.ma[1], len(rows)) / 10.0) * 10.0
        exposure[rows] = rng.uniform(p.exposure_s[0], p.exposure_s[1], len(rows))
    exposure = exposure * np.repeat(views, n_series)
    exposure = np.where(exposure < 1.0, np.round(exposure, 3), np.round(exposure, 2))
    at = bookings.start_s[booking] + rng.uniform(120, 420, n) + series * rng.uniform(30, 240, n)
    day = bookings.day[booking]
    order = np.lexsort((at, day))
    return Exposures(
        booking=booking[order].astype(np.int64),
        day=day[order],
        at_s=at[order],
        protocol=proto[order],
        kvp=kvp[order],
        ma=ma[order],
        exposure_s=exposure[order],
    )
