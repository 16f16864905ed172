from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from equiptwin.planning.bookings import load_bookings, overlaps
from equiptwin.planning.plan import plan_day
from equiptwin.store.schema import OutboxMessage, ScheduleChange, Ticket

from .conftest import AS_OF, NOW, TZ, book, config_with, forecast

LOCAL = ZoneInfo(TZ)
CFG = config_with(sinks__enabled=["file"])


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def busy(engine: sa.Engine) -> sa.Engine:
    """CT-AMS-01 fully booked Mon-Wed 07:00-19:00; CT-AMS-02 booked every other slot on Mon."""
    for day in (2, 3, 4):
        at = local(day, 7)
        while at < local(day, 19):
            priority = "stat" if at.hour == 9 and at.minute == 0 else "outpatient"
            book(engine, f"A{day}{at:%H%M}", "CT-AMS-01", at, 20, priority)
            at += dt.timedelta(minutes=20)
    at = local(2, 7)
    while at < local(2, 19):
        book(engine, f"B{at:%H%M}", "CT-AMS-02", at, 20)
        at += dt.timedelta(minutes=40)
    return engine


def _changes(engine: sa.Engine) -> list[ScheduleChange]:
    with sa.orm.Session(engine) as s:
        return list(s.scalars(sa.select(ScheduleChange)))


def test_high_risk_opens_a_ticket_with_a_slot_and_rebooks_the_displaced(busy: sa.Engine) -> None:
    plan = plan_day(busy, [forecast(p=(0.6, 0.85, 0.95))], AS_OF, CFG, NOW)
    (change,) = plan.tickets
    assert change.kind == "opened" and change.priority == "critical"
    (slot,) = plan.slots
    assert slot.start.date() == AS_OF and slot.displaced
    assert {m.appointment_id for m in plan.moves} == set(slot.displaced)
    assert all(m.action == "moved" for m in plan.moves)
    with sa.orm.Session(busy) as s:
        ticket = s.scalars(sa.select(Ticket)).one()
        assert ticket.payload["slot"]["start"] == slot.start.isoformat()
        assert s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    rows = _changes(busy)
    assert len(rows) == len(slot.displaced) and {r.plan_version for r in rows} == {
        plan.plan_version
    }
    # the revised schedule: nothing in the window, no system double-booked, nothing lost
    final = load_bookings(busy, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=10))
    assert len(final) == 3 * 36 + 18
    for b in final:
        assert not (
            b.system_id == slot.system_id and overlaps(b.start, b.end, slot.start, slot.end)
        )
    for i, a in enumerate(final):
        for b in final[i + 1 :]:
            assert not (a.system_id == b.system_id and overlaps(a.start, a.end, b.start, b.end))
    assert "A20900" not in slot.displaced  # the window avoids the stat exam at 09:00


def test_planning_twice_changes_nothing(busy: sa.Engine) -> None:
    first = plan_day(busy, [forecast(p=(0.6, 0.85, 0.95))], AS_OF, CFG, NOW)
    second = plan_day(busy, [forecast(p=(0.6, 0.85, 0.95))], AS_OF, CFG, NOW)
    assert second.tickets == () and second.moves == ()
    assert second.plan_version == first.plan_version
    assert len(_changes(busy)) == len(first.moves)


def test_low_risk_waits_for_a_quiet_day_and_keeps_its_slot(busy: sa.Engine) -> None:
    plan = plan_day(busy, [forecast(p=(0.02, 0.25, 0.3), window_days=None)], AS_OF, CFG, NOW)
    (slot,) = plan.slots
    assert slot.start == local(5, 7).astimezone(dt.UTC) and plan.moves == ()
    nxt = AS_OF + dt.timedelta(days=1)
    later = plan_day(
        busy,
        [forecast(p=(0.02, 0.26, 0.3), as_of=nxt, window_days=None)],
        nxt,
        CFG,
        NOW + dt.timedelta(days=1),
    )
    assert later.slots[0].start == slot.start and later.tickets == ()


def test_quiet_forecasts_plan_nothing(busy: sa.Engine) -> None:
    plan = plan_day(busy, [forecast(p=(0.0, 0.01, 0.02), window_days=None)], AS_OF, CFG, NOW)
    assert plan.tickets == () and plan.slots == () and plan.moves == ()


def test_forecasts_of_another_day_are_refused(busy: sa.Engine) -> None:
    with pytest.raises(ValueError, match="one day"):
        plan_day(busy, [forecast(as_of=AS_OF - dt.timedelta(days=1))], AS_OF, CFG, NOW)


def test_an_exam_moved_twice_in_one_plan_is_one_change() -> None:
    from equiptwin.planning.plan import _combined
    from equiptwin.planning.rebooking import Move

    t = [local(2, h).astimezone(dt.UTC) for h in (8, 9, 10)]
    first = Move("E1", "outpatient", "CT-AMS-01", t[0], "CT-AMS-01", t[1], "maintenance")
    then = Move("E1", "outpatient", "CT-AMS-01", t[1], "CT-AMS-02", t[2], "load shifting")
    other = Move("E2", "outpatient", "CT-AMS-01", t[0], None, None, "maintenance")
    (e1, e2) = sorted(_combined([first, other], [then]), key=lambda m: m.appointment_id)
    assert (e1.old_system_id, e1.old_start, e1.new_system_id, e1.new_start) == (
        "CT-AMS-01",
        t[0],
        "CT-AMS-02",
        t[2],
    )
    assert e1.reason == "maintenance; then load shifting" and e2 == other
