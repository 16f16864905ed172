from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from equiptwin.outputs.exports import (
    BOOKING_COLUMNS,
    CAPACITY_COLUMNS,
    SCHEDULE_CHANGE_COLUMNS,
    capacity,
    revised_booking_rows,
    schedule_change_rows,
    write_capacity,
    write_revised_bookings,
    write_schedule_changes,
)
from equiptwin.planning.bookings import load_bookings, load_systems
from equiptwin.planning.plan import DayPlan, plan_day
from tests.planning.conftest import AS_OF, NOW, book, config_with, forecast
from tests.planning.test_plan import local

CFG = config_with()
HIGH = forecast(p=(0.6, 0.85, 0.95))


@pytest.fixture
def planned(engine: sa.Engine) -> tuple[sa.Engine, DayPlan]:
    for day in (2, 3):
        at = local(day, 7)
        while at < local(day, 19):
            book(engine, f"A{day}{at:%H%M}", "CT-AMS-01", at, 20)
            at += dt.timedelta(minutes=20)
    return engine, plan_day(engine, [HIGH], AS_OF, CFG, NOW)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_schedule_changes_csv_has_one_row_per_move(
    planned: tuple[sa.Engine, DayPlan], tmp_path: Path
) -> None:
    engine, plan = planned
    rows = _read(
        write_schedule_changes(tmp_path / "schedule_changes.csv", schedule_change_rows(engine))
    )
    assert len(rows) == len(plan.moves) > 0
    assert list(rows[0]) == list(SCHEDULE_CHANGE_COLUMNS)
    for row in rows:
        assert row["action"] == "moved" and row["old_system_id"] == "CT-AMS-01"
        assert row["new_system_id"] in {"CT-AMS-01", "CT-AMS-02"}
        assert dt.datetime.fromisoformat(row["new_start"]).tzinfo is not None
        assert "maintenance of xray_tube on CT-AMS-01" in row["reason"]
    assert schedule_change_rows(engine, "no-such-plan") == []


def test_revised_bookings_lose_nothing_and_show_the_moves(
    planned: tuple[sa.Engine, DayPlan], tmp_path: Path
) -> None:
    engine, plan = planned
    rows = revised_booking_rows(engine, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    assert len(rows) == 2 * 36
    out = _read(write_revised_bookings(tmp_path / "bookings.csv", rows))
    assert list(out[0]) == list(BOOKING_COLUMNS)
    by_id = {r["appointment_id"]: r for r in out}
    for move in plan.moves:
        assert move.new_start is not None
        assert by_id[move.appointment_id]["system_id"] == move.new_system_id
        assert dt.datetime.fromisoformat(by_id[move.appointment_id]["start"]) == move.new_start


def test_capacity_accounts_for_every_hour(
    planned: tuple[sa.Engine, DayPlan], tmp_path: Path
) -> None:
    engine, plan = planned
    systems = load_systems(engine)
    bookings = load_bookings(engine, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    rows = capacity(systems, bookings, plan.slots, [HIGH], plan.moves, AS_OF, 5, CFG)
    assert len(rows) == 5 * len(systems)
    for r in rows:
        used = r.booked_hours + r.maintenance_hours + r.expected_unplanned_hours
        assert r.available_hours == pytest.approx(max(0.0, r.open_hours - used), abs=0.02)
        if r.system_id != "CT-AMS-01":
            assert r.maintenance_hours == 0 and r.expected_unplanned_hours == 0
    ct1 = {r.date: r for r in rows if r.system_id == "CT-AMS-01"}
    assert ct1[AS_OF].maintenance_hours == pytest.approx(6.0)
    assert ct1[AS_OF].displaced_exams == len(plan.moves)
    assert ct1[AS_OF + dt.timedelta(days=3)].expected_unplanned_hours == 0  # after the slot
    assert sum(r.booked_hours for r in rows) == pytest.approx(2 * 36 * 20 / 60)
    out = _read(write_capacity(tmp_path / "capacity.csv", rows))
    assert list(out[0]) == list(CAPACITY_COLUMNS) and len(out) == len(rows)


def test_expected_unplanned_downtime_without_a_slot_grows_with_risk(engine: sa.Engine) -> None:
    systems = load_systems(engine)
    rows = capacity(systems, [], [], [HIGH], [], AS_OF, 30, CFG)
    ct1 = [r.expected_unplanned_hours for r in rows if r.system_id == "CT-AMS-01"]
    assert ct1[0] < ct1[6] and all(0 <= h <= 13 for h in ct1)


def test_export_plan_writes_every_file(planned: tuple[sa.Engine, DayPlan], tmp_path: Path) -> None:
    from equiptwin.outputs.exports import export_plan

    engine, plan = planned
    paths = export_plan(engine, plan, [HIGH], tmp_path / "out", CFG, NOW)
    assert set(paths) == {
        "schedule_changes",
        "revised_bookings",
        "revised_bookings_fhir",
        "capacity",
        "maintenance_calendar",
    }
    assert all(p.exists() and p.stat().st_size > 0 for p in paths.values())
    assert len(_read(paths["schedule_changes"])) == len(plan.moves)
    assert not list((tmp_path / "out").glob(".*.tmp"))
