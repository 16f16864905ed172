"""Exam heat: exposures matched to the booking whose slot contains them."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import sqlalchemy as sa

from equiptwin.features.exam_heat import exam_heat_kj
from equiptwin.store import db
from equiptwin.store.archive import SCHEMAS, open_archive
from equiptwin.store.schema import Appointment, ArchivePart, IngestRun, System

DAY = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _booking(appointment_id: str, minutes: int, code: str, system: str = "CT-1") -> dict:  # type: ignore[type-arg]
    return {
        "appointment_id": appointment_id,
        "system_id": system,
        "site": "AMS",
        "modality": "CT",
        "start": (DAY + dt.timedelta(minutes=minutes)).replace(tzinfo=None),
        "duration_min": 20,
        "priority": "outpatient",
        "exam_code": code,
        "patient_ref": None,
    }


def _exposures(rows: list[tuple[int, float]], system: str = "CT-1") -> pa.Table:
    """``(minutes after 08:00, joules)`` per exposure, as 100 kV x 10 mA x seconds."""
    n = len(rows)
    columns = {name: [None] * n for name in SCHEMAS["exposures"].names}
    columns.update(
        ts=[DAY + dt.timedelta(minutes=m) for m, _ in rows],
        system_id=[system] * n,
        kvp=[100.0] * n,
        ma=[10.0] * n,
        exposure_s=[j / 1000.0 for _, j in rows],
    )
    return pa.table(columns).cast(SCHEMAS["exposures"])


@pytest.fixture
def engine(sqlite_url: str) -> sa.Engine:
    engine = db.open_store(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.insert(IngestRun).values(run_id=1, data_dir="x", started_at=DAY))
        conn.execute(
            sa.insert(System).values(
                system_id="CT-1",
                site="AMS",
                modality="CT",
                manufacturer="x",
                model="y",
                installed_on=dt.date(2020, 1, 1),
                timezone="Europe/Amsterdam",
            )
        )
        conn.execute(
            sa.insert(Appointment),
            [
                _booking("A1", 0, "CTAB"),  # two exposures: 300 + 200 kJ
                _booking("A2", 30, "CTAB"),  # one: 700 kJ
                _booking("A3", 60, "CTHD"),  # one: 50 kJ
                _booking("A4", 90, "CTHD"),  # none: not counted
            ],
        )
    archive = open_archive(engine, "archive")
    table = _exposures([(1, 300e3), (5, 200e3), (31, 700e3), (61, 50e3), (85, 9e9)])
    with engine.begin() as conn:
        for part in archive.write_parts("exposures", table, "b1"):
            conn.execute(
                sa.insert(ArchivePart).values(
                    path=part.path,
                    dataset=part.dataset,
                    system_id=part.system_id,
                    month=part.month,
                    rows=part.rows,
                    run_id=1,
                )
            )
    return engine


def test_median_heat_per_code_of_the_bookings_that_had_exposures(engine: sa.Engine) -> None:
    archive = open_archive(engine, "archive")
    heat = exam_heat_kj(engine, archive, dt.date(2026, 3, 3))
    # the exposure at 09:25 falls between bookings and belongs to none
    assert heat == pytest.approx({"CTAB": 600.0, "CTHD": 50.0})


def test_only_history_before_the_day_is_read(engine: sa.Engine) -> None:
    assert exam_heat_kj(engine, open_archive(engine, "archive"), dt.date(2026, 3, 2)) == {}
