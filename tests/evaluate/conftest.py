"""Small hand-built worlds for the operations twin: two CT systems, three weeks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from equiptwin.config import PipelineConfig, defaults
from equiptwin.evaluate.world import World, WorldLife
from equiptwin.planning.bookings import Booking, SystemInfo

START = dt.date(2026, 3, 2)  # a Monday
DAYS = 21
TZ = "Europe/Amsterdam"
PRIORITY_CYCLE = ("outpatient", "inpatient", "outpatient", "stat", "outpatient")


def local(day: int, hour: float) -> dt.datetime:
    """Return an aware UTC time ``hour`` hours into local day ``START + day``."""
    midnight = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(0), tzinfo=ZoneInfo(TZ))
    return (midnight + dt.timedelta(hours=hour)).astimezone(dt.UTC)


def hours_since_start(moment: dt.datetime) -> float:
    """Return hours since 00:00 UTC of ``START`` (the simulation's clock)."""
    origin = dt.datetime.combine(START, dt.time(0), tzinfo=dt.UTC)
    return (moment - origin).total_seconds() / 3600.0


def _life(life_id: str, installed_day: int, fails_at: dt.datetime | None) -> WorldLife:
    installed = local(installed_day, 0.0)
    fails_h = (fails_at - installed).total_seconds() / 3600.0 if fails_at else None
    seen = (
        fails_h
        if fails_h is not None
        else (local(DAYS + 30, 0.0) - installed).total_seconds() / 3600.0
    )
    return WorldLife(life_id, installed, fails_h, None, seen)


def make_world(*, failures_a: tuple[tuple[int, float], ...] = ((4, 13.5), (12, 10.25))) -> World:
    """Return a world whose system CT-A fails at the given (day, local hour) times.

    CT-A's first component was installed 100 days before the start; each failure is
    followed (in the world) by a new component installed two days later. CT-B never fails.
    Both systems have ten exams a day from 08:00, priorities cycling.
    """
    systems = {s: SystemInfo(s, "AMS", "CT", TZ) for s in ("CT-A", "CT-B")}
    lives_a = []
    installed = -100
    for n, (day, hour) in enumerate(failures_a):
        lives_a.append(_life(f"CT-A:{n}", installed, local(day, hour)))
        installed = day + 2
    lives_a.append(_life(f"CT-A:{len(failures_a)}", installed, None))
    bookings = [
        Booking(
            f"{s}-{d:02d}-{k}",
            s,
            local(d, 8.0 + k),
            30,
            PRIORITY_CYCLE[(d + k) % len(PRIORITY_CYCLE)],
            "CTHD",
        )
        for s in systems
        for d in range(-1, DAYS + 10)
        for k in range(10)
    ]
    return World(
        "tiny",
        systems,
        dict.fromkeys(systems, "xray_tube"),
        tuple(sorted(bookings, key=lambda b: (b.start, b.appointment_id))),
        {"CT-A": tuple(lives_a), "CT-B": (_life("CT-B:0", -50, None),)},
    )


def with_settings(config: PipelineConfig, **values: object) -> PipelineConfig:
    """Return ``config`` with settings replaced (``operations__engineers=1`` style keys)."""
    changed = {k.replace("__", "."): v for k, v in values.items()}
    return dataclasses.replace(config, values={**config.values, **changed})


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def config() -> PipelineConfig:
    """Defaults with a one-day part lead time."""
    return with_settings(defaults(), operations__part_lead_days_xray_tube=1.0)
