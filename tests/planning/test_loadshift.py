from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa

from equiptwin.forecast import FailureForecast
from equiptwin.planning.bookings import Booking, SystemInfo, load_bookings, overlaps
from equiptwin.planning.loadshift import shift_load
from equiptwin.planning.plan import plan_day
from equiptwin.planning.slots import MaintenanceSlot
from equiptwin.store.schema import Appointment

from .conftest import AS_OF, NOW, TZ, book, config_with, forecast
from .test_plan import local

HEAT = {"CTSPIRAL": 700.0, "CTHEAD": 100.0}
CFG = config_with()
SYSTEMS = {
    "CT-AMS-01": SystemInfo("CT-AMS-01", "AMS", "CT", TZ),
    "CT-AMS-02": SystemInfo("CT-AMS-02", "AMS", "CT", TZ),
    "CT-AMS-03": SystemInfo("CT-AMS-03", "AMS", "CT", TZ),
}


def _slot(day: int = 4) -> MaintenanceSlot:
    start = local(day, 7).astimezone(dt.UTC)
    return MaintenanceSlot(
        "CT-AMS-01",
        "xray_tube",
        "CT-AMS-01/L1",
        start,
        start + dt.timedelta(hours=6),
        0.0,
        0.0,
        0.0,
        0.1,
        (),
    )


def _tube_day(day: int, system_id: str = "CT-AMS-01") -> list[Booking]:
    out = []
    for i, hour in enumerate(range(8, 12)):
        code = "CTSPIRAL" if i % 2 else "CTHEAD"
        prio = "stat" if hour == 11 else "outpatient"
        out.append(
            Booking(
                f"{system_id}-{day}-{hour}",
                system_id,
                local(day, hour).astimezone(dt.UTC),
                30,
                prio,
                code,
            )
        )
    return out


def test_hot_exams_leave_the_at_risk_tube_for_a_healthy_one() -> None:
    bookings = _tube_day(2) + _tube_day(3) + _tube_day(5)
    calls: list[tuple[float, dt.date]] = []

    def gained(f: FailureForecast, fraction: float, until: dt.date) -> float:
        calls.append((fraction, until))
        return 10.0 * fraction

    shift = shift_load(
        _slot(),
        forecast(),
        SYSTEMS,
        bookings,
        HEAT,
        CFG,
        NOW,
        avoid={"CT-AMS-03"},
        days_gained=gained,
    )
    moved = {m.appointment_id for m in shift.moves}
    hot_before_slot = {
        b.appointment_id for b in bookings if b.exam_code == "CTSPIRAL" and b.start < _slot().start
    }
    assert moved == hot_before_slot  # every hot exam before the slot, none after it
    for m in shift.moves:
        assert m.new_system_id == "CT-AMS-02"  # never the at-risk tube, never the avoided one
        assert "load shifting" in m.reason
        if m.priority == "stat":
            assert m.new_start is not None and m.new_start <= m.old_start
    assert shift.fraction_moved == 4 * 700 / (4 * 700 + 4 * 100)
    assert calls == [(shift.fraction_moved, dt.date(2026, 3, 4))]
    assert shift.days_gained == 10.0 * shift.fraction_moved


def test_an_exam_without_room_stays() -> None:
    # inpatient exams must stay on their day, and the other systems are full that day
    bookings = [dataclasses.replace(b, priority="inpatient") for b in _tube_day(2)]
    full = [
        Booking(
            f"F{s}{m}",
            s,
            local(2, 0).astimezone(dt.UTC) + dt.timedelta(minutes=m),
            30,
            "outpatient",
        )
        for s in ("CT-AMS-02", "CT-AMS-03")
        for m in range(0, 24 * 60, 30)
    ]
    cfg = config_with(rebooking__search_days=1)
    slot = _slot(3)
    shift = shift_load(slot, forecast(), SYSTEMS, bookings + full, HEAT, cfg, NOW)
    assert shift.moves == () and shift.heat_moved_kj == 0 and shift.days_gained is None


def test_plan_day_shifts_load_and_stays_idempotent(engine: sa.Engine) -> None:
    for day in (2, 3, 4):
        for hour in range(7, 19):
            book(engine, f"A{day}{hour}", "CT-AMS-01", local(day, hour), 30, "outpatient")
    odd = sa.text("CAST(substr(appointment_id, 3) AS INTEGER) % 2 = 1")
    with engine.begin() as c:
        c.execute(sa.update(Appointment).where(odd).values(exam_code="CTSPIRAL"))
    f = forecast(p=(0.02, 0.1, 0.3))  # high (window in 10 days), but the slot can wait
    plan = plan_day(engine, [f], AS_OF, CFG, NOW, exam_heat_kj=HEAT)
    (slot,) = plan.slots
    (shift,) = plan.load_shifts
    assert shift.moves and all(m.new_system_id != "CT-AMS-01" for m in shift.moves)
    final = load_bookings(engine, NOW, NOW + dt.timedelta(days=20))
    on_tube_hot = [
        b
        for b in final
        if b.system_id == "CT-AMS-01"
        and b.start < slot.start
        and b.start >= NOW
        and b.appointment_id in {m.appointment_id for m in shift.moves}
    ]
    assert on_tube_hot == []
    for i, a in enumerate(final):
        for b in final[i + 1 :]:
            assert not (a.system_id == b.system_id and overlaps(a.start, a.end, b.start, b.end))
    again = plan_day(engine, [f], AS_OF, CFG, NOW, exam_heat_kj=HEAT)
    assert again.moves == () and all(s.moves == () for s in again.load_shifts)
