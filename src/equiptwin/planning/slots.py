"""Choose the maintenance slot that minimises expected cost.

For each candidate start ``s`` of a job of the component's duration inside the engineers'
working hours (system-local time), the expected cost is::

    displaced exams on the system during [s, s + job), each weighted by its priority
        x cost.displaced_exam
  + P(failure before s) x (unplanned downtime days x downtime cost per day + emergency premium)

and the cheapest candidate wins (the earliest on a tie). All figures come from the
pipeline's ``cost.*`` and ``maintenance.*`` settings.

**P(failure before s).** The forecast gives calibrated P(fail within h days) at its
horizons, counted from the start of ``as_of`` in the system's timezone (the forecast uses
data up to the end of the day before). Between horizons the cumulative probability is
interpolated linearly from (0 days, 0) through each (h, P_h): a uniform failure density
within each interval, the least-assuming curve through the calibrated points. The search
never goes past the longest horizon, so nothing is extrapolated.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from equiptwin.config import PipelineConfig
from equiptwin.errors import ConfigError
from equiptwin.forecast import FailureForecast
from equiptwin.planning.bookings import (
    EXAM_PRIORITIES,
    Booking,
    SystemInfo,
    local_day_starts,
    on_system,
    parse_hhmm,
)


@dataclass(frozen=True)
class CostModel:
    """The cost figures of slot choice (currency units; see the ``cost.*`` settings).

    Parameters
    ----------
    downtime_per_day : Mapping[str, float]
        Cost of one day of downtime, by modality.
    unplanned_downtime_days : Mapping[str, float]
        Days an unplanned failure keeps the system down, by component.
    emergency_premium : float
        Extra cost of an unplanned repair.
    displaced_exam : float
        Cost of moving one exam of weight 1.
    priority_weights : Mapping[str, float]
        Weight of a displaced exam, by priority.
    """

    downtime_per_day: Mapping[str, float]
    unplanned_downtime_days: Mapping[str, float]
    emergency_premium: float
    displaced_exam: float
    priority_weights: Mapping[str, float]

    @classmethod
    def from_config(cls, config: PipelineConfig) -> CostModel:
        """Read the cost model from the pipeline's ``cost.*`` settings."""
        return cls(
            downtime_per_day={
                m: config[f"cost.downtime_per_day_{m.lower()}"] for m in ("CT", "XR", "MR")
            },
            unplanned_downtime_days={
                c: config[f"cost.unplanned_downtime_days_{c}"] for c in ("xray_tube", "coldhead")
            },
            emergency_premium=config["cost.emergency_premium"],
            displaced_exam=config["cost.displaced_exam"],
            priority_weights={p: config[f"cost.weight_{p}"] for p in EXAM_PRIORITIES},
        )

    def failure_cost(self, modality: str, component: str) -> float:
        """Return the cost of an unplanned failure: downtime plus the emergency premium."""
        return (
            self.unplanned_downtime_days[component] * self.downtime_per_day[modality]
            + self.emergency_premium
        )

    def displacement_cost(self, bookings: Sequence[Booking]) -> float:
        """Return the cost of moving these exams."""
        return sum(self.priority_weights[b.priority] for b in bookings) * self.displaced_exam


@dataclass(frozen=True)
class MaintenanceSlot:
    """The chosen window for one maintenance job and why.

    Parameters
    ----------
    system_id, component, life_id : str
        What is maintained.
    start, end : datetime.datetime
        The window, aware UTC.
    expected_cost : float
        ``displacement_cost + risk_cost``, currency units.
    displacement_cost : float
        Cost of the exams the window displaces.
    risk_cost : float
        ``p_fail_before`` times the cost of an unplanned failure.
    p_fail_before : float
        P(failure before ``start``), interpolated from the forecast.
    displaced : tuple of str
        ``appointment_id`` of every exam the window displaces.
    """

    system_id: str
    component: str
    life_id: str
    start: dt.datetime
    end: dt.datetime
    expected_cost: float
    displacement_cost: float
    risk_cost: float
    p_fail_before: float
    displaced: tuple[str, ...]


def p_fail_before(forecast: FailureForecast, at: dt.datetime, system: SystemInfo) -> float:
    """Return P(failure before ``at``) from the forecast's horizon probabilities.

    Parameters
    ----------
    forecast : FailureForecast
        The component's forecast.
    at : datetime.datetime
        An aware instant.
    system : SystemInfo
        The system, for the timezone that starts ``as_of``.

    Returns
    -------
    float
        Linear interpolation of the cumulative probability (module docstring); 0 before
        ``as_of`` and the longest horizon's probability after it.
    """
    origin = dt.datetime.combine(forecast.as_of, dt.time(0), tzinfo=system.tz)
    days = (at - origin).total_seconds() / 86400.0
    knots_x = np.array((0.0, *map(float, forecast.horizons_days)))
    knots_p = np.array((0.0, *forecast.p_fail))
    return float(np.interp(days, knots_x, knots_p))


def job_hours(config: PipelineConfig, component: str) -> float:
    """Return how long the maintenance job of ``component`` takes, in hours."""
    return float(config[f"maintenance.job_hours_{component}"])


def _slot(
    forecast: FailureForecast,
    system: SystemInfo,
    exams: Sequence[Booking],
    start: dt.datetime,
    hours: float,
    costs: CostModel,
) -> MaintenanceSlot:
    """Cost one window; ``exams`` are the system's bookings ordered by start."""
    end = start + dt.timedelta(hours=hours)
    # exams are short (< 1 day), so any overlapping exam starts within a day before.
    starts = [b.start for b in exams]
    lo = bisect.bisect_left(starts, start - dt.timedelta(days=1))
    hi = bisect.bisect_left(starts, end)
    hit = [b for b in exams[lo:hi] if b.end > start]
    p = p_fail_before(forecast, start, system)
    displacement = costs.displacement_cost(hit)
    risk = p * costs.failure_cost(system.modality, forecast.component)
    return MaintenanceSlot(
        system.system_id,
        forecast.component,
        forecast.life_id,
        start,
        end,
        displacement + risk,
        displacement,
        risk,
        p,
        tuple(b.appointment_id for b in hit),
    )


def evaluate_slot(
    forecast: FailureForecast,
    system: SystemInfo,
    bookings: Sequence[Booking],
    start: dt.datetime,
    config: PipelineConfig,
) -> MaintenanceSlot:
    """Return the expected cost of one given window (for example, one proposed earlier).

    Parameters
    ----------
    forecast : FailureForecast
        The component's forecast.
    system : SystemInfo
        The system that holds the component.
    bookings : Sequence of Booking
        The schedule (other systems' bookings are ignored).
    start : datetime.datetime
        Aware start of the window; it lasts the component's job duration.
    config : PipelineConfig
        ``maintenance.*`` and ``cost.*`` settings.

    Returns
    -------
    MaintenanceSlot
    """
    return _slot(
        forecast,
        system,
        on_system(bookings, system.system_id),
        start,
        job_hours(config, forecast.component),
        CostModel.from_config(config),
    )


def choose_slot(
    forecast: FailureForecast,
    system: SystemInfo,
    bookings: Sequence[Booking],
    config: PipelineConfig,
    now: dt.datetime,
) -> MaintenanceSlot | None:
    """Return the maintenance window of least expected cost, or ``None`` if none fits.

    Parameters
    ----------
    forecast : FailureForecast
        The component's forecast.
    system : SystemInfo
        The system that holds the component.
    bookings : Sequence of Booking
        The schedule (other systems' bookings are ignored).
    config : PipelineConfig
        ``maintenance.*`` and ``cost.*`` settings.
    now : datetime.datetime
        Aware current time; no window starts before it.

    Returns
    -------
    MaintenanceSlot or None
        ``None`` when no working day within the search range has room for the job.

    Raises
    ------
    ConfigError
        When the job is longer than the working day.
    """
    if now.tzinfo is None:
        raise ValueError(f"`now` must be timezone-aware, but found {now.isoformat()}")
    hours = job_hours(config, forecast.component)
    day_start = parse_hhmm(config["maintenance.workday_start"])
    day_end = parse_hhmm(config["maintenance.workday_end"])
    workday_h = (
        dt.datetime.combine(dt.date.min, day_end) - dt.datetime.combine(dt.date.min, day_start)
    ).total_seconds() / 3600
    if hours > workday_h:
        raise ConfigError(
            f"`maintenance.job_hours_{forecast.component}` is {hours} h, longer than the "
            f"{workday_h:g} h working day; lengthen the working day or shorten the job."
        )
    costs = CostModel.from_config(config)
    workdays = set(config["maintenance.workdays"])
    days = min(config["maintenance.search_days"], max(forecast.horizons_days))
    exams = on_system(bookings, system.system_id)
    step_min = config["maintenance.step_min"]
    best: MaintenanceSlot | None = None
    for start in local_day_starts(
        system.tz, forecast.as_of, days, day_start, day_end, step_min, hours * 60
    ):
        if start < now or start.astimezone(system.tz).isoweekday() not in workdays:
            continue
        slot = _slot(forecast, system, exams, start, hours, costs)
        if best is None or slot.expected_cost < best.expected_cost - 1e-9:
            best = slot
    return best
