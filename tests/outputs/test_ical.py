from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from icalendar import Calendar

from equiptwin.outputs.ical import (
    calendar_ics,
    event_of,
    event_uid,
    maintenance_events,
    write_calendar,
)
from equiptwin.planning.plan import plan_day
from tests.planning.conftest import AS_OF, NOW, config_with, forecast
from tests.planning.test_sinks import ticket

NOW_STAMP = dt.datetime(2026, 3, 2, 7, tzinfo=dt.UTC)


def _events(data: bytes) -> list[dict[str, object]]:
    cal = Calendar.from_ical(data)
    return [
        {
            "uid": str(e["UID"]),
            "seq": int(e["SEQUENCE"]),
            "start": e.decoded("DTSTART"),
            "status": str(e["STATUS"]),
        }
        for e in cal.walk("VEVENT")
    ]


def test_uid_is_stable_and_sequence_follows_the_slot() -> None:
    first = event_of(ticket(1, slot_sequence=0))
    moved = event_of(
        ticket(
            3,
            slot_sequence=1,
            slot={
                "start": "2026-03-06T06:00:00+00:00",
                "end": "2026-03-06T12:00:00+00:00",
                "expected_cost": 1,
                "p_fail_before": 0.1,
                "displaced_exams": 0,
            },
        )
    )
    assert first is not None and moved is not None
    assert first.uid == moved.uid == event_uid("CT-AMS-01:xray_tube:L1")
    (a,), (b,) = (
        _events(calendar_ics([first], NOW_STAMP)),
        _events(calendar_ics([moved], NOW_STAMP)),
    )
    assert (a["seq"], b["seq"]) == (0, 1) and a["uid"] == b["uid"]
    assert b["start"] == dt.datetime(2026, 3, 6, 6, tzinfo=dt.UTC)
    assert event_of(ticket(1, slot=None)) is None


def test_a_ticket_closed_before_its_slot_cancels_the_event() -> None:
    closed = event_of(ticket(2, status="closed", closed_as_of="2026-03-04", slot_sequence=0))
    assert closed is not None and closed.cancelled and closed.sequence == 1
    (e,) = _events(calendar_ics([closed], NOW_STAMP))
    assert e["status"] == "CANCELLED"
    assert event_of(ticket(2, status="closed", closed_as_of="2026-03-09", slot_sequence=0)) is None


def test_feed_from_the_store_is_valid_rfc5545(engine: sa.Engine, tmp_path: Path) -> None:
    plan_day(engine, [forecast(p=(0.6, 0.85, 0.95))], AS_OF, config_with(), NOW)
    events = maintenance_events(engine)
    path = write_calendar(tmp_path / "maintenance.ics", events, NOW_STAMP)
    data = path.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and b"\r\nVERSION:2.0\r\n" in data
    (e,) = _events(data)
    assert e["status"] == "CONFIRMED" and e["start"] == events[0].start
    assert (
        path.read_bytes()
        == write_calendar(
            tmp_path / "again.ics", maintenance_events(engine), NOW_STAMP
        ).read_bytes()
    )
