"""Typical anode heat of each exam code, learnt from the site's own recent exams.

Load shifting (:mod:`equiptwin.planning.loadshift`) moves high-heat exams off an at-risk
tube, so it needs each booked exam's typical heat. The schedule names an exam code and
the tube controller logs exposures, with no key between the two; so each exposure is
matched to the booking on the same system whose slot contains it, a booking's heat is
the sum of ``kvp * ma * exposure_s`` over its exposures (formats.md: joules into the
anode, almost all of it heat), and an exam code's typical heat is the median over its
bookings that had any exposure.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from equiptwin.store.archive import Archive
from equiptwin.store.schema import Appointment


def exam_heat_kj(
    engine: sa.Engine, archive: Archive, end: dt.date, *, days: int = 90
) -> dict[str, float]:
    """Return the median anode heat in kJ of each exam code's past bookings.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (bookings).
    archive : Archive
        The raw exposure records.
    end : datetime.date
        First day not read (the forecast day).
    days : int
        Days of history before ``end`` to learn from.

    Returns
    -------
    dict of str to float
        Exam code to median heat per booking, kJ; codes never seen with exposures
        (MRI, or no history) are absent.
    """
    lo = dt.datetime.combine(end - dt.timedelta(days=days), dt.time(), dt.UTC)
    hi = dt.datetime.combine(end, dt.time(), dt.UTC)
    query = sa.select(
        Appointment.appointment_id,
        Appointment.system_id,
        Appointment.start,
        Appointment.duration_min,
        Appointment.exam_code,
    ).where(
        Appointment.modality != "MR",
        Appointment.start >= lo.replace(tzinfo=None),
        Appointment.start < hi.replace(tzinfo=None),
    )
    with engine.connect() as conn:
        bookings = pd.DataFrame(conn.execute(query).mappings().all())
    if bookings.empty:
        return {}
    exposures = archive.read_exposures(start=lo, end=hi)
    if exposures.empty:
        return {}
    bookings["start"] = pd.to_datetime(bookings["start"], utc=True).astype("datetime64[ns, UTC]")
    bookings["stop"] = bookings["start"] + pd.to_timedelta(bookings["duration_min"], unit="min")
    heat = exposures.assign(
        ts=pd.to_datetime(exposures["ts"], utc=True).astype("datetime64[ns, UTC]"),
        heat_j=exposures["kvp"] * exposures["ma"] * exposures["exposure_s"],
    )
    matched = pd.merge_asof(
        heat.sort_values("ts")[["ts", "system_id", "heat_j"]],
        bookings.sort_values("start"),
        left_on="ts",
        right_on="start",
        by="system_id",
        direction="backward",
    )
    matched = matched[matched["ts"] < matched["stop"]]
    per_booking = matched.groupby(["appointment_id", "exam_code"])["heat_j"].sum()
    typical = per_booking.groupby(level="exam_code").median() / 1000.0
    return {str(code): float(kj) for code, kj in typical.items()}
