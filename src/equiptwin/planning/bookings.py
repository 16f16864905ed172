"""The schedule as planning sees it: systems, booked exams and blocked time.

Times here are aware UTC datetimes; working hours are read in each system's own
timezone. The store keeps naive UTC (see ``store/schema.py``); :func:`load_bookings`
converts on the way in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine

from equiptwin.errors import ConfigError
from equiptwin.store.schema import Appointment, ScheduleChange, System

EXAM_PRIORITIES: tuple[str, ...] = ("stat", "inpatient", "outpatient")


@dataclass(frozen=True)
class SystemInfo:
    """What planning needs to know about one imaging system.

    Parameters
    ----------
    system_id, site, modality : str
        As in the asset registry.
    timezone : str
        IANA timezone name; working hours are local to it.
    """

    system_id: str
    site: str
    modality: str
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        """The system's timezone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Booking:
    """One booked exam.

    Parameters
    ----------
    appointment_id, system_id : str
        The booking and the system it is on.
    start : datetime.datetime
        Aware start time.
    duration_min : int
        Length of the exam, minutes.
    priority : str
        ``stat``, ``inpatient`` or ``outpatient``.
    exam_code : str
        The booked exam (protocol) code; empty when unknown.
    """

    appointment_id: str
    system_id: str
    start: dt.datetime
    duration_min: int
    priority: str
    exam_code: str = ""

    @property
    def end(self) -> dt.datetime:
        """When the exam ends."""
        return self.start + dt.timedelta(minutes=self.duration_min)


@dataclass(frozen=True)
class Block:
    """Time a system cannot take exams (a maintenance window)."""

    system_id: str
    start: dt.datetime
    end: dt.datetime


def overlaps(
    a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime
) -> bool:
    """Return whether the half-open intervals ``[a_start, a_end)`` and ``[b_start, b_end)`` meet."""
    return a_start < b_end and b_start < a_end


def parse_hhmm(value: str) -> dt.time:
    """Return the time of a checked ``HH:MM`` setting value."""
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def local_day_starts(
    tz: ZoneInfo,
    first_day: dt.date,
    days: int,
    day_start: dt.time,
    day_end: dt.time,
    step_min: int,
    length_min: float,
) -> Iterator[dt.datetime]:
    """Yield aware UTC start times on a local grid that fit a job in a working day.

    Parameters
    ----------
    tz : ZoneInfo
        The system's timezone.
    first_day : datetime.date
        First local day searched.
    days : int
        Number of local days searched.
    day_start, day_end : datetime.time
        The local working day; a job must start and end inside it.
    step_min : int
        Minutes between candidate starts, counted from ``day_start``.
    length_min : float
        Length of the job, minutes.

    Yields
    ------
    datetime.datetime
        Candidate starts in UTC, in order.
    """
    if dt.datetime.combine(first_day, day_end) <= dt.datetime.combine(first_day, day_start):
        raise ConfigError(
            f"the working day must end after it starts, but found {day_start:%H:%M}-"
            f"{day_end:%H:%M}; fix the pipeline's working hours."
        )
    step = dt.timedelta(minutes=step_min)
    length = dt.timedelta(minutes=length_min)
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        at = dt.datetime.combine(day, day_start, tzinfo=tz)
        end = dt.datetime.combine(day, day_end, tzinfo=tz)
        while at + length <= end:
            yield at.astimezone(dt.UTC)
            at += step


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def load_systems(engine: Engine) -> dict[str, SystemInfo]:
    """Return every system of the registry by ``system_id``."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(System.system_id, System.site, System.modality, System.timezone)
        )
        return {r.system_id: SystemInfo(r.system_id, r.site, r.modality, r.timezone) for r in rows}


def load_bookings(engine: Engine, start: dt.datetime, end: dt.datetime) -> list[Booking]:
    """Return the exams booked between ``start`` and ``end``, with earlier moves applied.

    An appointment moved by a stored schedule change is where its newest plan put it
    (plan versions sort by date); a cancelled one is left out.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    start, end : datetime.datetime
        Aware bounds; exams overlapping ``[start, end)`` are returned.

    Returns
    -------
    list of Booking
        Ordered by system and start.
    """
    with engine.connect() as conn:
        moves: dict[str, tuple[str | None, dt.datetime | None]] = {}
        for change in conn.execute(
            sa.select(ScheduleChange).order_by(ScheduleChange.plan_version)
        ).mappings():
            moves[change["appointment_id"]] = (change["new_system_id"], change["new_start"])
        reach = dt.timedelta(days=1)
        lo, hi = _utc(start).replace(tzinfo=None), _utc(end).replace(tzinfo=None)
        query = sa.select(Appointment).where(
            Appointment.start < hi + reach, Appointment.start >= lo - reach
        )
        moved_ids = list(moves)
        rows = list(conn.execute(query).mappings())
        if moved_ids:
            seen = {r["appointment_id"] for r in rows}
            extra = [i for i in moved_ids if i not in seen]
            for chunk in range(0, len(extra), 500):
                rows += conn.execute(
                    sa.select(Appointment).where(
                        Appointment.appointment_id.in_(extra[chunk : chunk + 500])
                    )
                ).mappings()
    out = []
    for r in rows:
        system_id, begin = r["system_id"], r["start"]
        if r["appointment_id"] in moves:
            system_id, begin = moves[r["appointment_id"]]
            if system_id is None or begin is None:
                continue
        booking = Booking(
            r["appointment_id"],
            system_id,
            _utc(begin),
            int(r["duration_min"]),
            r["priority"],
            r["exam_code"] or "",
        )
        if overlaps(booking.start, booking.end, _utc(start), _utc(end)):
            out.append(booking)
    return sorted(out, key=lambda b: (b.system_id, b.start, b.appointment_id))


def on_system(bookings: Sequence[Booking], system_id: str) -> list[Booking]:
    """Return the bookings of one system, ordered by start."""
    return sorted((b for b in bookings if b.system_id == system_id), key=lambda b: b.start)
