"""Maintenance windows as an iCalendar feed (RFC 5545) for engineers' calendars.

One event per ticket with a proposed slot. The ``UID`` is derived from the ticket's
``dedup_key``, so the event of one component life stays the same event however often
the feed is regenerated; ``SEQUENCE`` is the ticket's ``slot_sequence``, which rises each
time the proposed slot moves, so calendar clients replace the old time. A ticket closed
before its slot (the component was replaced earlier) keeps its event as ``CANCELLED``
with the sequence raised once more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from icalendar import Calendar, Event
from sqlalchemy import Engine

from equiptwin import __version__
from equiptwin.planning.sinks import description
from equiptwin.store.schema import Ticket


@dataclass(frozen=True)
class MaintenanceEvent:
    """One maintenance window in the feed.

    Parameters
    ----------
    uid : str
        Stable event id.
    sequence : int
        Revision of the event's time (RFC 5545 ``SEQUENCE``).
    start, end : datetime.datetime
        The window, aware UTC.
    summary, description, location : str
        What engineers read.
    cancelled : bool
        Whether the window is called off.
    """

    uid: str
    sequence: int
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str
    location: str
    cancelled: bool


def event_uid(dedup_key: str) -> str:
    """Return the stable ``UID`` of a ticket's maintenance event."""
    return f"maintenance-{hashlib.sha256(dedup_key.encode('utf-8')).hexdigest()[:32]}@equiptwin"


def event_of(ticket: Mapping[str, Any]) -> MaintenanceEvent | None:
    """Return the maintenance event of one ticket revision, or ``None`` without a slot.

    Parameters
    ----------
    ticket : Mapping
        A ticket payload (see :mod:`equiptwin.planning.tickets`).

    Returns
    -------
    MaintenanceEvent or None
    """
    slot = ticket.get("slot")
    if not slot:
        return None
    start = dt.datetime.fromisoformat(slot["start"])
    closed = ticket["status"] == "closed"
    cancelled = closed and dt.date.fromisoformat(ticket["closed_as_of"]) <= start.date()
    if closed and not cancelled:
        return None
    return MaintenanceEvent(
        uid=event_uid(ticket["dedup_key"]),
        sequence=int(ticket.get("slot_sequence", 0)) + (1 if cancelled else 0),
        start=start,
        end=dt.datetime.fromisoformat(slot["end"]),
        summary=f"Maintenance {ticket['system_id']}: {ticket['recommended_action']}",
        description=description(ticket),
        location=f"{ticket['site']} {ticket['system_id']}",
        cancelled=cancelled,
    )


def maintenance_events(engine: Engine) -> list[MaintenanceEvent]:
    """Return the events of every ticket in the store that has a proposed slot."""
    with engine.connect() as conn:
        payloads = conn.execute(sa.select(Ticket.payload).order_by(Ticket.dedup_key)).scalars()
        events = [event_of(p) for p in payloads]
    return [e for e in events if e is not None]


def calendar_ics(events: Sequence[MaintenanceEvent], now: dt.datetime) -> bytes:
    """Return the events as one iCalendar file.

    Parameters
    ----------
    events : Sequence of MaintenanceEvent
        The windows.
    now : datetime.datetime
        Aware time stamped as each event's ``DTSTAMP``.

    Returns
    -------
    bytes
        RFC 5545 text with CRLF line ends.
    """
    cal = Calendar()
    cal.add("prodid", f"-//equiptwin//equiptwin {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "equiptwin maintenance windows")
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("sequence", item.sequence)
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", item.start.astimezone(dt.UTC))
        event.add("dtend", item.end.astimezone(dt.UTC))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("location", item.location)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return bytes(cal.to_ical())


def write_calendar(path: Path, events: Sequence[MaintenanceEvent], now: dt.datetime) -> Path:
    """Write :func:`calendar_ics` to ``path`` atomically; return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(calendar_ics(events, now))
    os.replace(tmp, path)
    return path
