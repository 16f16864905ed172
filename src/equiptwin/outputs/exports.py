"""Planner exports: ``schedule_changes.csv``, revised bookings and ``capacity.csv``.

All times are written as ISO 8601 with their UTC offset (``2026-03-02T08:00:00+00:00``);
days in ``capacity.csv`` are the system's local days. Every file is written whole to a
temporary name and renamed into place, so a reader never sees half a file.

``capacity.csv`` has one row per day, site, modality and system:

- ``open_hours``: the booking day (``booking.day_start`` to ``booking.day_end``);
- ``booked_hours``: exams starting that day, after the plan's moves;
- ``maintenance_hours``: planned maintenance windows within that day;
- ``expected_unplanned_hours``: ``open_hours`` times the probability that the component
  has failed within ``cost.unplanned_downtime_days_<component>`` days before the day's
  end and before its planned slot (a failure after the slot is prevented by it);
- ``available_hours``: ``open_hours`` minus the three above, never below 0;
- ``displaced_exams``: exams this plan moved off the system that day.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from equiptwin.config import PipelineConfig
from equiptwin.forecast import FailureForecast
from equiptwin.formats import SCHEDULE_COLUMNS
from equiptwin.outputs.fhir import write_bundle
from equiptwin.outputs.ical import maintenance_events, write_calendar
from equiptwin.planning.bookings import Booking, SystemInfo, load_bookings, load_systems, parse_hhmm
from equiptwin.planning.plan import DayPlan
from equiptwin.planning.rebooking import Move
from equiptwin.planning.slots import MaintenanceSlot, p_fail_before
from equiptwin.store.schema import Appointment, ScheduleChange, System

SCHEDULE_CHANGE_COLUMNS: tuple[str, ...] = (
    "appointment_id",
    "plan_version",
    "action",
    "priority",
    "old_system_id",
    "old_start",
    "new_system_id",
    "new_start",
    "reason",
)
BOOKING_COLUMNS: tuple[str, ...] = (*SCHEDULE_COLUMNS, "status")
CAPACITY_COLUMNS: tuple[str, ...] = (
    "date",
    "site",
    "modality",
    "system_id",
    "open_hours",
    "booked_hours",
    "maintenance_hours",
    "expected_unplanned_hours",
    "available_hours",
    "displaced_exams",
)


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write rows to ``path`` atomically (temporary file, then rename).

    Parameters
    ----------
    path : Path
        Destination; its folder is created.
    columns : Sequence of str
        Header, in order; other keys of the rows are ignored.
    rows : Iterable of Mapping
        The rows; ``None`` is written as an empty field.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    os.replace(tmp, path)
    return path


def _iso(at: dt.datetime | None) -> str | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


def schedule_change_rows(engine: Engine, plan_version: str | None = None) -> list[dict[str, Any]]:
    """Return the stored schedule changes (of one plan version, or all), oldest plan first.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    plan_version : str, optional
        Only this plan's changes.

    Returns
    -------
    list of dict
        Rows with the keys of :data:`SCHEDULE_CHANGE_COLUMNS`.
    """
    query = (
        sa.select(ScheduleChange, Appointment.priority)
        .join(Appointment, Appointment.appointment_id == ScheduleChange.appointment_id)
        .order_by(
            ScheduleChange.plan_version, ScheduleChange.old_start, ScheduleChange.appointment_id
        )
    )
    if plan_version is not None:
        query = query.where(ScheduleChange.plan_version == plan_version)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        {
            "appointment_id": r["appointment_id"],
            "plan_version": r["plan_version"],
            "action": r["action"],
            "priority": r["priority"],
            "old_system_id": r["old_system_id"],
            "old_start": _iso(r["old_start"]),
            "new_system_id": r["new_system_id"],
            "new_start": _iso(r["new_start"]),
            "reason": r["reason"],
        }
        for r in rows
    ]


def revised_booking_rows(
    engine: Engine, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Return the bookings starting in ``[start, end)`` with every stored change applied.

    Columns are those of ``schedule.csv`` plus ``status`` (``booked`` or ``cancelled``);
    a moved exam carries its new system, site, modality and start. ``patient_ref`` is the
    keyed hash the store holds, never the booking system's own reference.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    start, end : datetime.datetime
        Aware bounds on the revised start (or the original start of a cancelled exam).

    Returns
    -------
    list of dict
        Ordered by system and start.
    """
    with engine.connect() as conn:
        systems = {
            r.system_id: (r.site, r.modality)
            for r in conn.execute(sa.select(System.system_id, System.site, System.modality))
        }
        latest: dict[str, Mapping[str, Any]] = {}
        for stored in conn.execute(
            sa.select(ScheduleChange).order_by(ScheduleChange.plan_version)
        ).mappings():
            latest[stored["appointment_id"]] = dict(stored)
        appointments = conn.execute(sa.select(Appointment)).mappings().all()
    lo = start.astimezone(dt.UTC).replace(tzinfo=None)
    hi = end.astimezone(dt.UTC).replace(tzinfo=None)
    out = []
    for a in appointments:
        row = dict(a) | {"status": "booked"}
        change = latest.get(a["appointment_id"])
        if change is not None and change["action"] == "cancelled":
            row["status"] = "cancelled"
        elif change is not None:
            system_id = change["new_system_id"]
            site, modality = systems[system_id]
            row |= {"system_id": system_id, "site": site, "modality": modality}
            row["start"] = change["new_start"]
        if lo <= row["start"] < hi:
            out.append(row | {"start": _iso(row["start"])})
    return sorted(out, key=lambda r: (r["system_id"], r["start"], r["appointment_id"]))


@dataclass(frozen=True)
class CapacityRow:
    """One row of ``capacity.csv`` (see the module docstring)."""

    date: dt.date
    site: str
    modality: str
    system_id: str
    open_hours: float
    booked_hours: float
    maintenance_hours: float
    expected_unplanned_hours: float
    available_hours: float
    displaced_exams: int


def _hours(a: dt.datetime, b: dt.datetime, lo: dt.datetime, hi: dt.datetime) -> float:
    return max(0.0, (min(b, hi) - max(a, lo)).total_seconds() / 3600)


def capacity(
    systems: Mapping[str, SystemInfo],
    bookings: Sequence[Booking],
    slots: Sequence[MaintenanceSlot],
    forecasts: Sequence[FailureForecast],
    moves: Sequence[Move],
    first_day: dt.date,
    days: int,
    config: PipelineConfig,
) -> list[CapacityRow]:
    """Return the capacity of every system on every local day of a period.

    Parameters
    ----------
    systems : Mapping of str to SystemInfo
        The fleet.
    bookings : Sequence of Booking
        The revised bookings (after the plan's moves).
    slots : Sequence of MaintenanceSlot
        Planned maintenance windows.
    forecasts : Sequence of FailureForecast
        The day's forecasts (for expected unplanned downtime).
    moves : Sequence of Move
        The plan's moves (for the displaced counts).
    first_day : datetime.date
        First local day reported.
    days : int
        Number of days reported.
    config : PipelineConfig
        ``booking.day_*`` and ``cost.unplanned_downtime_days_*`` settings.

    Returns
    -------
    list of CapacityRow
        Ordered by date, site, modality and system.
    """
    open_from, open_to = (
        parse_hhmm(config["booking.day_start"]),
        parse_hhmm(config["booking.day_end"]),
    )
    slot_of = {s.system_id: s for s in slots}
    forecast_of = {f.system_id: f for f in forecasts}
    booked_h: dict[tuple[str, dt.date], float] = defaultdict(float)
    for b in bookings:
        if b.system_id in systems:
            local_day = b.start.astimezone(systems[b.system_id].tz).date()
            booked_h[(b.system_id, local_day)] += b.duration_min / 60
    displaced_n: dict[tuple[str, dt.date], int] = defaultdict(int)
    for m in moves:
        if m.old_system_id in systems:
            local_day = m.old_start.astimezone(systems[m.old_system_id].tz).date()
            displaced_n[(m.old_system_id, local_day)] += 1
    rows = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for system in sorted(systems.values(), key=lambda s: (s.site, s.modality, s.system_id)):
            tz = system.tz
            lo = dt.datetime.combine(day, open_from, tzinfo=tz)
            hi = dt.datetime.combine(day, open_to, tzinfo=tz)
            open_h = (hi - lo).total_seconds() / 3600
            booked = booked_h.get((system.system_id, day), 0.0)
            slot = slot_of.get(system.system_id)
            planned = _hours(slot.start, slot.end, lo, hi) if slot else 0.0
            unplanned = 0.0
            forecast = forecast_of.get(system.system_id)
            if forecast is not None:
                down_days = config[f"cost.unplanned_downtime_days_{forecast.component}"]
                day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
                until = min(day_end, slot.start) if slot else day_end
                since = min(day_end - dt.timedelta(days=down_days), until)
                p_down = p_fail_before(forecast, until, system) - p_fail_before(
                    forecast, since, system
                )
                unplanned = max(0.0, p_down) * open_h
            displaced = displaced_n.get((system.system_id, day), 0)
            rows.append(
                CapacityRow(
                    day,
                    system.site,
                    system.modality,
                    system.system_id,
                    round(open_h, 2),
                    round(booked, 2),
                    round(planned, 2),
                    round(unplanned, 2),
                    round(max(0.0, open_h - booked - planned - unplanned), 2),
                    displaced,
                )
            )
    return rows


def write_capacity(path: Path, rows: Sequence[CapacityRow]) -> Path:
    """Write ``capacity.csv``."""
    return write_csv(path, CAPACITY_COLUMNS, (asdict(r) for r in rows))


def write_schedule_changes(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``schedule_changes.csv`` from :func:`schedule_change_rows`."""
    return write_csv(path, SCHEDULE_CHANGE_COLUMNS, rows)


def write_revised_bookings(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write the revised bookings CSV from :func:`revised_booking_rows`."""
    return write_csv(path, BOOKING_COLUMNS, rows)


def export_plan(
    engine: Engine,
    plan: DayPlan,
    forecasts: Sequence[FailureForecast],
    out_dir: Path,
    config: PipelineConfig,
    now: dt.datetime,
) -> dict[str, Path]:
    """Write every planner export of one day's plan into ``out_dir``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store, after :func:`equiptwin.planning.plan.plan_day`.
    plan : DayPlan
        The day's plan.
    forecasts : Sequence of FailureForecast
        The day's forecasts (for expected unplanned downtime).
    out_dir : Path
        Folder for the files.
    config : PipelineConfig
        Settings; ``capacity.csv`` covers ``maintenance.search_days`` days from ``as_of``.
    now : datetime.datetime
        Aware current time (the calendar's ``DTSTAMP``; bookings from the day before on).

    Returns
    -------
    dict of str to Path
        ``schedule_changes`` (every stored change, with its plan version),
        ``revised_bookings`` (CSV), ``revised_bookings_fhir``, ``capacity`` and
        ``maintenance_calendar``.
    """
    out_dir = Path(out_dir)
    days = config["maintenance.search_days"]
    start = dt.datetime.combine(plan.as_of, dt.time(0), tzinfo=dt.UTC) - dt.timedelta(days=1)
    end = start + dt.timedelta(days=days + config["rebooking.search_days"] + 2)
    rows = revised_booking_rows(engine, start, end)
    table = capacity(
        load_systems(engine),
        load_bookings(engine, start, end),
        plan.slots,
        forecasts,
        plan.moves,
        plan.as_of,
        days,
        config,
    )
    return {
        "schedule_changes": write_schedule_changes(
            out_dir / "schedule_changes.csv", schedule_change_rows(engine)
        ),
        "revised_bookings": write_revised_bookings(out_dir / "revised_bookings.csv", rows),
        "revised_bookings_fhir": write_bundle(out_dir / "revised_bookings.fhir.json", rows),
        "capacity": write_capacity(out_dir / "capacity.csv", table),
        "maintenance_calendar": write_calendar(
            out_dir / "maintenance.ics", maintenance_events(engine), now
        ),
    }
